// SPDX-License-Identifier: GPL-2.0
//! The attributes of the IPVS family, one enum per nest, each with an
//! `Other` catch-all so that unknown attributes survive a round trip.
//!
//! Byte order as on the wire: ports and tunnel ports are big-endian, the
//! other integers host order; addresses are kept as the raw bytes the
//! kernel sends (16 bytes, `union nf_inet_addr`).

use crate::consts::*;
use netlink_packet_core::{
    emit_u16, emit_u16_be, emit_u32, emit_u64, parse_string, parse_u16, parse_u16_be, parse_u32,
    parse_u64, parse_u8, DecodeError, DefaultNla, Emitable, ErrorContext, Nla, NlaBuffer,
    NlasIterator, Parseable,
};

fn emit_str(buf: &mut [u8], s: &str) {
    buf[..s.len()].copy_from_slice(s.as_bytes());
    buf[s.len()] = 0;
}

fn parse_nested<T>(payload: &[u8]) -> Result<Vec<T>, DecodeError>
where
    for<'a> T: Parseable<NlaBuffer<&'a [u8]>>,
{
    let mut out = Vec::new();
    for nla in NlasIterator::new(payload) {
        out.push(T::parse(&nla?)?);
    }
    Ok(out)
}

/// `struct ip_vs_flags`: flags and the mask of the flags to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    pub flags: u32,
    pub mask: u32,
}

/// Statistics (`IPVS_STATS_ATTR_*`), in both STATS (32-bit counters for
/// conns/packets/rates) and STATS64 (all 64-bit) nests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsAttr {
    /// (type, value, the value's width in bytes on the wire: 4 or 8)
    Counter(u16, u64, u8),
    Other(DefaultNla),
}

