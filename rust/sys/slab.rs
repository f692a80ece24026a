// SPDX-License-Identifier: GPL-2.0

//! Slab caches (`kmem_cache`, include/linux/slab.h) of one object type:
//! what a table with many short-lived entries allocates from, visible in
//! /proc/slabinfo under its name, charged to the memory cgroup in scope.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::prelude::*;

use super::sync::rcu_barrier;

extern "C" {
    fn rvs_kmem_cache_create(
        name: *const kernel::ffi::c_char,
        size: core::ffi::c_uint,
        align: core::ffi::c_uint,
    ) -> *mut bindings::kmem_cache;
    fn rvs_kmem_cache_alloc(c: *mut bindings::kmem_cache) -> *mut core::ffi::c_void;
}

/// A slab cache of objects of type `O`.
///
/// # Invariants
///
/// `ptr` is a cache created for objects of `O`'s size and alignment,
/// destroyed only in `Drop`, after `rcu_barrier()`.
pub(crate) struct Cache<O> {
    ptr: *mut bindings::kmem_cache,
    _o: PhantomData<O>,
}

// SAFETY: a kmem_cache is used from any CPU.
unsafe impl<O> Send for Cache<O> {}
// SAFETY: as above.
unsafe impl<O> Sync for Cache<O> {}

impl<O> Cache<O> {
    pub(crate) fn new(name: &'static CStr) -> Result<Self> {
        let size = u32::try_from(core::mem::size_of::<O>())?;
        let align = u32::try_from(core::mem::align_of::<O>())?;
        // SAFETY: a static name; size and align describe O.
        let ptr = unsafe { rvs_kmem_cache_create(name.as_char_ptr(), size, align) };
        if ptr.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: created above for O.
        Ok(Self {
            ptr,
            _o: PhantomData,
        })
    }
}

impl<O> Drop for Cache<O> {
    fn drop(&mut self) {
        // Objects still waiting for an RCU callback must be back first.
        rcu_barrier();
        // SAFETY: every object was freed (the owners of the objects are
        // gone and their callbacks ran); the cache is destroyed once.
        unsafe { bindings::kmem_cache_destroy(self.ptr) };
    }
}

/// A [`Cache`] in a static slot, for an RCU callback to find: the
/// allocator of tables whose objects come from one module-wide cache.
pub(crate) struct Static<O: 'static> {
    slot: AtomicPtr<bindings::kmem_cache>,
    /// Names the type only (holds no `O`: shared whatever `O` is).
    _o: PhantomData<fn() -> O>,
}

impl<O> Static<O> {
    pub(crate) const fn new() -> Self {
        Self {
            slot: AtomicPtr::new(core::ptr::null_mut()),
            _o: PhantomData,
        }
    }

    /// Publishes `cache` as the one `alloc` uses; the cache must outlive
    /// every table using this slot (the module keeps both and drops the
    /// tables first).
    pub(crate) fn set(&self, cache: Option<&Cache<O>>) {
        self.slot.store(
            cache.map_or(core::ptr::null_mut(), |c| c.ptr),
            Ordering::Release,
        );
    }

    /// An object of the published cache (GFP_ATOMIC), or null.
    pub(crate) fn alloc(&self) -> *mut O {
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
    pub(crate) unsafe fn free(&self, p: *mut O) {
        let c = self.slot.load(Ordering::Acquire);
        if !c.is_null() {
            // SAFETY: per the caller, `p` belongs to `c`.
            unsafe { bindings::kmem_cache_free(c, p.cast()) };
        }
    }
}
