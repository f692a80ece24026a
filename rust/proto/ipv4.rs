// SPDX-License-Identifier: GPL-2.0

//! IPv4 and ICMP headers as the packet path reads them (the transport
//! headers: [`super::l4`]): every length and field checked before use,
//! so that a truncated or malformed packet is
//! recognised (and passed or dropped) rather than misread. Pure logic.

/// Offsets in the IPv4 header.
pub(crate) const TOS: usize = 1;
pub(crate) const FRAG: usize = 6;
pub(crate) const TTL: usize = 8;
pub(crate) const CHECK: usize = 10;
pub(crate) const SADDR: usize = 12;
pub(crate) const DADDR: usize = 16;

use super::l4::{ports, ICMP_LEN};
use super::{IcmpError, Ip, AF_INET};

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at.checked_add(1)?)?,
    ]))
}

fn four(b: &[u8], at: usize) -> Option<[u8; 4]> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some([s[0], s[1], s[2], s[3]])
}

/// Parses the fixed part of an IPv4 header from `b` (at least 20 bytes).
/// `None`: not a sound IPv4 header (version, length fields); `skb_len` is
/// the packet's length, which `tot_len` must not exceed.
pub(crate) fn parse(b: &[u8], skb_len: usize) -> Option<Ip> {
    let vihl = *b.first()?;
    if vihl >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(vihl & 0x0f) * 4;
    let tot_len = usize::from(be16(b, 2)?);
    if ihl < 20 || tot_len < ihl || tot_len > skb_len {
        return None;
    }
    let frag = be16(b, FRAG)?;
    Some(Ip {
        af: AF_INET,
        hlen: ihl,
        tot_len,
        protocol: *b.get(9)?,
        tos: *b.get(TOS)?,
        ttl: *b.get(TTL)?,
        df: frag & 0x4000 != 0,
        fragment: frag & 0x3fff != 0,
        saddr: addr16(four(b, SADDR)?),
        daddr: addr16(four(b, DADDR)?),
    })
}

/// Sets the header checksum of the IPv4 header at the start of `h` (its
/// IHL's worth of bytes; false if `h` is shorter), as `ip_send_check`.
pub(crate) fn set_checksum(h: &mut [u8]) -> bool {
    let ihl = usize::from(h.first().map_or(0, |v| v & 0x0f)) * 4;
    let Some(hdr) = h.get_mut(..ihl) else {
        return false;
    };
    if ihl < 20 {
        return false;
    }
    if let Some(c) = hdr.get_mut(CHECK..CHECK + 2) {
        c.copy_from_slice(&[0, 0]);
    }
    let check = header_checksum(hdr);
    if let Some(c) = hdr.get_mut(CHECK..CHECK + 2) {
        c.copy_from_slice(&check);
    }
    true
}

/// ICMP error types that carry the header of the packet they are about
/// and that rvs relays (ip_vs: destination unreachable, source quench,
/// time exceeded).
pub(crate) const ICMP_DEST_UNREACH: u8 = 3;
/// Codes of ICMP_DEST_UNREACH.
pub(crate) const ICMP_PORT_UNREACH: u8 = 3;
pub(crate) const ICMP_FRAG_NEEDED: u8 = 4;
pub(crate) const ICMP_SOURCE_QUENCH: u8 = 4;
pub(crate) const ICMP_TIME_EXCEEDED: u8 = 11;

/// Bytes from the outer IP header that [`parse_icmp_error`] needs, at
/// most (outer and inner headers with options, ICMP header, ports).
pub(crate) const ICMP_ERROR_MAX: usize = 60 + ICMP_LEN + 60 + 4;

/// Parses an ICMP error after an outer header of `ihl` bytes from `b`
/// (which holds up to [`ICMP_ERROR_MAX`] bytes of the packet). `None`: not
/// an error type rvs relays, or the quoted packet is not the start of a
/// TCP, UDP or SCTP header (a later fragment, truncated, malformed).
pub(crate) fn parse_icmp_error(b: &[u8], ihl: usize) -> Option<IcmpError> {
    let ty = *b.get(ihl)?;
    let code = *b.get(ihl.checked_add(1)?)?;
    if ty != ICMP_DEST_UNREACH && ty != ICMP_SOURCE_QUENCH && ty != ICMP_TIME_EXCEEDED {
        return None;
    }
    let inner_off = ihl.checked_add(ICMP_LEN)?;
    let ib = b.get(inner_off..)?;
    // The quoted packet is cut short by design: do not check its length
    // against what is present, only the header's own fields.
    let inner = parse(ib, usize::from(be16(ib, 2)?))?;
    if !super::balanced(inner.protocol) {
        return None;
    }
    // Only the first fragment quotes the ports.
    let frag_off = be16(ib, FRAG)? & 0x1fff;
    if frag_off != 0 {
        return None;
    }
    let inner_l4_off = inner_off.checked_add(inner.hlen)?;
    let (inner_sport, inner_dport) = ports(b.get(inner_l4_off..)?)?;
    Some(IcmpError {
        ty,
        code,
        inner_off,
        inner,
        inner_l4_off,
        inner_sport,
        inner_dport,
    })
}

