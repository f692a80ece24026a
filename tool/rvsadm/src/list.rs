// SPDX-License-Identifier: GPL-2.0
//! Listings in ipvsadm's formats (`-L` with `-n`, `--stats`, `--rate`,
//! `--thresholds`, `--persistent-conn`, `--exact`, `--nosort`), and the same
//! data as JSON.

use crate::args::Format;
use crate::names;
use rvs_ipvs::consts::*;
use rvs_ipvs::model::{Dest, Info, Service, Stats};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::net::IpAddr;

/// A service and its destinations, as listed.
pub struct Entry {
    pub svc: Service,
    pub dests: Vec<Dest>,
}

/// glibc's qsort (a merge sort for arrays this size): ipvsadm sorts with a
/// comparator that is not a total order (differences of addresses wrap), so
/// the same algorithm is needed to print the same order.
pub fn merge_sort<T: Clone>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    merge_sort(&mut v[..n1], cmp);
    merge_sort(&mut v[n1..], cmp);
    let (a, b) = (v[..n1].to_vec(), v[n1..].to_vec());
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if cmp(&a[i], &b[j]) <= 0 {
            v[k] = a[i].clone();
            i += 1;
        } else {
            v[k] = b[j].clone();
            j += 1;
        }
        k += 1;
    }
    for x in a[i..].iter().chain(b[j..].iter()) {
        v[k] = x.clone();
        k += 1;
    }
}

fn addr_words(a: Option<IpAddr>) -> [u32; 4] {
    match a {
        Some(IpAddr::V4(v)) => [u32::from(v), 0, 0, 0],
        Some(IpAddr::V6(v)) => {
            let o = v.octets();
            let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            [w(0), w(4), w(8), w(12)]
        }
        None => [0; 4],
    }
}

/// `int r = a - b` on unsigned 32-bit values, as C computes it.
fn c_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn addr_cmp(af: u16, a: Option<IpAddr>, b: Option<IpAddr>) -> i32 {
    let (wa, wb) = (addr_words(a), addr_words(b));
    if af == AF_INET6 {
        let mut r = 0;
        for i in 0..4 {
            r = c_diff(wa[i], wb[i]);
            if r != 0 {
                break;
            }
        }
        r
    } else {
        c_diff(wa[0], wb[0])
    }
}

/// libipvs's ipvs_cmp_services.
pub fn cmp_services(a: &Service, b: &Service) -> i32 {
    let r = c_diff(a.fwmark, b.fwmark);
    if r != 0 {
        return r;
    }
    let r = i32::from(a.af) - i32::from(b.af);
    if r != 0 {
        return r;
    }
    let r = i32::from(a.protocol) - i32::from(b.protocol);
    if r != 0 {
        return r;
    }
    let r = addr_cmp(a.af, a.addr, b.addr);
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// libipvs's ipvs_cmp_dests.
pub fn cmp_dests(a: &Dest, b: &Dest) -> i32 {
    let r = addr_cmp(a.af, a.addr, b.addr);
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

pub fn proto_name(p: u16) -> &'static str {
    match p {
        IPPROTO_TCP => "TCP",
        IPPROTO_UDP => "UDP",
        IPPROTO_SCTP => "SCTP",
        _ => "UNKNOWN",
    }
}

/// ipvsadm's fwd_name.
pub fn fwd_name(method: u32) -> &'static str {
    match method & IP_VS_CONN_F_FWD_MASK {
        IP_VS_CONN_F_MASQ => "Masq",
        IP_VS_CONN_F_LOCALNODE => "Local",
        IP_VS_CONN_F_TUNNEL => "Tunnel",
        IP_VS_CONN_F_DROUTE => "Route",
        _ => "Unknown",
    }
}

