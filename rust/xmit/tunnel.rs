// SPDX-License-Identifier: GPL-2.0

//! IP tunnelling: the packet, unchanged, inside an IPv4 header from the
//! director to the real server (IP in IP), which decapsulates it and
//! answers the client from the VIP. The outer header costs 20 bytes of
//! path MTU: a packet with DF that no longer fits gets the client an ICMP
//! "fragmentation needed" with the smaller MTU (path MTU discovery).

use super::{route_onward, Via};
use crate::conn::Conn;
use crate::proto::ipv4::{addr4, Ipv4};
use crate::sys::netns::Net;
use crate::sys::nf::Verdict;
use crate::sys::skb::Skb;

/// The outer IPv4 header.
const IPIP_OVERHEAD: u32 = 20;

/// Without `pmtu_disc` the outer header never has DF and large packets
/// are fragmented, whatever the client asked (as ip_vs).
pub(crate) fn xmit(
    net: &Net,
    skb: &mut Skb,
    c: &Conn,
    ip: &Ipv4,
    pmtu_disc: bool,
    via: Via<'_>,
) -> Verdict {
    let daddr = addr4(&c.daddr);
    let ip = Ipv4 {
        df: ip.df && pmtu_disc,
        ..*ip
    };
    let ip = &ip;
    let rt = match route_onward(net, skb, ip, (via, daddr), false, IPIP_OVERHEAD) {
        Ok(rt) => rt,
        Err(v) => return v,
    };
    let saddr = rt.saddr;
    skb.send_ipip(net, rt, saddr, daddr, ip.df);
    Verdict::Stolen
}
