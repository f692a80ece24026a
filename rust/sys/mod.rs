// SPDX-License-Identifier: GPL-2.0

//! The only place in rvs with `unsafe`: thin safe wrappers over
//! `kernel::bindings` for what the 6.12 `kernel` crate does not cover.

pub(crate) mod errno;
pub(crate) mod genl;
pub(crate) mod memcg;
pub(crate) mod netns;
pub(crate) mod nf;
pub(crate) mod params;
pub(crate) mod pcpu;
pub(crate) mod proc;
pub(crate) mod rcuhash;
pub(crate) mod route;
pub(crate) mod skb;
pub(crate) mod slab;
pub(crate) mod sock;
pub(crate) mod sync;
pub(crate) mod sysctl;
pub(crate) mod work;

/// The kernel's HZ (jiffies per second).
pub(crate) const HZ: u32 = kernel::bindings::CONFIG_HZ;

/// The current time in jiffies.
pub(crate) fn jiffies() -> u64 {
    // SAFETY: reads the jiffies counter; no precondition.
    unsafe { kernel::bindings::get_jiffies_64() }
}

/// Free and buffer memory, in pages (what ip_vs's defences weigh).
pub(crate) fn avail_pages() -> u64 {
    extern "C" {
        fn rvs_avail_pages() -> kernel::ffi::c_ulong;
    }
    // SAFETY: a plain C function without preconditions.
    u64::try_from(unsafe { rvs_avail_pages() }).unwrap_or(u64::MAX)
}

/// A random 32-bit value.
pub(crate) fn random_u32() -> u32 {
    // SAFETY: no precondition.
    unsafe { kernel::bindings::get_random_u32() }
}

/// Sleeps `ms` milliseconds (process context).
pub(crate) fn msleep(ms: u32) {
    sync::might_sleep();
    // SAFETY: no memory precondition; callers are in process context.
    unsafe { kernel::bindings::msleep(ms) };
}

extern "C" {
    fn rvs_nr_free_buffer_pages() -> core::ffi::c_ulong;
}

/// Pages of low memory free for buffers (`nr_free_buffer_pages()`).
pub(crate) fn nr_free_buffer_pages() -> u64 {
    // SAFETY: a plain C function without preconditions.
    unsafe { rvs_nr_free_buffer_pages() }
}
