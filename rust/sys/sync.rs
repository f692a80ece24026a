// SPDX-License-Identifier: GPL-2.0

//! RCU read sections and grace periods (include/linux/rcupdate.h) and a
//! bottom-half-safe spinlock (`spin_lock_bh`, include/linux/spinlock.h),
//! which the 6.12 `kernel` crate lacks.

use core::marker::PhantomData;
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_might_sleep();
    fn rvs_spin_lock_init(
        l: *mut bindings::spinlock_t,
        name: *const core::ffi::c_char,
        key: *mut bindings::lock_class_key,
    );
    fn rvs_spin_lock_bh(l: *mut bindings::spinlock_t);
    fn rvs_spin_unlock_bh(l: *mut bindings::spinlock_t);
}

/// An RCU read-side critical section: what is found under it stays valid
/// until it is dropped. Not `Send`: it must end on the CPU it began.
pub(crate) struct RcuGuard(PhantomData<*mut ()>);

impl RcuGuard {
    pub(crate) fn new() -> Self {
        // SAFETY: rcu_read_lock() has no precondition; `Drop` unlocks.
        unsafe { bindings::rcu_read_lock() };
        RcuGuard(PhantomData)
    }
}

impl Drop for RcuGuard {
    fn drop(&mut self) {
        // SAFETY: paired with the rcu_read_lock() of `new`.
        unsafe { bindings::rcu_read_unlock() };
    }
}

/// Says that the caller may sleep (`might_sleep()`): on a kernel with
/// CONFIG_DEBUG_ATOMIC_SLEEP (the test kernel's), a call from atomic
/// context, under a spinlock or inside an [`RcuGuard`]'s read section
/// (which counts as atomic there), is reported with its stack ("BUG:
/// sleeping function called from invalid context"), which fails the VM
/// run. Every sleeping function of `sys` calls it first, so that the
/// suite catches a sleep in a read section even where the wrapped
/// function would not have slept this time.
pub(crate) fn might_sleep() {
    // SAFETY: no precondition; only a check.
    unsafe { rvs_might_sleep() };
}

/// Waits for every RCU callback queued so far (`call_rcu`) to have run:
/// needed before code or caches those callbacks use go away. May sleep.
pub(crate) fn rcu_barrier() {
    might_sleep();
    // SAFETY: no precondition; called from process context.
    unsafe { bindings::rcu_barrier() };
}

/// Waits for a grace period: every read section under way has ended.
/// May sleep.
pub(crate) fn synchronize_rcu() {
    might_sleep();
    // SAFETY: no precondition; called from process context.
    unsafe { bindings::synchronize_rcu() };
}

/// A point in RCU's time ([`GraceCookie::start`]): its grace period ends
/// once every read section that had begun by then has ended.
pub(crate) struct GraceCookie(kernel::ffi::c_ulong);

impl GraceCookie {
    /// Now, with a grace period started if none is under way
    /// (`start_poll_synchronize_rcu`). Process context.
    pub(crate) fn start() -> Self {
        // SAFETY: no precondition.
        GraceCookie(unsafe { bindings::start_poll_synchronize_rcu() })
    }

    /// Waits until it has ended (returns at once if it has). May sleep.
    pub(crate) fn wait(&self) {
        might_sleep();
        // SAFETY: no memory precondition; process context (the callers').
        unsafe { bindings::cond_synchronize_rcu(self.0) };
    }
}

/// A lockdep class for locks made at one place (`static KEY: LockKey =
/// LockKey::new();`).
pub(crate) struct LockKey(Opaque<bindings::lock_class_key>);

// SAFETY: lockdep synchronises its use of class keys itself.
unsafe impl Sync for LockKey {}

impl LockKey {
    /// A key for a `static` (lockdep wants static storage, left as is).
    pub(crate) const fn new() -> Self {
        Self(Opaque::uninit())
    }

    /// The key, for C initialisers that take one.
    pub(crate) fn as_ptr(&self) -> *mut bindings::lock_class_key {
        self.0.get()
    }
}

/// A spinlock taken with bottom halves disabled, for data that both
/// process context (the control plane) and softirq (the packet path) write.
/// One lockdep class per [`SpinLockBh::new`] call site's `key`.
///
/// # Invariants
///
/// `lock` was initialised by `rvs_spin_lock_init` and never moves (it lives
/// in a heap allocation or a static that its owner does not move).
pub(crate) struct SpinLockBh {
    lock: Opaque<bindings::spinlock_t>,
}

