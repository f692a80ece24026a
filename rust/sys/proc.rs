// SPDX-License-Identifier: GPL-2.0

//! Read-only files in a namespace's /proc/net (include/linux/proc_fs.h,
//! seq_file.h): either one function writes the whole contents through a
//! [`SeqWriter`] ([`ProcShow`], for short files), or the contents are a
//! sequence of records written one at a time ([`ProcSeq`], for listings
//! that can be large: the reader's buffer holds one record, and a read
//! resumes at the record where the last one stopped). A file holds what
//! it reads (an `Arc` of its `Data`) and is removed, waiting for its
//! readers, before it lets go of it.

use core::marker::PhantomData;
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;

use super::netns::Net;

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_proc_create(
        net: *mut bindings::net,
        name: *const kernel::ffi::c_char,
        show: Option<unsafe extern "C" fn(*mut bindings::seq_file, *mut core::ffi::c_void) -> i32>,
        data: *mut core::ffi::c_void,
    ) -> *mut bindings::proc_dir_entry;
    fn rvs_proc_remove(net: *mut bindings::net, name: *const kernel::ffi::c_char);
    fn rvs_seq_net(seq: *mut bindings::seq_file) -> *mut bindings::net;
    fn rvs_proc_create_seq(
        net: *mut bindings::net,
        name: *const kernel::ffi::c_char,
        ops: *const bindings::seq_operations,
        data: *mut core::ffi::c_void,
    ) -> *mut bindings::proc_dir_entry;
    fn rvs_seq_data(seq: *mut bindings::seq_file) -> *mut core::ffi::c_void;
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
    /// What the file reads, which it keeps.
    type Data: Send + Sync + 'static;
    /// Writes the contents for namespace `net` from `d`.
    fn show(net: &Net, d: &Self::Data, w: &mut SeqWriter);
}

/// The data of the file that `seq` reads.
///
/// # Safety
///
/// `seq` is open on a file made by [`ProcFile::new`] or [`SeqFile::new`]
/// with data of type `D`.
unsafe fn seq_data<'a, D>(seq: *mut bindings::seq_file) -> &'a D {
    // SAFETY: the entry's data is the `Arc<D>` that the file holds until
    // after the entry is removed, which waits for readers.
    unsafe { &*rvs_seq_data(seq).cast::<D>() }
}

/// # Safety
///
/// Called by seq_file for a file made by [`ProcFile::new`].
unsafe extern "C" fn show_trampoline<T: ProcShow>(
    seq: *mut bindings::seq_file,
    _v: *mut core::ffi::c_void,
) -> i32 {
    // SAFETY: a /proc/net single file keeps its namespace alive while open;
    // a ProcFile<T>'s data is a `T::Data`.
    let (net, d) = unsafe { (Net::from_raw(rvs_seq_net(seq)), seq_data::<T::Data>(seq)) };
    T::show(net, d, &mut SeqWriter { seq });
    0
}

/// An entry of a namespace's /proc/net, removed on drop.
///
/// # Invariants
///
/// The entry `name` exists in `net`'s /proc/net while the value lives;
/// `net` is alive (the value is dropped by the namespace's pernet exit at
/// the latest).
struct ProcEntry {
    net: *mut bindings::net,
    name: &'static CStr,
}

// SAFETY: only a handle to remove the entry.
unsafe impl Send for ProcEntry {}
// SAFETY: no `&self` methods.
unsafe impl Sync for ProcEntry {}

impl ProcEntry {
    /// Takes `e`, what a creation function returned for `name` in `net`.
    fn new(net: &Net, name: &'static CStr, e: *mut bindings::proc_dir_entry) -> Result<Self> {
        if e.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: created, as the caller says.
        Ok(Self {
            net: net.as_ptr(),
            name,
        })
    }
}

impl Drop for ProcEntry {
    fn drop(&mut self) {
        // SAFETY: the entry exists (type invariant); removal waits for
        // readers in the callbacks.
        unsafe { rvs_proc_remove(self.net, self.name.as_char_ptr()) };
    }
}

/// A file in a namespace's /proc/net whose contents `T` writes at once
/// from `data`, removed on drop (before `data` goes).
pub(crate) struct ProcFile<T: ProcShow> {
    _e: ProcEntry,
    _data: Arc<T::Data>,
}

impl<T: ProcShow> ProcFile<T> {
    pub(crate) fn new(net: &Net, data: Arc<T::Data>) -> Result<Self> {
        // SAFETY: a live namespace and a static name; the data outlives the
        // entry (dropped after it).
        let e = unsafe {
            rvs_proc_create(
                net.as_ptr(),
                T::NAME.as_char_ptr(),
                Some(show_trampoline::<T>),
                core::ptr::from_ref::<T::Data>(&data).cast_mut().cast(),
            )
        };
        Ok(Self {
            _e: ProcEntry::new(net, T::NAME, e)?,
            _data: data,
        })
    }
}

