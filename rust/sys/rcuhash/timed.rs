// SPDX-License-Identifier: GPL-2.0

//! [`TimedTable`]: an [`RcuHashTable`] whose entries leave by their own
//! kernel timer (include/linux/timer.h), armed lazily.

use kernel::alloc::flags::GFP_KERNEL_ACCOUNT;
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

use super::{Judge, ListKey, Listed, NodeAlloc, RcuHashTable};
use crate::sys::sync::{LockKey, RcuGuard};

/// What the timer of a [`TimedTable`] entry decides when it fires.
pub(crate) enum Fate {
    /// Unlink it: the value made sure that nothing uses it any more.
    Remove,
    /// Look again at this time (jiffies).
    At(u64),
}

/// Values of a [`TimedTable`]: each entry has a timer that asks it, when
/// it fires, whether it goes.
pub(crate) trait Expiring: Send + Sync + Sized + 'static {
    /// Shared by the table's entries, passed to `gone`.
    type Ctx: Send + Sync;
    /// The timer fired (softirq).
    fn fired(&self) -> Fate;
    /// Unlinked after `fired` said [`Fate::Remove`], under the bucket's
    /// lock.
    fn gone(&self, ctx: &Self::Ctx);
}

/// An entry of a [`TimedTable`]: the value and its timer.
///
/// # Invariants
///
/// Made only by [`TimedTable::insert_if`], in its node: `timer` is
/// initialised (callback `fire::<T, A>`) before the node is published,
/// `shared` points to the [`Shared`] of that table, which shuts every
/// timer down before it goes.
#[repr(C)]
pub(crate) struct Timed<T> {
    timer: Opaque<bindings::timer_list>,
    shared: *const core::ffi::c_void,
    val: T,
}

// SAFETY: the timer is used through the kernel's timer API, which
// serialises itself; the rest is `T`'s.
unsafe impl<T: Send> Send for Timed<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for Timed<T> {}

impl<T> core::ops::Deref for Timed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.val
    }
}

impl<T> Timed<T> {
    /// Makes the timer fire at `when` (jiffies) at the latest: an entry
    /// whose time got shorter (`timer_reduce`). Any context.
    pub(crate) fn fire_by(&self, when: u64) {
        // SAFETY: the timer is initialised (type invariant) and not shut
        // down while the entry can be reached (the table's `Drop` shuts
        // it down, with no one else using the table).
        unsafe { bindings::timer_reduce(self.timer.get(), when as usize) };
    }
}

/// The heap part of a [`TimedTable`]: timers point at it, so it does not
/// move when the table does.
struct Shared<T: Expiring, A: NodeAlloc<Timed<T>>> {
    tab: RcuHashTable<Timed<T>, A>,
    ctx: T::Ctx,
}

/// An [`RcuHashTable`] whose entries leave by their own timer (a kernel
/// timer each, ip_vs's `cp->timer`), armed lazily: the value keeps its
/// deadline, and when the timer fires it either goes or names a later
/// time. A table of idle entries costs nothing until their time comes;
/// an entry in use costs one timer run per timeout period, whatever the
/// number of its packets.
pub(crate) struct TimedTable<T: Expiring, A: NodeAlloc<Timed<T>>> {
    shared: KBox<Shared<T, A>>,
}

static TIMER_KEY: LockKey = LockKey::new();

impl<T: Expiring, A: NodeAlloc<Timed<T>>> TimedTable<T, A> {
    /// A table without buckets until [`TimedTable::resize`] gives it
    /// some. May sleep.
    pub(crate) fn new_empty(ctx: T::Ctx) -> Result<Self> {
        Ok(Self {
            shared: KBox::new(
                Shared {
                    tab: RcuHashTable::new_empty()?,
                    ctx,
                },
                GFP_KERNEL_ACCOUNT,
            )?,
        })
    }

    /// Number of buckets (0 before the first resize).
    pub(crate) fn buckets(&self) -> usize {
        self.shared.tab.buckets()
    }

    /// See [`RcuHashTable::resize`].
    pub(crate) fn resize(&self, bits: u32, flags: kernel::alloc::Flags) -> Result {
        self.shared.tab.resize(bits, flags)
    }

    /// What the entries share.
    pub(crate) fn ctx(&self) -> &T::Ctx {
        &self.shared.ctx
    }

    /// Number of entries linked.
    pub(crate) fn len(&self) -> usize {
        self.shared.tab.len()
    }

    /// Links `val` unless `ok` refuses one of the first entries of its
    /// bucket (see `RACE_WALK`), checked under the lock; its timer is armed for `first` (jiffies); it goes on
    /// the eviction list of `class` (see [`TimedTable::evict_listed`]).
    /// Returns whether it linked.
    pub(crate) fn insert_if(
        &self,
        hash: u32,
        val: T,
        first: u64,
        class: u8,
        ok: impl Fn(&T) -> bool,
    ) -> Result<bool> {
        let shared: *const Shared<T, A> = &*self.shared;
        let e = Timed {
            timer: Opaque::uninit(),
            shared: shared.cast(),
            val,
        };
        self.shared.tab.insert_placed_if(
            hash,
            e,
            |e: *const Timed<T>| {
                // `e` points at the value in its fresh node (from the
                // node's raw pointer), where the timer stays until freed;
                // initialised once, before anyone can see it. The timer's
                // pointer is made from `e`, so the callback may step back
                // from it to the whole node.
                // SAFETY: as just said.
                unsafe {
                    bindings::init_timer_key(
                        Opaque::raw_get(core::ptr::addr_of!((*e).timer)),
                        Some(fire::<T, A>),
                        0,
                        c"rvs_entry_timer".as_ptr().cast(),
                        TIMER_KEY.as_ptr(),
                    )
                }
            },
            Some(|e: &Timed<T>| ok(&e.val)),
            Some(class),
            |e: &Timed<T>| e.fire_by(first),
        )
    }

