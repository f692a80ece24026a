// SPDX-License-Identifier: GPL-2.0
//! Plain values decoded from the attribute enums: what a listing shows.

use crate::consts::*;
use crate::nla::{DaemonAttr, DestAttr, Flags, StatsAttr, SvcAttr};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// GET_INFO's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Info {
    pub version: u32,
    pub conn_tab_size: u32,
}

impl Info {
    /// "1.2.1" from 0x010201.
    pub fn version_string(&self) -> String {
        let v = self.version;
        format!("{}.{}.{}", (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff)
    }
}

/// GET_CONFIG's answer, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// Counters and rates (`struct ip_vs_stats_user`, 64-bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

impl Stats {
    pub fn from_attrs(attrs: &[StatsAttr]) -> Self {
        let mut s = Self::default();
        for a in attrs {
            if let StatsAttr::Counter(kind, v, _) = a {
                let v = *v;
                match *kind {
                    IPVS_STATS_ATTR_CONNS => s.conns = v,
                    IPVS_STATS_ATTR_INPKTS => s.inpkts = v,
                    IPVS_STATS_ATTR_OUTPKTS => s.outpkts = v,
                    IPVS_STATS_ATTR_INBYTES => s.inbytes = v,
                    IPVS_STATS_ATTR_OUTBYTES => s.outbytes = v,
                    IPVS_STATS_ATTR_CPS => s.cps = v,
                    IPVS_STATS_ATTR_INPPS => s.inpps = v,
                    IPVS_STATS_ATTR_OUTPPS => s.outpps = v,
                    IPVS_STATS_ATTR_INBPS => s.inbps = v,
                    IPVS_STATS_ATTR_OUTBPS => s.outbps = v,
                    _ => {}
                }
            }
        }
        s
    }
}

/// The address in a 16-byte `union nf_inet_addr` for family `af`.
pub fn addr_from_raw(af: u16, raw: &[u8]) -> Option<IpAddr> {
    match af {
        AF_INET => {
            let b: [u8; 4] = raw.get(..4)?.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(b)))
        }
        AF_INET6 => {
            let b: [u8; 16] = raw.get(..16)?.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// The 16-byte `union nf_inet_addr` for an address.
pub fn addr_to_raw(addr: IpAddr) -> Vec<u8> {
    let mut v = vec![0u8; 16];
    match addr {
        IpAddr::V4(a) => v[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => v.copy_from_slice(&a.octets()),
    }
    v
}

/// A virtual service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Service {
    pub af: u16,
    pub protocol: u16,
    pub addr: Option<IpAddr>,
    pub port: u16,
    pub fwmark: u32,
    pub sched_name: String,
    pub flags: u32,
    pub timeout: u32,
    pub netmask: u32,
    pub pe_name: String,
    pub stats: Stats,
    pub stats64: Option<Stats>,
}

impl Service {
    pub fn from_attrs(attrs: &[SvcAttr]) -> Self {
        let mut s = Self::default();
        let mut raw_addr = None;
        for a in attrs {
            match a {
                SvcAttr::Af(v) => s.af = *v,
                SvcAttr::Protocol(v) => s.protocol = *v,
                SvcAttr::Addr(v) => raw_addr = Some(v.clone()),
                SvcAttr::Port(v) => s.port = *v,
                SvcAttr::Fwmark(v) => s.fwmark = *v,
                SvcAttr::SchedName(v) => s.sched_name = v.clone(),
                SvcAttr::Flags(Flags { flags, .. }) => s.flags = *flags,
                SvcAttr::Timeout(v) => s.timeout = *v,
                SvcAttr::Netmask(v) => s.netmask = *v,
                SvcAttr::PeName(v) => s.pe_name = v.clone(),
                SvcAttr::Stats(v) => s.stats = Stats::from_attrs(v),
                SvcAttr::Stats64(v) => s.stats64 = Some(Stats::from_attrs(v)),
                SvcAttr::Other(_) => {}
            }
        }
        if s.fwmark == 0 {
            s.addr = raw_addr.and_then(|r| addr_from_raw(s.af, &r));
        }
        s
    }

    /// The best statistics available (64-bit where the kernel sent them).
    pub fn best_stats(&self) -> Stats {
        self.stats64.unwrap_or(self.stats)
    }

    /// The attributes that identify this service in a request.
    pub fn key_attrs(&self) -> Vec<SvcAttr> {
        let mut v = vec![SvcAttr::Af(self.af)];
        if self.fwmark != 0 {
            v.push(SvcAttr::Fwmark(self.fwmark));
        } else {
            v.push(SvcAttr::Protocol(self.protocol));
            v.push(SvcAttr::Addr(
                self.addr.map(addr_to_raw).unwrap_or_else(|| vec![0; 16]),
            ));
            v.push(SvcAttr::Port(self.port));
        }
        v
    }
}

/// A real server (destination) of a service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dest {
    pub af: u16,
    pub addr: Option<IpAddr>,
    pub port: u16,
    pub fwd_method: u32,
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub active_conns: u32,
    pub inact_conns: u32,
    pub persist_conns: u32,
    pub tun_type: u8,
    pub tun_port: u16,
    pub tun_flags: u16,
    pub stats: Stats,
    pub stats64: Option<Stats>,
}

impl Dest {
    /// Decodes a destination; `svc_af` is used when the kernel sends no
    /// IPVS_DEST_ATTR_ADDR_FAMILY (old kernels).
    pub fn from_attrs(attrs: &[DestAttr], svc_af: u16) -> Self {
        let mut d = Self {
            af: svc_af,
            ..Self::default()
        };
        let mut raw_addr = None;
        for a in attrs {
            match a {
                DestAttr::Addr(v) => raw_addr = Some(v.clone()),
                DestAttr::Port(v) => d.port = *v,
                DestAttr::FwdMethod(v) => d.fwd_method = *v,
                DestAttr::Weight(v) => d.weight = *v as i32,
                DestAttr::UThresh(v) => d.u_threshold = *v,
                DestAttr::LThresh(v) => d.l_threshold = *v,
                DestAttr::ActiveConns(v) => d.active_conns = *v,
                DestAttr::InactConns(v) => d.inact_conns = *v,
                DestAttr::PersistConns(v) => d.persist_conns = *v,
                DestAttr::Stats(v) => d.stats = Stats::from_attrs(v),
                DestAttr::AddrFamily(v) => d.af = *v,
                DestAttr::Stats64(v) => d.stats64 = Some(Stats::from_attrs(v)),
                DestAttr::TunType(v) => d.tun_type = *v,
                DestAttr::TunPort(v) => d.tun_port = *v,
                DestAttr::TunFlags(v) => d.tun_flags = *v,
                DestAttr::Other(_) => {}
            }
        }
        d.addr = raw_addr.and_then(|r| addr_from_raw(d.af, &r));
        d
    }

