// SPDX-License-Identifier: GPL-2.0
//! The IPVS generic netlink message: a command and its attributes.

use crate::consts::*;
use crate::nla::IpvsAttr;
use netlink_packet_core::{
    DecodeError, Emitable, ErrorContext, NlaBuffer, NlasIterator, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

/// One message of the IPVS family (request or reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    pub cmd: u8,
    /// The family version in the generic netlink header (ours and the
    /// kernel's: `IPVS_GENL_VERSION`); kept as received so that a decoded
    /// message encodes back to the same bytes.
    pub version: u8,
    pub nlas: Vec<IpvsAttr>,
    /// Whether the top-level nests (service, destination, daemon) carry
    /// `NLA_F_NESTED`: libnl (ipvsadm) sets it, ip_vs.ko's replies do not.
    /// Kept as received so that a decoded message encodes back to the same
    /// bytes; ours leave it clear, which both modules accept.
    pub nest_flag: bool,
}

impl IpvsMessage {
    pub fn new(cmd: u8, nlas: Vec<IpvsAttr>) -> Self {
        Self {
            cmd,
            version: IPVS_GENL_VERSION,
            nlas,
            nest_flag: false,
        }
    }
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        IPVS_GENL_NAME
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        self.version
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.nlas.as_slice().buffer_len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        self.nlas.as_slice().emit(buffer);
        if !self.nest_flag {
            return;
        }
        let mut off = 0;
        for nla in &self.nlas {
            if matches!(
                nla,
                IpvsAttr::Service(_) | IpvsAttr::Dest(_) | IpvsAttr::Daemon(_)
            ) {
                NlaBuffer::new(&mut buffer[off..]).set_nested_flag();
            }
            off += nla.buffer_len();
        }
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let mut nlas = Vec::new();
        let mut nest_flag = false;
        for nla in NlasIterator::new(buf) {
            let nla = nla.context("IPVS attribute")?;
            let attr = IpvsAttr::parse_for(header.cmd, &nla)?;
            if matches!(
                attr,
                IpvsAttr::Service(_) | IpvsAttr::Dest(_) | IpvsAttr::Daemon(_)
            ) {
                nest_flag |= nla.nested_flag();
            }
            nlas.push(attr);
        }
        Ok(Self {
            cmd: header.cmd,
            version: header.version,
            nlas,
            nest_flag,
        })
    }
}
