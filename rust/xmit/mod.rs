// SPDX-License-Identifier: GPL-2.0

//! Forwarding (ip_vs_xmit.c): one file per method, chosen once per
//! connection when it is created.

pub(crate) mod dr;
pub(crate) mod icmp;
pub(crate) mod nat;
pub(crate) mod tunnel;

use crate::conn::Conn;
use crate::proto::{ipv4, ipv6, Ip};
use crate::svc::spec::Fwd;
use crate::sys::netns::Net;
use crate::sys::route::{DstCache, Route};
use crate::sys::skb::Verdict;
use crate::sys::skb::{Owned, Skb};
use crate::sys::sync::RcuGuard;

/// Sends a client's packet on to the connection's real server.
/// `pmtu_disc`: the pmtu_disc sysctl (tunnels honour the client's DF).
/// `via`: the real server's cached route for the connection's own
/// packets.
pub(crate) fn to_real_server(
    net: &Net,
    skb: Owned<'_>,
    c: &Conn,
    ip: &Ip,
    pmtu_disc: bool,
    via: Via<'_>,
) -> Verdict {
    match c.fwd {
        Fwd::Masq => nat::xmit(net, skb, c, ip, via),
        Fwd::Tunnel => tunnel::xmit(net, skb, c, ip, pmtu_disc, via),
        Fwd::Route => dr::xmit(net, skb, c, ip, via),
        // The real server is this host, or the packet bypasses the
        // balancer: deliver it here. A method ip_vs does not know gets
        // no transmitter there, and its packets go on likewise.
        Fwd::Local | Fwd::Bypass | Fwd::Unknown(_) => Verdict::Accept,
    }
}

/// Where a route comes from: a real server's cache (the packets of its
/// connections) or a lookup of its own (ICMP errors relayed).
pub(crate) enum Via<'a> {
    Cache(&'a RcuGuard, &'a DstCache),
    Lookup,
}

/// The route towards `daddr` (of family `af`: a tunnel's may differ from
/// the packet's) with the checks every method makes first (ip_vs's
/// `__ip_vs_get_out_rt` and its _v6): the packet must fit the path MTU
/// (less `overhead` for a tunnel header) unless fragmenting is allowed,
/// and its TTL (hop limit) must allow one more hop. On failure the client
/// gets the ICMP error of its family and the packet is dropped.
fn route<'a>(
    net: &Net,
    skb: &mut Skb,
    ip: &Ip,
    (via, af, daddr): (Via<'a>, u16, &[u8; 16]),
    known_nh: bool,
    overhead: u32,
) -> Result<Route<'a>, Verdict> {
    let rt = match via {
        Via::Cache(g, cache) => cache.route(g, net, af, daddr, known_nh),
        Via::Lookup => Route::output(net, af, daddr, ip.tos, known_nh),
    };
    let Some(rt) = rt else {
        return Err(Verdict::Drop);
    };
    let mtu = rt.mtu.saturating_sub(overhead);
    // A reassembled IPv6 packet fits if its fragments did: it leaves in
    // fragments again (as ip_vs's __mtu_check_toobig_v6). Its fragments
    // were each shorter than it, so their size is read only for a packet
    // longer than the MTU (rare: one call less per packet).
    let too_big = if skb.is_gso() {
        !skb.gso_fits(mtu)
    } else if skb.len() <= mtu {
        false
    } else if ip.is_v6() {
        let frag_max = skb.frag_max6();
        frag_max == 0 || frag_max > mtu
    } else {
        true
    };
    if ip.is_v6() {
        // A tunnel that leaves less than IPv6's minimum MTU cannot carry
        // the packet (ip_vs drops it so).
        if overhead != 0 && mtu < ipv6::MIN_MTU {
            return Err(Verdict::Drop);
        }
        if ip.df && too_big {
            skb.icmp_send(ip.af, ipv6::ICMPV6_PKT_TOOBIG, 0, mtu);
            return Err(Verdict::Drop);
        }
        if !rt.local && ip.ttl <= 1 {
            skb.icmp_send(ip.af, ipv6::ICMPV6_TIME_EXCEED, 0, 0);
            return Err(Verdict::Drop);
        }
        return Ok(rt);
    }
    if ip.df && too_big && mtu >= 68 {
        skb.icmp_send(ip.af, ipv4::ICMP_DEST_UNREACH, ipv4::ICMP_FRAG_NEEDED, mtu);
        return Err(Verdict::Drop);
    }
    if !rt.local && ip.ttl <= 1 {
        skb.icmp_send(ip.af, ipv4::ICMP_TIME_EXCEEDED, 0, 0);
        return Err(Verdict::Drop);
    }
    Ok(rt)
}

/// [`route`] for the methods that send the packet on unchanged (DR, TUN):
/// `Err(Accept)` when the real server is this host, and the TTL (hop
/// limit) made one less.
fn route_onward<'a>(
    net: &Net,
    skb: &mut Skb,
    ip: &Ip,
    to: (Via<'a>, u16, &[u8; 16]),
    known_nh: bool,
    overhead: u32,
) -> Result<Route<'a>, Verdict> {
    let rt = route(net, skb, ip, to, known_nh, overhead)?;
    if rt.local {
        return Err(Verdict::Accept);
    }
    if !decrease_ttl(skb, ip.is_v6()) {
        return Err(Verdict::Drop);
    }
    Ok(rt)
}

/// One hop less: IPv4's TTL decremented and its checksum redone, or
/// IPv6's hop limit decremented.
fn decrease_ttl(skb: &mut Skb, v6: bool) -> bool {
    if v6 {
        return match skb.writable(ipv6::HDR_LEN) {
            Some(h) => match h.get_mut(ipv6::HOP_LIMIT) {
                Some(t) => {
                    *t = t.saturating_sub(1);
                    true
                }
                None => false,
            },
            None => false,
        };
    }
    let Some(b) = skb.writable(20) else {
        return false;
    };
    let ihl = usize::from(b.first().map_or(0, |v| v & 0x0f)) * 4;
    if ihl > 20 {
        // Options: the whole header writable for its checksum.
        return match skb.writable(ihl) {
            Some(h) => ttl_less(h),
            None => false,
        };
    }
    ttl_less(b)
}

/// The TTL of the IPv4 header `h` made one less, its checksum redone.
fn ttl_less(h: &mut [u8]) -> bool {
    let Some(t) = h.get_mut(ipv4::TTL) else {
        return false;
    };
    *t = t.saturating_sub(1);
    ipv4::set_checksum(h)
}
