// SPDX-License-Identifier: GPL-2.0

//! The control plane: the IPVS generic netlink family ("IPVS", version 1),
//! with the policy, operation flags and replies of ip_vs.ko
//! (net/netfilter/ipvs/ip_vs_ctl.c).

pub(crate) mod abi;

use kernel::c_str;
use kernel::prelude::*;

use crate::netstate::NetState;
use crate::sys::genl::{
    Dump, FamilySpec, Handler, Op, OpKind, Policy, Request, ADMIN_PERM, VALIDATE_LIBERAL,
};
use abi::{cmd, cmd_attr, info_attr};

/// The handler of the IPVS family.
pub(crate) struct Ipvs;

/// Top-level attribute policy, as ip_vs's `ip_vs_cmd_policy`.
static POLICY: [Policy; cmd_attr::MAX as usize + 1] = [
    Policy::unspec(), // UNSPEC
    Policy::nested(), // SERVICE
    Policy::nested(), // DEST
    Policy::nested(), // DAEMON
    Policy::u32(),    // TIMEOUT_TCP
    Policy::u32(),    // TIMEOUT_TCP_FIN
    Policy::u32(),    // TIMEOUT_UDP
];

const fn op(c: u8, kind: OpKind) -> Op {
    // Every IPVS operation, reads included, needs CAP_NET_ADMIN in ip_vs.
    Op::new::<Ipvs>(c, kind, ADMIN_PERM, VALIDATE_LIBERAL)
}

/// The commands answered so far. Commands not listed are refused by the
/// generic netlink core with EOPNOTSUPP.
static OPS: [Op; 3] = [
    op(cmd::GET_SERVICE, OpKind::Dump),
    op(cmd::GET_CONFIG, OpKind::Do),
    op(cmd::GET_INFO, OpKind::Do),
];

/// The family, registered by the module.
pub(crate) static FAMILY: FamilySpec = FamilySpec {
    name: c_str!("IPVS"),
    version: abi::IPVS_GENL_VERSION,
    policy: &POLICY,
    ops: &OPS,
    resv_start_op: cmd::FLUSH + 1,
    netnsok: true,
};

impl Handler for Ipvs {
    fn doit(req: &Request<'_>) -> Result {
        let Some(st) = req.net().state::<NetState>() else {
            req.set_err_msg(c_str!("rvs: no state for this network namespace"));
            return Err(ENODEV);
        };
        match req.cmd() {
            cmd::GET_INFO => req.reply(cmd::SET_INFO, |w| {
                w.put_u32(info_attr::VERSION, abi::IP_VS_VERSION_CODE)?;
                w.put_u32(info_attr::CONN_TAB_SIZE, st.conn_tab_size)
            }),
            cmd::GET_CONFIG => {
                let (tcp, tcp_fin, udp) = st.timeouts();
                req.reply(cmd::SET_CONFIG, |w| {
                    w.put_u32(cmd_attr::TIMEOUT_TCP, tcp)?;
                    w.put_u32(cmd_attr::TIMEOUT_TCP_FIN, tcp_fin)?;
                    w.put_u32(cmd_attr::TIMEOUT_UDP, udp)
                })
            }
            _ => {
                req.set_err_msg(c_str!("unknown Generic Netlink command"));
                Err(EINVAL)
            }
        }
    }

    fn dumpit(dump: &mut Dump<'_>) -> Result {
        if dump.net().state::<NetState>().is_none() {
            return Err(ENODEV);
        }
        match dump.cmd() {
            // The service table is empty until services can be added: the
            // dump ends at once, as ip_vs's does with no services.
            cmd::GET_SERVICE => Ok(()),
            _ => Err(EINVAL),
        }
    }
}
