// SPDX-License-Identifier: GPL-2.0

//! What rvs keeps for every network namespace (ip_vs's `struct netns_ipvs`).

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::prelude::*;

use crate::conn::{self, tab_size};
use crate::ctl::abi::default_timeout;
use crate::sys::netns::{Net, PernetId, PernetState};
use crate::sys::params;

static NET_ID: PernetId = PernetId::new();

/// Per-namespace state.
pub(crate) struct NetState {
    /// Buckets of the connection table (GET_INFO's conn_tab_size).
    pub(crate) conn_tab_size: u32,
    /// TCP ESTABLISHED timeout, seconds.
    pub(crate) timeout_tcp: AtomicU32,
    /// TCP FIN_WAIT timeout, seconds.
    pub(crate) timeout_tcp_fin: AtomicU32,
    /// UDP timeout, seconds.
    pub(crate) timeout_udp: AtomicU32,
}

impl NetState {
    /// The three timeouts of GET_CONFIG: (tcp, tcp_fin, udp).
    pub(crate) fn timeouts(&self) -> (u32, u32, u32) {
        (
            self.timeout_tcp.load(Ordering::Relaxed),
            self.timeout_tcp_fin.load(Ordering::Relaxed),
            self.timeout_udp.load(Ordering::Relaxed),
        )
    }
}

/// The table size that the `conn_tab_bits` parameter gives on this machine.
pub(crate) fn conn_tab_size() -> u32 {
    let bits = tab_size::conn_tab_bits(
        params::conn_tab_bits(),
        params::totalram_pages(),
        u32::try_from(params::PAGE_SHIFT).unwrap_or(12),
        conn::ENTRY_SIZE,
    );
    tab_size::conn_tab_size(bits)
}

impl PernetState for NetState {
    fn id() -> &'static PernetId {
        &NET_ID
    }

    fn new(_net: &Net) -> Result<Self> {
        Ok(Self {
            conn_tab_size: conn_tab_size(),
            timeout_tcp: AtomicU32::new(default_timeout::TCP),
            timeout_tcp_fin: AtomicU32::new(default_timeout::TCP_FIN),
            timeout_udp: AtomicU32::new(default_timeout::UDP),
        })
    }
}
