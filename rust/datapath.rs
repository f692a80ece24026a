// SPDX-License-Identifier: GPL-2.0

//! The packet path (ip_vs_core.c): netfilter hooks at ip_vs's points and
//! priorities, header checks, connection lookup in both directions,
//! scheduling of new connections, statistics, protocol state, and the
//! hand-over to the connection's forwarding method.
//!
//! | hook      | priority | role                                        |
//! |-----------|----------|---------------------------------------------|
//! | LOCAL_IN  | 98       | NAT replies to a client on the director,    |
//! |           |          | then clients' packets to a VIP              |
//! | FORWARD   | 100      | NAT replies from real servers (source->VIP) |
//! | LOCAL_OUT | -99      | NAT replies of a real server on the         |
//! |           |          | director, then a client on it to a VIP      |
//!
//! ip_vs registers each two-part hook as two hooks of adjacent priorities
//! (98 and 99, -99 and -98): no other hook can run between them, so rvs
//! makes one call of each pair, in the same order, which spares every
//! packet a second netfilter call, look at the skb and parse.

use core::sync::atomic::Ordering;
use kernel::prelude::*;
use kernel::sync::Arc;

use crate::conn::{Conn, ConnRef, Control, Key, Lookup, NewConn, OnePacket, F_NOOUTPUT};
use crate::netstate::{DataPlane, NetState};
use crate::proto::ipv6::{self, Parsed};
use crate::proto::l4::Packet;
use crate::proto::{
    self, ipv4, sctp, tcp, Dir, IcmpError, Ip, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
};
use crate::sched::Flow;
use crate::svc::rt::{DestRt, SvcRt};
use crate::svc::spec::{Fwd, SVC_F_ONEPACKET, SVC_F_PERSISTENT};
use crate::sys::jiffies;
use crate::sys::netns::Net;
use crate::sys::nf::{HookOp, HookPoint, HookTable, Hooks};
use crate::sys::skb::Verdict;
use crate::sys::skb::{Owned, Skb, PACKET_HOST};
use crate::sys::sync::RcuGuard;
use crate::tables::{mark_addr, sysctl_idx};
use crate::xmit;

use crate::sys::HZ;

/// Replies to a client on the director, then requests (ip_vs's
/// `ip_vs_reply4` and `ip_vs_remote_request4`).
const LOCAL_IN: u8 = 0;
/// Replies of real servers being forwarded (`ip_vs_reply4`).
const FORWARD: u8 = 1;
/// Replies of a real server on the director (ip_vs's local node), then
/// requests of clients on it (`ip_vs_local_reply4`,
/// `ip_vs_local_request4`).
const LOCAL_OUT: u8 = 2;

/// `NF_IP_PRI_NAT_SRC`, `NF_IP_PRI_NAT_DST`.
const PRI_NAT_SRC: i32 = 100;
const PRI_NAT_DST: i32 = -100;

/// Added to a hook's id: an IPv6 one.
const V6: u8 = 4;

/// The IPv4 hooks, registered in a namespace while it has an IPv4 service.
pub(crate) static HOOKS4: HookTable<3> = HookTable([
    HookOp::ipv4::<Ipvs>(HookPoint::LocalIn, PRI_NAT_SRC - 2, LOCAL_IN),
    HookOp::ipv4::<Ipvs>(HookPoint::Forward, PRI_NAT_SRC, FORWARD),
    HookOp::ipv4::<Ipvs>(HookPoint::LocalOut, PRI_NAT_DST + 1, LOCAL_OUT),
]);

/// The IPv6 hooks (ip_vs's `NF_IP6_PRI_*` are the same numbers), while it
/// has an IPv6 service.
pub(crate) static HOOKS6: HookTable<3> = HookTable([
    HookOp::ipv6::<Ipvs>(HookPoint::LocalIn, PRI_NAT_SRC - 2, LOCAL_IN | V6),
    HookOp::ipv6::<Ipvs>(HookPoint::Forward, PRI_NAT_SRC, FORWARD | V6),
    HookOp::ipv6::<Ipvs>(HookPoint::LocalOut, PRI_NAT_DST + 1, LOCAL_OUT | V6),
]);

