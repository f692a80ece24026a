// SPDX-License-Identifier: GPL-2.0

//! The connection table.

pub(crate) mod tab_size;

/// Size in bytes used to bound the table by memory, as ip_vs does with
/// `sizeof(struct ip_vs_conn)` (368 bytes on x86_64, order 9).
pub(crate) const ENTRY_SIZE: u64 = 512;
