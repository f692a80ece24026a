// SPDX-License-Identifier: GPL-2.0

//! Read-only files in a namespace's /proc/net (include/linux/proc_fs.h,
//! seq_file.h): one function writes the whole contents through a
//! [`SeqWriter`]; the seq_file layer buffers it and serves reads.

use core::marker::PhantomData;
use kernel::bindings;
use kernel::prelude::*;

use super::netns::Net;

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_proc_create(
        net: *mut bindings::net,
        name: *const kernel::ffi::c_char,
        show: Option<unsafe extern "C" fn(*mut bindings::seq_file, *mut core::ffi::c_void) -> i32>,
    ) -> *mut bindings::proc_dir_entry;
    fn rvs_proc_remove(net: *mut bindings::net, name: *const kernel::ffi::c_char);
    fn rvs_seq_net(seq: *mut bindings::seq_file) -> *mut bindings::net;
}

/// Where a file's contents go.
pub(crate) struct SeqWriter {
    seq: *mut bindings::seq_file,
}

impl core::fmt::Write for SeqWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: `seq` is the seq_file of the running show callback; the
        // string is valid for its length. Overflow is recorded by seq_file,
        // which then calls show again with a larger buffer.
        unsafe { bindings::seq_write(self.seq, s.as_ptr().cast(), s.len()) };
        Ok(())
    }
}

/// The contents of one file.
pub(crate) trait ProcShow: 'static {
    /// The file name (static, NUL-terminated).
    const NAME: &'static CStr;
    /// Writes the contents for namespace `net`.
    fn show(net: &Net, w: &mut SeqWriter);
}

/// # Safety
///
/// Called by seq_file for a file made by [`ProcFile::new`].
unsafe extern "C" fn show_trampoline<T: ProcShow>(
    seq: *mut bindings::seq_file,
    _v: *mut core::ffi::c_void,
) -> i32 {
    // SAFETY: a /proc/net single file keeps its namespace alive while open.
    let net = unsafe { Net::from_raw(rvs_seq_net(seq)) };
    T::show(net, &mut SeqWriter { seq });
    0
}

/// A file in a namespace's /proc/net, removed on drop.
///
/// # Invariants
///
/// The entry `T::NAME` exists in `net`'s /proc/net while the value lives;
/// `net` is alive (the value is dropped by the namespace's pernet exit at
/// the latest).
pub(crate) struct ProcFile<T: ProcShow> {
    net: *mut bindings::net,
    _t: PhantomData<T>,
}

// SAFETY: only a handle to remove the entry.
unsafe impl<T: ProcShow> Send for ProcFile<T> {}
// SAFETY: no `&self` methods.
unsafe impl<T: ProcShow> Sync for ProcFile<T> {}

impl<T: ProcShow> ProcFile<T> {
    pub(crate) fn new(net: &Net) -> Result<Self> {
        // SAFETY: a live namespace and a static name.
        let e = unsafe {
            rvs_proc_create(
                net.as_ptr(),
                T::NAME.as_char_ptr(),
                Some(show_trampoline::<T>),
            )
        };
        if e.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: created above.
        Ok(Self {
            net: net.as_ptr(),
            _t: PhantomData,
        })
    }
}

impl<T: ProcShow> Drop for ProcFile<T> {
    fn drop(&mut self) {
        // SAFETY: the entry exists (type invariant); removal waits for
        // readers in the show callback.
        unsafe { rvs_proc_remove(self.net, T::NAME.as_char_ptr()) };
    }
}
