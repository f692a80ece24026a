// SPDX-License-Identifier: GPL-2.0
//! A blocking client of the IPVS family: resolves the family id through
//! the generic netlink controller, sends requests, collects replies and
//! turns netlink errors into [`Error`]s with the errno and the kernel's
//! extended-ack message.

use crate::consts::*;
use crate::message::IpvsMessage;
use crate::model::{addr_to_raw, ConnEntry, ConnFilter, Dest, Info, Service, TableInfo, Timeouts};
use crate::nla::{DestAttr, IpvsAttr, SvcAttr};
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::GenlMessage;
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use std::fmt;

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The family is not registered: neither ip_vs.ko nor rvs.ko is loaded.
    NoFamily,
    /// The kernel refused the request with this errno (positive) and
    /// possibly an extended-ack message.
    Kernel { errno: i32, msg: Option<String> },
    /// A socket error.
    Io(String),
    /// A reply that could not be decoded.
    Decode(String),
}

impl Error {
    /// The errno of a kernel refusal, if that is what this is.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// The text of an errno, as strerror(3) gives it for the ones IPVS uses.
pub fn strerror(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno)
        .to_string()
        .split(" (os error")
        .next()
        .unwrap_or("")
        .to_string()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoFamily => write!(
                f,
                "the IPVS netlink family is not available: load rvs.ko or ip_vs.ko \
                 (modprobe ip_vs)"
            ),
            Self::Kernel { errno, msg } => {
                write!(f, "{}", strerror(*errno))?;
                if let Some(m) = msg {
                    write!(f, ": {m}")?;
                }
                Ok(())
            }
            Self::Io(e) => write!(f, "netlink socket: {e}"),
            Self::Decode(e) => write!(f, "cannot decode the kernel's reply: {e}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// NLMSGERR_ATTR_MSG: the extended-ack message.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// The extended-ack message in the bytes after an error's errno: the
/// request's header (16 bytes, as the socket caps acks) then TLVs.
fn extack_msg(rest: &[u8]) -> Option<String> {
    let mut tlvs = rest.get(16..)?;
    while tlvs.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([tlvs[0], tlvs[1]]));
        let kind = u16::from_ne_bytes([tlvs[2], tlvs[3]]) & 0x3fff;
        if len < 4 || len > tlvs.len() {
            break;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let s = &tlvs[4..len];
            let s = s.split(|b| *b == 0).next().unwrap_or(s);
            return Some(String::from_utf8_lossy(s).into_owned());
        }
        tlvs = tlvs.get((len + 3) & !3..).unwrap_or(&[]);
        if tlvs.is_empty() {
            break;
        }
    }
    None
}

/// A connection to the IPVS family.
pub struct Client {
    sock: Socket,
    family: u16,
    seq: u32,
}