/// The ICMP protocol of a family.
fn icmp_proto(v6: bool) -> u8 {
    if v6 {
        proto::IPPROTO_ICMPV6
    } else {
        proto::IPPROTO_ICMP
    }
}

/// The IPv6 header of a packet with its extension headers, pulled into
/// the linear part as far as the chain needs (bounded by the walk's own
/// limit); `None` for what is not a sound IPv6 packet.
fn head6(skb: &mut Skb, len: usize) -> Option<Ip> {
    let mut n = ipv6::HDR_LEN;
    for _ in 0..ipv6::MAX_EXT + 2 {
        match ipv6::parse(skb.head(n)?, len) {
            Parsed::Done(ip) => return Some(ip),
            Parsed::Need(m) if m > n => n = m,
            _ => return None,
        }
    }
    None
}

/// The IP header of family `v6` (IPv6 or IPv4) from the packet, pulled
/// as needed.
fn head_ip(skb: &mut Skb, len: usize, v6: bool) -> Option<Ip> {
    if v6 {
        head6(skb, len)
    } else {
        skb.head(20).and_then(|h| ipv4::parse(h, len))
    }
}

/// An ICMP port unreachable (ICMPv6: destination unreachable, port) to
/// the packet's source.
fn port_unreachable(skb: &mut Skb, af: u16) {
    if af == AF_INET6 {
        skb.icmp_send(af, ipv6::ICMPV6_DEST_UNREACH, ipv6::ICMPV6_PORT_UNREACH, 0);
    } else {
        skb.icmp_send(af, ipv4::ICMP_DEST_UNREACH, ipv4::ICMP_PORT_UNREACH, 0);
    }
}

pub(crate) struct Ipvs;

