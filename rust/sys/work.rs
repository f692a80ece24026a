// SPDX-License-Identifier: GPL-2.0

//! A periodic job on the system workqueue (`struct delayed_work`,
//! include/linux/workqueue.h): runs `T::tick` in process context every
//! `period` jiffies until the value is dropped.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_init_delayed_work(w: *mut bindings::delayed_work, f: bindings::work_func_t);
    fn rvs_to_delayed_work(w: *mut bindings::work_struct) -> *mut bindings::delayed_work;
}

/// The job.
pub(crate) trait Tick: Send + Sync + 'static {
    fn tick(&self);
}

/// The work item and its context. `dw` first: the callback's pointer is
/// the struct's.
#[repr(C)]
struct Inner<T: Tick> {
    dw: Opaque<bindings::delayed_work>,
    stop: AtomicBool,
    period: usize,
    ctx: T,
}

/// A running periodic job.
///
/// # Invariants
///
/// `inner` is a leaked `KBox<Inner<T>>` whose work is initialised; it is
/// freed only in `Drop`, after the work was cancelled synchronously.
pub(crate) struct Periodic<T: Tick> {
    inner: *mut Inner<T>,
    _t: PhantomData<T>,
}

// SAFETY: `T: Send + Sync`; the work item is made for cross-CPU use.
unsafe impl<T: Tick> Send for Periodic<T> {}
// SAFETY: as above.
unsafe impl<T: Tick> Sync for Periodic<T> {}

impl<T: Tick> Periodic<T> {
    /// Starts `ctx.tick()` every `period` jiffies. May sleep.
    pub(crate) fn start(ctx: T, period: u64) -> Result<Self> {
        let b = KBox::new(
            Inner {
                dw: Opaque::uninit(),
                stop: AtomicBool::new(false),
                period: usize::try_from(period).unwrap_or(usize::MAX),
                ctx,
            },
            GFP_KERNEL,
        )?;
        let inner = KBox::into_raw(b);
        // SAFETY: `inner` is valid and never moves (leaked box).
        unsafe {
            rvs_init_delayed_work((*inner).dw.get(), Some(run::<T>));
            bindings::queue_delayed_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as i32,
                bindings::system_wq,
                (*inner).dw.get(),
                (*inner).period,
            );
        }
        // INVARIANT: initialised and queued above.
        Ok(Self {
            inner,
            _t: PhantomData,
        })
    }
}

/// # Safety
///
/// Called by the workqueue with the `work` of an `Inner<T>`'s `dw`.
unsafe extern "C" fn run<T: Tick>(work: *mut bindings::work_struct) {
    // SAFETY: `work` is embedded in `dw`, the first field of Inner<T>.
    let inner = unsafe { &*rvs_to_delayed_work(work).cast::<Inner<T>>() };
    inner.ctx.tick();
    if !inner.stop.load(Ordering::Acquire) {
        // SAFETY: the work is initialised and `inner` alive (Drop cancels
        // synchronously before freeing).
        unsafe {
            bindings::queue_delayed_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as i32,
                bindings::system_wq,
                inner.dw.get(),
                inner.period,
            )
        };
    }
}

impl<T: Tick> Drop for Periodic<T> {
    fn drop(&mut self) {
        // SAFETY: `inner` is alive; after `stop` the job re-queues no more,
        // and cancel_delayed_work_sync waits for a running one.
        unsafe {
            (*self.inner).stop.store(true, Ordering::Release);
            bindings::cancel_delayed_work_sync((*self.inner).dw.get());
            drop(KBox::from_raw(self.inner));
        }
    }
}
