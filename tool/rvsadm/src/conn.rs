// SPDX-License-Identifier: GPL-2.0
//! `-L -c`: the connection table, read from /proc/net/ip_vs_conn as
//! ipvsadm reads it, and printed in its format (or as JSON).
//!
//! A line of the file: protocol, client address and port, virtual address
//! and port, destination address and port (IPv4 addresses as 8 hex digits,
//! IPv6 ones in full), state, seconds to expiry, then the persistence
//! engine's name and data when there are any.

use crate::args::Format;
use crate::list::addrport;
use rvs_ipvs::consts::*;
use rvs_ipvs::model::{ConnEntry, ConnFilter, Service};
use serde_json::{json, Value};
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const CONN_PROC_FILE: &str = "/proc/net/ip_vs_conn";

/// One entry of the connection table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conn {
    pub protocol: String,
    pub af: u16,
    pub caddr: IpAddr,
    pub cport: u16,
    pub vaddr: IpAddr,
    pub vport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
    pub state: String,
    pub expires: i32,
    pub pe_name: String,
    pub pe_data: String,
}

/// strtoul(s, NULL, 16) truncated to 32 bits, as ipvsadm converts an
/// address that is not in text form: the leading hex digits.
fn hex_prefix(s: &str) -> u32 {
    let mut v: u64 = 0;
    for c in s.chars() {
        let Some(d) = c.to_digit(16) else { break };
        v = v.saturating_mul(16).saturating_add(u64::from(d));
    }
    v as u32
}

fn hex_port(s: &str) -> Option<u16> {
    u16::from_str_radix(s, 16).ok()
}

/// Parses one line of /proc/net/ip_vs_conn; `None` for a line that does
/// not hold an entry.
pub fn parse_line(line: &str) -> Option<Conn> {
    let w: Vec<&str> = line.split_whitespace().collect();
    if w.len() < 9 {
        return None;
    }
    let (cport, vport, dport) = (hex_port(w[2])?, hex_port(w[4])?, hex_port(w[6])?);
    // The family is the client address's, as ipvsadm decides it.
    let (af, caddr, vaddr, daddr) = if let Ok(c) = w[1].parse::<Ipv6Addr>() {
        let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::UNSPECIFIED);
        (
            AF_INET6,
            IpAddr::V6(c),
            IpAddr::V6(v6(w[3])),
            IpAddr::V6(v6(w[5])),
        )
    } else {
        let v4 = |s: &str| {
            s.parse::<Ipv4Addr>()
                .unwrap_or_else(|_| Ipv4Addr::from(hex_prefix(s)))
        };
        (
            AF_INET,
            IpAddr::V4(v4(w[1])),
            IpAddr::V4(v4(w[3])),
            IpAddr::V4(v4(w[5])),
        )
    };
    Some(Conn {
        protocol: w[0].to_string(),
        af,
        caddr,
        cport,
        vaddr,
        vport,
        daddr,
        dport,
        state: w[7].to_string(),
        expires: w[8].parse().ok()?,
        pe_name: w.get(9).map(|s| s.to_string()).unwrap_or_default(),
        pe_data: w.get(10).map(|s| s.to_string()).unwrap_or_default(),
    })
}

/// The entries of the file's text (its first line is the column titles).
pub fn parse(text: &str) -> Vec<Conn> {
    text.lines().skip(1).filter_map(parse_line).collect()
}

/// An entry of rvs.ko's connection dump as [`parse_line`] reads it from
/// /proc/net/ip_vs_conn, so that both sources list alike, down to how
/// ipvsadm shows a real server of the other family (the client's family
/// decides: an IPv4 real server of an IPv6 entry reads as `::`, an IPv6
/// one of an IPv4 entry as its first group's value).
pub fn from_entry(e: &ConnEntry) -> Option<Conn> {
    let v4 = |a: &[u8; 16]| IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]));
    let v6 = |a: &[u8; 16]| IpAddr::V6(Ipv6Addr::from(*a));
    let (caddr, vaddr, daddr) = if e.af == AF_INET6 {
        let d = if e.dest_af == AF_INET6 {
            v6(&e.daddr)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        };
        (v6(&e.caddr), v6(&e.vaddr), d)
    } else {
        let d = if e.dest_af == AF_INET6 {
            IpAddr::V4(Ipv4Addr::from(u32::from(u16::from_be_bytes([
                e.daddr[0], e.daddr[1],
            ]))))
        } else {
            v4(&e.daddr)
        };
        (v4(&e.caddr), v4(&e.vaddr), d)
    };
    let protocol = match e.protocol {
        IPPROTO_TCP => "TCP",
        IPPROTO_UDP => "UDP",
        IPPROTO_SCTP => "SCTP",
        _ => "IP",
    };
    Some(Conn {
        protocol: protocol.to_string(),
        af: if e.af == AF_INET6 { AF_INET6 } else { AF_INET },
        caddr,
        cport: e.cport,
        vaddr,
        vport: e.vport,
        daddr,
        dport: e.dport,
        state: e.state.clone(),
        expires: i32::try_from(e.expires).ok()?,
        pe_name: String::new(),
        pe_data: String::new(),
    })
}