impl Hooks for Ipvs {
    fn hook(id: u8, net: &Net, mut skb: Owned<'_>) -> Verdict {
        let v6 = id & V6 != 0;
        let id = id & !V6;
        // The flags, and the headers from the bytes that are linear
        // already (nearly always all of them): one call into C.
        let v = skb.view();
        if v.ipvs_property {
            return Verdict::Accept;
        }
        if id == LOCAL_OUT && v.no_route {
            return Verdict::Accept;
        }
        let Some(st) = net.state::<NetState>() else {
            return Verdict::Accept;
        };
        let dp = &st.dp;
        // Every packet for this host meets the reply part at LOCAL_IN
        // first: while no client on the director has a connection, none
        // is a reply to one, and only nat_icmp_send could want it (no
        // lookup: half of a request's work in the hooks).
        let replies = id != LOCAL_IN
            || dp.conns.has_local_clients()
            || dp.sysctl.get(sysctl_idx::NAT_ICMP_SEND) != 0;
        let (len, pkt_type) = (v.len as usize, v.pkt_type);
        let pre = if v6 {
            match ipv6::parse(v.bytes, len) {
                Parsed::Done(ip) => Some((ip, Packet::from_linear(v.bytes, ip))),
                Parsed::Need(_) => None,
                Parsed::Bad => return Verdict::Accept,
            }
        } else {
            ipv4::parse(v.bytes, len).map(|ip| (ip, Packet::from_linear(v.bytes, ip)))
        };
        // The IP header, parsed once (again only after reassembly);
        // pulled into the linear part if it was not there.
        let (mut ip, mut pre) = match pre {
            Some((ip, p)) => (ip, p),
            None => match head_ip(&mut skb, len, v6) {
                Some(ip) => (ip, None),
                None => return Verdict::Accept,
            },
        };
        // IPv6 fragments come whole from nf_defrag_ipv6 (on while there is
        // an IPv6 service, as for ip_vs); what it let through is not
        // balanced. IPv4 fragments of the protocols rvs balances (and
        // ICMP, which may be about them) are reassembled, as ip_vs does;
        // the others (GRE, IP-in-IP, ...) go on as they are.
        let ours = matches!(
            ip.protocol,
            IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | proto::IPPROTO_ICMP
        );
        if ip.fragment && !v6 && id != LOCAL_IN && ours {
            // Replies are matched whole: the fragment waits for the rest.
            // (LOCAL_IN gets packets the stack reassembled.)
            skb = match skb.defrag(net, id == FORWARD) {
                Ok(whole) => whole,
                Err(stolen) => return stolen,
            };
            let len = skb.len() as usize;
            match skb.head(20).and_then(|h| ipv4::parse(h, len)) {
                Some(whole) => ip = whole,
                None => return Verdict::Accept,
            }
            pre = None;
        }
        let parsed = match pre {
            Some(p) => p,
            None => Packet::parse(&mut skb, ip),
        };
        let p = match parsed {
            Ok(p) => p,
            Err(Some(proto)) if proto == icmp_proto(v6) => {
                if replies {
                    if let Some(verdict) = icmp_out(id, net, dp, &mut skb, &ip) {
                        return verdict;
                    }
                }
                // ICMP a local program sends (about replies it got) leaves
                // as it is.
                return if id == LOCAL_IN {
                    icmp_in(net, dp, skb, pkt_type, &ip)
                } else {
                    Verdict::Accept
                };
            }
            Err(Some(_proto)) => {
                // A protocol rvs does not balance (an IP-in-IP or GRE
                // packet, say): with ignore_tunneled, mark it so that rvs
                // ignores it also once decapsulated.
                if dp.sysctl.get(sysctl_idx::IGNORE_TUNNELED) != 0 {
                    skb.set_ipvs_property();
                }
                return Verdict::Accept;
            }
            Err(None) => return Verdict::Accept,
        };
        if replies {
            // Replies leaving the director (forwarded, or from a real
            // server on it) are routed again after NAT (snat_reroute).
            if let Some(verdict) = packet_out(net, dp, &mut skb, &p, id != LOCAL_IN) {
                return verdict;
            }
        }
        match id {
            // From afar only what is addressed to this host.
            LOCAL_IN if pkt_type == PACKET_HOST => packet_in(net, dp, skb, &p, false),
            // Local requests whatever their type.
            LOCAL_OUT => packet_in(net, dp, skb, &p, true),
            _ => Verdict::Accept,
        }
    }
}

impl Packet {
    /// What the connection table looks up for this packet.
    fn key(&self) -> Lookup<'_> {
        Lookup {
            protocol: self.ip.protocol,
            af: self.ip.af as u8,
            saddr: &self.saddr,
            sport: self.sport,
            daddr: &self.daddr,
            dport: self.dport,
        }
    }

    /// The transport part of the packet whose IP header is `ip`, its
    /// headers pulled as [`Packet::classify`] says.
    fn parse(skb: &mut Skb, ip: Ip) -> Result<Packet, Option<u8>> {
        let need = Self::classify(&ip)?;
        let b = skb.head(need).ok_or(None)?;
        Self::from_bytes(b, ip).ok_or(None)
    }

    /// The SCTP chunk type that drives the state, `None` without a chunk
    /// (or for another protocol). Chunk headers beyond the linear bytes
    /// are copied out, never pulled: a GSO packet's chunks are its
    /// segments (`GSO_BY_FRAGS`), which must stay where they are.
    fn sctp_chunk(&self, skb: &Skb) -> Option<u8> {
        let l4 = self.ip.hlen;
        let after = |first: u8, off: usize| {
            let mut t = [0u8; 1];
            if skb.copy_bits(l4.saturating_add(off), &mut t) && t[0] == sctp::CID_ABORT {
                sctp::CID_ABORT
            } else {
                first
            }
        };
        match self.sctp {
            sctp::Chunks::None => None,
            sctp::Chunks::Type(t) => Some(t),
            sctp::Chunks::After(first, off) => Some(after(first, off)),
            sctp::Chunks::Unread => {
                // The first chunk's header where `chunks` expects it.
                let mut b = [0u8; sctp::HDR_LEN + sctp::CHUNK_HDR_LEN];
                let (_, hdr) = b.split_at_mut(sctp::HDR_LEN);
                if !skb.copy_bits(l4.saturating_add(sctp::HDR_LEN), hdr) {
                    return None;
                }
                match sctp::chunks(&b, self.ip.tot_len.saturating_sub(l4)) {
                    sctp::Chunks::Type(t) => Some(t),
                    sctp::Chunks::After(first, off) => Some(after(first, off)),
                    _ => None,
                }
            }
        }
    }
}