    /// The first entry of `hash`'s bucket that `pred` accepts.
    pub(crate) fn find<'g>(
        &'g self,
        g: &'g RcuGuard,
        hash: u32,
        mut pred: impl FnMut(&T) -> bool,
    ) -> Option<&'g Timed<T>> {
        self.shared.tab.find(g, hash, |e| pred(&e.val))
    }

    /// Calls `f` on every entry, in short read sections (see
    /// [`RcuHashTable::for_each_resched`]). Process context.
    pub(crate) fn for_each_resched(&self, f: impl FnMut(&Timed<T>)) {
        self.shared.tab.for_each_resched(f)
    }

    /// Calls `f` on the entries of `k` buckets picked at random. Process
    /// context.
    pub(crate) fn for_each_sampled(&self, k: usize, f: impl FnMut(&Timed<T>)) {
        self.shared.tab.for_each_sampled(k, f)
    }

    /// Makes room for one entry (see [`RcuHashTable::evict_listed`]): the
    /// entry `judge` takes goes as if its timer had removed it (`gone` is
    /// called), its timer shut down first. `judge` runs under the stripe's
    /// lock and, to take an entry, must make sure that nothing uses it.
    /// Returns the class of the entry taken. Any context.
    pub(crate) fn evict_listed(
        &self,
        from: usize,
        steps: usize,
        moves: usize,
        mut judge: impl FnMut(&T, u8, u32) -> Judge,
    ) -> Option<u8> {
        let shared = &*self.shared;
        shared.tab.evict_listed(
            from,
            steps,
            moves,
            |e: &Timed<T>, class, seen| {
                let j = judge(&e.val, class, seen);
                if matches!(j, Judge::Take) {
                    // SAFETY: initialised (type invariant); a callback
                    // under way cannot arm it again, and finds the entry
                    // taken (`judge` made sure nothing uses it).
                    unsafe { bindings::timer_shutdown(e.timer.get()) };
                }
                j
            },
            |e: &Timed<T>| e.val.gone(&shared.ctx),
        )
    }

    /// See [`RcuHashTable::seek`].
    pub(crate) fn seek(&self, from: u64) -> Option<u64> {
        self.shared.tab.seek(from)
    }

    /// See [`RcuHashTable::after`].
    pub(crate) fn after(c: u64) -> u64 {
        RcuHashTable::<Timed<T>, A>::after(c)
    }

    /// See [`RcuHashTable::list_batch`].
    pub(crate) fn list_batch<'g>(
        &'g self,
        g: &'g RcuGuard,
        c: u64,
        after: Option<ListKey>,
        f: impl FnMut(&'g Timed<T>) -> bool,
    ) -> Listed {
        self.shared.tab.list_batch(g, c, after, f)
    }

    /// See [`RcuHashTable::for_each_at`].
    pub(crate) fn for_each_at(&self, g: &RcuGuard, c: u64, f: impl FnMut(&Timed<T>)) {
        self.shared.tab.for_each_at(g, c, f)
    }
}

impl<T: Expiring, A: NodeAlloc<Timed<T>>> Drop for TimedTable<T, A> {
    fn drop(&mut self) {
        // No timer may run or be armed once the entries go: shut each down
        // (waiting for a callback under way; one that unlinks its entry
        // meanwhile leaves it valid until the read section ends).
        self.shared.tab.for_each_resched(|e| {
            // SAFETY: initialised (invariant); shut down once, after which
            // `fire_by` cannot arm it again.
            unsafe { bindings::timer_shutdown_sync(e.timer.get()) };
        });
        // The entries left go as if their timers had removed them.
        let shared = &*self.shared;
        shared
            .tab
            .remove_if(None, |_| true, |e| e.val.gone(&shared.ctx));
    }
}

/// The timer callback of a [`TimedTable`] entry.
///
/// # Safety
///
/// `t` is the timer of a `Timed<T>` made by `TimedTable<T, A>::insert_if`.
unsafe extern "C" fn fire<T: Expiring, A: NodeAlloc<Timed<T>>>(t: *mut bindings::timer_list) {
    // The timer is the first field of the repr(C) `Timed<T>`. The entry
    // is valid: it is unlinked only by this callback, by `evict_listed`
    // (which shuts the timer down first, and frees the entry after a grace
    // period, which waits for this softirq) or by the table's `Drop`
    // (after it shut every timer down, waiting for the callbacks), and the
    // table's `Shared` shuts every timer down before it goes.
    let this = t.cast::<Timed<T>>();
    // SAFETY: as just said.
    let (e, shared) = unsafe {
        let e = &*this;
        (e, &*e.shared.cast::<Shared<T, A>>())
    };
    match e.val.fired() {
        Fate::At(when) => e.fire_by(when),
        Fate::Remove => {
            // `this` points at the value of a node of `shared.tab`, not
            // freed (see above), and comes from the timer's raw pointer
            // (the whole node's): the callback runs with bottom halves
            // off, a read section that began while the entry was linked
            // (`evict_listed` unlinks it only after shutting the timer
            // down, with this callback already under way).
            // SAFETY: as just said.
            unsafe { shared.tab.remove_entry(this, |x| x.val.gone(&shared.ctx)) };
        }
    }
}