pub fn addrport(af: u16, addr: Option<IpAddr>, port: u16, proto: u16, f: &Format) -> String {
    let (host, port) = if f.numeric {
        (
            addr.map(|a| a.to_string()).unwrap_or_default(),
            port.to_string(),
        )
    } else {
        (
            addr.map(names::host).unwrap_or_default(),
            names::service(port, proto),
        )
    };
    if af == AF_INET6 {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn truncate(s: &mut String, n: usize) {
    if s.len() > n {
        let mut cut = n;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// ipvsadm's print_largenum.
fn largenum(out: &mut String, i: u64, f: &Format) {
    if f.exact {
        let len = i.to_string().len();
        let w = if len <= 8 { 9 } else { len + 1 };
        let _ = write!(out, "{i:>w$}");
    } else if i < 100_000_000 {
        let _ = write!(out, "{i:>9}");
    } else if i < 1_000_000_000 {
        let _ = write!(out, "{:>8}K", i / 1000);
    } else if i < 100_000_000_000 {
        let _ = write!(out, "{:>8}M", i / 1_000_000);
    } else if i < 100_000_000_000_000 {
        let _ = write!(out, "{:>8}G", i / 1_000_000_000);
    } else {
        let _ = write!(out, "{:>8}T", i / 1_000_000_000_000);
    }
}

fn title(out: &mut String, f: &Format) {
    let p = "Prot LocalAddress:Port";
    if f.stats {
        let _ = writeln!(
            out,
            "{p:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        );
    } else if f.rate {
        let _ = writeln!(
            out,
            "{p:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        );
    } else if f.thresholds {
        let _ = writeln!(
            out,
            "{p:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        );
    } else if f.persistent_conn {
        let _ = writeln!(
            out,
            "{p:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        );
    } else if f.tun_info {
        out.push_str(
            "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n",
        );
    } else {
        out.push_str(
            "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
        );
    }
}

/// `--tun-info`'s column: the tunnel type, GUE's port and the checksum
/// flags ("-c" none, "+c" checksum, "r+c" remote checksum offload).
fn tun_info(d: &Dest) -> String {
    if d.fwd_method & IP_VS_CONN_F_FWD_MASK != IP_VS_CONN_F_TUNNEL {
        return "n/a".into();
    }
    let flags = match d.tun_flags {
        IP_VS_TUNNEL_ENCAP_FLAG_CSUM => "+c",
        IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM => "r+c",
        _ => "-c",
    };
    match d.tun_type {
        IP_VS_CONN_F_TUNNEL_TYPE_GUE => format!("gue:{}:{flags}", d.tun_port),
        IP_VS_CONN_F_TUNNEL_TYPE_GRE => format!("gre:{flags}"),
        _ => "ipip".into(),
    }
}

/// The scheduler flags as ipvsadm names them: sh and mh have two, which
/// it names after them (their third bit is not shown); other schedulers
/// three, flag-1 to flag-3.
pub fn sched_flag_names(sched: &str, flags: u32) -> Vec<&'static str> {
    let names: [Option<&'static str>; 3] = match sched {
        "sh" => [Some("sh-fallback"), Some("sh-port"), None],
        "mh" => [Some("mh-fallback"), Some("mh-port"), None],
        _ => [Some("flag-1"), Some("flag-2"), Some("flag-3")],
    };
    let bits = [IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3];
    bits.iter()
        .zip(names)
        .filter(|(b, _)| flags & **b != 0)
        .filter_map(|(_, n)| n)
        .collect()
}

fn v4_netmask(m: u32) -> String {
    std::net::Ipv4Addr::from(m.to_ne_bytes()).to_string()
}

fn svc_name(s: &Service, f: &Format) -> String {
    if s.fwmark != 0 {
        format!("FWM  {}", s.fwmark)
    } else {
        // "TCP  a:p", "UDP  a:p", "SCTP a:p": the name padded to four.
        let mut n = format!(
            "{:<4} {}",
            proto_name(s.protocol),
            addrport(s.af, s.addr, s.port, s.protocol, f)
        );
        if s.af != AF_INET6 {
            truncate(&mut n, 33);
        }
        n
    }
}

fn service_entry(out: &mut String, e: &Entry, f: &Format) {
    let s = &e.svc;
    let name = svc_name(s, f);
    let st = s.best_stats();
    if f.stats {
        let _ = write!(out, "{name:<33}");
        for v in [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes] {
            largenum(out, v, f);
        }
    } else if f.rate {
        let _ = write!(out, "{name:<33}");
        for v in [st.cps, st.inpps, st.outpps, st.inbps, st.outbps] {
            largenum(out, v, f);
        }
    } else {
        let _ = write!(out, "{name} {}", s.sched_name);
        let fl = sched_flag_names(&s.sched_name, s.flags);
        if !fl.is_empty() {
            let _ = write!(out, " ({})", fl.join(","));
        }
        if s.flags & IP_VS_SVC_F_PERSISTENT != 0 {
            let _ = write!(out, " persistent {}", s.timeout);
            if s.af == AF_INET && s.netmask != 0xffff_ffff {
                let _ = write!(out, " mask {}", v4_netmask(s.netmask));
            }
            if s.af == AF_INET6 && s.netmask != 128 {
                let _ = write!(out, " mask {}", s.netmask as i32);
            }
            if !s.pe_name.is_empty() {
                let _ = write!(out, " pe {}", s.pe_name);
            }
        }
        if s.flags & IP_VS_SVC_F_ONEPACKET != 0 {
            out.push_str(" ops");
        }
    }
    out.push('\n');

    for d in &e.dests {
        let mut dname = addrport(d.af, d.addr, d.port, s.protocol, f);
        if s.af != AF_INET6 {
            truncate(&mut dname, 28);
        }
        let ds = d.best_stats();
        if f.stats {
            let _ = write!(out, "  -> {dname:<28}");
            for v in [ds.conns, ds.inpkts, ds.outpkts, ds.inbytes, ds.outbytes] {
                largenum(out, v, f);
            }
            out.push('\n');
        } else if f.rate {
            let _ = write!(
                out,
                "  -> {dname:<28} {:>8} {:>8} {:>8}",
                ds.cps, ds.inpps, ds.outpps
            );
            largenum(out, ds.inbps, f);
            largenum(out, ds.outbps, f);
            out.push('\n');
        } else if f.thresholds {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<10} {:<10} {:<10} {:<10}",
                d.u_threshold, d.l_threshold, d.active_conns, d.inact_conns
            );
        } else if f.persistent_conn {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<9} {:<11} {:<10} {:<10}",
                d.weight as u32, d.persist_conns, d.active_conns, d.inact_conns
            );
        } else if f.tun_info {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<13} {:<6} {:<10} {:<10}",
                fwd_name(d.fwd_method),
                tun_info(d),
                d.weight,
                d.active_conns,
                d.inact_conns
            );
        } else {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<6} {:<10} {:<10}",
                fwd_name(d.fwd_method),
                d.weight,
                d.active_conns,
                d.inact_conns
            );
        }
    }
}