/// A client's packet to the director (`local`: from a program on it, at
/// LOCAL_OUT).
fn packet_in(net: &Net, dp: &DataPlane, mut skb: Owned<'_>, p: &Packet, local: bool) -> Verdict {
    let ip = &p.ip;
    let (saddr, daddr) = (p.saddr, p.daddr);
    // A backup with backup_only forwards nothing (ip_vs's
    // sysctl_backup_only).
    if dp.sync.backup_only(dp.tables()) {
        return Verdict::Accept;
    }
    let g = RcuGuard::new();
    let k = p.key();
    let flags = tcp::Flags::from_byte(p.tcp_flags);
    let chunk = p.sctp_chunk(&skb);
    let t = dp.timeouts();
    let mut found = dp.conns.get_in(&g, &k);
    if let Some(c) = &found {
        // A new connection (a lone SYN, an SCTP INIT) on an old entry
        // (ip_vs_in_hook), unless conn_reuse_mode is 0: reschedule when
        // its real server is quiesced and expire_nodest_conn is set, or
        // when the entry is closing.
        let new = match ip.protocol {
            IPPROTO_TCP => flags.is_new(),
            IPPROTO_SCTP => chunk == Some(sctp::CID_INIT),
            _ => false,
        };
        if new {
            let reuse = dp.sysctl.get(sysctl_idx::CONN_REUSE_MODE);
            let quiesced =
                dp.sysctl.expire_nodest_conn() && c.dest.weight.load(Ordering::Relaxed) == 0;
            if reuse != 0 && (quiesced || new_conn_expected(c, reuse)) {
                dp.conns.expire_now(c);
                found = None;
            }
        }
    }
    if let Some(c) = &found {
        // rvs's UDP drain (expire_quiescent_udp, off by default): a flow
        // that keeps sending keeps its entry alive, and would stay on a
        // quiesced server for ever; after the drain period its next
        // datagram is scheduled afresh.
        if ip.protocol == IPPROTO_UDP {
            if let Some(period) = dp.sysctl.udp_drain(HZ) {
                if c.dest.quiesced_for(period) {
                    dp.conns.expire_now(c);
                    found = None;
                }
            }
        }
    }
    if let Some(c) = &found {
        if c.dest.removed.load(Ordering::Relaxed) {
            // Its real server is gone: with expire_nodest_conn the entry
            // ends and the packet is scheduled afresh; otherwise the
            // packet is dropped (the entry times out).
            if !dp.sysctl.expire_nodest_conn() {
                return Verdict::Drop;
            }
            dp.conns.expire_now(c);
            found = None;
        }
    }
    let conn = match found {
        Some(c) => c,
        None => {
            let Some(svc) = dp.service_of(&g, ip.af, skb.mark(), ip.protocol, &daddr, p.dport)
            else {
                return Verdict::Accept;
            };
            // A TCP connection starts with a SYN (any packet with
            // sloppy_tcp), an SCTP association with an INIT (any chunk but
            // an ABORT with sloppy_sctp; a packet without a chunk is
            // dropped); others to the VIP meet the local stack.
            if ip.protocol == IPPROTO_TCP && (flags.rst || !(flags.syn || dp.sysctl.sloppy_tcp())) {
                return Verdict::Accept;
            }
            if ip.protocol == IPPROTO_SCTP {
                let Some(ch) = chunk else {
                    return Verdict::Drop;
                };
                if !sctp::schedules(ch, dp.sysctl.sloppy_sctp()) {
                    return Verdict::Accept;
                }
            }
            // drop_packet: under memory pressure, one new connection in
            // its rate is dropped (ip_vs's conn_schedule).
            if dp.todrop() {
                return Verdict::Drop;
            }
            let flow = Flow {
                af: ip.af,
                protocol: ip.protocol,
                saddr,
                daddr,
                sport: p.sport,
                dport: p.dport,
                svc_flags: svc.flags.load(Ordering::Relaxed),
                now: jiffies(),
                lblc_expiry: dp.sysctl.locality_expiry(sysctl_idx::LBLC_EXPIRATION, HZ),
                lblcr_expiry: dp.sysctl.locality_expiry(sysctl_idx::LBLCR_EXPIRATION, HZ),
            };
            let picked = if flow.svc_flags & SVC_F_PERSISTENT != 0 {
                persist(dp, &g, svc, &flow)
            } else if svc.key.fwmark == 0 && svc.key.port != p.dport {
                // A service of port 0 takes only persistent connections
                // (ip_vs logs a configuration error and drops).
                return Verdict::Drop;
            } else {
                svc.schedule(&flow)
                    .map(|dest| {
                        // The port of a destination is 0 for fwmark services
                        // with "any port": keep the client's destination port
                        // then.
                        let dport = if dest.key.port == 0 {
                            p.dport
                        } else {
                            dest.key.port
                        };
                        (dest, dport, None)
                    })
                    .ok_or(Unplaced::NoDest)
            };
            let (dest, dport, tpl) = match picked {
                Ok(x) => x,
                Err(Unplaced::NoDest) => {
                    // No real server: tell the client, as ip_vs does.
                    port_unreachable(&mut skb, ip.af);
                    return Verdict::Drop;
                }
                Err(Unplaced::NoMemory) => return Verdict::Drop,
            };
            let fwd = Fwd::of(dest.fwd.load(Ordering::Relaxed));
            let timeout = proto::timeout(ip.protocol, 0, &t);
            let n = NewConn {
                protocol: ip.protocol,
                af: ip.af,
                caddr: saddr,
                cport: p.sport,
                vaddr: daddr,
                vport: p.dport,
                daddr: dest.key.addr,
                dport,
                dest,
                timeout: timeout.saturating_mul(HZ),
                control: tpl.as_ref().and_then(|t| t.control()),
                state: 0,
            };
            if ip.protocol == IPPROTO_UDP && flow.svc_flags & SVC_F_ONEPACKET != 0 {
                // One-packet scheduling: this datagram alone, no entry.
                let c = OnePacket::new(n, fwd != Fwd::Masq);
                count_conn(dp, &c);
                count_in(dp, &c, skb.len());
                return send(net, dp, skb, &c, ip, xmit::Via::Cache(&g, &c.dest.dst));
            }
            let Some(c) = dp.conns.add(&g, n, fwd != Fwd::Masq, local) else {
                return Verdict::Drop;
            };
            count_conn(dp, &c);
            c
        }
    };
    count_in(dp, &conn, skb.len());
    match (ip.protocol, chunk) {
        (IPPROTO_TCP, _) => conn.tcp_packet(Dir::Input, flags, &t, dp.secure_tcp(), HZ),
        (IPPROTO_SCTP, Some(ch)) => conn.sctp_packet(Dir::Input, ch, HZ),
        // No chunk: the state and its timeout stay as they are.
        (IPPROTO_SCTP, None) => conn.touch(),
        _ => conn.set_timeout(t.udp.saturating_mul(HZ)),
    }
    let v = send(
        net,
        dp,
        skb,
        &conn,
        ip,
        xmit::Via::Cache(&g, &conn.dest.dst),
    );
    // Counted, and sent to the backups when due (after the packet, as
    // ip_vs does).
    crate::sync::on_packet(dp.tables(), &g, &conn);
    v
}