    pub fn best_stats(&self) -> Stats {
        self.stats64.unwrap_or(self.stats)
    }
}

/// A connection sync daemon (`IPVS_CMD_ATTR_DAEMON`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Daemon {
    /// `IP_VS_STATE_MASTER` (1) or `IP_VS_STATE_BACKUP` (2).
    pub state: u32,
    pub mcast_ifn: String,
    pub syncid: u32,
    pub sync_maxlen: u16,
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: u16,
    pub mcast_ttl: u8,
}

impl Daemon {
    pub fn from_attrs(attrs: &[DaemonAttr]) -> Self {
        let mut d = Self::default();
        for a in attrs {
            match a {
                DaemonAttr::State(x) => d.state = *x,
                DaemonAttr::McastIfn(x) => d.mcast_ifn = x.clone(),
                DaemonAttr::SyncId(x) => d.syncid = *x,
                DaemonAttr::SyncMaxlen(x) => d.sync_maxlen = *x,
                DaemonAttr::McastGroup(x) => {
                    if let Ok(b) = <[u8; 4]>::try_from(&x[..]) {
                        d.mcast_group = Some(IpAddr::V4(Ipv4Addr::from(b)));
                    }
                }
                DaemonAttr::McastGroup6(x) => {
                    if let Ok(b) = <[u8; 16]>::try_from(&x[..]) {
                        d.mcast_group = Some(IpAddr::V6(Ipv6Addr::from(b)));
                    }
                }
                DaemonAttr::McastPort(x) => d.mcast_port = *x,
                DaemonAttr::McastTtl(x) => d.mcast_ttl = *x,
                DaemonAttr::Other(_) => {}
            }
        }
        d
    }
}

/// The first `N` bytes of an attribute's value ("short WHAT" if fewer).
fn head<const N: usize>(v: &[u8], what: &str) -> Result<[u8; N], String> {
    v.get(..N)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| format!("short {what}"))
}

/// A NUL-terminated string attribute's text.
fn nul_string(v: &[u8]) -> String {
    let s = v.split(|b| *b == 0).next().unwrap_or(v);
    String::from_utf8_lossy(s).into_owned()
}

