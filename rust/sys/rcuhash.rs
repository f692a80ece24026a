// SPDX-License-Identifier: GPL-2.0

//! A hash table with RCU readers and striped bottom-half-safe writer locks:
//! ip_vs's `hlist_head` tables with `hlist_add_head_rcu`/`hlist_del_rcu`,
//! `hlist_for_each_entry_rcu` and `call_rcu` freeing (include/linux/rculist.h).
//!
//! Each bucket is a singly linked chain of nodes. Readers walk a chain under
//! an [`RcuGuard`] without any lock; writers link and unlink under the
//! bucket's stripe lock; an unlinked node is freed (its value dropped) by an
//! RCU callback, after every reader that could still see it is done. Nodes
//! come from a [`NodeAlloc`]: kmalloc or a dedicated slab cache.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use kernel::alloc::flags::__GFP_NOWARN;
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

use super::sync::{cond_resched, rcu_barrier, GraceCookie, LockKey, RcuGuard, SpinLockBh};

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_call_rcu(h: *mut bindings::callback_head, f: bindings::rcu_callback_t);
    fn rvs_kmem_cache_create(
        name: *const kernel::ffi::c_char,
        size: core::ffi::c_uint,
        align: core::ffi::c_uint,
    ) -> *mut bindings::kmem_cache;
    fn rvs_kmem_cache_alloc(c: *mut bindings::kmem_cache) -> *mut core::ffi::c_void;
}

/// A chain node. `rcu` first, so the RCU callback's pointer is the node's.
#[repr(C)]
pub(crate) struct Node<T> {
    rcu: Opaque<bindings::callback_head>,
    next: AtomicPtr<Node<T>>,
    val: T,
}

/// Where nodes come from. Implementations hand out memory fit for a
/// `Node<T>` (size and alignment) and take it back.
///
/// # Safety
///
/// `alloc` returns null or memory valid for a `Node<T>` until `free`.
pub(crate) unsafe trait NodeAlloc<T> {
    /// Atomic allocation (may be called in softirq).
    fn alloc() -> *mut Node<T>;
    /// # Safety
    ///
    /// `p` came from `alloc` and is no longer used.
    unsafe fn free(p: *mut Node<T>);
}

/// Nodes from kmalloc (GFP_ATOMIC), through `KBox`.
pub(crate) struct Kmalloc;

// SAFETY: a `KBox<MaybeUninit<Node<T>>>` has the node's layout; `free`
// turns the pointer back into that box.
unsafe impl<T> NodeAlloc<T> for Kmalloc {
    fn alloc() -> *mut Node<T> {
        match KBox::<Node<T>>::new_uninit(GFP_ATOMIC | __GFP_NOWARN) {
            Ok(b) => KBox::into_raw(b).cast(),
            Err(_) => core::ptr::null_mut(),
        }
    }

    unsafe fn free(p: *mut Node<T>) {
        // SAFETY: `p` came from `alloc`'s `KBox::into_raw`; the value was
        // dropped already, so only the memory goes back.
        drop(unsafe { KBox::from_raw(p.cast::<core::mem::MaybeUninit<Node<T>>>()) });
    }
}

/// A slab cache (`kmem_cache`) of nodes: what a table with many short-lived
/// entries allocates from, visible in /proc/slabinfo under its name.
///
/// # Invariants
///
/// `ptr` is a cache created for objects of `Node<T>`'s size and alignment,
/// destroyed only in `Drop`, after `rcu_barrier()`.
pub(crate) struct SlabCache<T> {
    ptr: *mut bindings::kmem_cache,
    _t: PhantomData<T>,
}

// SAFETY: a kmem_cache is used from any CPU.
unsafe impl<T> Send for SlabCache<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SlabCache<T> {}

impl<T> SlabCache<T> {
    pub(crate) fn new(name: &'static CStr) -> Result<Self> {
        let size = u32::try_from(core::mem::size_of::<Node<T>>())?;
        let align = u32::try_from(core::mem::align_of::<Node<T>>())?;
        // SAFETY: a static name; size and align describe Node<T>.
        let ptr = unsafe { rvs_kmem_cache_create(name.as_char_ptr(), size, align) };
        if ptr.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: created above for Node<T>.
        Ok(Self {
            ptr,
            _t: PhantomData,
        })
    }
}

