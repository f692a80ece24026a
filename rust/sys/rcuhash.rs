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
//! [`TimedTable`] (in `timed`) gives each entry a timer of its own.

use core::marker::PhantomData;
use core::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
use kernel::alloc::flags::__GFP_NOWARN;
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

use super::sync::{
    cond_resched, synchronize_rcu, GraceCookie, LockKey, RcuGuard, SpinLockBh, SpinLockBhGuard,
};

mod evict;
mod list;
mod resize;
mod timed;
pub(crate) use timed::{Expiring, Fate, Timed, TimedTable};

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_call_rcu(h: *mut bindings::callback_head, f: bindings::rcu_callback_t);
}

/// A chain node. `rcu` first, so the RCU callback's pointer is the node's.
#[repr(C)]
pub(crate) struct Node<T> {
    rcu: Opaque<bindings::callback_head>,
    /// The next node in each of the two arrays a node is in while its
    /// table is resized (an array chains through one of them, the array
    /// that replaces it through the other).
    next: [AtomicPtr<Node<T>>; 2],
    /// For each of them, what points at the node in that array's chain
    /// (the bucket's head or the `next` of the node before it):
    /// unlinking takes O(1), whatever the chain (`hlist_node.pprev`).
    /// Meaningful only for an array the node is linked in (the current
    /// one, and the one being filled once its bucket was copied); the
    /// link of an array a resize retired keeps a stale value until the
    /// next resize links the node again through it. Both are null once
    /// the node was taken out of the table. Under the stripe lock.
    pprev: [AtomicPtr<AtomicPtr<Node<T>>>; 2],
    hash: u32,
    /// Its number in its stripe, given when it was linked (the stripe's
    /// count of links then): with `hash`, a key that orders the table's
    /// entries for a listing, the same for the entry's whole life.
    id: AtomicU64,
    /// The eviction list of its stripe it is on ([`CLASSES`]; `UNLISTED`:
    /// none), and when it was put at that list's end (low 32 bits of
    /// jiffies). Changed only under the stripe lock.
    class: AtomicU8,
    seen: AtomicU32,
    /// Its neighbours on that list (`prev`, `next`), under the stripe lock.
    lru: [AtomicPtr<Node<T>>; 2],
    val: T,
}

/// The size of a table's node holding a `T` (what its slab object takes).
pub(crate) const fn node_size<T>() -> usize {
    core::mem::size_of::<Node<T>>()
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

/// A slab cache of a table's nodes (see [`super::slab::Cache`]).
pub(crate) type SlabCache<T> = super::slab::Cache<Node<T>>;
/// A [`SlabCache`] in a static slot (see [`super::slab::Static`]).
pub(crate) type StaticSlab<T> = super::slab::Static<Node<T>>;

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

/// Number of writer lock stripes (ip_vs: 32 for the connection table). A
/// table has at least as many buckets. A hash's bucket is its top bits
/// (as many as the table has bits), its stripe its top five: the same in
/// any size of the table, and the buckets of a stripe are one run.
const STRIPES: usize = 32;
const STRIPE_SHIFT: u32 = 27;

/// The fewest buckets a table has: 2^5 = [`STRIPES`].
const MIN_BITS: u32 = 5;

/// Buckets walked per read section by [`RcuHashTable::for_each_resched`],
/// and copied between two `cond_resched` by a resize.
const RESCHED_BUCKETS: usize = 256;

/// How far an insert looks along its chain for the same entry linked by
/// another CPU meanwhile (two packets of one new connection): that one
/// was linked at the head a moment ago, behind at most the few others
/// linked in between (unless a resize copied its bucket in between,
/// which reverses a chain). A bound, so that a chain an attacker made
/// long costs an insert nothing; a duplicate it misses is what ip_vs,
/// which does not look, always allows (the newer is found, the older
/// expires).
const RACE_WALK: usize = 16;

/// An entry's key in a listing: its hash, then its number in its stripe
/// (its own among the entries of that hash, and the same for its life).
pub(crate) type ListKey = (u32, u64);

/// Most entries given by one [`RcuHashTable::list_batch`].
pub(crate) const LIST_BATCH: usize = 16;

/// Where a listing of a cursor's range stands after a batch.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Listed {
    /// Every entry of the range was given.
    Done,
    /// More may follow: the range goes on after this key (`None`: from
    /// its start).
    From(Option<ListKey>),
}