/// ipvsadm's fwd_switch: the option that selects a forwarding method.
fn fwd_switch(method: u32) -> &'static str {
    match method & IP_VS_CONN_F_FWD_MASK {
        IP_VS_CONN_F_MASQ => "-m",
        IP_VS_CONN_F_TUNNEL => "-i",
        _ => "-g",
    }
}

fn tun_flag_option(flags: u16) -> &'static str {
    match flags {
        IP_VS_TUNNEL_ENCAP_FLAG_CSUM => "--tun-csum",
        IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM => "--tun-remcsum",
        _ => "--tun-nocsum",
    }
}

/// One service and its destinations as `-S` rules (ipvsadm's FMT_RULE).
fn service_rules(out: &mut String, e: &Entry, f: &Format) {
    let s = &e.svc;
    let name = if s.fwmark != 0 {
        if s.af == AF_INET6 {
            format!("-f {} -6", s.fwmark)
        } else {
            format!("-f {}", s.fwmark)
        }
    } else {
        let opt = match s.protocol {
            IPPROTO_TCP => "-t",
            IPPROTO_UDP => "-u",
            _ => "--sctp-service",
        };
        format!("{opt} {}", addrport(s.af, s.addr, s.port, s.protocol, f))
    };
    let _ = write!(out, "-A {name} -s {}", s.sched_name);
    if s.flags & IP_VS_SVC_F_PERSISTENT != 0 {
        let _ = write!(out, " -p {}", s.timeout);
        if s.af == AF_INET && s.netmask != 0xffff_ffff {
            let _ = write!(out, " -M {}", v4_netmask(s.netmask));
        }
        if s.af == AF_INET6 && s.netmask != 128 {
            let _ = write!(out, " -M {}", s.netmask as i32);
        }
    }
    if !s.pe_name.is_empty() {
        let _ = write!(out, " --pe {}", s.pe_name);
    }
    let fl = sched_flag_names(&s.sched_name, s.flags);
    if !fl.is_empty() {
        let _ = write!(out, " -b {}", fl.join(","));
    }
    if s.flags & IP_VS_SVC_F_ONEPACKET != 0 {
        out.push_str(" -o");
    }
    out.push('\n');
    for d in &e.dests {
        let dname = addrport(d.af, d.addr, d.port, s.protocol, f);
        let _ = write!(
            out,
            "-a {name} -r {dname} {} -w {}",
            fwd_switch(d.fwd_method),
            d.weight
        );
        if d.fwd_method & IP_VS_CONN_F_FWD_MASK == IP_VS_CONN_F_TUNNEL {
            match d.tun_type {
                IP_VS_CONN_F_TUNNEL_TYPE_GUE => {
                    let _ = write!(
                        out,
                        " --tun-type gue --tun-port {} {}",
                        d.tun_port,
                        tun_flag_option(d.tun_flags)
                    );
                }
                IP_VS_CONN_F_TUNNEL_TYPE_GRE => {
                    let _ = write!(out, " --tun-type gre {}", tun_flag_option(d.tun_flags));
                }
                _ => out.push_str(" --tun-type ipip"),
            }
        }
        out.push('\n');
    }
}