impl<T> Drop for SlabCache<T> {
    fn drop(&mut self) {
        // Objects still waiting for an RCU callback must be back first.
        rcu_barrier();
        // SAFETY: every object was freed (the owners of nodes are gone and
        // their callbacks ran); the cache is destroyed once.
        unsafe { bindings::kmem_cache_destroy(self.ptr) };
    }
}

/// A `SlabCache` in a static slot, for the RCU callback to find: the
/// allocator of tables whose nodes come from one module-wide cache.
pub(crate) struct StaticSlab<T: 'static> {
    slot: AtomicPtr<bindings::kmem_cache>,
    _t: PhantomData<T>,
}

impl<T> StaticSlab<T> {
    pub(crate) const fn new() -> Self {
        Self {
            slot: AtomicPtr::new(core::ptr::null_mut()),
            _t: PhantomData,
        }
    }

    /// Publishes `cache` as the one `alloc` uses; the cache must outlive
    /// every table using this slot (the module keeps both and drops the
    /// tables first).
    pub(crate) fn set(&self, cache: Option<&SlabCache<T>>) {
        self.slot.store(
            cache.map_or(core::ptr::null_mut(), |c| c.ptr),
            Ordering::Release,
        );
    }

    pub(crate) fn alloc(&self) -> *mut Node<T> {
        let c = self.slot.load(Ordering::Acquire);
        if c.is_null() {
            return core::ptr::null_mut();
        }
        // SAFETY: a published cache is alive (see `set`).
        unsafe { rvs_kmem_cache_alloc(c) }.cast()
    }

    /// # Safety
    ///
    /// `p` came from `alloc` while the same cache was published.
    pub(crate) unsafe fn free(&self, p: *mut Node<T>) {
        let c = self.slot.load(Ordering::Acquire);
        if !c.is_null() {
            // SAFETY: per the caller, `p` belongs to `c`.
            unsafe { bindings::kmem_cache_free(c, p.cast()) };
        }
    }
}

/// Names the [`StaticSlab`] a table's nodes come from.
pub(crate) trait SlabOf<T: 'static>: 'static {
    fn slab() -> &'static StaticSlab<T>;
}

/// Nodes from the [`StaticSlab`] that `S` names.
pub(crate) struct FromSlab<S>(PhantomData<S>);

// SAFETY: a published cache was created for `Node<T>` (SlabCache::new);
// with none published, `alloc` gives null.
unsafe impl<T: 'static, S: SlabOf<T>> NodeAlloc<T> for FromSlab<S> {
    fn alloc() -> *mut Node<T> {
        S::slab().alloc()
    }

    unsafe fn free(p: *mut Node<T>) {
        // SAFETY: per the caller, `p` came from `alloc`.
        unsafe { S::slab().free(p) }
    }
}

/// Number of writer lock stripes (ip_vs: 32 for the connection table).
const STRIPES: usize = 32;

/// Buckets walked per read section by [`RcuHashTable::for_each_resched`].
const RESCHED_BUCKETS: usize = 256;

/// The table.
///
/// # Invariants
///
/// Every non-null pointer reachable from `buckets` is a node allocated by
/// `A` and fully initialised before it was published; it is unlinked only
/// under its stripe lock and freed only by an RCU callback after unlinking
/// (or in `Drop`, after a grace period). Locks in `locks` are initialised
/// and never move (the vector's buffer is never reallocated).
pub(crate) struct RcuHashTable<T: Send + Sync, A: NodeAlloc<T>> {
    buckets: KVVec<AtomicPtr<Node<T>>>,
    locks: KVec<SpinLockBh>,
    mask: usize,
    len: AtomicUsize,
    _a: PhantomData<A>,
}

// SAFETY: values are `Send + Sync`; all shared mutation is atomic or under
// the stripe locks.
unsafe impl<T: Send + Sync, A: NodeAlloc<T>> Sync for RcuHashTable<T, A> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync, A: NodeAlloc<T>> Send for RcuHashTable<T, A> {}

