// SPDX-License-Identifier: GPL-2.0

//! NAT (masquerading): the client's packet gets the real server's address
//! and port as its destination; the real server's reply gets the VIP and
//! service port back as its source. The IP checksum is redone and the
//! TCP/UDP checksum updated for the changed pseudo-header and port, right
//! for every checksum state of the skb (done by the device, complete, or
//! none); SCTP's CRC32c, which covers no address, only when the port
//! changed.

use super::{route, Via};
use crate::conn::Conn;
use crate::proto::{ipv4, ipv6, l4, sctp, Ip, IPPROTO_SCTP, IPPROTO_TCP};
use crate::sys::netns::Net;
use crate::sys::skb::Verdict;
use crate::sys::skb::{Owned, Skb};

/// Which address and port of the packet change.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The destination (client to real server).
    Dst,
    /// The source (real server to client).
    Src,
}

/// Where a family's header keeps an address of `side`, its length, and
/// the TTL (hop limit).
fn layout(v6: bool, side: Side) -> (usize, usize, usize) {
    match (v6, side) {
        (false, Side::Dst) => (ipv4::DADDR, 4, ipv4::TTL),
        (false, Side::Src) => (ipv4::SADDR, 4, ipv4::TTL),
        (true, Side::Dst) => (ipv6::DADDR, 16, ipv6::HOP_LIMIT),
        (true, Side::Src) => (ipv6::SADDR, 16, ipv6::HOP_LIMIT),
    }
}

/// Rewrites one side's address and port to `addr`:`port` (IPv4: the
/// first four bytes of `addr`) and fixes the checksums. False if the
/// packet could not be made writable.
fn rewrite(skb: &mut Skb, ip: &Ip, side: Side, addr: &[u8; 16], port: u16, ttl_dec: bool) -> bool {
    let v6 = ip.is_v6();
    let l4 = ip.hlen;
    let tcp = ip.protocol == IPPROTO_TCP;
    let is_sctp = ip.protocol == IPPROTO_SCTP;
    let Some(l4min) = l4::l4_len(ip.protocol) else {
        return false;
    };
    let (a_off, alen, ttl_off) = layout(v6, side);
    let p_off = match side {
        Side::Dst => l4::DPORT,
        Side::Src => l4::SPORT,
    };
    let c_off = l4.saturating_add(if tcp {
        l4::TCP_CHECK
    } else if is_sctp {
        sctp::CSUM
    } else {
        l4::UDP_CHECK
    });
    let p_at = l4.saturating_add(p_off);
    let Some(new_a) = addr.get(..alen) else {
        return false;
    };
    let Some(mut w) = skb.writable_hdr(l4.saturating_add(l4min)) else {
        return false;
    };
    let (old_a, old_p, l4sum) = {
        let b = w.bytes();
        let (Some(a), Some(p), Some(s)) = (
            b.get(a_off..a_off + alen),
            b.get(p_at..p_at.saturating_add(2)),
            b.get(c_off..c_off.saturating_add(2)),
        ) else {
            return false;
        };
        let mut old_a = [0u8; 16];
        if let Some(o) = old_a.get_mut(..alen) {
            o.copy_from_slice(a);
        }
        let old_p = [p[0], p[1]];
        let l4sum = [s[0], s[1]];
        if let Some(a) = b.get_mut(a_off..a_off + alen) {
            a.copy_from_slice(new_a);
        }
        if let Some(p) = b.get_mut(p_at..p_at.saturating_add(2)) {
            p.copy_from_slice(&port.to_be_bytes());
        }
        if ttl_dec {
            if let Some(t) = b.get_mut(ttl_off) {
                *t = t.saturating_sub(1);
            }
        }
        // The IPv4 header is within the writable bytes: its checksum
        // redone here, without another call to make sure of them. (IPv6
        // has none.)
        if !v6 {
            ipv4::set_checksum(b);
        }
        (old_a, old_p, l4sum)
    };
    if is_sctp {
        if old_p != port.to_be_bytes() {
            w.sctp_csum(l4);
        }
        return true;
    }
    // A UDP checksum of zero means "none" in IPv4: it stays zero. (IPv6
    // has no such thing.)
    if tcp || v6 || l4sum != [0, 0] {
        w.csum_nat(c_off, v6, (&old_a, addr), (old_p, port.to_be_bytes()), !tcp);
    }
    true
}

/// Client to real server.
pub(crate) fn xmit(net: &Net, mut skb: Owned<'_>, c: &Conn, ip: &Ip, via: Via<'_>) -> Verdict {
    let rt = match route(net, &mut skb, ip, (via, ip.af, &c.daddr), false, 0) {
        Ok(rt) => rt,
        Err(v) => return v,
    };
    if rt.local {
        // The real server is this host: rewritten, then delivered here.
        return if rewrite(&mut skb, ip, Side::Dst, &c.daddr, c.dport, false) {
            Verdict::Accept
        } else {
            Verdict::Drop
        };
    }
    if !rewrite(&mut skb, ip, Side::Dst, &c.daddr, c.dport, true) {
        return Verdict::Drop;
    }
    skb.send(net, rt)
}

/// An ICMP error already translated for the real server (see
/// [`super::icmp`]): routed to it and sent. No "fragmentation needed" (or
/// "packet too big") is ever sent about an ICMP error.
pub(crate) fn forward_icmp(net: &Net, mut skb: Owned<'_>, c: &Conn, ip: &Ip) -> Verdict {
    let quiet = Ip { df: false, ..*ip };
    let rt = match route(
        net,
        &mut skb,
        &quiet,
        (Via::Lookup, ip.af, &c.daddr),
        false,
        0,
    ) {
        Ok(rt) => rt,
        Err(v) => return v,
    };
    if rt.local {
        return Verdict::Accept;
    }
    skb.send(net, rt)
}

/// Real server to client: the source becomes the VIP and service port
/// (ip_vs's `handle_response`), and the packet is routed again as one the
/// director sends (`reroute`: snat_reroute, not for local clients).
pub(crate) fn reply(net: &Net, skb: &mut Skb, c: &Conn, ip: &Ip, reroute: bool) -> bool {
    if !rewrite(skb, ip, Side::Src, &c.vaddr, c.vport, false) {
        return false;
    }
    !reroute || skb.route_me_harder(net, ip.af)
}