// SAFETY: a spinlock is made to be shared between CPUs.
unsafe impl Sync for SpinLockBh {}
// SAFETY: the lock is not tied to a thread while unlocked.
unsafe impl Send for SpinLockBh {}

impl SpinLockBh {
    /// Initialises a lock in place at `slot`.
    ///
    /// # Safety
    ///
    /// `slot` is valid for writes and the lock is not moved afterwards.
    pub(crate) unsafe fn init_at(
        slot: *mut SpinLockBh,
        name: &'static core::ffi::CStr,
        key: &'static LockKey,
    ) {
        // SAFETY: the caller gives a valid slot; `Opaque` is transparent
        // over `spinlock_t`; name and key are static.
        unsafe {
            rvs_spin_lock_init(
                Opaque::raw_get(core::ptr::addr_of!((*slot).lock)),
                name.as_ptr().cast(),
                key.0.get(),
            )
        };
        // INVARIANT: initialised; the caller promises it stays put.
    }

    /// Takes the lock (bottom halves off until the guard drops).
    pub(crate) fn lock(&self) -> SpinLockBhGuard<'_> {
        // SAFETY: initialised and pinned by the type invariant.
        unsafe { rvs_spin_lock_bh(self.lock.get()) };
        SpinLockBhGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }
}

/// Holds a [`SpinLockBh`].
pub(crate) struct SpinLockBhGuard<'a> {
    lock: &'a SpinLockBh,
    _not_send: PhantomData<*mut ()>,
}

impl SpinLockBhGuard<'_> {
    /// Lets the lock go for a moment (bottom halves pending on this CPU
    /// run, other CPUs waiting for it get in) and takes it again.
    pub(crate) fn relock(&mut self) {
        // SAFETY: this guard holds the lock, and holds it again on return.
        unsafe {
            rvs_spin_unlock_bh(self.lock.lock.get());
            rvs_spin_lock_bh(self.lock.lock.get());
        }
    }
}

impl Drop for SpinLockBhGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the lock.
        unsafe { rvs_spin_unlock_bh(self.lock.lock.get()) };
    }
}

/// Data behind a [`SpinLockBh`] (which lives in its own allocation, so the
/// value can move).
pub(crate) struct BhMutex<T> {
    lock: KBox<SpinLockBh>,
    data: core::cell::UnsafeCell<T>,
}

// SAFETY: the data is only reached through the lock.
unsafe impl<T: Send> Sync for BhMutex<T> {}
// SAFETY: moving the owner moves `T`.
unsafe impl<T: Send> Send for BhMutex<T> {}

impl<T> BhMutex<T> {
    /// May sleep (allocates the lock).
    pub(crate) fn new(
        data: T,
        name: &'static core::ffi::CStr,
        key: &'static LockKey,
    ) -> Result<Self> {
        let mut b = KBox::<SpinLockBh>::new_uninit(GFP_KERNEL)?;
        // SAFETY: a fresh heap slot that never moves while boxed.
        unsafe { SpinLockBh::init_at(b.as_mut_ptr().cast(), name, key) };
        // SAFETY: initialised just above.
        let lock = unsafe { KBox::assume_init(b) };
        Ok(Self {
            lock,
            data: core::cell::UnsafeCell::new(data),
        })
    }

    pub(crate) fn lock(&self) -> BhMutexGuard<'_, T> {
        let g = self.lock.lock();
        BhMutexGuard { g, m: self }
    }
}

/// Access to a [`BhMutex`]'s data while its lock is held.
pub(crate) struct BhMutexGuard<'a, T> {
    g: SpinLockBhGuard<'a>,
    m: &'a BhMutex<T>,
}

impl<T> BhMutexGuard<'_, T> {
    /// See [`SpinLockBhGuard::relock`]: the data may have changed after.
    pub(crate) fn relock(&mut self) {
        self.g.relock();
    }
}

impl<T> core::ops::Deref for BhMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is held for the guard's life.
        unsafe { &*self.m.data.get() }
    }
}

impl<T> core::ops::DerefMut for BhMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the lock is held, so this is the only access.
        unsafe { &mut *self.m.data.get() }
    }
}

/// Lets other tasks run during a long loop (`cond_resched()`; the test
/// kernel is not preemptible). Process context, no lock held.
pub(crate) fn cond_resched() {
    might_sleep();
    // SAFETY: no memory precondition; the callers are in process context
    // outside any lock or RCU read section.
    unsafe { bindings::__cond_resched() };
}
