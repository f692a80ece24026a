// SPDX-License-Identifier: GPL-2.0

//! What rvs keeps for every network namespace (ip_vs's `struct netns_ipvs`).

use kernel::prelude::*;
use kernel::sync::Mutex;
use kernel::{new_mutex, try_pin_init};

use crate::conn::{self, tab_size};
use crate::ctl::abi::default_timeout;
use crate::svc::Services;
use crate::sys::netns::{Net, PernetId, PernetState};
use crate::sys::params;

static NET_ID: PernetId = PernetId::new();

/// The configuration of a namespace, changed only under [`NetState::ctl`]
/// (ip_vs's `__ip_vs_mutex`).
pub(crate) struct Ctl {
    /// (tcp, tcp_fin, udp) timeouts in seconds.
    pub(crate) timeouts: (u32, u32, u32),
    /// The virtual services.
    pub(crate) services: Services,
}

/// Per-namespace state.
#[pin_data]
pub(crate) struct NetState {
    /// Buckets of the connection table (GET_INFO's conn_tab_size).
    pub(crate) conn_tab_size: u32,
    /// The configuration.
    #[pin]
    pub(crate) ctl: Mutex<Ctl>,
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

    fn new(_net: &Net) -> impl PinInit<Self, Error> {
        try_pin_init!(NetState {
            conn_tab_size: conn_tab_size(),
            ctl <- new_mutex!(Ctl {
                timeouts: (
                    default_timeout::TCP,
                    default_timeout::TCP_FIN,
                    default_timeout::UDP,
                ),
                services: Services::new(),
            }, "rvs_ctl"),
        }? Error)
    }
}