static STRIPE_KEY: LockKey = LockKey::new();

impl<T: Send + Sync, A: NodeAlloc<T>> RcuHashTable<T, A> {
    /// A table of `1 << bits` buckets. May sleep.
    pub(crate) fn new(bits: u32) -> Result<Self> {
        let n = 1usize.checked_shl(bits).ok_or(EINVAL)?;
        let mut buckets = KVVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            buckets.push(AtomicPtr::new(core::ptr::null_mut()), GFP_KERNEL)?;
        }
        let mut locks: KVec<SpinLockBh> = KVec::with_capacity(STRIPES, GFP_KERNEL)?;
        for i in 0..STRIPES {
            let spare = locks.spare_capacity_mut();
            let Some(slot) = spare.first_mut() else {
                return Err(ENOMEM);
            };
            // SAFETY: a slot of the vector's buffer, which never moves: the
            // capacity was reserved up front and nothing reallocates it.
            unsafe { SpinLockBh::init_at(slot.as_mut_ptr(), c"rvs_hash_stripe", &STRIPE_KEY) };
            // SAFETY: slot `i` was just initialised.
            unsafe { locks.set_len(i.saturating_add(1)) };
        }
        Ok(Self {
            buckets,
            locks,
            mask: n.saturating_sub(1),
            len: AtomicUsize::new(0),
            _a: PhantomData,
        })
    }

    /// Number of entries linked.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    fn bucket(&self, hash: u32) -> Option<&AtomicPtr<Node<T>>> {
        self.buckets.get((hash as usize) & self.mask)
    }

    /// The lock of `hash`'s bucket: the stripe follows the bucket index,
    /// as in [`RcuHashTable::remove_if`] and `detach_all`, whatever the
    /// number of buckets.
    fn stripe(&self, hash: u32) -> Option<&SpinLockBh> {
        self.locks.get(((hash as usize) & self.mask) % STRIPES)
    }

    /// Links `val` at the head of its bucket. Fails (giving nothing back)
    /// when no memory is left: the caller drops the packet.
    pub(crate) fn insert(&self, hash: u32, val: T) -> Result {
        let (Some(bucket), Some(lock)) = (self.bucket(hash), self.stripe(hash)) else {
            return Err(EINVAL);
        };
        let node = Self::new_node(val)?;
        let _g = lock.lock();
        Self::link(bucket, node);
        self.len.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// A fresh, unpublished node holding `val`.
    fn new_node(val: T) -> Result<*mut Node<T>> {
        let node = A::alloc();
        if node.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `node` is fresh memory fit for a Node<T> (NodeAlloc).
        unsafe {
            core::ptr::write(
                node,
                Node {
                    rcu: Opaque::uninit(),
                    next: AtomicPtr::new(core::ptr::null_mut()),
                    val,
                },
            )
        };
        Ok(node)
    }

    /// Publishes `node` at the head of `bucket`; the caller holds the
    /// bucket's stripe lock and `node` is not published yet.
    fn link(bucket: &AtomicPtr<Node<T>>, node: *mut Node<T>) {
        // SAFETY: `node` is ours until published by the store below.
        unsafe {
            (*node)
                .next
                .store(bucket.load(Ordering::Relaxed), Ordering::Relaxed)
        };
        // Publish: the node's contents are visible before the pointer.
        bucket.store(node, Ordering::Release);
    }

    /// Links `val` unless `ok` refuses an entry of the bucket, checked
    /// under the lock; returns whether it linked. `placed` is called on
    /// the value in its node before it is published (before the lock is
    /// taken), `linked` on it after it is published, under the lock.
    fn insert_placed_if(
        &self,
        hash: u32,
        val: T,
        placed: impl FnOnce(&T),
        ok: impl Fn(&T) -> bool,
        linked: impl FnOnce(&T),
    ) -> Result<bool> {
        let (Some(bucket), Some(lock)) = (self.bucket(hash), self.stripe(hash)) else {
            return Err(EINVAL);
        };
        let node = Self::new_node(val)?;
        // SAFETY: `node` was initialised by `new_node` and is ours.
        placed(unsafe { &(*node).val });
        let _g = lock.lock();
        let mut p = bucket.load(Ordering::Relaxed);
        while !p.is_null() {
            // SAFETY: linked nodes are valid while we hold the lock (only
            // unlinked under it, freed after that).
            let n = unsafe { &*p };
            if !ok(&n.val) {
                // SAFETY: `node` was never published; drop its value and
                // give the memory back.
                unsafe {
                    core::ptr::drop_in_place(node);
                    A::free(node);
                }
                return Ok(false);
            }
            p = n.next.load(Ordering::Relaxed);
        }
        Self::link(bucket, node);
        self.len.fetch_add(1, Ordering::Relaxed);
        // SAFETY: linked now, freed only after it is unlinked under the
        // lock we hold.
        linked(unsafe { &(*node).val });
        Ok(true)
    }

    /// The first entry of `hash`'s bucket that `pred` accepts, valid for
    /// the read section `g`.
    pub(crate) fn find<'g>(
        &'g self,
        _g: &'g RcuGuard,
        hash: u32,
        mut pred: impl FnMut(&T) -> bool,
    ) -> Option<&'g T> {
        let mut p = self.bucket(hash)?.load(Ordering::Acquire);
        while !p.is_null() {
            // SAFETY: under RCU a reachable node is not freed before the
            // read section ends (invariant), and it was initialised before
            // publication (the acquire load pairs with the release store).
            let n = unsafe { &*p };
            if pred(&n.val) {
                return Some(&n.val);
            }
            p = n.next.load(Ordering::Acquire);
        }
        None
    }

    /// Calls `f` on every entry (a walk of all buckets under RCU).
    pub(crate) fn for_each(&self, _g: &RcuGuard, mut f: impl FnMut(&T)) {
        for b in self.buckets.iter() {
            let mut p = b.load(Ordering::Acquire);
            while !p.is_null() {
                // SAFETY: as in `find`.
                let n = unsafe { &*p };
                f(&n.val);
                p = n.next.load(Ordering::Acquire);
            }
        }
    }

    /// Calls `f` on every entry, a few buckets per read section, letting
    /// other tasks run in between: a walk of millions of entries that keeps
    /// neither RCU nor the CPU for long. Process context, no lock held.
    /// An entry that moves or is added meanwhile may be missed; one that
    /// stays is seen once.
    pub(crate) fn for_each_resched(&self, mut f: impl FnMut(&T)) {
        let mut chunks = self.buckets.chunks(RESCHED_BUCKETS).peekable();
        while let Some(chunk) = chunks.next() {
            {
                let g = RcuGuard::new();
                for b in chunk {
                    let mut p = b.load(Ordering::Acquire);
                    while !p.is_null() {
                        // SAFETY: as in `find`, under `g`.
                        let n = unsafe { &*p };
                        f(&n.val);
                        p = n.next.load(Ordering::Acquire);
                    }
                }
                drop(g);
            }
            if chunks.peek().is_some() {
                cond_resched();
            }
        }
    }

    /// Unlinks the entries of `hash`'s bucket (or of every bucket, with
    /// `None`) for which `remove` says so, under the stripe lock; each is
    /// passed to `gone` (still under the lock) and freed after a grace
    /// period. Returns how many were removed.
    pub(crate) fn remove_if(
        &self,
        hash: Option<u32>,
        mut remove: impl FnMut(&T) -> bool,
        mut gone: impl FnMut(&T),
    ) -> usize {
        let mut count = 0usize;
        let mut one = |i: usize| {
            let (Some(bucket), Some(lock)) = (self.buckets.get(i), self.locks.get(i % STRIPES))
            else {
                return;
            };
            if bucket.load(Ordering::Relaxed).is_null() {
                return;
            }
            let _g = lock.lock();
            let mut link: &AtomicPtr<Node<T>> = bucket;
            loop {
                let p = link.load(Ordering::Relaxed);
                if p.is_null() {
                    break;
                }
                // SAFETY: linked, and we hold the lock.
                let n = unsafe { &*p };
                if remove(&n.val) {
                    link.store(n.next.load(Ordering::Relaxed), Ordering::Release);
                    gone(&n.val);
                    self.len.fetch_sub(1, Ordering::Relaxed);
                    count = count.saturating_add(1);
                    // SAFETY: unlinked; readers that still see it are in
                    // read sections that the grace period waits for.
                    unsafe { rvs_call_rcu(n.rcu.get(), Some(free_node::<T, A>)) };
                } else {
                    link = &n.next;
                }
            }
        };
        match hash {
            Some(h) => one((h as usize) & self.mask),
            None => {
                for i in 0..self.buckets.len() {
                    one(i);
                }
            }
        }
        count
    }

    /// Unlinks every entry, a bucket's chain at a time, and hands them
    /// over together, to be freed after one grace period (see
    /// [`Detached`]) instead of by a callback each: a flush of 100,000
    /// real servers queues no RCU callback. Process context.
    pub(crate) fn detach_all(&self) -> Detached<T, A> {
        let mut chains = KVec::new();
        if chains.reserve(self.buckets.len(), GFP_KERNEL).is_err() {
            // No memory for the list: a callback per entry.
            self.remove_if(None, |_| true, |_| {});
        }
        for (i, bucket) in self.buckets.iter().enumerate() {
            if chains.len() >= chains.capacity() {
                break;
            }
            let Some(lock) = self.locks.get(i % STRIPES) else {
                continue;
            };
            if bucket.load(Ordering::Relaxed).is_null() {
                continue;
            }
            let _g = lock.lock();
            let head = bucket.swap(core::ptr::null_mut(), Ordering::Release);
            let mut n = 0usize;
            let mut p = head;
            while !p.is_null() {
                // SAFETY: unlinked from the table just now under the lock,
                // not yet freed (only `Detached` frees it).
                p = unsafe { &*p }.next.load(Ordering::Relaxed);
                n = n.saturating_add(1);
            }
            self.len.fetch_sub(n, Ordering::Relaxed);
            // Capacity checked above: cannot fail.
            let _ = chains.push(DetachedChain(head), GFP_ATOMIC);
        }
        // INVARIANT: every chain is unlinked; the cookie is taken after.
        Detached {
            chains,
            gp: GraceCookie::start(),
            _a: PhantomData,
        }
    }
}

