// SPDX-License-Identifier: GPL-2.0
//! `rvsadm metrics [--listen ADDR:PORT]`: the virtual server table's
//! counters, rates, connection counts and settings in Prometheus's text
//! exposition format (0.0.4), read over the IPVS netlink family only (no
//! /proc), from rvs.ko or ip_vs.ko; with `--listen`, served over HTTP to a
//! scraper at every request.

use crate::list::{af_name, fwd_name, proto_name, Entry};
use rvs_ipvs::consts::{IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};
use rvs_ipvs::model::{Daemon, Info, Stats, TableInfo, Timeouts};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// A label value with `\`, `"` and newlines escaped as the format says.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One metric family: its HELP and TYPE lines, then its samples.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    samples: Vec<(String, u64)>,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    fn add(&mut self, labels: &str, v: u64) {
        self.samples.push((labels.to_string(), v));
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        for (l, v) in &self.samples {
            if l.is_empty() {
                let _ = writeln!(out, "{} {v}", self.name);
            } else {
                let _ = writeln!(out, "{}{{{l}}} {v}", self.name);
            }
        }
    }
}

/// The labels that name a virtual service.
fn service_labels(e: &Entry) -> String {
    let s = &e.svc;
    let (proto, addr, port) = if s.fwmark != 0 {
        (String::new(), String::new(), String::new())
    } else {
        (
            proto_name(s.protocol).to_lowercase(),
            s.addr.map(|a| a.to_string()).unwrap_or_default(),
            s.port.to_string(),
        )
    };
    format!(
        "family=\"{}\",protocol=\"{}\",address=\"{}\",port=\"{}\",fwmark=\"{}\"",
        af_name(s.af),
        esc(&proto),
        esc(&addr),
        port,
        if s.fwmark != 0 {
            s.fwmark.to_string()
        } else {
            String::new()
        }
    )
}

/// The counters and rates of one set of stats, into the families given in
/// the order: connections, packets in/out, bytes in/out, then the rates.
fn add_stats(f: &mut [Family], labels: &str, s: &Stats) {
    let vals = [
        s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes, s.cps, s.inpps, s.outpps, s.inbps,
        s.outbps,
    ];
    for (fam, v) in f.iter_mut().zip(vals) {
        fam.add(labels, v);
    }
}

fn stats_families(prefix: &str) -> Vec<Family> {
    // (Names are 'static: one table per prefix.)
    let n: [&'static str; 10] = match prefix {
        "service" => [
            "ipvs_service_connections_total",
            "ipvs_service_incoming_packets_total",
            "ipvs_service_outgoing_packets_total",
            "ipvs_service_incoming_bytes_total",
            "ipvs_service_outgoing_bytes_total",
            "ipvs_service_connections_per_second",
            "ipvs_service_incoming_packets_per_second",
            "ipvs_service_outgoing_packets_per_second",
            "ipvs_service_incoming_bytes_per_second",
            "ipvs_service_outgoing_bytes_per_second",
        ],
        _ => [
            "ipvs_server_connections_total",
            "ipvs_server_incoming_packets_total",
            "ipvs_server_outgoing_packets_total",
            "ipvs_server_incoming_bytes_total",
            "ipvs_server_outgoing_bytes_total",
            "ipvs_server_connections_per_second",
            "ipvs_server_incoming_packets_per_second",
            "ipvs_server_outgoing_packets_per_second",
            "ipvs_server_incoming_bytes_per_second",
            "ipvs_server_outgoing_bytes_per_second",
        ],
    };
    let help: [&'static str; 10] = if prefix == "service" {
        [
            "Connections scheduled by the virtual service.",
            "Packets from clients to the virtual service.",
            "Packets from the real servers back to clients.",
            "Bytes from clients to the virtual service.",
            "Bytes from the real servers back to clients.",
            "Connections per second (the kernel's rate estimator).",
            "Incoming packets per second (the kernel's rate estimator).",
            "Outgoing packets per second (the kernel's rate estimator).",
            "Incoming bytes per second (the kernel's rate estimator).",
            "Outgoing bytes per second (the kernel's rate estimator).",
        ]
    } else {
        [
            "Connections scheduled to the real server.",
            "Packets from clients forwarded to the real server.",
            "Packets from the real server back to clients.",
            "Bytes from clients forwarded to the real server.",
            "Bytes from the real server back to clients.",
            "Connections per second (the kernel's rate estimator).",
            "Incoming packets per second (the kernel's rate estimator).",
            "Outgoing packets per second (the kernel's rate estimator).",
            "Incoming bytes per second (the kernel's rate estimator).",
            "Outgoing bytes per second (the kernel's rate estimator).",
        ]
    };
    n.iter()
        .zip(help)
        .enumerate()
        .map(|(i, (n, h))| Family::new(n, if i < 5 { "counter" } else { "gauge" }, h))
        .collect()
}