impl Nla for StatsAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Counter(_, _, w) => usize::from(*w),
            Self::Other(n) => n.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::Counter(t, _, _) => *t,
            Self::Other(n) => n.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Counter(_, v, 4) => emit_u32(buf, *v as u32).unwrap(),
            Self::Counter(_, v, _) => emit_u64(buf, *v).unwrap(),
            Self::Other(n) => n.emit_value(buf),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for StatsAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        let kind = buf.kind();
        Ok(match (kind, p.len()) {
            (IPVS_STATS_ATTR_CONNS..=IPVS_STATS_ATTR_OUTBPS, 4) => {
                Self::Counter(kind, parse_u32(p).context("stats u32")?.into(), 4)
            }
            (IPVS_STATS_ATTR_CONNS..=IPVS_STATS_ATTR_OUTBPS, 8) => {
                Self::Counter(kind, parse_u64(p).context("stats u64")?, 8)
            }
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// Service attributes (`IPVS_SVC_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvcAttr {
    Af(u16),
    Protocol(u16),
    Addr(Vec<u8>),
    /// Host-order value of the big-endian port.
    Port(u16),
    Fwmark(u32),
    SchedName(String),
    Flags(Flags),
    Timeout(u32),
    Netmask(u32),
    Stats(Vec<StatsAttr>),
    PeName(String),
    Stats64(Vec<StatsAttr>),
    Other(DefaultNla),
}

impl Nla for SvcAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Af(_) | Self::Protocol(_) | Self::Port(_) => 2,
            Self::Fwmark(_) | Self::Timeout(_) | Self::Netmask(_) => 4,
            Self::Addr(a) => a.len(),
            Self::SchedName(s) | Self::PeName(s) => s.len() + 1,
            Self::Flags(_) => 8,
            Self::Stats(s) | Self::Stats64(s) => s.as_slice().buffer_len(),
            Self::Other(n) => n.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::Af(_) => IPVS_SVC_ATTR_AF,
            Self::Protocol(_) => IPVS_SVC_ATTR_PROTOCOL,
            Self::Addr(_) => IPVS_SVC_ATTR_ADDR,
            Self::Port(_) => IPVS_SVC_ATTR_PORT,
            Self::Fwmark(_) => IPVS_SVC_ATTR_FWMARK,
            Self::SchedName(_) => IPVS_SVC_ATTR_SCHED_NAME,
            Self::Flags(_) => IPVS_SVC_ATTR_FLAGS,
            Self::Timeout(_) => IPVS_SVC_ATTR_TIMEOUT,
            Self::Netmask(_) => IPVS_SVC_ATTR_NETMASK,
            Self::Stats(_) => IPVS_SVC_ATTR_STATS,
            Self::PeName(_) => IPVS_SVC_ATTR_PE_NAME,
            Self::Stats64(_) => IPVS_SVC_ATTR_STATS64,
            Self::Other(n) => n.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Af(v) | Self::Protocol(v) => emit_u16(buf, *v).unwrap(),
            Self::Port(v) => emit_u16_be(buf, *v).unwrap(),
            Self::Fwmark(v) | Self::Timeout(v) | Self::Netmask(v) => emit_u32(buf, *v).unwrap(),
            Self::Addr(a) => buf[..a.len()].copy_from_slice(a),
            Self::SchedName(s) | Self::PeName(s) => emit_str(buf, s),
            Self::Flags(f) => {
                emit_u32(&mut buf[..4], f.flags).unwrap();
                emit_u32(&mut buf[4..8], f.mask).unwrap();
            }
            Self::Stats(s) | Self::Stats64(s) => s.as_slice().emit(buf),
            Self::Other(n) => n.emit_value(buf),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for SvcAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        Ok(match buf.kind() {
            IPVS_SVC_ATTR_AF => Self::Af(parse_u16(p).context("svc af")?),
            IPVS_SVC_ATTR_PROTOCOL => Self::Protocol(parse_u16(p).context("svc protocol")?),
            IPVS_SVC_ATTR_ADDR => Self::Addr(p.to_vec()),
            IPVS_SVC_ATTR_PORT => Self::Port(parse_u16_be(p).context("svc port")?),
            IPVS_SVC_ATTR_FWMARK => Self::Fwmark(parse_u32(p).context("svc fwmark")?),
            IPVS_SVC_ATTR_SCHED_NAME => Self::SchedName(parse_string(p).context("svc sched")?),
            IPVS_SVC_ATTR_FLAGS if p.len() == 8 => Self::Flags(Flags {
                flags: parse_u32(&p[..4])?,
                mask: parse_u32(&p[4..])?,
            }),
            IPVS_SVC_ATTR_TIMEOUT => Self::Timeout(parse_u32(p).context("svc timeout")?),
            IPVS_SVC_ATTR_NETMASK => Self::Netmask(parse_u32(p).context("svc netmask")?),
            IPVS_SVC_ATTR_STATS => Self::Stats(parse_nested(p).context("svc stats")?),
            IPVS_SVC_ATTR_PE_NAME => Self::PeName(parse_string(p).context("svc pe")?),
            IPVS_SVC_ATTR_STATS64 => Self::Stats64(parse_nested(p).context("svc stats64")?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// Destination attributes (`IPVS_DEST_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestAttr {
    Addr(Vec<u8>),
    /// Host-order value of the big-endian port.
    Port(u16),
    FwdMethod(u32),
    Weight(u32),
    UThresh(u32),
    LThresh(u32),
    ActiveConns(u32),
    InactConns(u32),
    PersistConns(u32),
    Stats(Vec<StatsAttr>),
    AddrFamily(u16),
    Stats64(Vec<StatsAttr>),
    TunType(u8),
    /// Host-order value of the big-endian tunnel port.
    TunPort(u16),
    TunFlags(u16),
    Other(DefaultNla),
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Addr(a) => a.len(),
            Self::Port(_) | Self::AddrFamily(_) | Self::TunPort(_) | Self::TunFlags(_) => 2,
            Self::TunType(_) => 1,
            Self::FwdMethod(_)
            | Self::Weight(_)
            | Self::UThresh(_)
            | Self::LThresh(_)
            | Self::ActiveConns(_)
            | Self::InactConns(_)
            | Self::PersistConns(_) => 4,
            Self::Stats(s) | Self::Stats64(s) => s.as_slice().buffer_len(),
            Self::Other(n) => n.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::Addr(_) => IPVS_DEST_ATTR_ADDR,
            Self::Port(_) => IPVS_DEST_ATTR_PORT,
            Self::FwdMethod(_) => IPVS_DEST_ATTR_FWD_METHOD,
            Self::Weight(_) => IPVS_DEST_ATTR_WEIGHT,
            Self::UThresh(_) => IPVS_DEST_ATTR_U_THRESH,
            Self::LThresh(_) => IPVS_DEST_ATTR_L_THRESH,
            Self::ActiveConns(_) => IPVS_DEST_ATTR_ACTIVE_CONNS,
            Self::InactConns(_) => IPVS_DEST_ATTR_INACT_CONNS,
            Self::PersistConns(_) => IPVS_DEST_ATTR_PERSIST_CONNS,
            Self::Stats(_) => IPVS_DEST_ATTR_STATS,
            Self::AddrFamily(_) => IPVS_DEST_ATTR_ADDR_FAMILY,
            Self::Stats64(_) => IPVS_DEST_ATTR_STATS64,
            Self::TunType(_) => IPVS_DEST_ATTR_TUN_TYPE,
            Self::TunPort(_) => IPVS_DEST_ATTR_TUN_PORT,
            Self::TunFlags(_) => IPVS_DEST_ATTR_TUN_FLAGS,
            Self::Other(n) => n.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Addr(a) => buf[..a.len()].copy_from_slice(a),
            Self::Port(v) | Self::TunPort(v) => emit_u16_be(buf, *v).unwrap(),
            Self::AddrFamily(v) | Self::TunFlags(v) => emit_u16(buf, *v).unwrap(),
            Self::TunType(v) => buf[0] = *v,
            Self::FwdMethod(v)
            | Self::Weight(v)
            | Self::UThresh(v)
            | Self::LThresh(v)
            | Self::ActiveConns(v)
            | Self::InactConns(v)
            | Self::PersistConns(v) => emit_u32(buf, *v).unwrap(),
            Self::Stats(s) | Self::Stats64(s) => s.as_slice().emit(buf),
            Self::Other(n) => n.emit_value(buf),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DestAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        Ok(match buf.kind() {
            IPVS_DEST_ATTR_ADDR => Self::Addr(p.to_vec()),
            IPVS_DEST_ATTR_PORT => Self::Port(parse_u16_be(p).context("dest port")?),
            IPVS_DEST_ATTR_FWD_METHOD => Self::FwdMethod(parse_u32(p).context("dest fwd")?),
            IPVS_DEST_ATTR_WEIGHT => Self::Weight(parse_u32(p).context("dest weight")?),
            IPVS_DEST_ATTR_U_THRESH => Self::UThresh(parse_u32(p).context("dest u_thresh")?),
            IPVS_DEST_ATTR_L_THRESH => Self::LThresh(parse_u32(p).context("dest l_thresh")?),
            IPVS_DEST_ATTR_ACTIVE_CONNS => Self::ActiveConns(parse_u32(p).context("active")?),
            IPVS_DEST_ATTR_INACT_CONNS => Self::InactConns(parse_u32(p).context("inact")?),
            IPVS_DEST_ATTR_PERSIST_CONNS => Self::PersistConns(parse_u32(p).context("persist")?),
            IPVS_DEST_ATTR_STATS => Self::Stats(parse_nested(p).context("dest stats")?),
            IPVS_DEST_ATTR_ADDR_FAMILY => Self::AddrFamily(parse_u16(p).context("dest af")?),
            IPVS_DEST_ATTR_STATS64 => Self::Stats64(parse_nested(p).context("dest stats64")?),
            IPVS_DEST_ATTR_TUN_TYPE => Self::TunType(parse_u8(p).context("tun type")?),
            IPVS_DEST_ATTR_TUN_PORT => Self::TunPort(parse_u16_be(p).context("tun port")?),
            IPVS_DEST_ATTR_TUN_FLAGS => Self::TunFlags(parse_u16(p).context("tun flags")?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// Sync daemon attributes (`IPVS_DAEMON_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAttr {
    State(u32),
    McastIfn(String),
    SyncId(u32),
    SyncMaxlen(u16),
    McastGroup(Vec<u8>),
    McastGroup6(Vec<u8>),
    McastPort(u16),
    McastTtl(u8),
    Other(DefaultNla),
}

impl Nla for DaemonAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::State(_) | Self::SyncId(_) => 4,
            Self::McastIfn(s) => s.len() + 1,
            Self::SyncMaxlen(_) | Self::McastPort(_) => 2,
            Self::McastGroup(a) | Self::McastGroup6(a) => a.len(),
            Self::McastTtl(_) => 1,
            Self::Other(n) => n.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::State(_) => IPVS_DAEMON_ATTR_STATE,
            Self::McastIfn(_) => IPVS_DAEMON_ATTR_MCAST_IFN,
            Self::SyncId(_) => IPVS_DAEMON_ATTR_SYNC_ID,
            Self::SyncMaxlen(_) => IPVS_DAEMON_ATTR_SYNC_MAXLEN,
            Self::McastGroup(_) => IPVS_DAEMON_ATTR_MCAST_GROUP,
            Self::McastGroup6(_) => IPVS_DAEMON_ATTR_MCAST_GROUP6,
            Self::McastPort(_) => IPVS_DAEMON_ATTR_MCAST_PORT,
            Self::McastTtl(_) => IPVS_DAEMON_ATTR_MCAST_TTL,
            Self::Other(n) => n.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::State(v) | Self::SyncId(v) => emit_u32(buf, *v).unwrap(),
            Self::McastIfn(s) => emit_str(buf, s),
            Self::SyncMaxlen(v) | Self::McastPort(v) => emit_u16(buf, *v).unwrap(),
            Self::McastGroup(a) | Self::McastGroup6(a) => buf[..a.len()].copy_from_slice(a),
            Self::McastTtl(v) => buf[0] = *v,
            Self::Other(n) => n.emit_value(buf),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DaemonAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        Ok(match buf.kind() {
            IPVS_DAEMON_ATTR_STATE => Self::State(parse_u32(p).context("daemon state")?),
            IPVS_DAEMON_ATTR_MCAST_IFN => Self::McastIfn(parse_string(p).context("mcast ifn")?),
            IPVS_DAEMON_ATTR_SYNC_ID => Self::SyncId(parse_u32(p).context("sync id")?),
            IPVS_DAEMON_ATTR_SYNC_MAXLEN => Self::SyncMaxlen(parse_u16(p).context("maxlen")?),
            IPVS_DAEMON_ATTR_MCAST_GROUP => Self::McastGroup(p.to_vec()),
            IPVS_DAEMON_ATTR_MCAST_GROUP6 => Self::McastGroup6(p.to_vec()),
            IPVS_DAEMON_ATTR_MCAST_PORT => Self::McastPort(parse_u16(p).context("mcast port")?),
            IPVS_DAEMON_ATTR_MCAST_TTL => Self::McastTtl(parse_u8(p).context("mcast ttl")?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// Top-level attributes. The attribute space depends on the command:
/// SET_INFO/GET_INFO use `IPVS_INFO_ATTR_*`, every other command
/// `IPVS_CMD_ATTR_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpvsAttr {
    Service(Vec<SvcAttr>),
    Dest(Vec<DestAttr>),
    Daemon(Vec<DaemonAttr>),
    TimeoutTcp(u32),
    TimeoutTcpFin(u32),
    TimeoutUdp(u32),
    InfoVersion(u32),
    InfoConnTabSize(u32),
    Other(DefaultNla),
}

impl Nla for IpvsAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Service(v) => v.as_slice().buffer_len(),
            Self::Dest(v) => v.as_slice().buffer_len(),
            Self::Daemon(v) => v.as_slice().buffer_len(),
            Self::TimeoutTcp(_)
            | Self::TimeoutTcpFin(_)
            | Self::TimeoutUdp(_)
            | Self::InfoVersion(_)
            | Self::InfoConnTabSize(_) => 4,
            Self::Other(n) => n.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::Service(_) => IPVS_CMD_ATTR_SERVICE,
            Self::Dest(_) => IPVS_CMD_ATTR_DEST,
            Self::Daemon(_) => IPVS_CMD_ATTR_DAEMON,
            Self::TimeoutTcp(_) => IPVS_CMD_ATTR_TIMEOUT_TCP,
            Self::TimeoutTcpFin(_) => IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
            Self::TimeoutUdp(_) => IPVS_CMD_ATTR_TIMEOUT_UDP,
            Self::InfoVersion(_) => IPVS_INFO_ATTR_VERSION,
            Self::InfoConnTabSize(_) => IPVS_INFO_ATTR_CONN_TAB_SIZE,
            Self::Other(n) => n.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Service(v) => v.as_slice().emit(buf),
            Self::Dest(v) => v.as_slice().emit(buf),
            Self::Daemon(v) => v.as_slice().emit(buf),
            Self::TimeoutTcp(x)
            | Self::TimeoutTcpFin(x)
            | Self::TimeoutUdp(x)
            | Self::InfoVersion(x)
            | Self::InfoConnTabSize(x) => emit_u32(buf, *x).unwrap(),
            Self::Other(n) => n.emit_value(buf),
        }
    }
}

impl IpvsAttr {
    /// Parses one top-level attribute of a message with command `cmd`.
    pub fn parse_for<T: AsRef<[u8]> + ?Sized>(
        cmd: u8,
        buf: &NlaBuffer<&T>,
    ) -> Result<Self, DecodeError> {
        let p = buf.value();
        // rvs's connection dump has attributes of its own (model::ConnEntry).
        if cmd == RVS_CMD_GET_CONN || cmd == RVS_CMD_GET_TABLE {
            return Ok(Self::Other(DefaultNla::parse(buf)?));
        }
        let info = cmd == IPVS_CMD_SET_INFO || cmd == IPVS_CMD_GET_INFO;
        Ok(match (info, buf.kind()) {
            (true, IPVS_INFO_ATTR_VERSION) => Self::InfoVersion(parse_u32(p).context("version")?),
            (true, IPVS_INFO_ATTR_CONN_TAB_SIZE) => {
                Self::InfoConnTabSize(parse_u32(p).context("conn_tab_size")?)
            }
            (false, IPVS_CMD_ATTR_SERVICE) => Self::Service(parse_nested(p).context("service")?),
            (false, IPVS_CMD_ATTR_DEST) => Self::Dest(parse_nested(p).context("dest")?),
            (false, IPVS_CMD_ATTR_DAEMON) => Self::Daemon(parse_nested(p).context("daemon")?),
            (false, IPVS_CMD_ATTR_TIMEOUT_TCP) => Self::TimeoutTcp(parse_u32(p).context("tcp")?),
            (false, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN) => {
                Self::TimeoutTcpFin(parse_u32(p).context("tcpfin")?)
            }
            (false, IPVS_CMD_ATTR_TIMEOUT_UDP) => Self::TimeoutUdp(parse_u32(p).context("udp")?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}