/// The whole table as `-S` rules.
pub fn render_rules(entries: &[Entry], f: &Format) -> String {
    let mut out = String::new();
    for e in entries {
        service_rules(&mut out, e, f);
    }
    out
}

/// One service, as `-L -t/-u/-f ...` prints it (no version line).
pub fn render_one(entry: &Entry, f: &Format) -> String {
    let mut out = String::new();
    title(&mut out, f);
    service_entry(&mut out, entry, f);
    out
}

/// Sorts services and their destinations as ipvsadm does (unless
/// `--nosort`).
pub fn sort(entries: &mut [Entry], f: &Format) {
    if f.nosort {
        return;
    }
    let mut svcs: Vec<(Service, Vec<Dest>)> = entries
        .iter()
        .map(|e| (e.svc.clone(), e.dests.clone()))
        .collect();
    merge_sort(&mut svcs, &|a, b| cmp_services(&a.0, &b.0));
    for (e, (s, mut d)) in entries.iter_mut().zip(svcs) {
        merge_sort(&mut d, &|a, b| cmp_dests(a, b));
        e.svc = s;
        e.dests = d;
    }
}

/// The whole `-L` listing, ipvsadm's text.
pub fn render_text(info: &Info, entries: &[Entry], f: &Format) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "IP Virtual Server version {} (size={})",
        info.version_string(),
        info.conn_tab_size
    );
    title(&mut out, f);
    for e in entries {
        service_entry(&mut out, e, f);
    }
    out
}

fn stats_json(s: &Stats) -> Value {
    json!({
        "conns": s.conns, "inpkts": s.inpkts, "outpkts": s.outpkts,
        "inbytes": s.inbytes, "outbytes": s.outbytes, "cps": s.cps,
        "inpps": s.inpps, "outpps": s.outpps, "inbps": s.inbps, "outbps": s.outbps,
    })
}

pub fn af_name(af: u16) -> &'static str {
    match af {
        AF_INET => "inet",
        AF_INET6 => "inet6",
        _ => "unknown",
    }
}