/// rvs.ko's connection-table figures (none from ip_vs.ko).
fn table_families(out: &mut String, tab: &TableInfo) {
    let gauge = |name, help, v: u64, out: &mut String| {
        let mut f = Family::new(name, "gauge", help);
        f.add("", v);
        f.write(out);
    };
    gauge(
        "ipvs_connection_table_entries",
        "Entries in the connection table (connections and persistence templates).",
        tab.entries,
        out,
    );
    gauge(
        "ipvs_connection_table_buckets",
        "Buckets of the connection table now (it grows and shrinks with its entries).",
        tab.buckets,
        out,
    );
    gauge(
        "ipvs_connection_table_limit",
        "The most entries the connection table takes (conn_max, or by memory).",
        tab.max,
        out,
    );
    let mut refused = Family::new(
        "ipvs_connections_refused_total",
        "counter",
        "New connections refused, by reason.",
    );
    refused.add("reason=\"table_full\"", tab.refused_full);
    refused.write(out);
    let mut evicted = Family::new(
        "ipvs_connections_evicted_total",
        "counter",
        "Entries that gave way to a new connection in a full table (evict_on_full), by class.",
    );
    match tab.evicted_by {
        Some(by) => {
            for (class, n) in ["half_open", "unanswered", "template", "idle"]
                .iter()
                .zip(by)
            {
                evicted.add(&format!("class=\"{class}\""), n);
            }
        }
        None => evicted.add("", tab.evicted),
    }
    evicted.write(out);
    let mut states = Family::new(
        "ipvs_connection_entries",
        "gauge",
        "Entries of the connection table by protocol and state (templates: NONE, ASSURED).",
    );
    for (p, name, n) in &tab.states {
        let proto = match *p {
            IPPROTO_TCP => "tcp",
            IPPROTO_UDP => "udp",
            IPPROTO_SCTP => "sctp",
            _ => "other",
        };
        states.add(&format!("protocol=\"{proto}\",state=\"{}\"", esc(name)), *n);
    }
    states.write(out);
    let mut setting = Family::new(
        "ipvs_defense_setting",
        "gauge",
        "The sysctls of ip_vs's defences against floods (amemthresh in pages; modes 0 to 3).",
    );
    for (k, v) in [
        ("amemthresh", tab.amemthresh),
        ("drop_entry", tab.drop_entry),
        ("drop_packet", tab.drop_packet),
        ("secure_tcp", tab.secure_tcp),
    ] {
        setting.add(&format!("sysctl=\"{k}\""), u64::from(v));
    }
    setting.write(out);
    let mut active = Family::new(
        "ipvs_defense_active",
        "gauge",
        "Whether a defence is in force now (drop_packet: its drop rate, 0 when off).",
    );
    active.add("defense=\"secure_tcp\"", u64::from(tab.secure_tcp_on));
    active.add("defense=\"drop_packet\"", u64::from(tab.drop_rate));
    active.write(out);
}