/// One connection of rvs.ko's connection dump (`RVS_CMD_GET_CONN`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnEntry {
    pub af: u16,
    pub protocol: u16,
    /// The addresses as the kernel keeps them (16 bytes; IPv4 in the
    /// first 4), ports host-order.
    pub caddr: [u8; 16],
    pub cport: u16,
    pub vaddr: [u8; 16],
    pub vport: u16,
    pub daddr: [u8; 16],
    pub dport: u16,
    /// The real server's family (a tunnel's may differ from `af`).
    pub dest_af: u16,
    pub state: String,
    /// Seconds until it expires.
    pub expires: u32,
    pub flags: u32,
    pub fwmark: u32,
}

impl ConnEntry {
    /// Decodes the attributes inside a CONN nest.
    pub fn from_nest(value: &[u8]) -> Result<Self, String> {
        use netlink_packet_core::NlasIterator;
        let mut c = Self::default();
        let a16 = |v: &[u8]| head::<16>(v, "address");
        let u16n = |v: &[u8]| head(v, "u16").map(u16::from_ne_bytes);
        let u16b = |v: &[u8]| head(v, "port").map(u16::from_be_bytes);
        let u32n = |v: &[u8]| head(v, "u32").map(u32::from_ne_bytes);
        for nla in NlasIterator::new(value) {
            let nla = nla.map_err(|e| e.to_string())?;
            let v = nla.value();
            match nla.kind() {
                RVS_CONN_ATTR_AF => c.af = u16n(v)?,
                RVS_CONN_ATTR_PROTOCOL => c.protocol = u16n(v)?,
                RVS_CONN_ATTR_CADDR => c.caddr = a16(v)?,
                RVS_CONN_ATTR_CPORT => c.cport = u16b(v)?,
                RVS_CONN_ATTR_VADDR => c.vaddr = a16(v)?,
                RVS_CONN_ATTR_VPORT => c.vport = u16b(v)?,
                RVS_CONN_ATTR_DADDR => c.daddr = a16(v)?,
                RVS_CONN_ATTR_DPORT => c.dport = u16b(v)?,
                RVS_CONN_ATTR_DEST_AF => c.dest_af = u16n(v)?,
                RVS_CONN_ATTR_STATE => c.state = nul_string(v),
                RVS_CONN_ATTR_EXPIRES => c.expires = u32n(v)?,
                RVS_CONN_ATTR_FLAGS => c.flags = u32n(v)?,
                RVS_CONN_ATTR_FWMARK => c.fwmark = u32n(v)?,
                _ => {}
            }
        }
        Ok(c)
    }
}

/// The filters of a connection dump; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct ConnFilter {
    /// A service's key attributes ([`Service::key_attrs`]).
    pub service: Option<Vec<SvcAttr>>,
    /// A real server: its address and port.
    pub server: Option<(IpAddr, u16)>,
    /// A client address and prefix length.
    pub client: Option<(IpAddr, u8)>,
    /// A state's name as listed (`ESTABLISHED`, ...).
    pub state: Option<String>,
}

/// rvs.ko's connection-table figures (`RVS_CMD_GET_TABLE`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableInfo {
    pub entries: u64,
    pub buckets: u64,
    /// The most entries the table takes.
    pub max: u64,
    /// New connections refused because the table was full.
    pub refused_full: u64,
    /// Embryonic entries that gave way to new connections.
    pub evicted: u64,
    /// The same by class (half-open, unanswered, template, idle), when the
    /// module says so.
    pub evicted_by: Option<[u64; 4]>,
    pub secure_tcp_on: bool,
    /// drop_packet's rate now (0: off).
    pub drop_rate: u32,
    pub amemthresh: u32,
    pub drop_entry: u32,
    pub drop_packet: u32,
    pub secure_tcp: u32,
    /// Entries by (protocol, state name), summed.
    pub states: Vec<(u16, String, u64)>,
}