/// A listing made of records (each a few lines), after a header. Records
/// are found by position: [`ProcSeq::seek`] gives the first record at or
/// after one, [`ProcSeq::after`] the position that follows a record.
/// seq_file's position is that position (plus one; 0 is the header), so a
/// reader that stops resumes at the record it stopped at, and the buffer
/// holds one record.
pub(crate) trait ProcSeq: 'static {
    /// The file name (static, NUL-terminated).
    const NAME: &'static CStr;
    /// What the file reads, which it keeps.
    type Data: Send + Sync + 'static;
    /// Writes the header.
    fn header(d: &Self::Data, w: &mut SeqWriter);
    /// The first record at or after position `from` (below 2^58).
    fn seek(d: &Self::Data, from: u64) -> Option<u64>;
    /// The position after record `rec`.
    fn after(rec: u64) -> u64;
    /// Writes record `rec`.
    fn show(d: &Self::Data, rec: u64, w: &mut SeqWriter);
}

/// The cursor of a [`ProcSeq`] read, as seq_file carries it: a non-null
/// token, 1 for the header (`SEQ_START_TOKEN`), record + 2 otherwise.
fn token(rec: Option<u64>) -> *mut core::ffi::c_void {
    match rec.and_then(|r| usize::try_from(r).ok()) {
        Some(r) => r.saturating_add(2) as *mut core::ffi::c_void,
        None => core::ptr::null_mut(),
    }
}

/// The record a token names (`None`: the header).
fn record(v: *mut core::ffi::c_void) -> Option<u64> {
    (v as usize).checked_sub(2).map(|r| r as u64)
}

/// # Safety
///
/// Called by seq_file for a file made by [`SeqFile::new`].
unsafe extern "C" fn seq_start<T: ProcSeq>(
    seq: *mut bindings::seq_file,
    pos: *mut bindings::loff_t,
) -> *mut core::ffi::c_void {
    // SAFETY: seq_file passes its position.
    let p = unsafe { *pos };
    if p == 0 {
        return 1 as *mut core::ffi::c_void;
    }
    let Ok(from) = u64::try_from(p.saturating_sub(1)) else {
        return core::ptr::null_mut();
    };
    // SAFETY: per the function's contract.
    token(T::seek(unsafe { seq_data::<T::Data>(seq) }, from))
}

/// # Safety
///
/// Called by seq_file for a file made by [`SeqFile::new`].
unsafe extern "C" fn seq_next<T: ProcSeq>(
    seq: *mut bindings::seq_file,
    v: *mut core::ffi::c_void,
    pos: *mut bindings::loff_t,
) -> *mut core::ffi::c_void {
    let from = record(v).map_or(0, T::after);
    // SAFETY: per the function's contract.
    let next = T::seek(unsafe { seq_data::<T::Data>(seq) }, from);
    // The position is where the next record was sought from (plus one),
    // so that a read that stops there resumes there; past the end too,
    // where the next read finds nothing again. It always moves forward:
    // `from` is past the record just shown.
    // SAFETY: seq_file passes its position.
    let old = unsafe { *pos };
    let np = i64::try_from(from.saturating_add(1))
        .unwrap_or(i64::MAX)
        .max(old.saturating_add(1));
    // SAFETY: as above.
    unsafe { *pos = np };
    token(next)
}

unsafe extern "C" fn seq_stop(_seq: *mut bindings::seq_file, _v: *mut core::ffi::c_void) {}

/// # Safety
///
/// Called by seq_file for a file made by [`SeqFile::new`].
unsafe extern "C" fn seq_show<T: ProcSeq>(
    seq: *mut bindings::seq_file,
    v: *mut core::ffi::c_void,
) -> i32 {
    // SAFETY: per the function's contract.
    let d = unsafe { seq_data::<T::Data>(seq) };
    let mut w = SeqWriter { seq };
    match record(v) {
        None => T::header(d, &mut w),
        Some(r) => T::show(d, r, &mut w),
    }
    0
}

/// The operations of `T`'s file.
struct SeqOps<T>(PhantomData<T>);

impl<T: ProcSeq> SeqOps<T> {
    const OPS: bindings::seq_operations = bindings::seq_operations {
        start: Some(seq_start::<T>),
        stop: Some(seq_stop),
        next: Some(seq_next::<T>),
        show: Some(seq_show::<T>),
    };
}

/// A record-by-record file in a namespace's /proc/net reading `data`,
/// removed on drop (before `data` goes).
pub(crate) struct SeqFile<T: ProcSeq> {
    _e: ProcEntry,
    _data: Arc<T::Data>,
    _t: PhantomData<T>,
}

impl<T: ProcSeq> SeqFile<T> {
    pub(crate) fn new(net: &Net, data: Arc<T::Data>) -> Result<Self> {
        // SAFETY: a live namespace, a static name and static operations
        // (a promoted constant); the data outlives the entry (dropped after
        // it).
        let e = unsafe {
            rvs_proc_create_seq(
                net.as_ptr(),
                T::NAME.as_char_ptr(),
                &SeqOps::<T>::OPS,
                core::ptr::from_ref::<T::Data>(&data).cast_mut().cast(),
            )
        };
        Ok(Self {
            _e: ProcEntry::new(net, T::NAME, e)?,
            _data: data,
            _t: PhantomData,
        })
    }
}