/// The whole exposition: what the kernel reported in one pass (`table`:
/// rvs.ko's connection-table figures, None from ip_vs.ko).
pub fn render(
    info: &Info,
    t: &Timeouts,
    entries: &[Entry],
    daemons: &[Daemon],
    table: Option<&TableInfo>,
) -> String {
    let mut out = String::new();
    let mut tab = Family::new(
        "ipvs_connection_table_size",
        "gauge",
        "The connection table's size as -L reports it (size=).",
    );
    tab.add("", u64::from(info.conn_tab_size));
    tab.write(&mut out);
    if let Some(t) = table {
        table_families(&mut out, t);
    }
    let mut ver = Family::new(
        "ipvs_info",
        "gauge",
        "The IPVS version the kernel reports (always 1).",
    );
    ver.add(&format!("version=\"{}\"", info.version_string()), 1);
    ver.write(&mut out);
    let mut tmo = Family::new(
        "ipvs_timeout_seconds",
        "gauge",
        "The timeouts of --set: established TCP, TCP after FIN, UDP.",
    );
    tmo.add("state=\"tcp\"", u64::from(t.tcp));
    tmo.add("state=\"tcpfin\"", u64::from(t.tcp_fin));
    tmo.add("state=\"udp\"", u64::from(t.udp));
    tmo.write(&mut out);
    let mut dmn = Family::new(
        "ipvs_sync_daemon",
        "gauge",
        "A connection synchronisation daemon that runs (1), by kind.",
    );
    for d in daemons {
        let kind = if d.state & 1 != 0 { "master" } else { "backup" };
        dmn.add(
            &format!(
                "kind=\"{kind}\",interface=\"{}\",syncid=\"{}\"",
                esc(&d.mcast_ifn),
                d.syncid
            ),
            1,
        );
    }
    dmn.write(&mut out);

    let mut svc_info = Family::new(
        "ipvs_service_info",
        "gauge",
        "A virtual service (1), with its scheduler and persistence.",
    );
    let mut svc_stats = stats_families("service");
    // The real servers' gauges, in the order of their values below.
    const SERVER_GAUGES: [(&str, &str); 6] = [
        (
            "ipvs_server_weight",
            "The real server's weight (0: quiesced).",
        ),
        (
            "ipvs_server_connections_active",
            "The real server's active connections (ActiveConn).",
        ),
        (
            "ipvs_server_connections_inactive",
            "The real server's inactive connections (InActConn).",
        ),
        (
            "ipvs_server_connections_persistent",
            "The persistence templates of the real server (PersistConn).",
        ),
        (
            "ipvs_server_threshold_upper",
            "The real server's upper connection threshold (0: none).",
        ),
        (
            "ipvs_server_threshold_lower",
            "The real server's lower connection threshold (0: none).",
        ),
    ];
    let mut rs_gauges: Vec<Family> = SERVER_GAUGES
        .iter()
        .map(|(n, h)| Family::new(n, "gauge", h))
        .collect();
    let mut rs_stats = stats_families("server");
    for e in entries {
        let sl = service_labels(e);
        let s = &e.svc;
        svc_info.add(
            &format!(
                "{sl},scheduler=\"{}\",persistent=\"{}\"",
                esc(&s.sched_name),
                if s.flags & rvs_ipvs::consts::IP_VS_SVC_F_PERSISTENT != 0 {
                    s.timeout
                } else {
                    0
                }
            ),
            1,
        );
        add_stats(&mut svc_stats, &sl, &s.best_stats());
        for d in &e.dests {
            let dl = format!(
                "{sl},server_address=\"{}\",server_port=\"{}\",forward=\"{}\"",
                esc(&d.addr.map(|a| a.to_string()).unwrap_or_default()),
                d.port,
                fwd_name(d.fwd_method).to_lowercase()
            );
            let vals = [
                u64::try_from(d.weight).unwrap_or(0),
                u64::from(d.active_conns),
                u64::from(d.inact_conns),
                u64::from(d.persist_conns),
                u64::from(d.u_threshold),
                u64::from(d.l_threshold),
            ];
            for (f, v) in rs_gauges.iter_mut().zip(vals) {
                f.add(&dl, v);
            }
            add_stats(&mut rs_stats, &dl, &d.best_stats());
        }
    }
    svc_info.write(&mut out);
    for f in &svc_stats {
        f.write(&mut out);
    }
    for f in &rs_gauges {
        f.write(&mut out);
    }
    for f in &rs_stats {
        f.write(&mut out);
    }
    out
}