impl TableInfo {
    /// Decodes the reply's attributes (`top`: type and value of each).
    pub fn from_attrs<'a>(top: impl Iterator<Item = (u16, &'a [u8])>) -> Result<Self, String> {
        use netlink_packet_core::NlasIterator;
        let u32n = |v: &[u8]| head(v, "u32").map(u32::from_ne_bytes);
        let u64n = |v: &[u8]| head(v, "u64").map(u64::from_ne_bytes);
        let mut t = Self::default();
        for (kind, v) in top {
            match kind {
                RVS_TABLE_ATTR_ENTRIES => t.entries = u64n(v)?,
                RVS_TABLE_ATTR_BUCKETS => t.buckets = u64n(v)?,
                RVS_TABLE_ATTR_MAX => t.max = u64n(v)?,
                RVS_TABLE_ATTR_REFUSED_FULL => t.refused_full = u64n(v)?,
                RVS_TABLE_ATTR_EVICTED => t.evicted = u64n(v)?,
                RVS_TABLE_ATTR_EVICTED_HALF_OPEN..=RVS_TABLE_ATTR_EVICTED_IDLE => {
                    let i = usize::from(kind - RVS_TABLE_ATTR_EVICTED_HALF_OPEN);
                    if let Some(n) = t.evicted_by.get_or_insert([0; 4]).get_mut(i) {
                        *n = u64n(v)?;
                    }
                }
                RVS_TABLE_ATTR_SECURE_TCP_ON => t.secure_tcp_on = u32n(v)? != 0,
                RVS_TABLE_ATTR_DROP_RATE => t.drop_rate = u32n(v)?,
                RVS_TABLE_ATTR_AMEMTHRESH => t.amemthresh = u32n(v)?,
                RVS_TABLE_ATTR_DROP_ENTRY => t.drop_entry = u32n(v)?,
                RVS_TABLE_ATTR_DROP_PACKET => t.drop_packet = u32n(v)?,
                RVS_TABLE_ATTR_SECURE_TCP => t.secure_tcp = u32n(v)?,
                RVS_TABLE_ATTR_STATES => {
                    for st in NlasIterator::new(v) {
                        let st = st.map_err(|e| e.to_string())?;
                        let (mut p, mut name, mut n) = (0u16, String::new(), 0u64);
                        for a in NlasIterator::new(st.value()) {
                            let a = a.map_err(|e| e.to_string())?;
                            let v = a.value();
                            match a.kind() {
                                RVS_TABLE_STATE_PROTOCOL => {
                                    p = head(v, "u16").map(u16::from_ne_bytes)?
                                }
                                RVS_TABLE_STATE_NAME => name = nul_string(v),
                                RVS_TABLE_STATE_COUNT => n = u64n(v)?,
                                _ => {}
                            }
                        }
                        // (Several state numbers may share a name: UDP's.)
                        match t.states.iter_mut().find(|(q, m, _)| *q == p && *m == name) {
                            Some(e) => e.2 += n,
                            None => t.states.push((p, name, n)),
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(t)
    }
}

#[cfg(test)]
mod rvs_tests {
    use super::*;

    fn nla(t: u16, v: &[u8]) -> Vec<u8> {
        let mut b = ((4 + v.len()) as u16).to_ne_bytes().to_vec();
        b.extend_from_slice(&t.to_ne_bytes());
        b.extend_from_slice(v);
        b.resize((b.len() + 3) & !3, 0);
        b
    }

    #[test]
    fn decodes_a_dumped_connection_and_the_table_figures() {
        let mut n = nla(RVS_CONN_ATTR_AF, &AF_INET.to_ne_bytes());
        n.extend(nla(RVS_CONN_ATTR_CPORT, &4321u16.to_be_bytes()));
        n.extend(nla(
            RVS_CONN_ATTR_CADDR,
            &[192, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ));
        n.extend(nla(RVS_CONN_ATTR_STATE, b"TIME_WAIT\0"));
        n.extend(nla(RVS_CONN_ATTR_EXPIRES, &120u32.to_ne_bytes()));
        let c = ConnEntry::from_nest(&n).unwrap();
        assert_eq!(
            (c.af, c.cport, c.caddr[3], c.expires),
            (AF_INET, 4321, 2, 120)
        );
        assert_eq!(c.state, "TIME_WAIT");
        assert_eq!(
            ConnEntry::from_nest(&nla(RVS_CONN_ATTR_CADDR, &[1, 2])).unwrap_err(),
            "short address"
        );
        // Two state numbers of one name are summed.
        let st = |count: u64| {
            let mut s = nla(RVS_TABLE_STATE_PROTOCOL, &17u16.to_ne_bytes());
            s.extend(nla(RVS_TABLE_STATE_NAME, b"UDP\0"));
            s.extend(nla(RVS_TABLE_STATE_COUNT, &count.to_ne_bytes()));
            nla(1, &s)
        };
        let mut states = st(2);
        states.extend(st(3));
        let top = [
            (RVS_TABLE_ATTR_ENTRIES, 5u64.to_ne_bytes().to_vec()),
            (RVS_TABLE_ATTR_SECURE_TCP_ON, 1u32.to_ne_bytes().to_vec()),
            (RVS_TABLE_ATTR_STATES, states),
        ];
        let t = TableInfo::from_attrs(top.iter().map(|(k, v)| (*k, v.as_slice()))).unwrap();
        assert_eq!((t.entries, t.secure_tcp_on), (5, true));
        assert_eq!(t.states, vec![(17, "UDP".to_string(), 5)]);
    }
}