/// Whether the first `bits` bits of two addresses are the same.
fn prefix_eq(a: IpAddr, b: IpAddr, bits: u8) -> bool {
    let (x, y, len): (u128, u128, u32) = match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a).into(), u32::from(b).into(), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.into(), b.into(), 128),
        _ => return false,
    };
    let bits = u32::from(bits).min(len);
    bits == 0 || (x ^ y) >> (len - bits) == 0
}

/// The same filters as rvs.ko applies, for /proc/net/ip_vs_conn's entries
/// (ip_vs.ko): a service by protocol, address and port (a firewall mark
/// is not in the file), a real server, a client prefix, a state.
pub fn keep(c: &Conn, f: &ConnFilter, svc: Option<&Service>) -> bool {
    if let Some(s) = svc {
        if proto_number(&c.protocol) != s.protocol || Some(c.vaddr) != s.addr || c.vport != s.port {
            return false;
        }
    }
    if let Some((addr, port)) = f.server {
        if c.daddr != addr || c.dport != port {
            return false;
        }
    }
    if let Some((addr, bits)) = f.client {
        if !prefix_eq(c.caddr, addr, bits) {
            return false;
        }
    }
    f.state.as_ref().is_none_or(|st| *st == c.state)
}

fn proto_number(p: &str) -> u16 {
    match p {
        "TCP" => IPPROTO_TCP,
        "UDP" => IPPROTO_UDP,
        "SCTP" => IPPROTO_SCTP,
        _ => 0,
    }
}

/// ipvsadm's `-L -c` listing.
pub fn render(conns: &[Conn], f: &Format) -> String {
    let mut out = String::from("IPVS connection entries\n");
    if f.persistent_conn {
        out.push_str(
            "pro expire state       source             virtual            destination        pe name          pe_data\n",
        );
    } else {
        out.push_str("pro expire state       source             virtual            destination\n");
    }
    for c in conns {
        let proto = proto_number(&c.protocol);
        let cname = addrport(c.af, Some(c.caddr), c.cport, proto, f);
        let vname = addrport(c.af, Some(c.vaddr), c.vport, proto, f);
        let dname = addrport(c.af, Some(c.daddr), c.dport, proto, f);
        let e = c.expires as u32;
        let expire = format!("{:02}:{:02}", e / 60, e % 60);
        // ipvsadm prints the persistence columns only for entries that
        // have them.
        if f.persistent_conn && !c.pe_name.is_empty() {
            let _ = writeln!(
                out,
                "{:<3} {:<6} {:<11} {:<18} {:<18} {:<16} {:<18} {}",
                c.protocol, expire, c.state, cname, vname, dname, c.pe_name, c.pe_data
            );
        } else {
            let _ = writeln!(
                out,
                "{:<3} {:<6} {:<11} {:<18} {:<18} {}",
                c.protocol, expire, c.state, cname, vname, dname
            );
        }
    }
    out
}