/// The service flags as names (`--json`): what ipvsadm's `-L` shows as
/// words; a bit no version of ip_vs defines as `bit-N`.
pub fn svc_flag_names(flags: u32) -> Vec<String> {
    const NAMES: [(u32, &str); 6] = [
        (IP_VS_SVC_F_PERSISTENT, "persistent"),
        (IP_VS_SVC_F_HASHED, "hashed"),
        (IP_VS_SVC_F_ONEPACKET, "one-packet"),
        (IP_VS_SVC_F_SCHED1, "sched-1"),
        (IP_VS_SVC_F_SCHED2, "sched-2"),
        (IP_VS_SVC_F_SCHED3, "sched-3"),
    ];
    (0..32)
        .map(|b| 1u32 << b)
        .filter(|bit| flags & bit != 0)
        .map(|bit| match NAMES.iter().find(|(f, _)| *f == bit) {
            Some((_, n)) => (*n).to_string(),
            None => format!("bit-{}", bit.trailing_zeros()),
        })
        .collect()
}

/// A tunnelling destination's encapsulation (`--tun-type`'s word), None
/// for the other methods.
pub fn tun_type_name(d: &Dest) -> Option<&'static str> {
    if d.fwd_method & IP_VS_CONN_F_FWD_MASK != IP_VS_CONN_F_TUNNEL {
        return None;
    }
    Some(match d.tun_type {
        IP_VS_CONN_F_TUNNEL_TYPE_GUE => "gue",
        IP_VS_CONN_F_TUNNEL_TYPE_GRE => "gre",
        _ => "ipip",
    })
}

/// GUE's and GRE's checksum option (`--tun-nocsum|csum|remcsum`'s word).
pub fn tun_csum_name(d: &Dest) -> Option<&'static str> {
    match tun_type_name(d) {
        Some("gue") | Some("gre") => Some(match d.tun_flags {
            IP_VS_TUNNEL_ENCAP_FLAG_CSUM => "csum",
            IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM => "remcsum",
            _ => "nocsum",
        }),
        _ => None,
    }
}