/// An ICMP or ICMPv6 error about a connection's packet (ip_vs's
/// `ip_vs_in_icmp` and `ip_vs_out_icmp`, and their _v6): what the error
/// (its IP header `ip`, parsed by the hook) quotes; `None` for what is not
/// such an error.
fn icmp_error(skb: &mut Skb, ip: &Ip) -> Option<IcmpError> {
    let len = skb.len() as usize;
    if ip.fragment {
        return None;
    }
    let e = if ip.is_v6() {
        skb.head(len.min(ip.hlen.saturating_add(ipv6::ICMP_ERROR_MAX)))
            .and_then(|b| ipv6::parse_icmp_error(b, ip.hlen))?
    } else {
        skb.head(len.min(ipv4::ICMP_ERROR_MAX))
            .and_then(|b| ipv4::parse_icmp_error(b, ip.hlen))?
    };
    Some(e)
}

/// The quoted packet went the other way: its key, reversed.
fn quoted_key(e: &IcmpError) -> Lookup<'_> {
    Lookup {
        protocol: e.inner.protocol,
        af: e.inner.af as u8,
        saddr: &e.inner.daddr,
        sport: e.inner_dport,
        daddr: &e.inner.saddr,
        dport: e.inner_sport,
    }
}

/// An ICMP error from the client's side about a reply the director sent,
/// at LOCAL_IN: relayed to the real server. NAT connections get the quoted
/// packet translated; DR and TUN ones get the error forwarded by their
/// method.
fn icmp_in(net: &Net, dp: &DataPlane, mut skb: Owned<'_>, pkt_type: u8, ip: &Ip) -> Verdict {
    if pkt_type != PACKET_HOST {
        return Verdict::Accept;
    }
    let Some(e) = icmp_error(&mut skb, ip) else {
        return Verdict::Accept;
    };
    let k = quoted_key(&e);
    let g = RcuGuard::new();
    let Some(c) = dp.conns.get_in(&g, &k) else {
        return Verdict::Accept;
    };
    count_in(dp, &c, skb.len());
    if c.fwd != Fwd::Masq {
        return send(net, dp, skb, &c, ip, xmit::Via::Lookup);
    }
    if !skb.icmp_csum_ok(ip.hlen, ip.af) || !xmit::icmp::nat(&mut skb, &c, &e, xmit::icmp::Way::In)
    {
        return Verdict::Drop;
    }
    xmit::nat::forward_icmp(net, skb, &c, ip)
}

