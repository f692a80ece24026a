// SPDX-License-Identifier: GPL-2.0
//! The IPVS generic netlink message: a command and its attributes.

use crate::consts::*;
use crate::nla::IpvsAttr;
use netlink_packet_core::{
    DecodeError, Emitable, ErrorContext, NlasIterator, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

/// One message of the IPVS family (request or reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    pub cmd: u8,
    pub nlas: Vec<IpvsAttr>,
}

impl IpvsMessage {
    pub fn new(cmd: u8, nlas: Vec<IpvsAttr>) -> Self {
        Self { cmd, nlas }
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
        IPVS_GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.nlas.as_slice().buffer_len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        self.nlas.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let mut nlas = Vec::new();
        for nla in NlasIterator::new(buf) {
            let nla = nla.context("IPVS attribute")?;
            nlas.push(IpvsAttr::parse_for(header.cmd, &nla)?);
        }
        Ok(Self {
            cmd: header.cmd,
            nlas,
        })
    }
}