impl Client {
    /// Opens a generic netlink socket and resolves the IPVS family.
    pub fn connect() -> Result<Self> {
        let mut sock = Socket::new(NETLINK_GENERIC).map_err(|e| Error::Io(e.to_string()))?;
        sock.bind_auto().map_err(|e| Error::Io(e.to_string()))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| Error::Io(e.to_string()))?;
        // Best effort: older kernels lack these options.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        let mut c = Self {
            sock,
            family: 0,
            seq: 0,
        };
        c.family = c.resolve()?;
        Ok(c)
    }

    fn resolve(&mut self) -> Result<u16> {
        let msg = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(IPVS_GENL_NAME.to_string())],
        });
        let replies = match self.transact(msg, false) {
            Err(Error::Kernel { errno: 2, .. }) => return Err(Error::NoFamily),
            r => r?,
        };
        for r in replies {
            for nla in r.payload.nlas {
                if let GenlCtrlAttrs::FamilyId(id) = nla {
                    return Ok(id);
                }
            }
        }
        Err(Error::NoFamily)
    }

    /// Sends one message and collects the replies of type `F` until the
    /// ack (or the end of the dump).
    fn transact<F>(&mut self, mut msg: GenlMessage<F>, dump: bool) -> Result<Vec<GenlMessage<F>>>
    where
        F: netlink_packet_generic::GenlFamily
            + netlink_packet_core::Emitable
            + netlink_packet_core::ParseableParametrized<[u8], netlink_packet_generic::GenlHeader>
            + fmt::Debug,
    {
        msg.finalize();
        if msg.resolved_family_id() == 0 && F::family_name() == IPVS_GENL_NAME {
            msg.set_resolved_family_id(self.family);
        }
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
        header.sequence_number = self.seq;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        nl.finalize();
        let mut buf = vec![0u8; nl.buffer_len()];
        nl.serialize(&mut buf);
        self.sock
            .send(&buf, 0)
            .map_err(|e| Error::Io(e.to_string()))?;

        let mut out = Vec::new();
        loop {
            let (data, _) = self
                .sock
                .recv_from_full()
                .map_err(|e| Error::Io(e.to_string()))?;
            let mut off = 0;
            while off < data.len() {
                let rx = NetlinkMessage::<GenlMessage<F>>::deserialize(&data[off..])
                    .map_err(|e| Error::Decode(e.to_string()))?;
                let len = rx.header.length as usize;
                if len == 0 {
                    return Err(Error::Decode("zero-length netlink message".into()));
                }
                off += (len + 3) & !3;
                if rx.header.sequence_number != self.seq {
                    continue;
                }
                match rx.payload {
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(out),
                            Some(code) => Err(Error::Kernel {
                                errno: -code.get(),
                                msg: extack_msg(&e.header),
                            }),
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends an IPVS request; returns the reply messages.
    pub fn request(
        &mut self,
        cmd: u8,
        nlas: Vec<IpvsAttr>,
        dump: bool,
    ) -> Result<Vec<IpvsMessage>> {
        let msg = GenlMessage::from_payload(IpvsMessage::new(cmd, nlas));
        Ok(self
            .transact(msg, dump)?
            .into_iter()
            .map(|m| m.payload)
            .collect())
    }

    /// IPVS_CMD_GET_INFO.
    pub fn info(&mut self) -> Result<Info> {
        let mut info = Info::default();
        for m in self.request(IPVS_CMD_GET_INFO, vec![], false)? {
            for a in m.nlas {
                match a {
                    IpvsAttr::InfoVersion(v) => info.version = v,
                    IpvsAttr::InfoConnTabSize(v) => info.conn_tab_size = v,
                    _ => {}
                }
            }
        }
        Ok(info)
    }

    /// IPVS_CMD_GET_CONFIG.
    pub fn timeouts(&mut self) -> Result<Timeouts> {
        let mut t = Timeouts::default();
        for m in self.request(IPVS_CMD_GET_CONFIG, vec![], false)? {
            for a in m.nlas {
                match a {
                    IpvsAttr::TimeoutTcp(v) => t.tcp = v,
                    IpvsAttr::TimeoutTcpFin(v) => t.tcp_fin = v,
                    IpvsAttr::TimeoutUdp(v) => t.udp = v,
                    _ => {}
                }
            }
        }
        Ok(t)
    }

    /// IPVS_CMD_GET_SERVICE dump: every service, in the kernel's order.
    pub fn services(&mut self) -> Result<Vec<Service>> {
        let mut v = Vec::new();
        for m in self.request(IPVS_CMD_GET_SERVICE, vec![], true)? {
            for a in m.nlas {
                if let IpvsAttr::Service(attrs) = a {
                    v.push(Service::from_attrs(&attrs));
                }
            }
        }
        Ok(v)
    }

    /// IPVS_CMD_GET_SERVICE for one service (identified by `svc`'s key).
    pub fn service(&mut self, svc: &Service) -> Result<Service> {
        let key = svc.key_attrs();
        for m in self.request(IPVS_CMD_GET_SERVICE, vec![IpvsAttr::Service(key)], false)? {
            for a in m.nlas {
                if let IpvsAttr::Service(attrs) = a {
                    return Ok(Service::from_attrs(&attrs));
                }
            }
        }
        Err(Error::Decode("no service in the reply".into()))
    }

    /// IPVS_CMD_GET_DAEMON dump: (state, interface, sync id) of each.
    pub fn daemons(&mut self) -> Result<Vec<crate::model::Daemon>> {
        let mut v = Vec::new();
        for m in self.request(IPVS_CMD_GET_DAEMON, vec![], true)? {
            for a in m.nlas {
                if let IpvsAttr::Daemon(attrs) = a {
                    v.push(crate::model::Daemon::from_attrs(&attrs));
                }
            }
        }
        Ok(v)
    }

    /// IPVS_CMD_GET_DEST dump for one service.
    pub fn dests(&mut self, svc: &Service) -> Result<Vec<Dest>> {
        let key: Vec<SvcAttr> = svc.key_attrs();
        let mut v = Vec::new();
        for m in self.request(IPVS_CMD_GET_DEST, vec![IpvsAttr::Service(key)], true)? {
            for a in m.nlas {
                if let IpvsAttr::Dest(attrs) = a {
                    v.push(Dest::from_attrs(&attrs, svc.af));
                }
            }
        }
        Ok(v)
    }

    /// rvs.ko's connection-table figures (`RVS_CMD_GET_TABLE`); ip_vs.ko
    /// answers EOPNOTSUPP.
    pub fn table(&mut self) -> Result<TableInfo> {
        use netlink_packet_core::Nla;
        let replies = self.request(RVS_CMD_GET_TABLE, vec![], false)?;
        let mut raw = Vec::new();
        for m in &replies {
            for a in &m.nlas {
                if let IpvsAttr::Other(nla) = a {
                    let mut buf = vec![0u8; nla.value_len()];
                    nla.emit_value(&mut buf);
                    raw.push((nla.kind(), buf));
                }
            }
        }
        TableInfo::from_attrs(raw.iter().map(|(k, v)| (*k, v.as_slice()))).map_err(Error::Decode)
    }

    /// rvs.ko's connection dump (`RVS_CMD_GET_CONN`), filtered in the
    /// kernel; ip_vs.ko, which has no such command, answers EOPNOTSUPP.
    pub fn conns(&mut self, f: &ConnFilter) -> Result<Vec<ConnEntry>> {
        use netlink_packet_core::{DefaultNla, Nla};
        let af = |a: &std::net::IpAddr| if a.is_ipv6() { AF_INET6 } else { AF_INET };
        let mut nlas = Vec::new();
        if let Some(k) = &f.service {
            nlas.push(IpvsAttr::Service(k.clone()));
        }
        if let Some((addr, port)) = &f.server {
            nlas.push(IpvsAttr::Dest(vec![
                DestAttr::Addr(addr_to_raw(*addr)),
                DestAttr::Port(*port),
                DestAttr::AddrFamily(af(addr)),
            ]));
        }
        if let Some((addr, bits)) = &f.client {
            nlas.push(IpvsAttr::Other(DefaultNla::new(
                RVS_CONN_FILTER_CLIENT,
                addr_to_raw(*addr),
            )));
            nlas.push(IpvsAttr::Other(DefaultNla::new(
                RVS_CONN_FILTER_CLIENT_AF,
                af(addr).to_ne_bytes().to_vec(),
            )));
            nlas.push(IpvsAttr::Other(DefaultNla::new(
                RVS_CONN_FILTER_CLIENT_PREFIX,
                vec![*bits],
            )));
        }
        if let Some(st) = &f.state {
            let mut b = st.as_bytes().to_vec();
            b.push(0);
            nlas.push(IpvsAttr::Other(DefaultNla::new(RVS_CONN_FILTER_STATE, b)));
        }
        // The command is validated strictly: nests carry NLA_F_NESTED.
        let mut m = IpvsMessage::new(RVS_CMD_GET_CONN, nlas);
        m.nest_flag = true;
        let mut v = Vec::new();
        for r in self.transact(GenlMessage::from_payload(m), true)? {
            for a in r.payload.nlas {
                if let IpvsAttr::Other(nla) = a {
                    if nla.kind() == RVS_CONN_ATTR_CONN {
                        let mut buf = vec![0u8; nla.value_len()];
                        nla.emit_value(&mut buf);
                        v.push(ConnEntry::from_nest(&buf).map_err(Error::Decode)?);
                    }
                }
            }
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extack_message_is_found_after_the_header() {
        let mut rest = vec![0u8; 16];
        let msg = b"no such service\0";
        let len = (4 + msg.len()) as u16;
        rest.extend_from_slice(&len.to_ne_bytes());
        rest.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        rest.extend_from_slice(msg);
        assert_eq!(extack_msg(&rest).as_deref(), Some("no such service"));
        assert_eq!(extack_msg(&rest[..16]), None);
    }

    #[test]
    fn strerror_has_no_os_error_suffix() {
        assert_eq!(strerror(3), "No such process");
    }
}
