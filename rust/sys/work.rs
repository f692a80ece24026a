// SPDX-License-Identifier: GPL-2.0

//! A periodic job on the system workqueue (`struct delayed_work`,
//! include/linux/workqueue.h): runs `T::tick` in process context every
//! `period` jiffies until the value is dropped.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;
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

/// A job on the system workqueue that runs when kicked ([`Kicker`]), or
/// after the delay its last run asked for.
pub(crate) trait Run: Send + Sync + 'static {
    /// Does the work; returns the jiffies until the next run, or `None`
    /// to wait for a kick.
    fn run(&self) -> Option<u64>;
}

/// The work item, its gate and its context. `dw` first: the callback's
/// pointer is the struct's.
#[repr(C)]
struct JobInner<T: Run> {
    dw: Opaque<bindings::delayed_work>,
    /// Set (under the lock) when the job stops: no kick queues it after.
    stopped: crate::sys::sync::BhMutex<bool>,
    ctx: T,
}

/// A started job; dropping it stops it (waiting for a run under way).
///
/// # Invariants
///
/// `inner`'s work is initialised; while `stopped` is false it may be
/// queued, and it is never queued once `stopped` is set and the work was
/// cancelled (in `Drop`).
pub(crate) struct Job<T: Run> {
    inner: Arc<JobInner<T>>,
}

/// Queues a [`Job`] from any context (softirq included); does nothing once
/// the job stopped.
pub(crate) struct Kicker<T: Run> {
    inner: Arc<JobInner<T>>,
}

impl<T: Run> Clone for Kicker<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

static JOB_KEY: crate::sys::sync::LockKey = crate::sys::sync::LockKey::new();

impl<T: Run> Job<T> {
    /// Starts `ctx`'s job; its first run is after `delay` jiffies. May
    /// sleep.
    pub(crate) fn start(ctx: T, delay: u64) -> Result<Self> {
        let inner = Arc::new(
            JobInner {
                dw: Opaque::uninit(),
                stopped: crate::sys::sync::BhMutex::new(false, c"rvs_job", &JOB_KEY)?,
                ctx,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: the Arc's data never moves; the work is initialised
        // before it can be queued.
        unsafe { rvs_init_delayed_work(inner.dw.get(), Some(job_run::<T>)) };
        let job = Self { inner };
        job.kicker().kick(delay);
        Ok(job)
    }

    /// A handle that queues this job.
    pub(crate) fn kicker(&self) -> Kicker<T> {
        Kicker {
            inner: self.inner.clone(),
        }
    }

    pub(crate) fn ctx(&self) -> &T {
        &self.inner.ctx
    }
}

impl<T: Run> Kicker<T> {
    /// Runs the job after `delay` jiffies (0: as soon as possible),
    /// moving an earlier or later pending run to then.
    pub(crate) fn kick(&self, delay: u64) {
        queue(&self.inner, delay, true);
    }

    /// Runs the job after `delay` jiffies unless a run is pending already.
    pub(crate) fn kick_unless_pending(&self, delay: u64) {
        queue(&self.inner, delay, false);
    }
}

fn queue<T: Run>(inner: &JobInner<T>, delay: u64, modify: bool) {
    let g = inner.stopped.lock();
    if *g {
        return;
    }
    let d = usize::try_from(delay).unwrap_or(usize::MAX);
    // SAFETY: the work is initialised and alive (`inner` is borrowed from
    // an Arc); it is not stopped, and stopping takes this lock first.
    unsafe {
        if modify {
            bindings::mod_delayed_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as i32,
                bindings::system_wq,
                inner.dw.get(),
                d,
            );
        } else {
            bindings::queue_delayed_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as i32,
                bindings::system_wq,
                inner.dw.get(),
                d,
            );
        }
    }
    drop(g);
}

/// # Safety
///
/// Called by the workqueue with the `work` of a live `JobInner<T>`'s `dw`.
unsafe extern "C" fn job_run<T: Run>(work: *mut bindings::work_struct) {
    // SAFETY: `work` is embedded in `dw`, the first field of JobInner<T>,
    // which lives until the Job's Drop has cancelled the work.
    let inner = unsafe { &*rvs_to_delayed_work(work).cast::<JobInner<T>>() };
    if let Some(next) = inner.ctx.run() {
        queue(inner, next, false);
    }
}

impl<T: Run> Drop for Job<T> {
    fn drop(&mut self) {
        *self.inner.stopped.lock() = true;
        // SAFETY: initialised; after `stopped` nothing queues it again, and
        // this waits for a queued or running one.
        unsafe { bindings::cancel_delayed_work_sync(self.inner.dw.get()) };
    }
}

// SAFETY: the work item is made for use from any CPU and touched only
// through the workqueue's functions; `stopped` is a lock; `T: Send + Sync`.
unsafe impl<T: Run> Send for JobInner<T> {}
// SAFETY: as above.
unsafe impl<T: Run> Sync for JobInner<T> {}