/// Eviction classes of a table whose entries are listed (see
/// [`RcuHashTable::evict_listed`]): class 0 gives way first.
pub(crate) const CLASSES: usize = 4;
/// A node on no eviction list.
const UNLISTED: u8 = u8::MAX;

/// What [`RcuHashTable::evict_listed`]'s judge says of the entry at the
/// head of a list.
pub(crate) enum Judge {
    /// It goes: nothing uses it (the judge made sure).
    Take,
    /// It belongs on that class's list now: moved to its end.
    Move(u8),
    /// It stays: to the end of its list, seen now.
    Keep,
}

/// A stripe's eviction lists: per class, the first and last node (oldest
/// first), linked through the nodes' `lru`, and how many are on it.
/// Changed only under the stripe's lock.
struct Lists<T> {
    ends: [[AtomicPtr<Node<T>>; 2]; CLASSES],
    n: [AtomicUsize; CLASSES],
    /// The stripe's links so far: the next node's `id`.
    ids: AtomicU64,
}

impl<T> Lists<T> {
    const fn new() -> Self {
        Self {
            ends: [const {
                [
                    AtomicPtr::new(core::ptr::null_mut()),
                    AtomicPtr::new(core::ptr::null_mut()),
                ]
            }; CLASSES],
            n: [const { AtomicUsize::new(0) }; CLASSES],
            ids: AtomicU64::new(0),
        }
    }

    /// A number for a node linked now. Under the stripe's lock.
    fn next_id(&self) -> u64 {
        let id = self.ids.load(Ordering::Relaxed);
        self.ids.store(id.wrapping_add(1), Ordering::Relaxed);
        id
    }