/// The head of an unlinked chain.
struct DetachedChain<T>(*mut Node<T>);

/// Entries unlinked together by [`RcuHashTable::detach_all`]. Dropping it
/// waits for the grace period that began after the unlinking, if it has
/// not ended yet, then frees the entries: drop it in process context with
/// no lock held (the namespace's tick does).
///
/// # Invariants
///
/// Each chain was unlinked from its table before `gp` was taken, and its
/// nodes are reachable from nowhere else.
pub(crate) struct Detached<T, A: NodeAlloc<T>> {
    chains: KVec<DetachedChain<T>>,
    gp: GraceCookie,
    _a: PhantomData<A>,
}

// SAFETY: owns values that are `Send`; nothing in it is shared.
unsafe impl<T: Send, A: NodeAlloc<T>> Send for Detached<T, A> {}
// SAFETY: no method reaches the nodes through a shared reference.
unsafe impl<T: Send, A: NodeAlloc<T>> Sync for Detached<T, A> {}

impl<T, A: NodeAlloc<T>> Drop for Detached<T, A> {
    fn drop(&mut self) {
        if self.chains.is_empty() {
            return;
        }
        self.gp.wait();
        let mut n = 0u32;
        for c in self.chains.iter() {
            let mut p = c.0;
            while !p.is_null() {
                // SAFETY: the grace period after the unlinking is over (the
                // wait above): no reader sees the node; only we free it.
                unsafe {
                    let next = (*p).next.load(Ordering::Relaxed);
                    core::ptr::drop_in_place(p);
                    A::free(p);
                    p = next;
                }
                n = n.wrapping_add(1);
                if n % 256 == 0 {
                    cond_resched();
                }
            }
        }
    }
}