/// The Internet checksum of an IP header (its checksum field counted as
/// it is: zero it first to compute a new one).
pub(crate) fn header_checksum(h: &[u8]) -> [u8; 2] {
    // 32-bit words summed, then folded: the same one's-complement sum as
    // 16-bit words (2^16 = 1 modulo 0xffff), in a quarter of the steps.
    let mut sum: u64 = 0;
    let mut words = h.chunks_exact(4);
    for w in &mut words {
        if let [a, b, c, d] = w {
            sum = sum.wrapping_add(u64::from(u32::from_be_bytes([*a, *b, *c, *d])));
        }
    }
    for c in words.remainder().chunks(2) {
        let w = u16::from_be_bytes([
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ]);
        sum = sum.wrapping_add(u64::from(w));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff).wrapping_add(sum >> 16);
    }
    (!(sum as u16)).to_be_bytes()
}

/// An IPv4 address into the 16-byte form of the tables.
pub(crate) fn addr16(a: [u8; 4]) -> [u8; 16] {
    let mut x = [0u8; 16];
    x[..4].copy_from_slice(&a);
    x
}

/// The IPv4 part of a 16-byte address.
pub(crate) fn addr4(a: &[u8; 16]) -> [u8; 4] {
    [a[0], a[1], a[2], a[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr() -> [u8; 20] {
        let mut h = [0u8; 20];
        h[0] = 0x45;
        h[2..4].copy_from_slice(&40u16.to_be_bytes());
        h[6] = 0x40;
        h[8] = 64;
        h[9] = 6;
        h[12..16].copy_from_slice(&[192, 0, 2, 2]);
        h[16..20].copy_from_slice(&[203, 0, 113, 10]);
        h
    }

    #[test]
    fn set_checksum_known_header() {
        // A header whose checksum is known (RFC 1071's way, computed by
        // hand): 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x12, 0x34, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(set_checksum(&mut h));
        assert_eq!(&h[10..12], &[0xb8, 0x61]);
        // Verifying: the sum over the whole header folds to 0xffff.
        let mut sum = 0u32;
        for w in h.chunks(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff);
        // With options (IHL 6) the options count; too short: refused.
        let mut o = [0u8; 24];
        o[..20].copy_from_slice(&h);
        o[0] = 0x46;
        o[20..].copy_from_slice(&[1, 1, 1, 0]);
        assert!(set_checksum(&mut o));
        assert_ne!(&o[10..12], &[0xb8, 0x61]);
        assert!(!set_checksum(&mut o[..23]));
    }

    #[test]
    fn sound_header() {
        let p = parse(&hdr(), 40).unwrap();
        assert_eq!(p.hlen, 20);
        assert!(p.df && !p.fragment);
        assert_eq!(addr4(&p.daddr), [203, 0, 113, 10]);
    }

    #[test]
    fn malformed_headers() {
        let mut h = hdr();
        assert_eq!(parse(&h[..19], 40), None);
        h[0] = 0x44;
        assert_eq!(parse(&h, 40), None);
        h[0] = 0x65;
        assert_eq!(parse(&h, 40), None);
        let mut h = hdr();
        assert_eq!(parse(&h, 39), None, "tot_len beyond the packet");
        h[2..4].copy_from_slice(&10u16.to_be_bytes());
        assert_eq!(parse(&h, 40), None, "tot_len below ihl");
        let mut h = hdr();
        h[6] = 0x20;
        assert!(parse(&h, 40).unwrap().fragment);
    }

    #[test]
    fn icmp_errors() {
        // Port unreachable quoting a UDP packet 198.51.100.11 <- 192.0.2.2.
        let mut b = std::vec::Vec::new();
        b.extend_from_slice(&hdr());
        b[9] = 1;
        b.extend_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
        let mut inner = hdr();
        inner[9] = 17;
        inner[2..4].copy_from_slice(&28u16.to_be_bytes());
        b.extend_from_slice(&inner);
        b.extend_from_slice(&[0x30, 0x39, 0x27, 0x0f]);
        let e = parse_icmp_error(&b, 20).unwrap();
        assert_eq!((e.ty, e.inner_off, e.inner_l4_off), (3, 28, 48));
        assert_eq!((e.inner_sport, e.inner_dport), (12345, 9999));
        // Echo requests are not errors; truncated quotes are refused.
        let mut echo = b.clone();
        echo[20] = 8;
        assert_eq!(parse_icmp_error(&echo, 20), None);
        assert_eq!(parse_icmp_error(&b[..50], 20), None);
        // A quoted later fragment has no ports.
        let mut frag = b.clone();
        frag[28 + 7] = 1;
        assert_eq!(parse_icmp_error(&frag, 20), None);
    }

    #[test]
    fn checksum_of_odd_lengths() {
        // Against the plain 16-bit sum, for every length up to 64 bytes.
        let mut data = [0u8; 64];
        for (i, b) in data.iter_mut().enumerate() {
            *b = (i * 37 + 11) as u8;
        }
        for n in 0..=data.len() {
            let mut sum = 0u32;
            for c in data[..n].chunks(2) {
                sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
            }
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            assert_eq!(
                header_checksum(&data[..n]),
                (!(sum as u16)).to_be_bytes(),
                "{n} bytes"
            );
        }
    }

    #[test]
    fn checksum_of_a_header() {
        let mut h = hdr();
        let c = header_checksum(&h);
        h[10..12].copy_from_slice(&c);
        assert_eq!(header_checksum(&h), [0, 0]);
    }
}
