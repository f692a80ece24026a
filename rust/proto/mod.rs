// SPDX-License-Identifier: GPL-2.0

//! Per-protocol connection states and timeouts (ip_vs_proto_tcp.c,
//! ip_vs_proto_udp.c). Pure logic, tested on the host.

// Shared with the host crate, which exercises more of it than the module.
#![allow(dead_code)]

pub(crate) mod ipv4;
pub(crate) mod tcp;
pub(crate) mod udp;

pub(crate) const IPPROTO_TCP: u8 = 6;
pub(crate) const IPPROTO_UDP: u8 = 17;

/// Which way a packet goes relative to its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Client to real server (through the director).
    Input,
    /// Real server to client (seen only for NAT).
    Output,
}

/// The timeouts of a namespace, in seconds, as `ipvsadm --set` sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) tcp: u32,
    pub(crate) tcp_fin: u32,
    pub(crate) udp: u32,
}

/// The state name as /proc/net/ip_vs_conn and `ipvsadm -L -c` show it.
pub(crate) fn state_name(protocol: u8, state: u8) -> &'static str {
    match protocol {
        IPPROTO_TCP => tcp::name(state),
        IPPROTO_UDP => udp::NAME,
        _ => "ERR!",
    }
}

/// The timeout of a state, in seconds.
pub(crate) fn timeout(protocol: u8, state: u8, t: &Timeouts) -> u32 {
    match protocol {
        IPPROTO_TCP => tcp::timeout(state, t),
        _ => t.udp,
    }
}
