// SPDX-License-Identifier: GPL-2.0

//! Per-protocol connection states and timeouts (ip_vs_proto_tcp.c,
//! ip_vs_proto_udp.c, ip_vs_proto_sctp.c). Pure logic, tested on the host.

// Shared with the host crate, which exercises more of it than the module.
#![allow(dead_code)]

pub(crate) mod ipv4;
pub(crate) mod ipv6;
pub(crate) mod l4;
pub(crate) mod sctp;
pub(crate) mod tcp;
pub(crate) mod udp;

pub(crate) const IPPROTO_TCP: u8 = 6;
pub(crate) const IPPROTO_UDP: u8 = 17;
pub(crate) const IPPROTO_SCTP: u8 = 132;
pub(crate) const IPPROTO_ICMP: u8 = 1;
pub(crate) const IPPROTO_ICMPV6: u8 = 58;

/// The transport protocols rvs balances (their ports lead their headers).
pub(crate) fn balanced(protocol: u8) -> bool {
    matches!(protocol, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP)
}

/// Address families, as the kernel numbers them.
pub(crate) const AF_INET: u16 = 2;
pub(crate) const AF_INET6: u16 = 10;

/// The parts of an IP header (IPv4, or IPv6 with its extension headers
/// walked) that the director uses, the same for both families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ip {
    /// `AF_INET` or `AF_INET6`.
    pub(crate) af: u16,
    /// Offset of the transport header: the IPv4 header's length, or the
    /// IPv6 header's with its extension headers.
    pub(crate) hlen: usize,
    /// The packet's length as the header gives it.
    pub(crate) tot_len: usize,
    /// The transport protocol (IPv6: the last next header).
    pub(crate) protocol: u8,
    /// IPv4's TOS, IPv6's traffic class.
    pub(crate) tos: u8,
    /// IPv4's TTL, IPv6's hop limit.
    pub(crate) ttl: u8,
    /// Not to be fragmented on the way (always so for IPv6).
    pub(crate) df: bool,
    /// A fragment (IPv4: more fragments or an offset; IPv6: a fragment
    /// header that is not atomic).
    pub(crate) fragment: bool,
    /// The addresses in the tables' 16-byte form (IPv4: the first four).
    pub(crate) saddr: [u8; 16],
    pub(crate) daddr: [u8; 16],
}

impl Ip {
    pub(crate) fn is_v6(&self) -> bool {
        self.af == AF_INET6
    }
}

/// An ICMP or ICMPv6 error about a TCP, UDP or SCTP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IcmpError {
    pub(crate) ty: u8,
    pub(crate) code: u8,
    /// Offset of the inner (quoted) IP header from the outer one.
    pub(crate) inner_off: usize,
    pub(crate) inner: Ip,
    /// Offset of the inner transport header from the outer IP header.
    pub(crate) inner_l4_off: usize,
    pub(crate) inner_sport: u16,
    pub(crate) inner_dport: u16,
}

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

impl Timeouts {
    /// As ip_vs starts with (TCP ESTABLISHED, TCP FIN_WAIT, UDP NORMAL).
    pub(crate) const DEFAULT: Timeouts = Timeouts {
        tcp: 15 * 60,
        tcp_fin: 2 * 60,
        udp: 5 * 60,
    };
}

/// The state name as /proc/net/ip_vs_conn and `ipvsadm -L -c` show it.
pub(crate) fn state_name(protocol: u8, state: u8) -> &'static str {
    match protocol {
        IPPROTO_TCP => tcp::name(state),
        IPPROTO_UDP => udp::NAME,
        IPPROTO_SCTP => sctp::name(state),
        _ => "ERR!",
    }
}

/// The timeout of a state, in seconds.
pub(crate) fn timeout(protocol: u8, state: u8, t: &Timeouts) -> u32 {
    match protocol {
        IPPROTO_TCP => tcp::timeout(state, t),
        IPPROTO_SCTP => sctp::timeout(state),
        _ => t.udp,
    }
}