    /// Puts `node` (on no list) at the end of list `class`, seen `now`.
    /// Under the stripe's lock.
    fn push(&self, node: &Node<T>, class: u8, now: u32) {
        let (Some(ends), Some(n)) = (
            self.ends.get(usize::from(class)),
            self.n.get(usize::from(class)),
        ) else {
            return;
        };
        let p = core::ptr::from_ref(node).cast_mut();
        let last = ends[1].load(Ordering::Relaxed);
        node.lru[0].store(last, Ordering::Relaxed);
        node.lru[1].store(core::ptr::null_mut(), Ordering::Relaxed);
        if last.is_null() {
            ends[0].store(p, Ordering::Relaxed);
        } else {
            // SAFETY: a listed node is linked in the table (it leaves the
            // list before it is unlinked, and so before it is freed); the
            // caller holds the stripe lock, under which lists change.
            unsafe { (*last).lru[1].store(p, Ordering::Relaxed) };
        }
        ends[1].store(p, Ordering::Relaxed);
        node.class.store(class, Ordering::Relaxed);
        node.seen.store(now, Ordering::Relaxed);
        n.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes `node` off its list, if it is on one. Under the stripe's lock.
    fn del(&self, node: &Node<T>) {
        let class = node.class.swap(UNLISTED, Ordering::Relaxed);
        let (Some(ends), Some(n)) = (
            self.ends.get(usize::from(class)),
            self.n.get(usize::from(class)),
        ) else {
            return;
        };
        let prev = node.lru[0].load(Ordering::Relaxed);
        let next = node.lru[1].load(Ordering::Relaxed);
        // SAFETY: neighbours on a list are listed nodes, valid as in `push`.
        unsafe {
            if prev.is_null() {
                ends[0].store(next, Ordering::Relaxed);
            } else {
                (*prev).lru[1].store(next, Ordering::Relaxed);
            }
            if next.is_null() {
                ends[1].store(prev, Ordering::Relaxed);
            } else {
                (*next).lru[0].store(prev, Ordering::Relaxed);
            }
        }
        n.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A bucket array of a table.
///
/// # Invariants
///
/// `heads` has `2^(32 - shift)` entries, `shift` within [1, 27] (at least
/// [`STRIPES`] buckets); a hash's bucket is `hash >> shift`; its chains
/// link nodes through `next[link]`, each linked node's `pprev[link]`
/// pointing back at the head or `next` that points at it. `heads` never
/// reallocates (back links point into it).
struct Array<T> {
    heads: KVVec<AtomicPtr<Node<T>>>,
    shift: u32,
    link: usize,
}

impl<T> Array<T> {
    /// An empty array of `1 << bits` buckets chaining through link `link`.
    /// May sleep.
    fn new(bits: u32, link: usize, flags: kernel::alloc::Flags) -> Result<KBox<Self>> {
        let bits = bits.clamp(MIN_BITS, 31);
        let n = 1usize.checked_shl(bits).ok_or(EINVAL)?;
        let mut heads = KVVec::with_capacity(n, flags)?;
        for _ in 0..n {
            heads.push(AtomicPtr::new(core::ptr::null_mut()), flags)?;
        }
        // INVARIANT: 2^bits buckets, bits in [5, 31].
        Ok(KBox::new(
            Array {
                heads,
                shift: 32 - bits,
                link: link & 1,
            },
            flags,
        )?)
    }

    /// The bucket index of `hash`.
    fn index(&self, hash: u32) -> usize {
        (hash >> self.shift) as usize
    }

    fn head(&self, hash: u32) -> Option<&AtomicPtr<Node<T>>> {
        self.heads.get(self.index(hash))
    }

    /// Buckets per stripe.
    fn per_stripe(&self) -> usize {
        (self.heads.len() / STRIPES).max(1)
    }

    /// The stripe of bucket `i`.
    fn stripe_of(&self, i: usize) -> usize {
        i / self.per_stripe()
    }

    /// The table's number of bits.
    fn bits(&self) -> u32 {
        32 - self.shift
    }

    /// The link of `n` that chains it in this array.
    fn next<'n>(&self, n: &'n Node<T>) -> &'n AtomicPtr<Node<T>> {
        if self.link == 0 {
            &n.next[0]
        } else {
            &n.next[1]
        }
    }

    /// The back link of `n` in this array (see [`Node`]'s `pprev`).
    fn pprev<'n>(&self, n: &'n Node<T>) -> &'n AtomicPtr<AtomicPtr<Node<T>>> {
        if self.link == 0 {
            &n.pprev[0]
        } else {
            &n.pprev[1]
        }
    }

    /// Publishes `node` at the head of its bucket; the caller holds the
    /// bucket's stripe lock and `node` is not in this array yet.
    fn link(&self, node: &Node<T>) {
        let Some(head) = self.head(node.hash) else {
            return;
        };
        let first = head.load(Ordering::Relaxed);
        self.next(node).store(first, Ordering::Relaxed);
        self.pprev(node)
            .store(core::ptr::from_ref(head).cast_mut(), Ordering::Relaxed);
        if !first.is_null() {
            // SAFETY: linked in this array, and the caller holds the lock
            // under which nodes are unlinked.
            let f = unsafe { &*first };
            self.pprev(f).store(
                core::ptr::from_ref(self.next(node)).cast_mut(),
                Ordering::Relaxed,
            );
        }
        // Publish: the node's contents are visible before the pointer.
        head.store(core::ptr::from_ref(node).cast_mut(), Ordering::Release);
    }

    /// Takes `node` out of its bucket's chain in O(1), if it is linked in
    /// this array; returns whether it was. The caller holds the bucket's
    /// stripe lock, and `node` is linked in this array or in none of the
    /// table's (its back links then null). Its `next` stays: a reader on
    /// it goes on along the chain.
    fn unlink(&self, node: &Node<T>) -> bool {
        let pp = self
            .pprev(node)
            .swap(core::ptr::null_mut(), Ordering::Relaxed);
        if pp.is_null() {
            return false;
        }
        let next = self.next(node).load(Ordering::Relaxed);
        // SAFETY: `pp` is the bucket's head in this array or the `next` of
        // the node before in its chain (the back link of a node linked
        // here), valid while the caller holds the lock.
        unsafe { (*pp).store(next, Ordering::Release) };
        if !next.is_null() {
            // SAFETY: linked in this array, valid under the lock.
            self.pprev(unsafe { &*next }).store(pp, Ordering::Relaxed);
        }
        true
    }

    /// Walks bucket `i` under RCU (the array was found in the caller's
    /// read section, for which its nodes stay).
    fn walk<'a>(&'a self, i: usize, mut f: impl FnMut(&'a Node<T>)) {
        let Some(b) = self.heads.get(i) else {
            return;
        };
        let mut p = b.load(Ordering::Acquire);
        while !p.is_null() {
            // SAFETY: the caller is in a read section, in which a reachable
            // node is not freed, and it was initialised before publication
            // (the acquire load pairs with the release store of `link`).
            let n = unsafe { &*p };
            f(n);
            p = self.next(n).load(Ordering::Acquire);
        }
    }
}

