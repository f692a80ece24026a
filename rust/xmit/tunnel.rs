// SPDX-License-Identifier: GPL-2.0

//! IP tunnelling: the packet, unchanged, inside an IPv4 header from the
//! director to the real server (IP in IP; or, by the destination's
//! `--tun-type`, after a GUE header in UDP or a GRE header), which
//! decapsulates it and answers the client from the VIP. The headers cost
//! path MTU: a packet with DF that no longer fits gets the client an ICMP
//! "fragmentation needed" with the smaller MTU (path MTU discovery).

use super::{route_onward, Via};
use crate::conn::Conn;
use crate::proto::{Ip, AF_INET6};
use crate::sys::netns::Net;
use crate::sys::skb::Verdict;
use crate::sys::skb::{Owned, Tunnel};

/// `IP_VS_CONN_F_TUNNEL_TYPE_*`.
const TYPE_GUE: u8 = 1;
const TYPE_GRE: u8 = 2;
/// `IP_VS_TUNNEL_ENCAP_FLAG_*`.
const FLAG_CSUM: u16 = 1;
const FLAG_REMCSUM: u16 = 2;

/// The bytes the tunnel adds (ip_vs's MTU arithmetic): the outer IPv4 or
/// IPv6 header; for GUE a UDP and a GUE header, and remote checksum offload's
/// 8 bytes when the checksum is left to the real server; for GRE its
/// header, 4 bytes more with a checksum.
fn overhead(t: Tunnel, outer_af: u16, csum_partial: bool) -> u32 {
    let outer = if outer_af == AF_INET6 { 40 } else { 20 };
    match t.ty {
        TYPE_GUE if t.flags & FLAG_REMCSUM != 0 && csum_partial => outer + 8 + 4 + 8,
        TYPE_GUE => outer + 8 + 4,
        TYPE_GRE if t.flags & FLAG_CSUM != 0 => outer + 8,
        TYPE_GRE => outer + 4,
        _ => outer,
    }
}

/// Without `pmtu_disc` the outer header never has DF and large packets
/// are fragmented, whatever the client asked (as ip_vs).
pub(crate) fn xmit(
    net: &Net,
    mut skb: Owned<'_>,
    c: &Conn,
    ip: &Ip,
    pmtu_disc: bool,
    via: Via<'_>,
) -> Verdict {
    // The real server's family may differ from the packet's (an IPv6 VIP
    // over IPv4 real servers, or the reverse).
    let outer_af = c.dest.key.af;
    let ip = Ip {
        df: ip.df && (pmtu_disc || ip.is_v6()),
        ..*ip
    };
    let ip = &ip;
    let tun = c.dest.tunnel();
    let extra = overhead(tun, outer_af, skb.csum_partial());
    let rt = match route_onward(net, &mut skb, ip, (via, outer_af, &c.daddr), false, extra) {
        Ok(rt) => rt,
        Err(v) => return v,
    };
    let saddr = rt.saddr;
    skb.send_tunnel(net, rt, (&saddr, &c.daddr), ip.df, tun)
}
