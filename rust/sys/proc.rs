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
        place: usize,
    ) -> *mut bindings::proc_dir_entry;
    fn rvs_seq_data(seq: *mut bindings::seq_file) -> *mut core::ffi::c_void;
    fn rvs_seq_place(seq: *mut bindings::seq_file) -> *mut core::ffi::c_void;
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

/// A place in a [`ProcSeq`] listing: words that only the listing reads
/// (all zero: its start). Plain integers: any value is one.
pub(crate) type Cursor = [u64; 3];

/// A listing made of records (each a few lines), after a header. Each
/// reader keeps its own place (next to seq_file's position, which counts
/// records): [`ProcSeq::seek`] finds the first record from a place on,
/// [`ProcSeq::show`] writes one and says where the next is sought from.
/// So a reader that stops resumes at the record it stopped at, whatever
/// changed meanwhile, and its buffer holds one record (a listing keeps
/// its records short). A read that does not follow on from the last one
/// (seq_file goes back to position 0 for an lseek or a pread elsewhere,
/// and reads forward from there) is the only kind there is.
pub(crate) trait ProcSeq: 'static {
    /// The file name (static, NUL-terminated).
    const NAME: &'static CStr;
    /// What the file reads, which it keeps.
    type Data: Send + Sync + 'static;
    /// Writes the header.
    fn header(d: &Self::Data, w: &mut SeqWriter);
    /// The first record at place `from` or after it.
    fn seek(d: &Self::Data, from: Cursor) -> Option<Cursor>;
    /// Writes record `rec`; returns the place of what follows it.
    fn show(d: &Self::Data, rec: &Cursor, w: &mut SeqWriter) -> Cursor;
}

/// A reader's place in a [`ProcSeq`] listing, in its seq_file's private
/// state (after the namespace's part), zeroed at open: seq_file's
/// position `pos` (records, the header 0) is the record `rec`, which was
/// sought from `from`; `next` is where the one after it is sought from.
#[repr(C)]
struct Place {
    pos: i64,
    from: Cursor,
    rec: Cursor,
    next: Cursor,
}

/// The tokens seq_file passes between the callbacks: the header, or the
/// record of the reader's [`Place`].
const HEADER: *mut core::ffi::c_void = 1 as *mut core::ffi::c_void;
const RECORD: *mut core::ffi::c_void = 2 as *mut core::ffi::c_void;

/// The reader's place.
///
/// # Safety
///
/// `seq` is open on a file made by [`SeqFile::new`], and called from one
/// of its seq_file callbacks (which seq_file runs one at a time per open
/// file, under its lock).
unsafe fn place<'a>(seq: *mut bindings::seq_file) -> &'a mut Place {
    // SAFETY: the file was made with room for a `Place` (8-byte aligned,
    // zeroed at open: a valid value) at `rvs_seq_place`; only the callbacks
    // of this open file use it, one at a time.
    unsafe { &mut *rvs_seq_place(seq).cast::<Place>() }
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
        return HEADER;
    }
    // SAFETY: per the function's contract.
    let (d, pl) = unsafe { (seq_data::<T::Data>(seq), place(seq)) };
    if p != pl.pos {
        // Not where this reader was: seq_file reads from 0 on first.
        return core::ptr::null_mut();
    }
    match T::seek(d, pl.from) {
        Some(r) => {
            pl.rec = r;
            RECORD
        }
        None => core::ptr::null_mut(),
    }
}

/// # Safety
///
/// Called by seq_file for a file made by [`SeqFile::new`].
unsafe extern "C" fn seq_next<T: ProcSeq>(
    seq: *mut bindings::seq_file,
    v: *mut core::ffi::c_void,
    pos: *mut bindings::loff_t,
) -> *mut core::ffi::c_void {
    // SAFETY: per the function's contract; seq_file passes its position.
    let (d, pl, old) = unsafe { (seq_data::<T::Data>(seq), place(seq), *pos) };
    pl.from = if v == HEADER { [0; 3] } else { pl.next };
    pl.pos = old.saturating_add(1);
    // SAFETY: as above.
    unsafe { *pos = pl.pos };
    match T::seek(d, pl.from) {
        Some(r) => {
            pl.rec = r;
            RECORD
        }
        None => core::ptr::null_mut(),
    }
}

/// # Safety
///
/// None: it does nothing (called by seq_file).
unsafe extern "C" fn seq_stop(_seq: *mut bindings::seq_file, _v: *mut core::ffi::c_void) {}

/// # Safety
///
/// Called by seq_file for a file made by [`SeqFile::new`].
unsafe extern "C" fn seq_show<T: ProcSeq>(
    seq: *mut bindings::seq_file,
    v: *mut core::ffi::c_void,
) -> i32 {
    // SAFETY: per the function's contract.
    let (d, pl) = unsafe { (seq_data::<T::Data>(seq), place(seq)) };
    let mut w = SeqWriter { seq };
    if v == HEADER {
        T::header(d, &mut w);
    } else {
        pl.next = T::show(d, &pl.rec, &mut w);
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
                core::mem::size_of::<Place>(),
            )
        };
        Ok(Self {
            _e: ProcEntry::new(net, T::NAME, e)?,
            _data: data,
            _t: PhantomData,
        })
    }
}