/// The table.
///
/// Resizing: a second array (`future`) is filled bucket by bucket under
/// the stripe locks, each node linked there through its other link while
/// it stays in `cur`; writers link and unlink in both for buckets already
/// copied (`copied`). Then `future` becomes `cur`, and the old array is
/// freed after a grace period. Readers are never blocked: they walk
/// whichever array they found, and both hold every entry.
///
/// # Invariants
///
/// `cur` is null or an [`Array`] from `KBox::into_raw`, freed only after
/// it was replaced and a grace period passed; `future` likewise, non-null
/// only during a resize, with the other link than `cur`'s. Every node
/// reachable from them through the bucket heads and `next` links is
/// allocated by `A`, fully initialised before it was published; it is
/// unlinked only under its stripe lock and freed only by an RCU callback
/// after unlinking (or in `Drop`, after a grace period). A node's back
/// link (`pprev`) for `cur`'s link, and for `future`'s once its bucket
/// was copied, points at what points at it in that array, for as long as
/// it is linked there (the other may be stale; see [`Node`]); both are
/// null once it was taken out. Its `id` is its own among the nodes of its
/// stripe. Locks in `locks` are initialised and never move (the vector's
/// buffer is never reallocated). `copied[s]` counts the buckets `s`,
/// `s + STRIPES`, ... of `cur` copied into `future`, and changes under
/// lock `s`. A node on an eviction list of `lists[s]` is linked in the
/// table, in stripe `s`, whenever lock `s` is not held: it leaves the
/// list under the lock that unlinks it.
pub(crate) struct RcuHashTable<T: Send + Sync, A: NodeAlloc<T>> {
    cur: AtomicPtr<Array<T>>,
    future: AtomicPtr<Array<T>>,
    copied: [AtomicUsize; STRIPES],
    locks: KVec<SpinLockBh>,
    /// Per stripe, the eviction lists of its entries (only of entries
    /// inserted with a class). On the heap: 3 KB would weigh on the stack
    /// of whoever builds a table.
    lists: KVec<Lists<T>>,
    len: AtomicUsize,
    /// Set while a resize runs (resizes are not concurrent).
    resizing: AtomicBool,
    _a: PhantomData<A>,
}

// SAFETY: values are `Send + Sync`; all shared mutation is atomic or under
// the stripe locks.
unsafe impl<T: Send + Sync, A: NodeAlloc<T>> Sync for RcuHashTable<T, A> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync, A: NodeAlloc<T>> Send for RcuHashTable<T, A> {}

static STRIPE_KEY: LockKey = LockKey::new();

/// Clears the resize flag when a resize ends, however it ends.
struct Resizing<'a>(&'a AtomicBool);

impl Drop for Resizing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl<T: Send + Sync, A: NodeAlloc<T>> RcuHashTable<T, A> {
    /// A table of `1 << bits` buckets (at least 2^5). May sleep.
    pub(crate) fn new(bits: u32) -> Result<Self> {
        let t = Self::new_empty()?;
        t.cur.store(
            KBox::into_raw(Array::new(bits, 0, GFP_KERNEL)?),
            Ordering::Release,
        );
        Ok(t)
    }

    /// A table without buckets yet: nothing can be inserted before a
    /// first [`RcuHashTable::resize`]. May sleep.
    pub(crate) fn new_empty() -> Result<Self> {
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
        let mut lists = KVec::with_capacity(STRIPES, GFP_KERNEL)?;
        for _ in 0..STRIPES {
            lists.push(Lists::new(), GFP_KERNEL)?;
        }
        Ok(Self {
            cur: AtomicPtr::new(core::ptr::null_mut()),
            future: AtomicPtr::new(core::ptr::null_mut()),
            copied: [const { AtomicUsize::new(0) }; STRIPES],
            locks,
            lists,
            len: AtomicUsize::new(0),
            resizing: AtomicBool::new(false),
            _a: PhantomData,
        })
    }

