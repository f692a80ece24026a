// SPDX-License-Identifier: GPL-2.0

//! Per-namespace sysctl tables (include/linux/sysctl.h): a static template
//! of integer entries, copied for each namespace with its `data` pointing
//! at that namespace's values.

use core::sync::atomic::AtomicI32;
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;

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
        unpriv_ro: u64,
        unpriv_hidden: u64,
    ) -> *mut bindings::ctl_table_header;
    fn rvs_sysctl_unregister(h: *mut bindings::ctl_table_header);
}

// shim.c: ip_vs_ctl.c's checks, the entry's `extra1` naming which
// (`Check`'s discriminant).
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_proc_checked(
        t: *const bindings::ctl_table,
        write: kernel::ffi::c_int,
        buf: *mut kernel::ffi::c_void,
        lenp: *mut usize,
        ppos: *mut bindings::loff_t,
    ) -> kernel::ffi::c_int;
}

/// Which values an entry takes (a write of another is refused with
/// EINVAL, as ip_vs refuses it).
#[derive(Clone, Copy)]
#[repr(usize)]
pub(crate) enum Check {
    /// 0 or 1.
    SyncVersion = 0,
    /// 0 to 3.
    SyncRetries = 1,
    /// A power of two.
    SyncPorts = 2,
    /// Two values: non-negative, the first below the second unless that is
    /// 0.
    SyncThreshold = 3,
    /// A defence's mode, 0 to 3 (drop_entry, drop_packet).
    DefenseMode = 4,
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

    /// An entry of `n` consecutive ints (a vector, as ip_vs's
    /// sync_threshold).
    pub(crate) const fn vector(name: &'static core::ffi::CStr, n: i32) -> Self {
        let mut e = Self::new(name);
        e.0.maxlen = n * core::mem::size_of::<i32>() as i32;
        e
    }

    /// An entry whose writes are checked as `check` says.
    pub(crate) const fn checked(name: &'static core::ffi::CStr, check: Check) -> Self {
        let n = match check {
            Check::SyncThreshold => 2,
            _ => 1,
        };
        let mut e = Self::vector(name, n);
        e.0.proc_handler = Some(rvs_proc_checked);
        // The check's number, as shim.c's handler reads it.
        e.0.extra1 = check as usize as *mut kernel::ffi::c_void;
        e
    }

    /// How many ints it spans.
    const fn ints(&self) -> usize {
        (self.0.maxlen as usize) / core::mem::size_of::<i32>()
    }
}

/// A static template of `N` entries.
pub(crate) struct Template<const N: usize>(pub(crate) [IntEntry; N]);

// SAFETY: never written; the pointers in it are static strings and a
// kernel function.
unsafe impl<const N: usize> Sync for Template<N> {}

/// A table registered in a namespace; its values live in an `Arc<T>` that
/// the registration keeps alive.
///
/// # Invariants
///
/// `hdr` is a registered table whose entries point into the values
/// `vals(&owner)` of `owner` (each entry at the next ones, as many as its
/// length), which never move (they are in the `Arc`).
pub(crate) struct Registration<const N: usize, T: Send + Sync> {
    hdr: *mut bindings::ctl_table_header,
    _owner: Arc<T>,
}

// SAFETY: a handle for unregistering and an `Arc` of a `Send + Sync` type.
unsafe impl<const N: usize, T: Send + Sync> Send for Registration<N, T> {}
// SAFETY: no `&self` methods.
unsafe impl<const N: usize, T: Send + Sync> Sync for Registration<N, T> {}

impl<const N: usize, T: Send + Sync> Registration<N, T> {
    /// Registers `tmpl` under `path` in `net`, the values being
    /// `vals(&owner)`; the entries whose first values `unpriv_ro` lists (by
    /// their indexes in `vals`, which pass the template's indexes where an
    /// entry spans several values) are read-only in a namespace that an
    /// unprivileged user namespace owns, and those `unpriv_hidden` lists
    /// are not there at all (as ip_vs_lblc's and ip_vs_lblcr's).
    pub(crate) fn new(
        net: &Net,
        path: &'static core::ffi::CStr,
        tmpl: &'static Template<N>,
        owner: Arc<T>,
        vals: fn(&T) -> &[AtomicI32],
        unpriv_ro: &[usize],
        unpriv_hidden: &[usize],
    ) -> Result<Self> {
        // The template's index of each entry whose first value is listed.
        let (mut ro, mut hidden) = (0u64, 0u64);
        let mut first = 0usize;
        for (j, e) in tmpl.0.iter().enumerate() {
            if j < 64 && unpriv_ro.contains(&first) {
                ro |= 1u64 << j;
            }
            if j < 64 && unpriv_hidden.contains(&first) {
                hidden |= 1u64 << j;
            }
            first = first.saturating_add(e.ints());
        }
        let v = vals(&owner);
        // Each entry's data is the next `ints()` values (shim.c).
        let need: usize = tmpl.0.iter().map(|e| e.ints()).sum();
        if v.len() < need {
            return Err(EINVAL);
        }
        // SAFETY: the template is static; the values are inside `owner`'s
        // allocation, which this registration keeps until after it
        // unregisters; AtomicI32 has the layout of an int.
        let hdr = unsafe {
            rvs_sysctl_register(
                net.as_ptr(),
                path.as_ptr().cast(),
                tmpl.0.as_ptr().cast(),
                N,
                v.as_ptr().cast_mut().cast(),
                ro,
                hidden,
            )
        };
        if hdr.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: registered above with values inside `owner`.
        Ok(Self { hdr, _owner: owner })
    }
}

impl<const N: usize, T: Send + Sync> Drop for Registration<N, T> {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant); waits for running handlers.
        // `_owner` is dropped after this body.
        unsafe { rvs_sysctl_unregister(self.hdr) };
    }
}