/// The entries as JSON: addresses and ports as numbers and text, expiry in
/// seconds.
pub fn render_json(conns: &[Conn]) -> Value {
    Value::Array(
        conns
            .iter()
            .map(|c| {
                json!({
                    "protocol": c.protocol,
                    "client": {"address": c.caddr.to_string(), "port": c.cport},
                    "virtual": {"address": c.vaddr.to_string(), "port": c.vport},
                    "destination": {"address": c.daddr.to_string(), "port": c.dport},
                    "state": c.state,
                    "expires": c.expires,
                    "pe_name": c.pe_name,
                    "pe_data": c.pe_data,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP C0000202 A1B2 CB00710A 0050 C633640B 1F90 ESTABLISHED     899
UDP 2001:0db8:0001:0000:0000:0000:0000:0002 0035 2001:0db8:0010:0000:0000:0000:0000:0010 0035 2001:0db8:0002:0000:0000:0000:0000:0011 0035 UDP           178 sip 3a1f
";

    fn numeric() -> Format {
        Format {
            numeric: true,
            ..Format::default()
        }
    }

    #[test]
    fn a_dumped_entry_reads_as_its_proc_line() {
        let proc = parse(TEXT);
        let mut e = ConnEntry {
            af: AF_INET,
            protocol: IPPROTO_TCP,
            cport: 0xA1B2,
            vport: 80,
            dport: 8080,
            dest_af: AF_INET,
            state: "ESTABLISHED".into(),
            expires: 899,
            ..ConnEntry::default()
        };
        e.caddr[..4].copy_from_slice(&[192, 0, 2, 2]);
        e.vaddr[..4].copy_from_slice(&[203, 0, 113, 10]);
        e.daddr[..4].copy_from_slice(&[198, 51, 100, 11]);
        assert_eq!(from_entry(&e).as_ref(), proc.first());
        let mut six = ConnEntry {
            af: AF_INET6,
            protocol: IPPROTO_UDP,
            cport: 53,
            vport: 53,
            dport: 53,
            dest_af: AF_INET6,
            state: "UDP".into(),
            expires: 178,
            ..ConnEntry::default()
        };
        six.caddr = "2001:db8:1::2".parse::<Ipv6Addr>().unwrap().octets();
        six.vaddr = "2001:db8:10::10".parse::<Ipv6Addr>().unwrap().octets();
        six.daddr = "2001:db8:2::11".parse::<Ipv6Addr>().unwrap().octets();
        let mut want = proc[1].clone();
        want.pe_name.clear();
        want.pe_data.clear();
        assert_eq!(from_entry(&six), Some(want));
        // Mixed families, as ipvsadm reads them from the /proc line.
        let mut mixed = six.clone();
        mixed.dest_af = AF_INET;
        mixed.daddr = [0; 16];
        mixed.daddr[..4].copy_from_slice(&[198, 51, 100, 11]);
        let line = "UDP 2001:0db8:0001:0000:0000:0000:0000:0002 0035 2001:0db8:0010:0000:0000:0000:0000:0010 0035 C633640B 0035 UDP 178";
        assert_eq!(from_entry(&mixed), parse_line(line));
        let mut mixed4 = e.clone();
        mixed4.dest_af = AF_INET6;
        mixed4.daddr = "2001:db8:2::11".parse::<Ipv6Addr>().unwrap().octets();
        let line = "TCP C0000202 A1B2 CB00710A 0050 2001:0db8:0002:0000:0000:0000:0000:0011 1F90 ESTABLISHED 899";
        assert_eq!(from_entry(&mixed4), parse_line(line));
    }

    #[test]
    fn filters_as_the_kernel_does() {
        let c = &parse(TEXT)[0];
        let f = |server: Option<(&str, u16)>, client: Option<(&str, u8)>, state: Option<&str>| {
            ConnFilter {
                service: None,
                server: server.map(|(a, p)| (a.parse().unwrap(), p)),
                client: client.map(|(a, b)| (a.parse().unwrap(), b)),
                state: state.map(String::from),
            }
        };
        assert!(keep(c, &f(None, None, None), None));
        assert!(keep(
            c,
            &f(
                Some(("198.51.100.11", 8080)),
                Some(("192.0.2.0", 24)),
                Some("ESTABLISHED")
            ),
            None
        ));
        assert!(!keep(c, &f(Some(("198.51.100.11", 80)), None, None), None));
        assert!(!keep(c, &f(None, Some(("192.0.3.0", 24)), None), None));
        assert!(keep(c, &f(None, Some(("192.0.3.0", 22)), None), None));
        assert!(!keep(c, &f(None, None, Some("TIME_WAIT")), None));
        assert!(!keep(c, &f(None, Some(("2001:db8::", 32)), None), None));
    }

    #[test]
    fn parses_both_families() {
        let c = parse(TEXT);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].caddr, "192.0.2.2".parse::<IpAddr>().unwrap());
        assert_eq!((c[0].cport, c[0].vport, c[0].dport), (0xA1B2, 80, 8080));
        assert_eq!(c[0].daddr, "198.51.100.11".parse::<IpAddr>().unwrap());
        assert_eq!(c[1].af, AF_INET6);
        assert_eq!(c[1].vaddr, "2001:db8:10::10".parse::<IpAddr>().unwrap());
        assert_eq!(
            (c[1].pe_name.as_str(), c[1].pe_data.as_str()),
            ("sip", "3a1f")
        );
    }

    #[test]
    fn prints_as_ipvsadm() {
        let out = render(&parse(TEXT), &numeric());
        let want = "\
IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:59  ESTABLISHED 192.0.2.2:41394    203.0.113.10:80    198.51.100.11:8080
UDP 02:58  UDP         [2001:db8:1::2]:53 [2001:db8:10::10]:53 [2001:db8:2::11]:53
";
        assert_eq!(out, want);
    }

    #[test]
    fn persistence_columns_only_where_there_is_data() {
        let f = Format {
            persistent_conn: true,
            ..numeric()
        };
        let out = render(&parse(TEXT), &f);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].ends_with("pe name          pe_data"));
        assert!(lines[2].ends_with("198.51.100.11:8080"), "{}", lines[2]);
        assert!(
            lines[3].ends_with(" sip                3a1f"),
            "{}",
            lines[3]
        );
    }

    #[test]
    fn garbage_lines_are_skipped() {
        assert!(parse("title\nTCP nonsense\n\n").is_empty());
        assert!(parse_line("TCP C0000202 ZZZZ CB00710A 0050 C633640B 1F90 X 1").is_none());
    }
}
