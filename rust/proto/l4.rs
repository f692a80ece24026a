// SPDX-License-Identifier: GPL-2.0

//! The transport headers rvs balances (TCP, UDP, SCTP), read the same way
//! for IPv4 and IPv6 once the IP header is known: every length and field
//! checked before use. Pure logic, tested on the host.

use super::{sctp, Ip, IPPROTO_ICMP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};

/// Offsets in TCP and UDP headers (SCTP's ports are where TCP's are).
pub(crate) const SPORT: usize = 0;
pub(crate) const DPORT: usize = 2;
pub(crate) const TCP_FLAGS: usize = 13;
pub(crate) const TCP_CHECK: usize = 16;
pub(crate) const UDP_CHECK: usize = 6;
/// A TCP header's length without options; a UDP header's length.
pub(crate) const TCP_MIN: usize = 20;
pub(crate) const UDP_LEN: usize = 8;
/// An ICMP header's length (ICMPv6's too).
pub(crate) const ICMP_LEN: usize = 8;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at.checked_add(1)?)?,
    ]))
}

/// The bytes of transport header a protocol needs before rvs looks at it.
pub(crate) fn l4_len(protocol: u8) -> Option<usize> {
    match protocol {
        IPPROTO_TCP => Some(TCP_MIN),
        IPPROTO_UDP => Some(UDP_LEN),
        IPPROTO_SCTP => Some(sctp::HDR_LEN),
        IPPROTO_ICMP => Some(ICMP_LEN),
        _ => None,
    }
}

/// Source and destination ports of a TCP, UDP or SCTP header.
pub(crate) fn ports(l4: &[u8]) -> Option<(u16, u16)> {
    Some((be16(l4, SPORT)?, be16(l4, DPORT)?))
}

/// The TCP data offset is sane (header within the packet).
pub(crate) fn tcp_ok(l4: &[u8], l4_total: usize) -> bool {
    match l4.get(12) {
        Some(off) => {
            let doff = usize::from(off >> 4) * 4;
            doff >= TCP_MIN && doff <= l4_total
        }
        None => false,
    }
}

/// What the hooks read of a TCP, UDP or SCTP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Packet {
    pub(crate) ip: Ip,
    /// The addresses in the tables' 16-byte form.
    pub(crate) saddr: [u8; 16],
    pub(crate) daddr: [u8; 16],
    pub(crate) sport: u16,
    pub(crate) dport: u16,
    /// The TCP flags byte (0 for UDP and SCTP).
    pub(crate) tcp_flags: u8,
    /// SCTP's chunk that drives the state (`Chunks::None` for the others).
    pub(crate) sctp: sctp::Chunks,
}

impl Packet {
    /// The bytes from the IP header that a TCP, UDP or SCTP packet's
    /// headers take at least (SCTP: its common header; the chunks are
    /// read where they are); `Err` for what rvs does not handle: another
    /// protocol (its number given), fragments and malformed headers
    /// (`None`). Those continue to the stack, which drops what it finds
    /// bad.
    pub(crate) fn classify(ip: &Ip) -> Result<usize, Option<u8>> {
        if !super::balanced(ip.protocol) {
            return Err(Some(ip.protocol));
        }
        if ip.fragment {
            return Err(None);
        }
        let l4min = l4_len(ip.protocol).ok_or(None)?;
        ip.hlen.checked_add(l4min).ok_or(None)
    }

    /// The packet from the linear bytes `b` of a packet whose IP header
    /// is `ip`, as [`Packet::classify`] says; `None` when `b` is too short
    /// to tell (the headers must be pulled first).
    pub(crate) fn from_linear(b: &[u8], ip: Ip) -> Option<Result<Packet, Option<u8>>> {
        let need = match Self::classify(&ip) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        if b.len() < need {
            return None;
        }
        Some(Self::from_bytes(b, ip).ok_or(None))
    }

    /// The packet from its headers `b` (at least the IP header and the
    /// transport header's minimum).
    pub(crate) fn from_bytes(b: &[u8], ip: Ip) -> Option<Packet> {
        let l4min = l4_len(ip.protocol)?;
        let l4total = ip.tot_len.checked_sub(ip.hlen)?;
        if l4total < l4min {
            return None;
        }
        let l4 = b.get(ip.hlen..)?;
        let (sport, dport) = ports(l4)?;
        let mut tcp_flags = 0;
        let mut chunks = sctp::Chunks::None;
        if ip.protocol == IPPROTO_TCP {
            if !tcp_ok(l4, l4total) {
                return None;
            }
            tcp_flags = *l4.get(TCP_FLAGS)?;
        } else if ip.protocol == IPPROTO_SCTP {
            chunks = sctp::chunks(l4, l4total);
        }
        Some(Packet {
            ip,
            saddr: ip.saddr,
            daddr: ip.daddr,
            sport,
            dport,
            tcp_flags,
            sctp: chunks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_offsets() {
        let mut t = [0u8; 20];
        t[12] = 5 << 4;
        assert!(tcp_ok(&t, 20));
        t[12] = 4 << 4;
        assert!(!tcp_ok(&t, 20));
        t[12] = 15 << 4;
        assert!(!tcp_ok(&t, 40));
        assert!(!tcp_ok(&t[..10], 40));
    }

    #[test]
    fn packets_of_both_families_and_what_is_refused() {
        let mut b = [0u8; 40];
        b[0] = 0x45;
        b[2..4].copy_from_slice(&40u16.to_be_bytes());
        b[8] = 64;
        b[9] = IPPROTO_TCP;
        b[12..16].copy_from_slice(&[192, 0, 2, 2]);
        b[16..20].copy_from_slice(&[203, 0, 113, 10]);
        b[20..22].copy_from_slice(&40000u16.to_be_bytes());
        b[22..24].copy_from_slice(&80u16.to_be_bytes());
        b[32] = 5 << 4;
        b[33] = 0x02;
        let ip = super::super::ipv4::parse(&b, 40).expect("a sound header");
        let p = Packet::from_linear(&b, ip)
            .expect("enough bytes")
            .expect("TCP");
        assert_eq!((p.sport, p.dport, p.tcp_flags), (40000, 80, 0x02));
        // Too few linear bytes: pull first.
        assert_eq!(Packet::from_linear(&b[..30], ip), None);
        // A bad data offset: malformed.
        let mut bad = b;
        bad[32] = 3 << 4;
        assert_eq!(Packet::from_linear(&bad, ip), Some(Err(None)));
        // Another protocol: its number.
        let mut gre = ip;
        gre.protocol = 47;
        assert_eq!(Packet::classify(&gre), Err(Some(47)));
        // A fragment: not handled.
        let mut frag = ip;
        frag.fragment = true;
        assert_eq!(Packet::classify(&frag), Err(None));
    }
}