/// The same listing as JSON.
pub fn render_json(info: &Info, entries: &[Entry]) -> Value {
    let services: Vec<Value> = entries
        .iter()
        .map(|e| {
            let s = &e.svc;
            let persistent = s.flags & IP_VS_SVC_F_PERSISTENT != 0;
            let netmask = if s.af == AF_INET {
                json!(v4_netmask(s.netmask))
            } else {
                json!(s.netmask)
            };
            json!({
                "family": af_name(s.af),
                "protocol": if s.fwmark != 0 { Value::Null } else { json!(proto_name(s.protocol)) },
                "address": s.addr.map(|a| a.to_string()),
                "port": if s.fwmark != 0 { Value::Null } else { json!(s.port) },
                "fwmark": if s.fwmark != 0 { json!(s.fwmark) } else { Value::Null },
                "scheduler": s.sched_name,
                "sched_flags": sched_flag_names(&s.sched_name, s.flags),
                "flags": svc_flag_names(s.flags),
                "persistent": persistent,
                "timeout": if persistent { json!(s.timeout) } else { Value::Null },
                "netmask": netmask,
                "one_packet": s.flags & IP_VS_SVC_F_ONEPACKET != 0,
                "pe": if s.pe_name.is_empty() { Value::Null } else { json!(s.pe_name) },
                "stats": stats_json(&s.best_stats()),
                "destinations": e.dests.iter().map(|d| json!({
                    "family": af_name(d.af),
                    "address": d.addr.map(|a| a.to_string()),
                    "port": d.port,
                    "forward": fwd_name(d.fwd_method),
                    "weight": d.weight,
                    "u_threshold": d.u_threshold,
                    "l_threshold": d.l_threshold,
                    "active_conns": d.active_conns,
                    "inactive_conns": d.inact_conns,
                    "persistent_conns": d.persist_conns,
                    "tun_type": tun_type_name(d),
                    "tun_port": if tun_type_name(d) == Some("gue") { json!(d.tun_port) } else { Value::Null },
                    "tun_csum": tun_csum_name(d),
                    "stats": stats_json(&d.best_stats()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "version": info.version_string(),
        "conn_tab_size": info.conn_tab_size,
        "services": services,
    })
}

/// `-L --daemon`, as ipvsadm prints it: the options the kernel reports
/// are shown when set.
pub fn render_daemons(d: &[rvs_ipvs::model::Daemon]) -> String {
    let mut out = String::new();
    for d in d {
        let kind = if d.state & 1 != 0 { "master" } else { "backup" };
        let _ = write!(
            out,
            "{kind} sync daemon (mcast={}, syncid={}",
            d.mcast_ifn, d.syncid
        );
        if d.sync_maxlen != 0 {
            let _ = write!(out, ", maxlen={}", d.sync_maxlen);
        }
        if let Some(g) = d.mcast_group {
            let _ = write!(out, ", group={g}");
        }
        if d.mcast_port != 0 {
            let _ = write!(out, ", port={}", d.mcast_port);
        }
        if d.mcast_ttl != 0 {
            let _ = write!(out, ", ttl={}", d.mcast_ttl);
        }
        out.push_str(")\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn svc(addr: [u8; 4], port: u16) -> Service {
        Service {
            af: AF_INET,
            protocol: IPPROTO_TCP,
            addr: Some(IpAddr::V4(Ipv4Addr::from(addr))),
            port,
            sched_name: "rr".into(),
            netmask: 0xffff_ffff,
            ..Default::default()
        }
    }

    fn info() -> Info {
        Info {
            version: 0x010201,
            conn_tab_size: 4096,
        }
    }

    fn numeric() -> Format {
        Format {
            numeric: true,
            ..Default::default()
        }
    }

    #[test]
    fn empty_listing_is_ipvsadms() {
        let (info, f) = (info(), numeric());
        assert_eq!(
            render_text(&info, &[], &f),
            "IP Virtual Server version 1.2.1 (size=4096)\n\
             Prot LocalAddress:Port Scheduler Flags\n  \
             -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        );
    }

    #[test]
    fn service_and_dest_lines() {
        let (info, f) = (info(), numeric());
        let mut s = svc([192, 0, 2, 1], 80);
        s.flags = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED1;
        s.timeout = 300;
        s.sched_name = "sh".into();
        let d = Dest {
            af: AF_INET,
            addr: Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2))),
            port: 8080,
            fwd_method: IP_VS_CONN_F_MASQ,
            weight: 1,
            ..Default::default()
        };
        let text = render_text(
            &info,
            &[Entry {
                svc: s,
                dests: vec![d],
            }],
            &f,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[3],
            "TCP  192.0.2.1:80 sh (sh-fallback) persistent 300"
        );
        assert_eq!(
            lines[4],
            "  -> 198.51.100.2:8080            Masq    1      0          0         "
        );
    }

    #[test]
    fn sort_is_ipvsadms_including_wrapping_differences() {
        // 200.0.0.1 - 10.0.0.1 wraps to a negative int in C: ipvsadm lists
        // 200.0.0.1 first.
        let mut v = vec![
            Entry {
                svc: svc([10, 0, 0, 1], 80),
                dests: vec![],
            },
            Entry {
                svc: svc([200, 0, 0, 1], 80),
                dests: vec![],
            },
            Entry {
                svc: svc([10, 0, 0, 1], 22),
                dests: vec![],
            },
        ];
        sort(&mut v, &Format::default());
        let order: Vec<String> = v
            .iter()
            .map(|e| format!("{}:{}", e.svc.addr.unwrap(), e.svc.port))
            .collect();
        assert_eq!(order, ["200.0.0.1:80", "10.0.0.1:22", "10.0.0.1:80"]);
    }

    #[test]
    fn largenum_units() {
        let f = Format::default();
        let mut s = String::new();
        for v in [5, 123_456_789, 12_345_678_901, 100_000_000_000_000] {
            largenum(&mut s, v, &f);
        }
        assert_eq!(s, "        5  123456K   12345M     100T");
        let mut e = String::new();
        largenum(&mut e, 12_345_678_901, &Format { exact: true, ..f });
        assert_eq!(e, " 12345678901");
    }
}
