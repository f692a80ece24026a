// SPDX-License-Identifier: GPL-2.0

//! /proc/net/ip_vs_conn in ip_vs's format (ip_vs_conn.c's seq_show):
//! what `ipvsadm -L -c` reads.

use core::fmt::Write;

use crate::datapath::HZ;
use crate::netstate::NetState;
use crate::proto::{self, IPPROTO_TCP, IPPROTO_UDP};
use crate::svc::spec::AF_INET6;
use crate::sys::netns::Net;
use crate::sys::proc::{ProcShow, SeqWriter};
use crate::sys::sync::RcuGuard;

pub(crate) struct ConnFile;

fn be32(a: &[u8; 16]) -> u32 {
    u32::from_be_bytes([a[0], a[1], a[2], a[3]])
}

/// `%pI6`: eight groups of four hex digits, colon-separated.
fn v6(w: &mut SeqWriter, a: &[u8; 16]) {
    for (i, c) in a.chunks(2).enumerate() {
        let g = u16::from_be_bytes([
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ]);
        let _ = write!(w, "{}{:04x}", if i == 0 { "" } else { ":" }, g);
    }
}

impl ProcShow for ConnFile {
    const NAME: &'static kernel::str::CStr = kernel::c_str!("ip_vs_conn");

    fn show(net: &Net, w: &mut SeqWriter) {
        let _ = w.write_str(
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n",
        );
        let Some(st) = net.state::<NetState>() else {
            return;
        };
        let g = RcuGuard::new();
        st.dp.conns.for_each(&g, |c| {
            let name = match c.protocol {
                IPPROTO_TCP => "TCP",
                IPPROTO_UDP => "UDP",
                _ => "IP",
            };
            let state = proto::state_name(
                c.protocol,
                c.state.load(core::sync::atomic::Ordering::Relaxed),
            );
            let exp = c.expires_in_secs(HZ);
            if c.af == AF_INET6 {
                let _ = write!(w, "{name:<3} ");
                v6(w, &c.caddr);
                let _ = write!(w, " {:04X} ", c.cport);
                v6(w, &c.vaddr);
                let _ = write!(w, " {:04X} ", c.vport);
                v6(w, &c.daddr);
                let _ = writeln!(w, " {:04X} {state:<11} {exp:>7}", c.dport);
            } else {
                let _ = writeln!(
                    w,
                    "{name:<3} {:08X} {:04X} {:08X} {:04X} {:08X} {:04X} {state:<11} {exp:>7}",
                    be32(&c.caddr),
                    c.cport,
                    be32(&c.vaddr),
                    c.vport,
                    be32(&c.daddr),
                    c.dport
                );
            }
        });
    }
}
