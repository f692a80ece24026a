// SPDX-License-Identifier: GPL-2.0

//! IPv6 headers as the packet path reads them: the fixed header, then the
//! chain of extension headers walked as `ipv6_find_hdr` walks it (hop-by-hop,
//! routing, fragment, destination options, authentication), bounded in
//! count, every length checked against the bytes present and the packet's
//! length; and the ICMPv6 errors that quote a TCP or UDP packet. Pure logic.

use super::{Ip, AF_INET6};

/// Offsets in the IPv6 header.
pub(crate) const PAYLOAD_LEN: usize = 4;
pub(crate) const NEXTHDR: usize = 6;
pub(crate) const HOP_LIMIT: usize = 7;
pub(crate) const SADDR: usize = 8;
pub(crate) const DADDR: usize = 24;
/// The fixed header's length.
pub(crate) const HDR_LEN: usize = 40;

const NEXTHDR_HOP: u8 = 0;
const NEXTHDR_ROUTING: u8 = 43;
const NEXTHDR_FRAGMENT: u8 = 44;
const NEXTHDR_AUTH: u8 = 51;
const NEXTHDR_NONE: u8 = 59;
const NEXTHDR_DEST: u8 = 60;

/// Extension headers walked at most before the transport header: a longer
/// chain is not balanced (the stack decides what to do with it).
pub(crate) const MAX_EXT: usize = 8;

/// What [`parse`] makes of the bytes it got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// The header, its extension headers walked.
    Done(Ip),
    /// The chain goes on past the bytes given: call again with this many.
    Need(usize),
    /// Not a sound IPv6 packet, or a chain longer than [`MAX_EXT`].
    Bad,
}

fn sixteen(b: &[u8], at: usize) -> Option<[u8; 16]> {
    let s = b.get(at..at.checked_add(16)?)?;
    let mut a = [0u8; 16];
    a.copy_from_slice(s);
    Some(a)
}

/// The walk of the extension headers from the fixed header's next header
/// `first` at offset [`HDR_LEN`] of `b`, within `end` bytes of packet: the
/// transport protocol, its offset, and whether a fragment header was met
/// (`Some(offset)`: the fragment's offset, 0 for the first).
enum Walk {
    Done(u8, usize, Option<u16>),
    Need(usize),
    Bad,
}

fn walk(b: &[u8], first: u8, end: usize) -> Walk {
    let (mut nh, mut off) = (first, HDR_LEN);
    let mut frag = None;
    for _ in 0..=MAX_EXT {
        match nh {
            NEXTHDR_HOP | NEXTHDR_ROUTING | NEXTHDR_DEST | NEXTHDR_AUTH | NEXTHDR_FRAGMENT => {}
            NEXTHDR_NONE => return Walk::Bad,
            _ => return Walk::Done(nh, off, frag),
        }
        // Every extension header starts with next header and a length.
        let Some(need) = off.checked_add(8) else {
            return Walk::Bad;
        };
        if need > end {
            return Walk::Bad;
        }
        let (Some(&next), Some(&hl)) = (b.get(off), b.get(off.saturating_add(1))) else {
            return Walk::Need(need);
        };
        let len = match nh {
            NEXTHDR_FRAGMENT => {
                let (Some(&hi), Some(&lo)) = (b.get(off + 2), b.get(off + 3)) else {
                    return Walk::Need(need);
                };
                let fo = u16::from_be_bytes([hi, lo]);
                let offset = fo & 0xfff8;
                if offset != 0 {
                    // A later fragment: no transport header here.
                    return Walk::Done(next, off + 8, Some(offset));
                }
                if fo & 1 != 0 {
                    frag = Some(0);
                }
                8
            }
            NEXTHDR_AUTH => (usize::from(hl) + 2) * 4,
            _ => (usize::from(hl) + 1) * 8,
        };
        nh = next;
        off = match off.checked_add(len) {
            Some(o) if o <= end => o,
            _ => return Walk::Bad,
        };
    }
    Walk::Bad
}

