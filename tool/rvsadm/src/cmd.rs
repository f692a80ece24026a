// SPDX-License-Identifier: GPL-2.0
//! The commands that change the table: requests built from the command
//! line as ipvsadm builds them (defaults, checks and exit codes included).

use crate::args::{Args, Command, SvcArg};
use rvs_ipvs::consts::*;
use rvs_ipvs::model::addr_to_raw;
use rvs_ipvs::nla::{DaemonAttr, DestAttr, Flags, IpvsAttr, SvcAttr};
use rvs_ipvs::{Client, Error};
use std::ffi::CString;
use std::net::{IpAddr, ToSocketAddrs};

/// Why a command failed: a usage problem (exit 2), the kernel's refusal
/// (exit 255) or a file that cannot be read (exit 1), each with words.
pub enum Failure {
    Usage(String),
    Kernel(String, Error),
    File(String),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            // ipvsadm's first request (GET_INFO, when it initialises)
            // meets a missing privilege: it exits 2 ("Can't initialize
            // ipvs: Permission denied (you must be root)").
            Self::Kernel(_, e) if not_permitted(e) => 2,
            Self::Kernel(..) => 255,
            Self::File(_) => 1,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Usage(s) | Self::File(s) => f.write_str(s),
            Self::Kernel(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

/// EPERM or EACCES: the caller lacks CAP_NET_ADMIN.
pub fn not_permitted(e: &Error) -> bool {
    matches!(e.errno(), Some(1) | Some(13))
}

fn usage<T>(s: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Usage(s.into()))
}

/// A resolved address and port.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: Option<u16>,
}

fn resolve_host(h: &str) -> Option<IpAddr> {
    if let Ok(a) = h.parse::<IpAddr>() {
        return Some(a);
    }
    (h, 0).to_socket_addrs().ok()?.next().map(|s| s.ip())
}

fn resolve_port(p: &str, proto: u16) -> Option<u16> {
    if let Ok(n) = p.parse::<u16>() {
        return Some(n);
    }
    let pname = match proto {
        IPPROTO_UDP => "udp",
        IPPROTO_SCTP => "sctp",
        _ => "tcp",
    };
    let (name, proto) = (CString::new(p).ok()?, CString::new(pname).ok()?);
    // SAFETY: both are valid C strings; the entry is read at once.
    unsafe {
        let se = libc::getservbyname(name.as_ptr(), proto.as_ptr());
        if se.is_null() {
            None
        } else {
            Some(u16::from_be((*se).s_port as u16))
        }
    }
}

/// `host[:port]`, `[v6]:port`, `[v6]` or a bare IPv6 address.
pub fn parse_endpoint(s: &str, proto: u16) -> Option<Endpoint> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, tail) = rest.split_once(']')?;
        match tail.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if tail.is_empty() => (h, None),
            None => return None,
        }
    } else if s.matches(':').count() > 1 {
        (s, None)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let addr = resolve_host(host)?;
    let port = match port {
        Some(p) => Some(resolve_port(p, proto)?),
        None => None,
    };
    Some(Endpoint { addr, port })
}

