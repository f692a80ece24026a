// SPDX-License-Identifier: GPL-2.0

//! Per-namespace sysctl tables (include/linux/sysctl.h): a static template
//! of integer entries, copied for each namespace with its `data` pointing
//! at that namespace's values.

use core::sync::atomic::AtomicI32;
use kernel::bindings;
use kernel::prelude::*;

use super::netns::Net;

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_sysctl_register(
        net: *mut bindings::net,
        path: *const kernel::ffi::c_char,
        tmpl: *const bindings::ctl_table,
        n: usize,
        vals: *mut i32,
    ) -> *mut bindings::ctl_table_header;
    fn rvs_sysctl_unregister(h: *mut bindings::ctl_table_header);
}

/// One `int` entry read and written with `proc_dointvec`, mode 0644.
#[repr(transparent)]
pub(crate) struct IntEntry(bindings::ctl_table);

impl IntEntry {
    pub(crate) const fn new(name: &'static core::ffi::CStr) -> Self {
        // SAFETY: an all-zero ctl_table is valid (no handler, no data).
        let mut t: bindings::ctl_table = unsafe { core::mem::zeroed() };
        t.procname = name.as_ptr().cast();
        t.maxlen = core::mem::size_of::<i32>() as i32;
        t.mode = 0o644;
        t.proc_handler = Some(bindings::proc_dointvec);
        IntEntry(t)
    }
}

/// A static template of `N` entries.
pub(crate) struct Template<const N: usize>(pub(crate) [IntEntry; N]);

// SAFETY: never written; the pointers in it are static strings and a
// kernel function.
unsafe impl<const N: usize> Sync for Template<N> {}

/// A table registered in a namespace, its values in `vals`.
///
/// # Invariants
///
/// `hdr` is a registered table whose entries point into the `N` values the
/// owner keeps alive (and in place) for longer than this value.
pub(crate) struct Registration<const N: usize> {
    hdr: *mut bindings::ctl_table_header,
}

// SAFETY: only a handle for unregistering.
unsafe impl<const N: usize> Send for Registration<N> {}
// SAFETY: no `&self` methods.
unsafe impl<const N: usize> Sync for Registration<N> {}

impl<const N: usize> Registration<N> {
    /// Registers `tmpl` under `path` in `net` with the values `vals`.
    ///
    /// # Safety
    ///
    /// `vals` stays alive and in place until the registration is dropped.
    pub(crate) unsafe fn new(
        net: &Net,
        path: &'static core::ffi::CStr,
        tmpl: &'static Template<N>,
        vals: &[AtomicI32; N],
    ) -> Result<Self> {
        // SAFETY: the template is static; `vals` outlives the registration
        // per the caller; AtomicI32 has the layout of an int.
        let hdr = unsafe {
            rvs_sysctl_register(
                net.as_ptr(),
                path.as_ptr().cast(),
                tmpl.0.as_ptr().cast(),
                N,
                vals.as_ptr().cast_mut().cast(),
            )
        };
        if hdr.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: registered above.
        Ok(Self { hdr })
    }
}

impl<const N: usize> Drop for Registration<N> {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant); waits for running handlers.
        unsafe { rvs_sysctl_unregister(self.hdr) };
    }
}