/// Parses an IPv6 header and walks its extension headers from `b` (the
/// packet's first bytes); `skb_len` is the packet's length, which the
/// header's payload length must not exceed (0, as GSO's big packets have
/// it, means the whole packet).
pub(crate) fn parse(b: &[u8], skb_len: usize) -> Parsed {
    if b.len() < HDR_LEN {
        return if skb_len >= HDR_LEN {
            Parsed::Need(HDR_LEN)
        } else {
            Parsed::Bad
        };
    }
    if b[0] >> 4 != 6 {
        return Parsed::Bad;
    }
    let plen = usize::from(u16::from_be_bytes([b[PAYLOAD_LEN], b[PAYLOAD_LEN + 1]]));
    let tot_len = if plen == 0 { skb_len } else { HDR_LEN + plen };
    if tot_len > skb_len || tot_len < HDR_LEN {
        return Parsed::Bad;
    }
    let (Some(saddr), Some(daddr)) = (sixteen(b, SADDR), sixteen(b, DADDR)) else {
        return Parsed::Bad;
    };
    match walk(b, b[NEXTHDR], tot_len) {
        Walk::Need(n) => Parsed::Need(n),
        Walk::Bad => Parsed::Bad,
        Walk::Done(protocol, hlen, frag) => Parsed::Done(Ip {
            af: AF_INET6,
            hlen,
            tot_len,
            protocol,
            tos: (b[0] << 4) | (b[1] >> 4),
            ttl: b[HOP_LIMIT],
            // IPv6 routers never fragment: every packet is "DF".
            df: true,
            fragment: frag.is_some(),
            saddr,
            daddr,
        }),
    }
}

/// An ICMPv6 error (type below 128) about a TCP, UDP or SCTP packet, as
/// found after an IPv6 header and its extension headers (`hlen` bytes) in
/// `b`. `None`: an informational message, or a quote that is not the
/// start of such a packet (a later fragment, truncated, malformed).
pub(crate) fn parse_icmp_error(b: &[u8], hlen: usize) -> Option<super::IcmpError> {
    let ty = *b.get(hlen)?;
    if ty & 0x80 != 0 {
        return None;
    }
    let inner_off = hlen.checked_add(8)?;
    let ib = b.get(inner_off..)?;
    // The quote is cut short by design: its payload length is not checked
    // against what is present, only the extension headers it holds.
    let Parsed::Done(inner) = parse(ib, usize::MAX >> 1) else {
        return None;
    };
    if !super::balanced(inner.protocol) {
        return None;
    }
    if inner.fragment && !first_fragment(ib) {
        return None;
    }
    let inner_l4_off = inner_off.checked_add(inner.hlen)?;
    let l4 = b.get(inner_l4_off..inner_l4_off.checked_add(4)?)?;
    Some(super::IcmpError {
        ty,
        code: *b.get(hlen.checked_add(1)?)?,
        inner_off,
        inner,
        inner_l4_off,
        inner_sport: u16::from_be_bytes([l4[0], l4[1]]),
        inner_dport: u16::from_be_bytes([l4[2], l4[3]]),
    })
}

/// Whether the fragment the chain of `b` holds is the first one.
fn first_fragment(b: &[u8]) -> bool {
    matches!(
        walk(b, b.get(NEXTHDR).copied().unwrap_or(NEXTHDR_NONE), b.len()),
        Walk::Done(_, _, Some(0))
    )
}

/// Bytes from the outer header that [`parse_icmp_error`] may need at most:
/// both headers with [`MAX_EXT`] small extension headers each.
pub(crate) const ICMP_ERROR_MAX: usize = 2 * (HDR_LEN + MAX_EXT * 16) + 8 + 4;

/// ICMPv6 error types and codes rvs sends.
pub(crate) const ICMPV6_DEST_UNREACH: u8 = 1;
pub(crate) const ICMPV6_PORT_UNREACH: u8 = 4;
pub(crate) const ICMPV6_PKT_TOOBIG: u8 = 2;
pub(crate) const ICMPV6_TIME_EXCEED: u8 = 3;