/// The RCU callback freeing an unlinked node.
///
/// # Safety
///
/// `head` is the `rcu` field of an unlinked node allocated by `A`.
unsafe extern "C" fn free_node<T, A: NodeAlloc<T>>(head: *mut bindings::callback_head) {
    let node = head.cast::<Node<T>>();
    // SAFETY: `rcu` is the first field of the repr(C) node; no one can
    // reach the node any more (grace period over).
    unsafe {
        core::ptr::drop_in_place(node);
        A::free(node);
    }
}

impl<T: Send + Sync, A: NodeAlloc<T>> Drop for RcuHashTable<T, A> {
    fn drop(&mut self) {
        // Unlink everything; the callbacks free the nodes. The owner of `A`
        // waits for them (rcu_barrier) before its memory goes away.
        self.remove_if(None, |_| true, |_| {});
    }
}

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
/// timer down before it goes, and `hash` is the entry's hash there.
#[repr(C)]
pub(crate) struct Timed<T> {
    timer: Opaque<bindings::timer_list>,
    shared: *const core::ffi::c_void,
    hash: u32,
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
    /// A table of `1 << bits` buckets. May sleep.
    pub(crate) fn new(bits: u32, ctx: T::Ctx) -> Result<Self> {
        Ok(Self {
            shared: KBox::new(
                Shared {
                    tab: RcuHashTable::new(bits)?,
                    ctx,
                },
                GFP_KERNEL,
            )?,
        })
    }

