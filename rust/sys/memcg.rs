// SPDX-License-Identifier: GPL-2.0

//! Memory cgroups (include/linux/memcontrol.h, include/linux/sched/mm.h):
//! a reference to one, and a scope in which `__GFP_ACCOUNT` allocations
//! are charged to it whatever the context (`set_active_memcg`: a softirq
//! making a connection entry charges the namespace's cgroup, not the task
//! it interrupted).

use core::ffi::c_void;
use core::sync::atomic::{AtomicPtr, Ordering};

extern "C" {
    fn rvs_memcg_of_current() -> *mut c_void;
    fn rvs_memcg_put(memcg: *mut c_void);
    fn rvs_memcg_enter(memcg: *mut c_void) -> *mut c_void;
    fn rvs_memcg_leave(old: *mut c_void);
}

/// A memory cgroup taken once, or none yet.
///
/// # Invariants
///
/// `memcg` is null or a cgroup this value holds a reference to (from
/// `rvs_memcg_of_current`), put in `Drop`; set at most once.
pub(crate) struct Memcg {
    memcg: AtomicPtr<c_void>,
}

impl Memcg {
    pub(crate) const fn new() -> Self {
        Self {
            memcg: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Takes the cgroup of the calling task, unless one was taken before.
    /// Process context.
    pub(crate) fn take_current(&self) {
        if !self.memcg.load(Ordering::Acquire).is_null() {
            return;
        }
        // SAFETY: no precondition; returns a referenced cgroup or null.
        let m = unsafe { rvs_memcg_of_current() };
        if m.is_null() {
            return;
        }
        if self
            .memcg
            .compare_exchange(
                core::ptr::null_mut(),
                m,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            // SAFETY: ours, not kept: another caller's is.
            unsafe { rvs_memcg_put(m) };
        }
        // INVARIANT: set once, with the reference just taken.
    }

    /// Runs `f` with `__GFP_ACCOUNT` allocations charged to this cgroup
    /// (none taken: as it is). Any context. A closure, not a guard: the
    /// cgroup put back cannot be skipped (`mem::forget`) or swapped with
    /// another scope's from safe code.
    pub(crate) fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let m = self.memcg.load(Ordering::Acquire);
        if m.is_null() {
            return f();
        }
        // SAFETY: `m` is referenced while `self` lives, which outlasts
        // this call.
        let old = unsafe { rvs_memcg_enter(m) };
        let r = f();
        // SAFETY: puts back what `rvs_memcg_enter` replaced, in the same
        // context, the scopes of nested calls having ended in order.
        unsafe { rvs_memcg_leave(old) };
        r
    }
}

impl Drop for Memcg {
    fn drop(&mut self) {
        let m = *self.memcg.get_mut();
        if !m.is_null() {
            // SAFETY: the reference taken in `take_current` (invariant).
            unsafe { rvs_memcg_put(m) };
        }
    }
}
