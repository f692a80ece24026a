// SPDX-License-Identifier: GPL-2.0

//! Module parameters, declared in C by `rust/sys/params.c` (the 6.12
//! `module!` macro cannot declare them), and memory facts from `linux/mm.h`.

use kernel::ffi::{c_int, c_ulong};

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    static rvs_param_conn_tab_bits: c_int;
    fn rvs_totalram_pages() -> c_ulong;
}

/// The `conn_tab_bits` parameter as the user gave it (not yet clamped).
pub(crate) fn conn_tab_bits() -> i32 {
    // SAFETY: the variable is defined in params.c and is only written by the
    // module loader before `init` runs (permission 0444: never at run time);
    // a volatile read of an aligned `int` is always valid.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(rvs_param_conn_tab_bits)) }
}

/// Number of pages of RAM managed by the kernel (`totalram_pages()`).
pub(crate) fn totalram_pages() -> u64 {
    // SAFETY: a plain C function without preconditions.
    let pages = unsafe { rvs_totalram_pages() };
    u64::try_from(pages).unwrap_or(u64::MAX)
}

/// log2 of the page size.
pub(crate) const PAGE_SHIFT: usize = kernel::page::PAGE_SHIFT;