    /// What the entries share.
    pub(crate) fn ctx(&self) -> &T::Ctx {
        &self.shared.ctx
    }

    /// Number of entries linked.
    pub(crate) fn len(&self) -> usize {
        self.shared.tab.len()
    }

    /// Links `val` unless `ok` refuses an entry of its bucket, checked
    /// under the lock; its timer is armed for `first` (jiffies). Returns
    /// whether it linked.
    pub(crate) fn insert_if(
        &self,
        hash: u32,
        val: T,
        first: u64,
        ok: impl Fn(&T) -> bool,
    ) -> Result<bool> {
        let shared: *const Shared<T, A> = &*self.shared;
        let e = Timed {
            timer: Opaque::uninit(),
            shared: shared.cast(),
            hash,
            val,
        };
        self.shared.tab.insert_placed_if(
            hash,
            e,
            |e| {
                // SAFETY: the timer is in its node, where it stays until
                // freed; initialised once, before anyone can see it.
                unsafe {
                    bindings::init_timer_key(
                        e.timer.get(),
                        Some(fire::<T, A>),
                        0,
                        c"rvs_entry_timer".as_ptr().cast(),
                        TIMER_KEY.as_ptr(),
                    )
                }
            },
            |e| ok(&e.val),
            |e| e.fire_by(first),
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

    /// Calls `f` on every entry under one read section.
    pub(crate) fn for_each(&self, g: &RcuGuard, f: impl FnMut(&Timed<T>)) {
        self.shared.tab.for_each(g, f)
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
        // The entries are unlinked by the inner table's `Drop`.
    }
}

/// The timer callback of a [`TimedTable`] entry.
///
/// # Safety
///
/// `t` is the timer of a `Timed<T>` made by `TimedTable<T, A>::insert_if`.
unsafe extern "C" fn fire<T: Expiring, A: NodeAlloc<Timed<T>>>(t: *mut bindings::timer_list) {
    // SAFETY: the timer is the first field of the repr(C) `Timed<T>`; the
    // entry is linked (only this callback unlinks it while the table
    // lives) so it is valid, and so is the table's `Shared`, which shuts
    // the timer down before it goes.
    let (e, shared) = unsafe {
        let e = &*t.cast::<Timed<T>>();
        (e, &*e.shared.cast::<Shared<T, A>>())
    };
    match e.val.fired() {
        Fate::At(when) => e.fire_by(when),
        Fate::Remove => {
            shared.tab.remove_if(
                Some(e.hash),
                |x| core::ptr::eq(x, e),
                |x| x.val.gone(&shared.ctx),
            );
        }
    }
}
