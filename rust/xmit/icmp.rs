// SPDX-License-Identifier: GPL-2.0

//! ICMP errors about NAT connections (ip_vs's `ip_vs_nat_icmp`): the error
//! quotes the packet it is about, whose addresses and ports the director
//! changed; the quote is changed the same way as the packets of the
//! connection, so that the other side recognises it.

use crate::conn::Conn;
use crate::proto::{ipv4, ipv6, l4, IcmpError};
use crate::sys::skb::Skb;

/// Which way the error goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Way {
    /// From a real server to the client: the error's source and the
    /// quoted destination become the VIP and service port.
    Out,
    /// From the client's side to the real server: the error's destination
    /// and the quoted source become the real server's address and port.
    In,
}

fn put(b: &mut [u8], at: usize, v: &[u8]) -> Option<()> {
    b.get_mut(at..at.checked_add(v.len())?)?.copy_from_slice(v);
    Some(())
}

/// Rewrites the error (ICMP or ICMPv6) for connection `c`; the IPv4
/// headers' checksums and the ICMP checksum are computed anew. False if
/// the packet could not be changed.
pub(crate) fn nat(skb: &mut Skb, c: &Conn, e: &IcmpError, way: Way) -> bool {
    let v6 = e.inner.is_v6();
    let (saddr, daddr, alen) = if v6 {
        (ipv6::SADDR, ipv6::DADDR, 16)
    } else {
        (ipv4::SADDR, ipv4::DADDR, 4)
    };
    let (addr, port, outer_at, quoted_at, port_at) = match way {
        Way::Out => (
            &c.vaddr,
            c.vport,
            saddr,
            e.inner_off + daddr,
            e.inner_l4_off + l4::DPORT,
        ),
        Way::In => (
            &c.daddr,
            c.dport,
            daddr,
            e.inner_off + saddr,
            e.inner_l4_off + l4::SPORT,
        ),
    };
    let Some(addr) = addr.get(..alen) else {
        return false;
    };
    let icmp_off = e.inner_off.saturating_sub(l4::ICMP_LEN);
    {
        let Some(b) = skb.writable(e.inner_l4_off.saturating_add(4)) else {
            return false;
        };
        let ok = put(b, outer_at, addr)
            .and_then(|()| put(b, quoted_at, addr))
            .and_then(|()| put(b, port_at, &port.to_be_bytes()));
        if ok.is_none() {
            return false;
        }
        // Both IPv4 headers' checksums anew: the quoted one's, then the
        // error's own (at the start of the bytes).
        if !v6 {
            let quoted = b.get_mut(e.inner_off..).is_some_and(ipv4::set_checksum);
            if !quoted || !ipv4::set_checksum(b) {
                return false;
            }
        }
    }
    skb.icmp_csum_set(icmp_off, e.inner.af);
    true
}
