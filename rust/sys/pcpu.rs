// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters (include/linux/percpu.h): each CPU adds to its own
//! copy (`this_cpu_add`, no lock, no shared cache line); a reader sums the
//! copies of every possible CPU.

use kernel::prelude::*;

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_pcpu_alloc(n: u32) -> *mut u64;
    fn rvs_pcpu_add(p: *mut u64, i: u32, v: u64);
    fn rvs_pcpu_add2(p: *mut u64, i: u32, v: u64, j: u32, w: u64);
    fn rvs_pcpu_sum(p: *mut u64, n: u32, out: *mut u64);
    fn rvs_next_possible_cpu(prev: i32) -> i32;
    fn rvs_pcpu_read_cpu(p: *mut u64, n: u32, cpu: i32, out: *mut u64);
}

/// `N` 64-bit counters per CPU.
///
/// # Invariants
///
/// `p` is a per-CPU allocation of `N` u64s, freed only in `Drop`.
pub(crate) struct PcpuCounters<const N: usize> {
    p: *mut u64,
}

// SAFETY: per-CPU memory is made for concurrent use by all CPUs; each
// writes only its own copy with a single this_cpu_add.
unsafe impl<const N: usize> Send for PcpuCounters<N> {}
// SAFETY: as above.
unsafe impl<const N: usize> Sync for PcpuCounters<N> {}

impl<const N: usize> PcpuCounters<N> {
    /// Zeroed counters. May sleep.
    pub(crate) fn new() -> Result<Self> {
        let n = u32::try_from(N)?;
        // SAFETY: no precondition; returns zeroed memory or null.
        let p = unsafe { rvs_pcpu_alloc(n) };
        if p.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: allocated above for N counters.
        Ok(Self { p })
    }

    /// Adds `v` to counter `i` (ignored if `i >= N`). Any context.
    pub(crate) fn add(&self, i: usize, v: u64) {
        if i < N {
            // SAFETY: `i < N`; this_cpu_add is preemption- and irq-safe.
            unsafe { rvs_pcpu_add(self.p, i as u32, v) };
        }
    }

    /// Adds `v` to counter `i` and `w` to counter `j` (ignored unless both
    /// are below `N`). Any context.
    pub(crate) fn add2(&self, i: usize, v: u64, j: usize, w: u64) {
        if i < N && j < N {
            // SAFETY: `i, j < N`; this_cpu_add is preemption- and irq-safe.
            unsafe { rvs_pcpu_add2(self.p, i as u32, v, j as u32, w) };
        }
    }

    /// Calls `f` with each possible CPU's number and its copies of the
    /// counters, in CPU order (`/proc/net/ip_vs_stats_percpu`).
    pub(crate) fn for_each_cpu(&self, mut f: impl FnMut(u32, &[u64; N])) {
        let mut cpu = -1;
        loop {
            // SAFETY: no precondition; returns a possible CPU or -1.
            cpu = unsafe { rvs_next_possible_cpu(cpu) };
            let Ok(id) = u32::try_from(cpu) else {
                return;
            };
            let mut out = [0u64; N];
            // SAFETY: `cpu` is a possible CPU; `p` holds `N` u64s per CPU
            // (invariant); `out` has room for `N`.
            unsafe { rvs_pcpu_read_cpu(self.p, N as u32, cpu, out.as_mut_ptr()) };
            f(id, &out);
        }
    }

    /// Every counter's sum over all CPUs (one walk of the CPUs).
    pub(crate) fn sum_all(&self) -> [u64; N] {
        let mut out = [0u64; N];
        // `N` fits: `new` checked it.
        let n = N as u32;
        // SAFETY: `p` holds `N` u64s per CPU (invariant); `out` has room
        // for `N` and starts at 0 (the shim adds to it); reads of aligned
        // u64s.
        unsafe { rvs_pcpu_sum(self.p, n, out.as_mut_ptr()) };
        out
    }
}

impl<const N: usize> Drop for PcpuCounters<N> {
    fn drop(&mut self) {
        // SAFETY: allocated by rvs_pcpu_alloc, freed once; free_percpu may
        // be called from any context.
        unsafe { kernel::bindings::free_percpu(self.p.cast()) };
    }
}