/// An ICMP error from a real server about a client's packet: relayed to
/// the client, the quote translated for NAT. `None` when it is about no
/// connection (the hook goes on).
fn icmp_out(id: u8, net: &Net, dp: &DataPlane, skb: &mut Skb, ip: &Ip) -> Option<Verdict> {
    let e = icmp_error(skb, ip)?;
    let k = quoted_key(&e);
    let g = RcuGuard::new();
    let c = dp.conns.get_out(&g, &k)?;
    if c.fwd == Fwd::Masq {
        if !skb.icmp_csum_ok(ip.hlen, ip.af) || !xmit::icmp::nat(skb, &c, &e, xmit::icmp::Way::Out)
        {
            return Some(Verdict::Drop);
        }
        if id != LOCAL_IN && dp.sysctl.snat_reroute() && !skb.route_me_harder(net, ip.af) {
            return Some(Verdict::Drop);
        }
    }
    count_out(dp, &c, skb.len());
    skb.set_ipvs_property();
    skb.notrack();
    Some(Verdict::Accept)
}

/// Why a new connection got no real server.
enum Unplaced {
    /// None available: the client gets an ICMP port unreachable.
    NoDest,
    /// No memory for the template, or the table is full.
    NoMemory,
}

/// ip_vs's FTP control port: its templates leave the ports out.
const FTPPORT: u16 = 21;