/// `--listen`: answer every HTTP request with a fresh exposition
/// (`GET /metrics`; 404 for another path), one request at a time.
pub fn serve(addr: &str, scrape: &dyn Fn() -> Result<String, String>) -> Result<(), String> {
    let l = TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    eprintln!("rvsadm: serving metrics on http://{addr}/metrics");
    for conn in l.incoming() {
        let Ok(mut c) = conn else { continue };
        let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = c.set_write_timeout(Some(Duration::from_secs(5)));
        // The request line and headers (at most 8 kB; the body, if any, is
        // not read).
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        let line = String::from_utf8_lossy(&req);
        let mut words = line.split_whitespace();
        let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let (status, ctype, body) = if method != "GET" && method != "HEAD" {
            (
                "405 Method Not Allowed",
                "text/plain",
                "GET only\n".to_string(),
            )
        } else if path != "/metrics" && !path.starts_with("/metrics?") {
            ("404 Not Found", "text/plain", "see /metrics\n".to_string())
        } else {
            match scrape() {
                Ok(b) => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", b),
                Err(e) => ("503 Service Unavailable", "text/plain", format!("{e}\n")),
            }
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = c.write_all(head.as_bytes());
        if method != "HEAD" {
            let _ = c.write_all(body.as_bytes());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_ipvs::model::{Dest, Service};

    #[test]
    fn exposition_has_every_family_once_with_its_samples() {
        let svc = Service {
            af: 2,
            protocol: 6,
            addr: Some("203.0.113.10".parse().unwrap()),
            port: 80,
            sched_name: "wlc".into(),
            flags: 1,
            timeout: 300,
            stats: Stats {
                conns: 12,
                inpkts: 60,
                ..Stats::default()
            },
            ..Service::default()
        };
        let d = Dest {
            af: 2,
            addr: Some("198.51.100.11".parse().unwrap()),
            port: 8080,
            weight: 3,
            active_conns: 2,
            inact_conns: 5,
            ..Dest::default()
        };
        let e = vec![Entry {
            svc,
            dests: vec![d],
        }];
        let daemons = vec![Daemon {
            state: 1,
            mcast_ifn: "eth\"1".into(),
            syncid: 7,
            ..Daemon::default()
        }];
        let t = render(
            &Info {
                version: 0x010201,
                conn_tab_size: 4096,
            },
            &Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300,
            },
            &e,
            &daemons,
            None,
        );
        let sl =
            "family=\"inet\",protocol=\"tcp\",address=\"203.0.113.10\",port=\"80\",fwmark=\"\"";
        for want in [
            "ipvs_connection_table_size 4096".to_string(),
            "ipvs_info{version=\"1.2.1\"} 1".to_string(),
            "ipvs_timeout_seconds{state=\"tcpfin\"} 120".to_string(),
            "ipvs_sync_daemon{kind=\"master\",interface=\"eth\\\"1\",syncid=\"7\"} 1".to_string(),
            format!("ipvs_service_info{{{sl},scheduler=\"wlc\",persistent=\"300\"}} 1"),
            format!("ipvs_service_connections_total{{{sl}}} 12"),
            format!("ipvs_service_incoming_packets_total{{{sl}}} 60"),
            format!("ipvs_server_weight{{{sl},server_address=\"198.51.100.11\",server_port=\"8080\",forward=\"masq\"}} 3"),
            format!("ipvs_server_connections_inactive{{{sl},server_address=\"198.51.100.11\",server_port=\"8080\",forward=\"masq\"}} 5"),
        ] {
            assert!(t.lines().any(|l| l == want), "no line {want} in\n{t}");
        }
        // Each family's HELP and TYPE once, before its samples.
        let types: Vec<&str> = t.lines().filter(|l| l.starts_with("# TYPE ")).collect();
        let mut names: Vec<&str> = types.iter().map(|l| l.split(' ').nth(2).unwrap()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert_eq!(n, 31);
        // With rvs.ko's table figures: eight families more.
        let tab = TableInfo {
            entries: 5,
            buckets: 4096,
            states: vec![(6, "ESTABLISHED".into(), 3), (17, "UDP".into(), 2)],
            secure_tcp_on: true,
            ..TableInfo::default()
        };
        let t = render(&Info::default(), &Timeouts::default(), &[], &[], Some(&tab));
        for want in [
            "ipvs_connection_table_entries 5",
            "ipvs_connection_table_buckets 4096",
            "ipvs_connections_refused_total{reason=\"table_full\"} 0",
            "ipvs_connection_entries{protocol=\"tcp\",state=\"ESTABLISHED\"} 3",
            "ipvs_connection_entries{protocol=\"udp\",state=\"UDP\"} 2",
            "ipvs_defense_active{defense=\"secure_tcp\"} 1",
        ] {
            assert!(t.lines().any(|l| l == want), "no line {want} in\n{t}");
        }
        assert_eq!(
            t.lines().filter(|l| l.starts_with("# TYPE ")).count(),
            31 + 8
        );
    }
}