/// The smallest MTU an IPv6 link may have.
pub(crate) const MIN_MTU: u32 = 1280;

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn hdr(nexthdr: u8, plen: u16) -> Vec<u8> {
        let mut h = std::vec![0u8; 40];
        h[0] = 0x60;
        h[4..6].copy_from_slice(&plen.to_be_bytes());
        h[6] = nexthdr;
        h[7] = 64;
        h[8..24].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        h[24..40].copy_from_slice(&[
            0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ]);
        h
    }

    fn done(p: Parsed) -> Ip {
        match p {
            Parsed::Done(ip) => ip,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_tcp() {
        let mut b = hdr(6, 20);
        b.extend_from_slice(&[0u8; 20]);
        let ip = done(parse(&b, 60));
        assert_eq!(
            (ip.af, ip.hlen, ip.tot_len, ip.protocol),
            (AF_INET6, 40, 60, 6)
        );
        assert!(!ip.fragment && ip.df);
        assert_eq!(ip.daddr[15], 0x10);
        // Payload length beyond the packet, wrong version, too short.
        assert_eq!(parse(&b, 59), Parsed::Bad);
        let mut v = b.clone();
        v[0] = 0x40;
        assert_eq!(parse(&v, 60), Parsed::Bad);
        assert_eq!(parse(&b[..20], 60), Parsed::Need(40));
        assert_eq!(parse(&b[..20], 20), Parsed::Bad);
        // Payload length 0 (GSO): the packet's length.
        let mut z = b.clone();
        z[4..6].copy_from_slice(&[0, 0]);
        assert_eq!(done(parse(&z, 60)).tot_len, 60);
    }

    #[test]
    fn extension_chain() {
        // Hop-by-hop (8 bytes), destination options (16), AH (12), UDP.
        let mut b = hdr(0, 8 + 16 + 12 + 8);
        b.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[51, 1]);
        b.extend_from_slice(&[0u8; 14]);
        b.extend_from_slice(&[17, 1]);
        b.extend_from_slice(&[0u8; 10]);
        b.extend_from_slice(&[0u8; 8]);
        let n = b.len();
        let ip = done(parse(&b, n));
        assert_eq!((ip.protocol, ip.hlen), (17, 40 + 8 + 16 + 12));
        // Cut in the middle of the chain: more bytes wanted, never past
        // the packet.
        // (A header's first two bytes tell its length.)
        assert_eq!(parse(&b[..47], n), Parsed::Need(56));
        assert_eq!(parse(&b[..50], n), Parsed::Need(72));
        assert_eq!(parse(&b[..65], n), Parsed::Need(72));
        // A length that runs past the packet.
        let mut long = b.clone();
        long[41] = 200;
        assert_eq!(parse(&long, n), Parsed::Bad);
        // "No next header".
        let mut none = b.clone();
        none[40] = 59;
        assert_eq!(parse(&none, n), Parsed::Bad);
    }

    #[test]
    fn chain_bounded() {
        // MAX_EXT + 1 destination option headers: refused.
        let k = MAX_EXT + 1;
        let mut b = hdr(60, (k * 8 + 8) as u16);
        for i in 0..k {
            b.extend_from_slice(&[if i + 1 == k { 17 } else { 60 }, 0, 0, 0, 0, 0, 0, 0]);
        }
        b.extend_from_slice(&[0u8; 8]);
        let n = b.len();
        assert_eq!(parse(&b, n), Parsed::Bad);
        // MAX_EXT of them: fine.
        let mut ok = hdr(60, (MAX_EXT * 8 + 8) as u16);
        for i in 0..MAX_EXT {
            ok.extend_from_slice(&[if i + 1 == MAX_EXT { 17 } else { 60 }, 0, 0, 0, 0, 0, 0, 0]);
        }
        ok.extend_from_slice(&[0u8; 8]);
        let n = ok.len();
        assert_eq!(done(parse(&ok, n)).protocol, 17);
    }

    #[test]
    fn fragments() {
        // First fragment (offset 0, more): walked through, marked.
        let mut b = hdr(44, 8 + 8);
        b.extend_from_slice(&[17, 0, 0, 1, 0, 0, 0, 7]);
        b.extend_from_slice(&[0u8; 8]);
        let ip = done(parse(&b, 56));
        assert!(ip.fragment);
        assert_eq!((ip.protocol, ip.hlen), (17, 48));
        // A later one: stops at the fragment header.
        b[42..44].copy_from_slice(&0x0100u16.to_be_bytes());
        let ip = done(parse(&b, 56));
        assert!(ip.fragment);
        // An atomic fragment (offset 0, no more): not a fragment.
        b[42..44].copy_from_slice(&[0, 0]);
        assert!(!done(parse(&b, 56)).fragment);
    }

    #[test]
    fn icmp_errors() {
        // Packet too big quoting a TCP packet.
        let mut q = hdr(6, 20);
        q.extend_from_slice(&[0x30, 0x39, 0x00, 0x50]);
        q.extend_from_slice(&[0u8; 16]);
        let mut b = hdr(58, (8 + q.len()) as u16);
        b.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0x05, 0x00]);
        b.extend_from_slice(&q);
        let e = parse_icmp_error(&b, 40).unwrap();
        assert_eq!((e.ty, e.inner_off, e.inner_l4_off), (2, 48, 88));
        assert_eq!((e.inner_sport, e.inner_dport), (12345, 80));
        // Echo request: informational.
        let mut echo = b.clone();
        echo[40] = 128;
        assert_eq!(parse_icmp_error(&echo, 40), None);
        // Quote cut before the ports.
        assert_eq!(parse_icmp_error(&b[..90], 40), None);
        // A quoted later fragment.
        let mut f = hdr(58, 0);
        f.extend_from_slice(&[1, 4, 0, 0, 0, 0, 0, 0]);
        let mut fq = hdr(44, 0);
        fq.extend_from_slice(&[6, 0, 0x01, 0x00, 0, 0, 0, 1]);
        fq.extend_from_slice(&[0u8; 20]);
        f.extend_from_slice(&fq);
        assert_eq!(parse_icmp_error(&f, 40), None);
    }
}
