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

    /// Charges `__GFP_ACCOUNT` allocations to this cgroup until the scope
    /// ends (none taken: the scope changes nothing). Any context; the
    /// scope ends in the context it began in (it is not `Send`).
    pub(crate) fn scope(&self) -> MemcgScope<'_> {
        let m = self.memcg.load(Ordering::Acquire);
        let old = if m.is_null() {
            None
        } else {
            // SAFETY: `m` is referenced while `self` lives, which the
            // scope's borrow outlasts.
            Some(unsafe { rvs_memcg_enter(m) })
        };
        MemcgScope {
            old,
            _m: core::marker::PhantomData,
        }
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

/// While it lives, allocations with `__GFP_ACCOUNT` go to a [`Memcg`].
pub(crate) struct MemcgScope<'a> {
    old: Option<*mut c_void>,
    _m: core::marker::PhantomData<&'a Memcg>,
}

impl Drop for MemcgScope<'_> {
    fn drop(&mut self) {
        if let Some(old) = self.old {
            // SAFETY: puts back what the scope replaced, in the same
            // context (the scope is neither Send nor Sync: a raw pointer).
            unsafe { rvs_memcg_leave(old) };
        }
    }
}