    /// Number of entries linked.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Number of buckets (0 before the first array).
    pub(crate) fn buckets(&self) -> usize {
        let g = RcuGuard::new();
        self.array(&g).map_or(0, |a| a.heads.len())
    }

    /// The current array, valid for the read section `g` (or while a
    /// stripe lock is held, which keeps a grace period from ending).
    fn array<'g>(&'g self, _g: &'g RcuGuard) -> Option<&'g Array<T>> {
        let p = self.cur.load(Ordering::Acquire);
        // SAFETY: a published array is freed only after it was replaced
        // and a grace period passed (invariant); `_g` is a read section.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// The current array for a writer holding a stripe lock (with bottom
    /// halves off: a grace period cannot end meanwhile).
    fn array_locked(&self, _l: &SpinLockBhGuard<'_>) -> Option<&Array<T>> {
        let p = self.cur.load(Ordering::Acquire);
        // SAFETY: as in `array`: the lock holder is in a read section.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// During a resize, the array being filled, if `hash`'s bucket of
    /// `cur` was copied there already. Under `hash`'s stripe lock.
    fn future_for(&self, _l: &SpinLockBhGuard<'_>, cur: &Array<T>, hash: u32) -> Option<&Array<T>> {
        let f = self.future.load(Ordering::Acquire);
        if f.is_null() || core::ptr::eq(f, cur) {
            return None;
        }
        let i = cur.index(hash);
        let copied = self.copied.get(cur.stripe_of(i))?.load(Ordering::Relaxed);
        // SAFETY: `future` is freed only after a grace period following
        // its replacement; the lock holder is in a read section.
        (i % cur.per_stripe() < copied).then(|| unsafe { &*f })
    }

    /// The lock of `hash`'s stripe: the same for every size of the table.
    fn stripe(&self, hash: u32) -> Option<&SpinLockBh> {
        self.locks.get((hash >> STRIPE_SHIFT) as usize)
    }

    /// A fresh, unpublished node holding `val`.
    fn new_node(hash: u32, val: T) -> Result<*mut Node<T>> {
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
                    next: [
                        AtomicPtr::new(core::ptr::null_mut()),
                        AtomicPtr::new(core::ptr::null_mut()),
                    ],
                    pprev: [
                        AtomicPtr::new(core::ptr::null_mut()),
                        AtomicPtr::new(core::ptr::null_mut()),
                    ],
                    hash,
                    id: AtomicU64::new(0),
                    class: AtomicU8::new(UNLISTED),
                    seen: AtomicU32::new(0),
                    lru: [
                        AtomicPtr::new(core::ptr::null_mut()),
                        AtomicPtr::new(core::ptr::null_mut()),
                    ],
                    val,
                },
            )
        };
        Ok(node)
    }

    /// Gives back a node that was never published.
    ///
    /// # Safety
    ///
    /// `node` came from `new_node` and was never linked.
    unsafe fn discard(node: *mut Node<T>) {
        // SAFETY: per the caller, only we have it.
        unsafe {
            core::ptr::drop_in_place(node);
            A::free(node);
        }
    }

    /// Links `val` at the head of its bucket. Fails (giving nothing back)
    /// when no memory is left: the caller drops the packet.
    pub(crate) fn insert(&self, hash: u32, val: T) -> Result {
        self.insert_placed_if(hash, val, |_| {}, None::<fn(&T) -> bool>, None, |_| {})
            .map(|_| ())
    }

    /// Links `val` unless `ok` refuses one of the bucket's first entries
    /// (at most `RACE_WALK` of them), checked
    /// under the lock (without `ok`, at once: the chain is not walked);
    /// returns whether it linked. `placed` is called on the value in its
    /// node before it is published (before the lock is taken), by a raw
    /// pointer made from the node's own (so a pointer into the value, such
    /// as a timer's, may be stepped back to the whole node), `linked`
    /// on it after it is published, under the lock. With a `class`, the
    /// entry goes at the end of its stripe's eviction list of that class.
    fn insert_placed_if<F: Fn(&T) -> bool>(
        &self,
        hash: u32,
        val: T,
        placed: impl FnOnce(*const T),
        ok: Option<F>,
        class: Option<u8>,
        linked: impl FnOnce(&T),
    ) -> Result<bool> {
        let lock = self.stripe(hash).ok_or(EINVAL)?;
        let node = Self::new_node(hash, val)?;
        // SAFETY: `node` was initialised by `new_node` and is ours until
        // published.
        let n = unsafe { &*node };
        // SAFETY: `node` is valid (as above); the field's address is taken
        // from the node's raw pointer, without a reference.
        placed(unsafe { core::ptr::addr_of!((*node).val) });
        let l = lock.lock();
        let Some(cur) = self.array_locked(&l) else {
            // SAFETY: never published.
            unsafe { Self::discard(node) };
            return Err(ENOMEM);
        };
        let mut refused = false;
        if let Some(ok) = ok {
            let mut p = cur
                .head(hash)
                .map_or(core::ptr::null_mut(), |h| h.load(Ordering::Relaxed));
            let mut left = RACE_WALK;
            while !p.is_null() && left > 0 {
                left -= 1;
                // SAFETY: linked nodes are valid while we hold the lock
                // (only unlinked under it, freed after that).
                let e = unsafe { &*p };
                if e.hash == hash && !ok(&e.val) {
                    refused = true;
                    break;
                }
                p = cur.next(e).load(Ordering::Relaxed);
            }
        }
        if refused {
            drop(l);
            // SAFETY: never published.
            unsafe { Self::discard(node) };
            return Ok(false);
        }
        let lists = self.lists.get((hash >> STRIPE_SHIFT) as usize);
        if let Some(lists) = lists {
            n.id.store(lists.next_id(), Ordering::Relaxed);
        }
        cur.link(n);
        if let Some(f) = self.future_for(&l, cur, hash) {
            f.link(n);
        }
        if let (Some(c), Some(lists)) = (class, lists) {
            if usize::from(c) < CLASSES {
                lists.push(n, c, super::jiffies() as u32);
            }
        }
        self.len.fetch_add(1, Ordering::Relaxed);
        linked(&n.val);
        Ok(true)
    }

    /// The first entry of `hash`'s bucket that `pred` accepts, valid for
    /// the read section `g`.
    pub(crate) fn find<'g>(
        &'g self,
        g: &'g RcuGuard,
        hash: u32,
        mut pred: impl FnMut(&T) -> bool,
    ) -> Option<&'g T> {
        let a = self.array(g)?;
        let mut p = a.head(hash)?.load(Ordering::Acquire);
        while !p.is_null() {
            // SAFETY: under RCU a reachable node is not freed before the
            // read section ends (invariant), and it was initialised before
            // publication (the acquire load pairs with the release store).
            let n = unsafe { &*p };
            if n.hash == hash && pred(&n.val) {
                return Some(&n.val);
            }
            p = a.next(n).load(Ordering::Acquire);
        }
        None
    }

    /// Calls `f` on every entry, a few buckets per read section, letting
    /// other tasks run in between: a walk of millions of entries that keeps
    /// neither RCU nor the CPU for long. Process context, no lock held.
    /// An entry that is added meanwhile, or all of them while the table is
    /// resized, may be missed; one that stays is seen once otherwise.
    pub(crate) fn for_each_resched(&self, mut f: impl FnMut(&T)) {
        let mut i = 0usize;
        loop {
            {
                let g = RcuGuard::new();
                let Some(a) = self.array(&g) else {
                    return;
                };
                let end = i.saturating_add(RESCHED_BUCKETS).min(a.heads.len());
                while i < end {
                    a.walk(i, |n| f(&n.val));
                    i = i.saturating_add(1);
                }
                if i >= a.heads.len() {
                    return;
                }
            }
            cond_resched();
        }
    }

    /// Calls `f` on the entries of `k` buckets picked at random, a few
    /// buckets per read section. Process context, no lock held.
    pub(crate) fn for_each_sampled(&self, k: usize, mut f: impl FnMut(&T)) {
        let mut left = k;
        while left > 0 {
            {
                let g = RcuGuard::new();
                let Some(a) = self.array(&g) else {
                    return;
                };
                for _ in 0..left.min(RESCHED_BUCKETS) {
                    a.walk(a.index(super::random_u32()), |n| f(&n.val));
                }
            }
            left = left.saturating_sub(RESCHED_BUCKETS);
            if left > 0 {
                cond_resched();
            }
        }
    }

    /// Calls `f` on every entry (a walk of all buckets under RCU).
    pub(crate) fn for_each(&self, g: &RcuGuard, mut f: impl FnMut(&T)) {
        let Some(a) = self.array(g) else {
            return;
        };
        for i in 0..a.heads.len() {
            a.walk(i, |n| f(&n.val));
        }
    }

    /// Unlinks the entries of one bucket for which `remove` says so (only
    /// those of hash `hash`, if given), under stripe `s`'s lock, the
    /// bucket's index in the current array being `bucket_of(array)`; each
    /// is passed to `gone` (still under the lock) and freed after a grace
    /// period. Returns how many were removed.
    fn remove_in(
        &self,
        s: usize,
        bucket_of: impl FnOnce(&Array<T>) -> usize,
        hash: Option<u32>,
        remove: &mut impl FnMut(&T) -> bool,
        gone: &mut impl FnMut(&T),
    ) -> usize {
        let Some(lock) = self.locks.get(s) else {
            return 0;
        };
        let l = lock.lock();
        let Some(cur) = self.array_locked(&l) else {
            return 0;
        };
        let Some(bucket) = cur.heads.get(bucket_of(cur)) else {
            return 0;
        };
        let mut count = 0usize;
        let mut p = bucket.load(Ordering::Relaxed);
        while !p.is_null() {
            // SAFETY: linked, and we hold the lock.
            let n = unsafe { &*p };
            // Its `next` stays as it is when it is unlinked.
            p = cur.next(n).load(Ordering::Relaxed);
            if hash.is_none_or(|h| h == n.hash) && remove(&n.val) && self.take_out(&l, cur, n) {
                gone(&n.val);
                count = count.saturating_add(1);
                // SAFETY: unlinked from every array; readers that still
                // see it are in read sections that the grace period waits
                // for.
                unsafe { rvs_call_rcu(n.rcu.get(), Some(free_node::<T, A>)) };
            }
        }
        count
    }

    /// Takes node `n`, linked in the table, out of every array and its
    /// eviction list (not freed), under its stripe's lock `l`, `cur` the
    /// current array; returns whether it was linked. O(1). After it, both
    /// back links of `n` are null: a later call finds it unlinked (even
    /// after a resize, whose new array's link held a stale one).
    fn take_out(&self, l: &SpinLockBhGuard<'_>, cur: &Array<T>, n: &Node<T>) -> bool {
        if !cur.unlink(n) {
            return false;
        }
        if let Some(f) = self.future_for(l, cur, n.hash) {
            f.unlink(n);
        }
        for pp in &n.pprev {
            pp.store(core::ptr::null_mut(), Ordering::Relaxed);
        }
        if let Some(lists) = self.lists.get((n.hash >> STRIPE_SHIFT) as usize) {
            lists.del(n);
        }
        self.len.fetch_sub(1, Ordering::Relaxed);
        true
    }

    /// Unlinks the entry whose value `val` points at, if it is still
    /// linked, passing it to `gone` under the lock; it is freed after a
    /// grace period. O(1): no chain is walked. Returns whether it was
    /// linked.
    ///
    /// # Safety
    ///
    /// `val` points at the value of a node of this table that is not
    /// freed (the caller's read section began while it was linked), and
    /// carries the right to the whole node (it was made from a pointer to
    /// the node, not from a reference to the value alone).
    pub(crate) unsafe fn remove_entry(&self, val: *const T, gone: impl FnOnce(&T)) -> bool {
        let off = core::mem::offset_of!(Node<T>, val);
        // SAFETY: `val` is the `val` field of a live node (the caller's
        // contract): stepping back by its offset gives the node
        // (`container_of`).
        let n = unsafe { &*val.cast::<u8>().sub(off).cast::<Node<T>>() };
        let Some(lock) = self.locks.get((n.hash >> STRIPE_SHIFT) as usize) else {
            return false;
        };
        let l = lock.lock();
        let Some(cur) = self.array_locked(&l) else {
            return false;
        };
        if !self.take_out(&l, cur, n) {
            return false;
        }
        gone(&n.val);
        // SAFETY: unlinked from every array and list; readers that still
        // see it are in read sections that the grace period waits for.
        unsafe { rvs_call_rcu(n.rcu.get(), Some(free_node::<T, A>)) };
        true
    }

    /// Unlinks the entries of hash `hash` (or of every bucket, with
    /// `None`: not while the table is resized) for which `remove` says so,
    /// under the stripe lock; each is passed to `gone` (still under the
    /// lock) and freed after a grace period. Returns how many were removed.
    pub(crate) fn remove_if(
        &self,
        hash: Option<u32>,
        mut remove: impl FnMut(&T) -> bool,
        mut gone: impl FnMut(&T),
    ) -> usize {
        match hash {
            Some(h) => self.remove_in(
                (h >> STRIPE_SHIFT) as usize,
                |a| a.index(h),
                Some(h),
                &mut remove,
                &mut gone,
            ),
            None => {
                let mut count = 0usize;
                let (n, per) = {
                    let g = RcuGuard::new();
                    self.array(&g)
                        .map_or((0, 1), |a| (a.heads.len(), a.per_stripe()))
                };
                for i in 0..n {
                    let n = self.remove_in(i / per, |_| i, None, &mut remove, &mut gone);
                    count = count.saturating_add(n);
                }
                count
            }
        }
    }

    /// Unlinks every entry, a bucket's chain at a time, and hands them
    /// over together, to be freed after one grace period (see
    /// [`Detached`]) instead of by a callback each: a flush of 100,000
    /// real servers queues no RCU callback. Process context; not while
    /// the table is resized.
    pub(crate) fn detach_all(&self) -> Detached<T, A> {
        let mut chains = KVec::new();
        let (n, per) = {
            let g = RcuGuard::new();
            self.array(&g)
                .map_or((0, 1), |a| (a.heads.len(), a.per_stripe()))
        };
        if chains.reserve(n, GFP_KERNEL).is_err() {
            // No memory for the list: a callback per entry.
            self.remove_if(None, |_| true, |_| {});
        }
        for i in 0..n {
            if chains.len() >= chains.capacity() {
                break;
            }
            let Some(lock) = self.locks.get(i / per) else {
                continue;
            };
            let l = lock.lock();
            let Some(a) = self.array_locked(&l) else {
                break;
            };
            let Some(bucket) = a.heads.get(i) else {
                break;
            };
            let head = bucket.swap(core::ptr::null_mut(), Ordering::Release);
            if head.is_null() {
                continue;
            }
            let mut count = 0usize;
            let mut p = head;
            while !p.is_null() {
                // SAFETY: unlinked from the table just now under the lock,
                // not yet freed (only `Detached` frees it).
                let n = unsafe { &*p };
                if let Some(lists) = self.lists.get(i / per) {
                    lists.del(n);
                }
                for pp in &n.pprev {
                    pp.store(core::ptr::null_mut(), Ordering::Relaxed);
                }
                p = a.next(n).load(Ordering::Relaxed);
                count = count.saturating_add(1);
            }
            self.len.fetch_sub(count, Ordering::Relaxed);
            // Capacity checked above: cannot fail.
            let _ = chains.push(DetachedChain(head, a.link), GFP_ATOMIC);
        }
        // INVARIANT: every chain is unlinked; the cookie is taken after.
        Detached {
            chains,
            gp: GraceCookie::start(),
            _a: PhantomData,
        }
    }
}

/// The head of an unlinked chain, and the link that chains it.
struct DetachedChain<T>(*mut Node<T>, usize);

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
                    let next = if c.1 == 0 {
                        (*p).next[0].load(Ordering::Relaxed)
                    } else {
                        (*p).next[1].load(Ordering::Relaxed)
                    };
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
        // No reader is left (we are the only user); the arrays go now.
        for a in [&self.cur, &self.future] {
            let p = a.swap(core::ptr::null_mut(), Ordering::Relaxed);
            if !p.is_null() {
                // SAFETY: from `KBox::into_raw` (invariant), unused now.
                drop(unsafe { KBox::from_raw(p) });
            }
        }
    }
}