fn af_of(a: IpAddr) -> u16 {
    match a {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

/// The service named on the command line: (af, identifying attributes,
/// protocol, port).
struct Svc {
    af: u16,
    key: Vec<SvcAttr>,
    protocol: u16,
    port: u16,
    fwmark: u32,
}

fn service(a: &Args) -> Result<Svc, Failure> {
    match &a.svc {
        None => usage("a service (-t, -u, --sctp-service or -f) is needed"),
        Some(SvcArg::Fwmark(m)) => {
            let af = if a.ipv6 { AF_INET6 } else { AF_INET };
            Ok(Svc {
                af,
                key: vec![SvcAttr::Af(af), SvcAttr::Fwmark(*m)],
                protocol: IPPROTO_TCP,
                port: 0,
                fwmark: *m,
            })
        }
        Some(SvcArg::Addr { protocol, spec }) => {
            let Some(ep) = parse_endpoint(spec, *protocol) else {
                return usage(format!(
                    "illegal virtual server address[:port] specified: {spec}"
                ));
            };
            let af = af_of(ep.addr);
            let port = ep.port.unwrap_or(0);
            Ok(Svc {
                af,
                key: vec![
                    SvcAttr::Af(af),
                    SvcAttr::Protocol(*protocol),
                    SvcAttr::Addr(addr_to_raw(ep.addr)),
                    SvcAttr::Port(port),
                ],
                protocol: *protocol,
                port,
                fwmark: 0,
            })
        }
    }
}

fn full_service(a: &Args, svc: &Svc) -> Result<Vec<SvcAttr>, Failure> {
    let persistent = a.persistent.is_some();
    if svc.fwmark == 0 && svc.port == 0 && !persistent {
        return usage("Zero port specified for non-persistent service");
    }
    if a.ops && svc.fwmark == 0 && svc.protocol != IPPROTO_UDP {
        return usage("One-Packet Scheduling is only for UDP virtual services");
    }
    let sched = a.sched.clone().unwrap_or_else(|| "wlc".to_string());
    let mut flags = 0;
    if persistent {
        flags |= IP_VS_SVC_F_PERSISTENT;
    }
    if a.ops {
        flags |= IP_VS_SVC_F_ONEPACKET;
    }
    flags |= a.sched_flags.unwrap_or(0);
    let netmask = match (&a.netmask, svc.af) {
        (None, AF_INET6) => 128,
        (None, _) => u32::MAX,
        (Some(m), AF_INET6) => match m.parse::<u32>() {
            Ok(n) if (1..=128).contains(&n) => n,
            _ => return usage("illegal ipv6 netmask specified"),
        },
        (Some(m), _) => match m.parse::<std::net::Ipv4Addr>() {
            Ok(ip) => u32::from_ne_bytes(ip.octets()),
            Err(_) => return usage("illegal virtual server netmask specified"),
        },
    };
    let mut v = svc.key.clone();
    v.push(SvcAttr::SchedName(sched));
    if let Some(pe) = &a.pe {
        v.push(SvcAttr::PeName(pe.clone()));
    }
    v.push(SvcAttr::Flags(Flags {
        flags,
        mask: u32::MAX,
    }));
    v.push(SvcAttr::Timeout(a.persistent.unwrap_or(0)));
    v.push(SvcAttr::Netmask(netmask));
    Ok(v)
}

fn dest(a: &Args, svc: &Svc, full: bool) -> Result<Vec<DestAttr>, Failure> {
    let Some(spec) = &a.server else {
        return usage("a real server (-r) is needed");
    };
    let Some(ep) = parse_endpoint(spec, svc.protocol) else {
        return usage(format!(
            "illegal real server address[:port] specified: {spec}"
        ));
    };
    let af = af_of(ep.addr);
    let port = ep
        .port
        .unwrap_or(if svc.fwmark != 0 { 0 } else { svc.port });
    let fwd = a.fwd.unwrap_or(IP_VS_CONN_F_DROUTE);
    if full && af != svc.af && fwd != IP_VS_CONN_F_TUNNEL {
        return usage("Different address family is allowed only for tunneling servers");
    }
    let mut v = vec![
        DestAttr::Addr(addr_to_raw(ep.addr)),
        DestAttr::Port(port),
        DestAttr::AddrFamily(af),
    ];
    if full {
        v.push(DestAttr::FwdMethod(fwd));
        v.push(DestAttr::Weight(a.weight.unwrap_or(1) as u32));
        v.push(DestAttr::UThresh(a.u_threshold.unwrap_or(0)));
        v.push(DestAttr::LThresh(a.l_threshold.unwrap_or(0)));
        if let Some(t) = a.tun_type {
            // The options that go with each tunnel type are checked
            // with the command line (args::check_options).
            v.push(DestAttr::TunType(t));
            v.push(DestAttr::TunPort(a.tun_port.unwrap_or(0)));
            v.push(DestAttr::TunFlags(a.tun_flags.unwrap_or(0)));
        }
    }
    Ok(v)
}

fn run(c: &mut Client, what: &str, cmd: u8, nlas: Vec<IpvsAttr>) -> Result<(), Failure> {
    c.request(cmd, nlas, false)
        .map(|_| ())
        .map_err(|e| Failure::Kernel(what.to_string(), e))
}

/// Runs one table-changing command.
pub fn execute(c: &mut Client, a: &Args) -> Result<(), Failure> {
    let Some(command) = a.command else {
        return usage("no command given");
    };
    match command {
        Command::Clear => run(c, "cannot clear the table", IPVS_CMD_FLUSH, vec![]),
        Command::SetTimeout => {
            let (t, f, u) = a.set.unwrap_or((0, 0, 0));
            run(
                c,
                "cannot set the timeouts",
                IPVS_CMD_SET_CONFIG,
                vec![
                    IpvsAttr::TimeoutTcp(t),
                    IpvsAttr::TimeoutTcpFin(f),
                    IpvsAttr::TimeoutUdp(u),
                ],
            )
        }
        Command::Zero => {
            if a.svc.is_none() {
                return run(c, "cannot zero the counters", IPVS_CMD_ZERO, vec![]);
            }
            let s = service(a)?;
            run(
                c,
                "cannot zero the service's counters",
                IPVS_CMD_ZERO,
                vec![IpvsAttr::Service(s.key)],
            )
        }
        Command::AddService | Command::EditService => {
            let s = service(a)?;
            let (cmd, what) = if command == Command::AddService {
                (IPVS_CMD_NEW_SERVICE, "cannot add the service")
            } else {
                (IPVS_CMD_SET_SERVICE, "cannot edit the service")
            };
            let attrs = full_service(a, &s)?;
            run(c, what, cmd, vec![IpvsAttr::Service(attrs)])
        }
        Command::DelService => {
            let s = service(a)?;
            run(
                c,
                "cannot delete the service",
                IPVS_CMD_DEL_SERVICE,
                vec![IpvsAttr::Service(s.key)],
            )
        }
        Command::AddServer | Command::EditServer | Command::DelServer => {
            let s = service(a)?;
            let (cmd, what, full) = match command {
                Command::AddServer => (IPVS_CMD_NEW_DEST, "cannot add the real server", true),
                Command::EditServer => (IPVS_CMD_SET_DEST, "cannot edit the real server", true),
                _ => (IPVS_CMD_DEL_DEST, "cannot delete the real server", false),
            };
            let d = dest(a, &s, full)?;
            run(
                c,
                what,
                cmd,
                vec![IpvsAttr::Service(s.key), IpvsAttr::Dest(d)],
            )
        }
        Command::StartDaemon | Command::StopDaemon => {
            let state = match a.daemon_state.as_deref() {
                Some("backup") => 2,
                _ => 1,
            };
            // As ipvsadm sends them: state, interface (empty when not
            // given: the kernel refuses it), sync id, then the options given.
            let mut d = vec![
                DaemonAttr::State(state),
                DaemonAttr::McastIfn(a.mcast_ifn.clone().unwrap_or_default()),
                DaemonAttr::SyncId(a.syncid.unwrap_or(0)),
            ];
            if command == Command::StartDaemon {
                if let Some(v) = a.sync_maxlen {
                    d.push(DaemonAttr::SyncMaxlen(v));
                }
                if let Some(v) = a.mcast_port {
                    d.push(DaemonAttr::McastPort(v));
                }
                if let Some(v) = a.mcast_ttl {
                    d.push(DaemonAttr::McastTtl(v));
                }
                match a.mcast_group {
                    Some(IpAddr::V4(g)) => d.push(DaemonAttr::McastGroup(g.octets().to_vec())),
                    Some(IpAddr::V6(g)) => d.push(DaemonAttr::McastGroup6(g.octets().to_vec())),
                    None => {}
                }
                run(
                    c,
                    "cannot start the sync daemon",
                    IPVS_CMD_NEW_DAEMON,
                    vec![IpvsAttr::Daemon(d)],
                )
            } else {
                run(
                    c,
                    "cannot stop the sync daemon",
                    IPVS_CMD_DEL_DAEMON,
                    vec![IpvsAttr::Daemon(d)],
                )
            }
        }
        _ => usage("not a table-changing command"),
    }
}

/// The service named by `-t/-u/--sctp-service/-f`, as a model value for
/// single-service listings.
pub fn service_model(a: &Args) -> Result<rvs_ipvs::model::Service, Failure> {
    let s = service(a)?;
    Ok(rvs_ipvs::model::Service::from_attrs(&s.key))
}