/// The real server of a new connection to a persistent service, the port
/// to send it to, and the template that binds the client (its network,
/// by the service's netmask) to that server (ip_vs_sched_persist). A
/// template of a fwmark service holds the mark in place of the VIP and no
/// ports, so one client sticks to one server across the service's ports;
/// one of a port-0 service no ports either.
fn persist<'g>(
    dp: &'g DataPlane,
    g: &'g RcuGuard,
    svc: &SvcRt,
    flow: &Flow,
) -> Result<(Arc<DestRt>, u16, Option<ConnRef<'g>>), Unplaced> {
    let snet = client_net(flow, svc.netmask.load(Ordering::Relaxed));
    let af = flow.af as u8;
    let svc_port = svc.key.port;
    let port_match = flow.dport == svc_port;
    let k = if port_match {
        let vport = if svc_port != FTPPORT { flow.dport } else { 0 };
        Key::template(flow.protocol, af, snet, flow.daddr, vport)
    } else if svc.key.fwmark != 0 {
        Key::template(0, af, snet, mark_addr(svc.key.fwmark), 0)
    } else {
        Key::template(flow.protocol, af, snet, flow.daddr, 0)
    };
    let mut tpl = dp.conns.get_template(g, &k);
    if let Some(t) = &tpl {
        // ip_vs_check_template: a template whose server was removed, or
        // is quiesced with expire_quiescent_template, is invalidated.
        if t.dest.removed.load(Ordering::Relaxed)
            || (dp.sysctl.expire_quiescent_template() && t.dest.weight.load(Ordering::Relaxed) == 0)
        {
            dp.conns.invalidate(t);
            tpl = None;
        }
    }
    let tpl = match tpl {
        Some(t) => t,
        None => {
            let dest = svc.schedule(flow).ok_or(Unplaced::NoDest)?;
            let dport = if port_match && svc_port != FTPPORT {
                dest.key.port
            } else {
                0
            };
            let ctl = Arc::new(Control::new(k), GFP_ATOMIC).map_err(|_| Unplaced::NoMemory)?;
            let n = NewConn {
                protocol: k.protocol,
                af: flow.af,
                caddr: k.caddr,
                cport: 0,
                vaddr: k.vaddr,
                vport: k.vport,
                daddr: dest.key.addr,
                dport,
                dest,
                timeout: svc.timeout.load(Ordering::Relaxed),
                control: Some(ctl),
                state: 0,
            };
            dp.conns.add_template(g, n).ok_or(Unplaced::NoMemory)?
        }
    };
    // Each use starts the template's time again (ip_vs_conn_put).
    tpl.touch();
    let dest = tpl.dest.clone();
    let dport = if port_match && dest.key.port != 0 {
        dest.key.port
    } else {
        flow.dport
    };
    Ok((dest, dport, Some(tpl)))
}

/// The client's network by the service's netmask: an IPv4 mask as ip_vs
/// keeps it (network order in the word's bytes), or an IPv6 prefix length.
fn client_net(flow: &Flow, netmask: u32) -> [u8; 16] {
    let mut snet = [0u8; 16];
    if flow.af == AF_INET6 {
        let mut bits = netmask.min(128);
        for (s, a) in snet.iter_mut().zip(flow.saddr.iter()) {
            let take = bits.min(8);
            // 0xff00 >> take: the top `take` bits of a byte.
            let m = (0xff00u16 >> take) as u8;
            *s = a & m;
            bits = bits.saturating_sub(take);
        }
    } else {
        for ((s, a), m) in snet
            .iter_mut()
            .zip(flow.saddr.iter())
            .zip(netmask.to_ne_bytes().iter())
        {
            *s = a & m;
        }
    }
    snet
}

/// Sends a client's packet on to `c`'s real server by its method, with
/// the namespace's pmtu_disc setting.
fn send(
    net: &Net,
    dp: &DataPlane,
    skb: Owned<'_>,
    c: &Conn,
    ip: &Ip,
    via: xmit::Via<'_>,
) -> Verdict {
    let pmtu_disc = dp.sysctl.get(sysctl_idx::PMTU_DISC) != 0;
    xmit::to_real_server(net, skb, c, ip, pmtu_disc, via)
}

