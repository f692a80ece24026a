// SPDX-License-Identifier: GPL-2.0

//! NAT (masquerading): the client's packet gets the real server's address
//! and port as its destination; the real server's reply gets the VIP and
//! service port back as its source. The IP checksum is redone and the
//! TCP/UDP checksum updated for the changed pseudo-header and port, right
//! for every checksum state of the skb (done by the device, complete, or
//! none).

use super::{route, Via};
use crate::conn::Conn;
use crate::proto::ipv4::{self, addr4, Ipv4};
use crate::proto::IPPROTO_TCP;
use crate::sys::netns::Net;
use crate::sys::nf::Verdict;
use crate::sys::skb::{Owned, Skb};

/// Which address and port of the packet change.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The destination (client to real server).
    Dst,
    /// The source (real server to client).
    Src,
}

/// Rewrites one side's address and port to `addr`:`port` and fixes the
/// checksums. False if the packet could not be made writable.
fn rewrite(skb: &mut Skb, ip: &Ipv4, side: Side, addr: [u8; 4], port: u16, ttl_dec: bool) -> bool {
    let l4 = ip.ihl;
    let tcp = ip.protocol == IPPROTO_TCP;
    let Some(l4min) = ipv4::l4_len(ip.protocol) else {
        return false;
    };
    let (a_off, p_off) = match side {
        Side::Dst => (ipv4::DADDR, ipv4::DPORT),
        Side::Src => (ipv4::SADDR, ipv4::SPORT),
    };
    let c_off = l4.saturating_add(if tcp {
        ipv4::TCP_CHECK
    } else {
        ipv4::UDP_CHECK
    });
    let p_at = l4.saturating_add(p_off);
    let Some(mut w) = skb.writable_hdr(l4.saturating_add(l4min)) else {
        return false;
    };
    let (old_a, old_p, l4sum) = {
        let b = w.bytes();
        let (Some(a), Some(p), Some(s)) = (
            b.get(a_off..a_off + 4),
            b.get(p_at..p_at.saturating_add(2)),
            b.get(c_off..c_off.saturating_add(2)),
        ) else {
            return false;
        };
        let old_a = [a[0], a[1], a[2], a[3]];
        let old_p = [p[0], p[1]];
        let l4sum = [s[0], s[1]];
        if let Some(a) = b.get_mut(a_off..a_off + 4) {
            a.copy_from_slice(&addr);
        }
        if let Some(p) = b.get_mut(p_at..p_at.saturating_add(2)) {
            p.copy_from_slice(&port.to_be_bytes());
        }
        if ttl_dec {
            if let Some(t) = b.get_mut(ipv4::TTL) {
                *t = t.saturating_sub(1);
            }
        }
        // The IP header is within the writable bytes: its checksum redone
        // here, without another call to make sure of them.
        ipv4::set_checksum(b);
        (old_a, old_p, l4sum)
    };
    // A UDP checksum of zero means "none": it stays zero.
    if tcp || l4sum != [0, 0] {
        w.csum_nat(c_off, (old_a, addr), (old_p, port.to_be_bytes()), !tcp);
    }
    true
}

/// Client to real server.
pub(crate) fn xmit(net: &Net, mut skb: Owned<'_>, c: &Conn, ip: &Ipv4, via: Via<'_>) -> Verdict {
    let daddr = addr4(&c.daddr);
    let rt = match route(net, &mut skb, ip, (via, daddr), false, 0) {
        Ok(rt) => rt,
        Err(v) => return v,
    };
    if rt.local {
        // The real server is this host: rewritten, then delivered here.
        return if rewrite(&mut skb, ip, Side::Dst, daddr, c.dport, false) {
            Verdict::Accept
        } else {
            Verdict::Drop
        };
    }
    if !rewrite(&mut skb, ip, Side::Dst, daddr, c.dport, true) {
        return Verdict::Drop;
    }
    skb.send(net, rt)
}

/// An ICMP error already translated for the real server (see
/// [`super::icmp`]): routed to it and sent. No "fragmentation needed" is
/// ever sent about an ICMP error.
pub(crate) fn forward_icmp(net: &Net, mut skb: Owned<'_>, c: &Conn, ip: &Ipv4) -> Verdict {
    let quiet = Ipv4 { df: false, ..*ip };
    let rt = match route(
        net,
        &mut skb,
        &quiet,
        (Via::Lookup, addr4(&c.daddr)),
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
pub(crate) fn reply(net: &Net, skb: &mut Skb, c: &Conn, ip: &Ipv4, reroute: bool) -> bool {
    if !rewrite(skb, ip, Side::Src, addr4(&c.vaddr), c.vport, false) {
        return false;
    }
    !reroute || skb.route_me_harder(net)
}