fn count_conn(dp: &DataPlane, c: &Conn) {
    c.dest.stats.conn();
    c.dest.svc_stats.conn();
    dp.stats.conn();
}

fn count_in(dp: &DataPlane, c: &Conn, len: u32) {
    c.dest.stats.inpkt(len);
    c.dest.svc_stats.inpkt(len);
    dp.stats.inpkt(len);
}

fn count_out(dp: &DataPlane, c: &Conn, len: u32) {
    c.dest.stats.outpkt(len);
    c.dest.svc_stats.outpkt(len);
    dp.stats.outpkt(len);
}

/// Whether a SYN on entry `c` starts a new connection (ip_vs's
/// `is_new_conn_expected`): the old one is closing, and no persistence
/// template binds it to its server.
fn new_conn_expected(c: &Conn, reuse_mode: i32) -> bool {
    if c.controlled() {
        return false;
    }
    let state = c.state.load(Ordering::Relaxed);
    if c.protocol == IPPROTO_SCTP {
        return state == sctp::CLOSED;
    }
    state == tcp::TIME_WAIT
        || state == tcp::CLOSE
        || (reuse_mode & 2 != 0
            && state == tcp::FIN_WAIT
            && c.flags.load(Ordering::Relaxed) & F_NOOUTPUT != 0)
}

/// A packet that may be a real server's reply to a client (ip_vs's
/// `ip_vs_out_hook` and `handle_response`): NAT replies get the VIP as
/// source; every reply counts and moves its connection's state.
/// `leaving`: the reply leaves the director (FORWARD, LOCAL_OUT). `None`
/// when it belongs to no connection (the hook goes on).
fn packet_out(
    net: &Net,
    dp: &DataPlane,
    skb: &mut Skb,
    p: &Packet,
    leaving: bool,
) -> Option<Verdict> {
    let ip = &p.ip;
    let saddr = p.saddr;
    let g = RcuGuard::new();
    let k = p.key();
    let Some(conn) = dp.conns.get_out(&g, &k) else {
        // No connection: with nat_icmp_send, a packet from a NAT real
        // server's service port that has no connection (not a TCP reset)
        // gets an ICMP port unreachable back, as from ip_vs (nor an SCTP
        // ABORT).
        if dp.sysctl.get(sysctl_idx::NAT_ICMP_SEND) != 0
            && !(ip.protocol == IPPROTO_TCP && tcp::Flags::from_byte(p.tcp_flags).rst)
            && !(ip.protocol == IPPROTO_SCTP && p.sctp_chunk(skb) == Some(sctp::CID_ABORT))
            && dp.has_real_service(&g, ip.af, ip.protocol, &saddr, p.sport)
        {
            port_unreachable(skb, ip.af);
            return Some(Verdict::Drop);
        }
        return None;
    };
    if conn.fwd == Fwd::Masq
        && !xmit::nat::reply(net, skb, &conn, ip, leaving && dp.sysctl.snat_reroute())
    {
        return Some(Verdict::Drop);
    }
    count_out(dp, &conn, skb.len());
    conn.note_reply();
    let t = dp.timeouts();
    if ip.protocol == IPPROTO_TCP {
        conn.tcp_packet(
            Dir::Output,
            tcp::Flags::from_byte(p.tcp_flags),
            &t,
            dp.secure_tcp(),
            HZ,
        );
    } else if ip.protocol == IPPROTO_SCTP {
        match p.sctp_chunk(skb) {
            Some(ch) => conn.sctp_packet(Dir::Output, ch, HZ),
            None => conn.touch(),
        }
    } else {
        conn.assure();
        conn.touch();
    }
    skb.set_ipvs_property();
    skb.notrack();
    Some(Verdict::Accept)
}
