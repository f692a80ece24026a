// SPDX-License-Identifier: GPL-2.0

//! What the IPVS commands ask for, decoded and checked as ip_vs does
//! (net/netfilter/ipvs/ip_vs_ctl.c: ip_vs_genl_parse_service,
//! ip_vs_genl_parse_dest, ip_vs_add_service, ip_vs_add_dest,
//! ip_vs_set_timeout), with the same errno for the same mistake.
//!
//! Pure logic: the kernel hands over the attribute payloads that its netlink
//! policy let through; everything here is tested on the host.

// Shared with the host crate, which exercises more of it than the module.
#![allow(dead_code)]

/// An errno (positive), the reason a request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Errno(pub(crate) i32);

pub(crate) const ENOENT: Errno = Errno(2);
pub(crate) const ESRCH: Errno = Errno(3);
pub(crate) const EEXIST: Errno = Errno(17);
pub(crate) const EINVAL: Errno = Errno(22);
pub(crate) const ERANGE: Errno = Errno(34);
pub(crate) const EOPNOTSUPP: Errno = Errno(95);
pub(crate) const EAFNOSUPPORT: Errno = Errno(97);

/// A refusal: the errno and the extended-ack message that explains it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) errno: Errno,
    pub(crate) msg: &'static core::ffi::CStr,
}

pub(crate) type Result<T> = core::result::Result<T, Refusal>;

const fn refuse(errno: Errno, msg: &'static core::ffi::CStr) -> Refusal {
    Refusal { errno, msg }
}

use crate::proto::{Timeouts, IPPROTO_TCP};
pub(crate) use crate::proto::{AF_INET, AF_INET6};

/// `IP_VS_SVC_F_PERSISTENT`: persistence (`-p`).
pub(crate) const SVC_F_PERSISTENT: u32 = 0x0001;
/// `IP_VS_SVC_F_ONEPACKET`: one-packet scheduling (`-o`, UDP).
pub(crate) const SVC_F_ONEPACKET: u32 = 0x0004;
/// `IP_VS_SVC_F_HASHED`: set on every service in the table.
pub(crate) const SVC_F_HASHED: u32 = 0x0002;
/// `IP_VS_CONN_F_FWD_MASK` and the forwarding methods.
pub(crate) const CONN_F_FWD_MASK: u32 = 0x0007;
pub(crate) const CONN_F_TUNNEL: u32 = 0x0002;

/// A real server's forwarding method (`IP_VS_CONN_F_FWD_MASK` of its
/// connection flags). ip_vs takes any value of the three bits; those it
/// has no method for are kept as they came (`Unknown`), and their
/// packets go on to the stack, as ip_vs lets them (no `packet_xmit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fwd {
    Masq,
    Local,
    Tunnel,
    Route,
    Bypass,
    Unknown(u8),
}

impl Fwd {
    /// The method of connection flags `flags`.
    pub(crate) const fn of(flags: u32) -> Self {
        match flags & CONN_F_FWD_MASK {
            0 => Fwd::Masq,
            1 => Fwd::Local,
            2 => Fwd::Tunnel,
            3 => Fwd::Route,
            4 => Fwd::Bypass,
            b => Fwd::Unknown(b as u8),
        }
    }

    /// Its bits of the connection flags.
    pub(crate) const fn bits(self) -> u32 {
        match self {
            Fwd::Masq => 0,
            Fwd::Local => 1,
            Fwd::Tunnel => 2,
            Fwd::Route => 3,
            Fwd::Bypass => 4,
            Fwd::Unknown(b) => b as u32 & CONN_F_FWD_MASK,
        }
    }

    /// Its name in /proc/net/ip_vs (`ip_vs_fwd_name`).
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Fwd::Local => "Local",
            Fwd::Tunnel => "Tunnel",
            Fwd::Route => "Route",
            _ => "Masq",
        }
    }
}
/// `IP_VS_CONN_F_TUNNEL_TYPE_GUE`.
pub(crate) const TUNNEL_TYPE_GUE: u8 = 1;

/// The schedulers of ip_vs in 6.12, by the names ipvsadm uses.
pub(crate) const SCHEDULERS: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
];

/// A scheduler chosen for a service: an index into [`SCHEDULERS`], or none
/// (the name "none").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sched(pub(crate) Option<u8>);

impl Sched {
    /// The name as GET_SERVICE reports it.
    pub(crate) fn name(self) -> &'static str {
        match self.0 {
            Some(i) => SCHEDULERS.get(usize::from(i)).copied().unwrap_or("none"),
            None => "none",
        }
    }
}

/// The C string at the start of `b` (up to its first NUL).
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => b.get(..n).unwrap_or(b),
        None => b,
    }
}

/// Looks a scheduler up by name; unknown names are refused with ENOENT,
/// as ip_vs refuses a scheduler module it cannot find.
pub(crate) fn sched_by_name(name: &[u8]) -> Result<Sched> {
    let name = c_str(name);
    if name == b"none" {
        return Ok(Sched(None));
    }
    SCHEDULERS
        .iter()
        .position(|s| s.as_bytes() == name)
        .and_then(|i| u8::try_from(i).ok())
        .map(|i| Sched(Some(i)))
        .ok_or(refuse(ENOENT, c"scheduler not found"))
}

/// First bytes of an attribute as a host-order integer (the policy
/// guarantees the minimum length; a shorter payload is refused anyway).
fn ne_u16(b: &[u8]) -> Result<u16> {
    match b {
        [a, b, ..] => Ok(u16::from_ne_bytes([*a, *b])),
        _ => Err(refuse(EINVAL, c"attribute too short")),
    }
}

fn be_u16(b: &[u8]) -> Result<u16> {
    match b {
        [a, b, ..] => Ok(u16::from_be_bytes([*a, *b])),
        _ => Err(refuse(EINVAL, c"attribute too short")),
    }
}

pub(crate) fn ne_u32(b: &[u8]) -> Result<u32> {
    match b {
        [a, b, c, d, ..] => Ok(u32::from_ne_bytes([*a, *b, *c, *d])),
        _ => Err(refuse(EINVAL, c"attribute too short")),
    }
}

fn u8_of(b: &[u8]) -> Result<u8> {
    b.first()
        .copied()
        .ok_or(refuse(EINVAL, c"attribute too short"))
}

/// `nla_memcpy` into a 16-byte `union nf_inet_addr`: copy what there is,
/// zero the rest.
fn inet_addr(b: &[u8]) -> [u8; 16] {
    let mut a = [0u8; 16];
    for (d, s) in a.iter_mut().zip(b.iter()) {
        *d = *s;
    }
    a
}

/// `ip_vs_addr_copy`: an IPv4 address keeps only its first four bytes.
fn normalise(af: u16, mut a: [u8; 16]) -> [u8; 16] {
    if af != AF_INET6 {
        for b in a.iter_mut().skip(4) {
            *b = 0;
        }
    }
    a
}

fn af_valid(af: u16) -> bool {
    af == AF_INET || af == AF_INET6
}

/// The service attributes of a request (payloads as the policy passed
/// them).
#[derive(Clone, Copy, Default)]
pub(crate) struct SvcAttrs<'a> {
    pub(crate) af: Option<&'a [u8]>,
    pub(crate) protocol: Option<&'a [u8]>,
    pub(crate) addr: Option<&'a [u8]>,
    pub(crate) port: Option<&'a [u8]>,
    pub(crate) fwmark: Option<&'a [u8]>,
    pub(crate) sched_name: Option<&'a [u8]>,
    pub(crate) flags: Option<&'a [u8]>,
    pub(crate) timeout: Option<&'a [u8]>,
    pub(crate) netmask: Option<&'a [u8]>,
    pub(crate) pe_name: Option<&'a [u8]>,
}

/// What identifies a service: (af, protocol, addr, port), or (af, fwmark).
/// For fwmark services protocol, addr and port are zero in the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SvcKey {
    pub(crate) fwmark: u32,
    pub(crate) af: u16,
    pub(crate) protocol: u16,
    pub(crate) addr: [u8; 16],
    /// Host-order value of the network-order port.
    pub(crate) port: u16,
}

impl SvcKey {
    /// The protocol the service reports: TCP for fwmark services, as ip_vs.
    pub(crate) fn reported_protocol(&self) -> u16 {
        if self.fwmark != 0 {
            u16::from(IPPROTO_TCP)
        } else {
            self.protocol
        }
    }
}

/// The editable part of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SvcConfig {
    pub(crate) sched: Sched,
    /// Flags, `IP_VS_SVC_F_HASHED` included as ip_vs reports them.
    pub(crate) flags: u32,
    /// Persistence timeout in jiffies (`u32` arithmetic, as ip_vs keeps it).
    pub(crate) timeout_jiffies: u32,
    /// Netmask: network-order bytes for IPv4, a prefix length for IPv6.
    pub(crate) netmask: u32,
}

impl SvcConfig {
    /// The timeout in seconds as GET_SERVICE reports it.
    pub(crate) fn timeout_secs(&self, hz: u32) -> u32 {
        self.timeout_jiffies.checked_div(hz).unwrap_or(0)
    }
}

/// Decodes the identifying attributes (ip_vs_genl_parse_service, first
/// half).
pub(crate) fn parse_svc_key(a: &SvcAttrs<'_>) -> Result<SvcKey> {
    let af =
        a.af.ok_or(refuse(EINVAL, c"service address family missing"))?;
    let (fwmark, port, protocol, addr) = match (a.fwmark, a.port, a.protocol, a.addr) {
        (Some(f), _, _, _) => (Some(f), None, None, None),
        (None, Some(p), Some(pr), Some(ad)) => (None, Some(p), Some(pr), Some(ad)),
        _ => {
            return Err(refuse(
                EINVAL,
                c"service needs a fwmark or protocol, address and port",
            ))
        }
    };
    let af = ne_u16(af)?;
    if !af_valid(af) {
        return Err(refuse(
            EAFNOSUPPORT,
            c"service address family not supported",
        ));
    }
    if let Some(f) = fwmark {
        let fwmark = ne_u32(f)?;
        // A fwmark of 0 is looked up (and added) as an address service
        // with protocol TCP, address and port 0, as ip_vs does.
        return Ok(SvcKey {
            fwmark,
            af,
            protocol: if fwmark == 0 {
                u16::from(IPPROTO_TCP)
            } else {
                0
            },
            addr: [0; 16],
            port: 0,
        });
    }
    Ok(SvcKey {
        fwmark: 0,
        af,
        protocol: ne_u16(protocol.unwrap_or(&[]))?,
        addr: normalise(af, inet_addr(addr.unwrap_or(&[]))),
        port: be_u16(port.unwrap_or(&[]))?,
    })
}

/// The full-entry fields of NEW_SERVICE / SET_SERVICE as requested, not
/// yet checked (second half of ip_vs_genl_parse_service).
#[derive(Clone, Copy)]
pub(crate) struct SvcRequest<'a> {
    sched_name: &'a [u8],
    pe_name: Option<&'a [u8]>,
    flags: u32,
    mask: u32,
    timeout: u32,
    netmask: u32,
}

/// Decodes the full-entry fields; missing ones are refused with EINVAL.
pub(crate) fn parse_svc_request<'a>(a: &SvcAttrs<'a>) -> Result<SvcRequest<'a>> {
    let (Some(sched), Some(flags), Some(timeout), Some(netmask)) =
        (a.sched_name, a.flags, a.timeout, a.netmask)
    else {
        return Err(refuse(
            EINVAL,
            c"service needs scheduler, flags, timeout and netmask",
        ));
    };
    let fl = inet_addr(flags);
    Ok(SvcRequest {
        sched_name: sched,
        pe_name: a.pe_name,
        flags: ne_u32(fl.get(..4).unwrap_or(&[]))?,
        mask: ne_u32(fl.get(4..8).unwrap_or(&[]))?,
        timeout: ne_u32(timeout)?,
        // Network-order bytes (nla_get_be32), kept as they came.
        netmask: ne_u32(netmask)?,
    })
}

impl SvcRequest<'_> {
    /// The checks of ip_vs_add_service / ip_vs_edit_service, made after the
    /// service's existence was checked. `old_flags` are the flags of the
    /// existing service, if any; `hz` is the kernel's HZ.
    pub(crate) fn check(&self, key: &SvcKey, old_flags: Option<u32>, hz: u32) -> Result<SvcConfig> {
        let sched = sched_by_name(self.sched_name)?;
        if let Some(pe) = self.pe_name {
            if !c_str(pe).is_empty() {
                // No persistence engine exists here (ip_vs's "sip" needs
                // conntrack helpers): refused as ip_vs refuses a missing one.
                return Err(refuse(ENOENT, c"persistence engine not found"));
            }
        }
        if key.af == AF_INET6 && !(1..=128).contains(&self.netmask) {
            return Err(refuse(EINVAL, c"IPv6 prefix length must be 1..128"));
        }
        let flags = (old_flags.unwrap_or(0) & !self.mask) | (self.flags & self.mask);
        Ok(SvcConfig {
            sched,
            flags: flags | SVC_F_HASHED,
            timeout_jiffies: self.timeout.wrapping_mul(hz),
            netmask: self.netmask,
        })
    }
}

/// The destination attributes of a request.
#[derive(Clone, Copy, Default)]
pub(crate) struct DestAttrs<'a> {
    pub(crate) addr: Option<&'a [u8]>,
    pub(crate) port: Option<&'a [u8]>,
    pub(crate) addr_family: Option<&'a [u8]>,
    pub(crate) fwd_method: Option<&'a [u8]>,
    pub(crate) weight: Option<&'a [u8]>,
    pub(crate) u_thresh: Option<&'a [u8]>,
    pub(crate) l_thresh: Option<&'a [u8]>,
    pub(crate) tun_type: Option<&'a [u8]>,
    pub(crate) tun_port: Option<&'a [u8]>,
    pub(crate) tun_flags: Option<&'a [u8]>,
}

/// What identifies a destination within its service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DestKey {
    pub(crate) af: u16,
    pub(crate) addr: [u8; 16],
    /// Host-order value of the network-order port.
    pub(crate) port: u16,
}

/// The editable part of a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct DestConfig {
    pub(crate) fwd: u32,
    pub(crate) weight: i32,
    pub(crate) u_threshold: u32,
    pub(crate) l_threshold: u32,
    pub(crate) tun_type: u8,
    /// Host-order value of the network-order tunnel port.
    pub(crate) tun_port: u16,
    pub(crate) tun_flags: u16,
}

/// Decodes a destination (ip_vs_genl_parse_dest) for service `svc`, with
/// the family checks of ip_vs_genl_set_cmd. `full` for NEW/SET_DEST.
pub(crate) fn parse_dest(
    svc: &SvcKey,
    a: &DestAttrs<'_>,
    full: bool,
) -> Result<(DestKey, Option<DestConfig>)> {
    let (Some(addr), Some(port)) = (a.addr, a.port) else {
        return Err(refuse(EINVAL, c"destination needs address and port"));
    };
    let raw = inet_addr(addr);
    let port = be_u16(port)?;
    let mut af = match a.addr_family {
        Some(b) => ne_u16(b)?,
        None => 0,
    };
    let cfg = if full {
        let (Some(fwd), Some(w), Some(u), Some(l)) =
            (a.fwd_method, a.weight, a.u_thresh, a.l_thresh)
        else {
            return Err(refuse(
                EINVAL,
                c"destination needs forwarding method, weight and thresholds",
            ));
        };
        Some(DestConfig {
            fwd: ne_u32(fwd)? & CONN_F_FWD_MASK,
            weight: ne_u32(w)? as i32,
            u_threshold: ne_u32(u)?,
            l_threshold: ne_u32(l)?,
            tun_type: match a.tun_type {
                Some(b) => u8_of(b)?,
                None => 0,
            },
            tun_port: match a.tun_port {
                Some(b) => be_u16(b)?,
                None => 0,
            },
            tun_flags: match a.tun_flags {
                Some(b) => ne_u16(b)?,
                None => 0,
            },
        })
    } else {
        None
    };
    if af == 0 {
        af = svc.af;
    }
    if !af_valid(af) {
        return Err(refuse(
            EAFNOSUPPORT,
            c"destination address family not supported",
        ));
    }
    if let Some(c) = &cfg {
        if af != svc.af && c.fwd != CONN_F_TUNNEL {
            return Err(refuse(
                EINVAL,
                c"a destination of another family than its service must be tunnelled",
            ));
        }
    }
    Ok((
        DestKey {
            af,
            addr: normalise(af, raw),
            port,
        },
        cfg,
    ))
}

/// The checks of ip_vs_add_dest / ip_vs_edit_dest before the lookup.
pub(crate) fn check_dest_config(c: &DestConfig) -> Result<()> {
    if c.weight < 0 {
        return Err(refuse(ERANGE, c"server weight less than zero"));
    }
    if c.l_threshold > c.u_threshold {
        return Err(refuse(
            ERANGE,
            c"lower threshold is higher than upper threshold",
        ));
    }
    if c.u_threshold > i32::MAX as u32 {
        return Err(refuse(EINVAL, c"upper threshold too large"));
    }
    if c.tun_type == TUNNEL_TYPE_GUE && c.tun_port == 0 {
        return Err(refuse(EINVAL, c"tunnel port is zero"));
    }
    Ok(())
}

/// Whether an IPv6 destination address is one ip_vs_new_dest accepts
/// (unicast, not link-local). The C code also accepts a local
/// non-unicast address; such setups are not modelled.
pub(crate) fn dest_addr6_ok(a: &[u8; 16]) -> bool {
    let multicast = a[0] == 0xff;
    let unspecified = a.iter().all(|b| *b == 0);
    let link_local = a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
    !multicast && !unspecified && !link_local
}

/// The timeouts of SET_CONFIG (ip_vs_genl_set_config, ip_vs_set_timeout):
/// a zero or absent value leaves the current one; each must fit in an
/// `int` of jiffies.
pub(crate) fn apply_timeouts(
    cur: Timeouts,
    tcp: Option<u32>,
    tcp_fin: Option<u32>,
    udp: Option<u32>,
    hz: u32,
) -> Result<Timeouts> {
    let max = (i32::MAX as u32).checked_div(hz).unwrap_or(0);
    let pick = |new: Option<u32>, old: u32| new.unwrap_or(old);
    let (t, f, u) = (
        pick(tcp, cur.tcp),
        pick(tcp_fin, cur.tcp_fin),
        pick(udp, cur.udp),
    );
    // In C the values are `int`: a u32 above INT_MAX is negative there.
    if t > max || f > max || u > max {
        return Err(refuse(EINVAL, c"timeout out of range"));
    }
    let keep = |new: u32, old: u32| if new == 0 { old } else { new };
    Ok(Timeouts {
        tcp: keep(t, cur.tcp),
        tcp_fin: keep(f, cur.tcp_fin),
        udp: keep(u, cur.udp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut r = [0u8; 16];
        r[..4].copy_from_slice(&a);
        r
    }

    #[test]
    fn service_key_needs_af_and_identity() {
        let af = AF_INET.to_ne_bytes();
        let mut a = SvcAttrs::default();
        assert_eq!(parse_svc_key(&a).unwrap_err().errno, EINVAL);
        a.af = Some(&af);
        assert_eq!(parse_svc_key(&a).unwrap_err().errno, EINVAL);
        let proto = 17u16.to_ne_bytes();
        let addr = v4([192, 0, 2, 1]);
        let port = 53u16.to_be_bytes();
        a.protocol = Some(&proto);
        a.addr = Some(&addr);
        assert_eq!(parse_svc_key(&a).unwrap_err().errno, EINVAL);
        a.port = Some(&port);
        let k = parse_svc_key(&a).unwrap();
        assert_eq!((k.af, k.protocol, k.port, k.fwmark), (AF_INET, 17, 53, 0));
        let bad = 7u16.to_ne_bytes();
        a.af = Some(&bad);
        assert_eq!(parse_svc_key(&a).unwrap_err().errno, EAFNOSUPPORT);
    }

    #[test]
    fn ipv4_keys_ignore_trailing_address_bytes() {
        let af = AF_INET.to_ne_bytes();
        let proto = 6u16.to_ne_bytes();
        let port = 80u16.to_be_bytes();
        let mut addr = [0xaau8; 16];
        addr[..4].copy_from_slice(&[203, 0, 113, 10]);
        let a = SvcAttrs {
            af: Some(&af),
            protocol: Some(&proto),
            addr: Some(&addr),
            port: Some(&port),
            ..Default::default()
        };
        assert_eq!(parse_svc_key(&a).unwrap().addr, v4([203, 0, 113, 10]));
    }

    #[test]
    fn full_service_checks() {
        let key = SvcKey {
            fwmark: 0,
            af: AF_INET6,
            protocol: 6,
            addr: [0x20; 16],
            port: 80,
        };
        let flags = [1u8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        let timeout = 300u32.to_ne_bytes();
        let mask = 64u32.to_ne_bytes();
        let mut a = SvcAttrs {
            sched_name: Some(b"wlc\0"),
            flags: Some(&flags),
            timeout: Some(&timeout),
            netmask: Some(&mask),
            ..Default::default()
        };
        let c = parse_svc_request(&a)
            .and_then(|r| r.check(&key, None, 250))
            .unwrap();
        assert_eq!(c.sched.name(), "wlc");
        assert_eq!(c.flags, 1 | SVC_F_HASHED);
        assert_eq!(c.timeout_secs(250), 300);
        a.sched_name = Some(b"nope\0");
        assert_eq!(
            parse_svc_request(&a)
                .and_then(|r| r.check(&key, None, 250))
                .unwrap_err()
                .errno,
            ENOENT
        );
        a.sched_name = Some(b"none\0");
        assert_eq!(
            parse_svc_request(&a)
                .and_then(|r| r.check(&key, None, 250))
                .unwrap()
                .sched,
            Sched(None)
        );
        let zero = 0u32.to_ne_bytes();
        a.netmask = Some(&zero);
        assert_eq!(
            parse_svc_request(&a)
                .and_then(|r| r.check(&key, None, 250))
                .unwrap_err()
                .errno,
            EINVAL
        );
        a.netmask = None;
        assert_eq!(
            parse_svc_request(&a)
                .and_then(|r| r.check(&key, None, 250))
                .unwrap_err()
                .errno,
            EINVAL
        );
    }

    #[test]
    fn flags_mask_keeps_old_bits() {
        let key = SvcKey {
            fwmark: 1,
            af: AF_INET,
            protocol: 0,
            addr: [0; 16],
            port: 0,
        };
        // Set bit 0x8, mask only 0x8: an old 0x1 stays.
        let flags = [8u8, 0, 0, 0, 8, 0, 0, 0];
        let t = 0u32.to_ne_bytes();
        let m = u32::MAX.to_ne_bytes();
        let a = SvcAttrs {
            sched_name: Some(b"rr\0"),
            flags: Some(&flags),
            timeout: Some(&t),
            netmask: Some(&m),
            ..Default::default()
        };
        let c = parse_svc_request(&a)
            .and_then(|r| r.check(&key, Some(1), 250))
            .unwrap();
        assert_eq!(c.flags, 1 | 8 | SVC_F_HASHED);
    }

    #[test]
    fn timeout_wraps_like_c() {
        let key = SvcKey {
            fwmark: 1,
            af: AF_INET,
            protocol: 0,
            addr: [0; 16],
            port: 0,
        };
        let flags = [0u8; 8];
        let t = 20_000_000u32.to_ne_bytes();
        let m = u32::MAX.to_ne_bytes();
        let a = SvcAttrs {
            sched_name: Some(b"rr\0"),
            flags: Some(&flags),
            timeout: Some(&t),
            netmask: Some(&m),
            ..Default::default()
        };
        let c = parse_svc_request(&a)
            .and_then(|r| r.check(&key, None, 250))
            .unwrap();
        assert_eq!(c.timeout_secs(250), 20_000_000u32.wrapping_mul(250) / 250);
    }

    #[test]
    fn dest_checks() {
        let svc = SvcKey {
            fwmark: 0,
            af: AF_INET,
            protocol: 6,
            addr: v4([203, 0, 113, 10]),
            port: 80,
        };
        let addr = v4([198, 51, 100, 11]);
        let port = 8080u16.to_be_bytes();
        let fwd = 0u32.to_ne_bytes();
        let w = 1u32.to_ne_bytes();
        let zero = 0u32.to_ne_bytes();
        let mut a = DestAttrs {
            addr: Some(&addr),
            port: Some(&port),
            ..Default::default()
        };
        let (k, c) = parse_dest(&svc, &a, false).unwrap();
        assert_eq!((k.af, k.port, c), (AF_INET, 8080, None));
        assert_eq!(parse_dest(&svc, &a, true).unwrap_err().errno, EINVAL);
        a.fwd_method = Some(&fwd);
        a.weight = Some(&w);
        a.u_thresh = Some(&zero);
        a.l_thresh = Some(&zero);
        let (_, c) = parse_dest(&svc, &a, true).unwrap();
        let c = c.unwrap();
        assert_eq!(check_dest_config(&c), Ok(()));
        let neg = (-1i32).to_ne_bytes();
        a.weight = Some(&neg);
        let (_, c) = parse_dest(&svc, &a, true).unwrap();
        assert_eq!(check_dest_config(&c.unwrap()).unwrap_err().errno, ERANGE);
        let one = 1u32.to_ne_bytes();
        a.weight = Some(&w);
        a.l_thresh = Some(&one);
        let (_, c) = parse_dest(&svc, &a, true).unwrap();
        assert_eq!(check_dest_config(&c.unwrap()).unwrap_err().errno, ERANGE);
        // Another family than the service: only tunnelled.
        let af6 = AF_INET6.to_ne_bytes();
        a.l_thresh = Some(&zero);
        a.addr_family = Some(&af6);
        assert_eq!(parse_dest(&svc, &a, true).unwrap_err().errno, EINVAL);
        let tun = CONN_F_TUNNEL.to_ne_bytes();
        a.fwd_method = Some(&tun);
        assert!(parse_dest(&svc, &a, true).is_ok());
        let bad = 3u16.to_ne_bytes();
        a.addr_family = Some(&bad);
        assert_eq!(parse_dest(&svc, &a, true).unwrap_err().errno, EAFNOSUPPORT);
    }

    #[test]
    fn ipv6_destination_addresses() {
        let mut a = [0u8; 16];
        assert!(!dest_addr6_ok(&a));
        a[0] = 0x20;
        a[1] = 0x01;
        a[15] = 1;
        assert!(dest_addr6_ok(&a));
        a[0] = 0xff;
        assert!(!dest_addr6_ok(&a));
        a[0] = 0xfe;
        a[1] = 0x80;
        assert!(!dest_addr6_ok(&a));
    }

    #[test]
    fn fwd_methods_round_trip() {
        for b in 0..8u32 {
            assert_eq!(Fwd::of(b).bits(), b);
            assert_eq!(Fwd::of(b | 0x80), Fwd::of(b));
        }
        assert_eq!(Fwd::of(2), Fwd::Tunnel);
        assert_eq!(Fwd::of(6), Fwd::Unknown(6));
        assert_eq!(Fwd::of(3).name(), "Route");
        assert_eq!(Fwd::of(4).name(), "Masq");
    }

    #[test]
    fn timeouts() {
        let cur = Timeouts::DEFAULT;
        assert_eq!(
            apply_timeouts(cur, Some(10), None, Some(0), 250),
            Ok(Timeouts {
                tcp: 10,
                tcp_fin: 120,
                udp: 300
            })
        );
        assert_eq!(
            apply_timeouts(cur, Some(i32::MAX as u32 / 250 + 1), None, None, 250)
                .unwrap_err()
                .errno,
            EINVAL
        );
        assert_eq!(
            apply_timeouts(cur, Some(u32::MAX), None, None, 250)
                .unwrap_err()
                .errno,
            EINVAL
        );
    }

    #[test]
    fn scheduler_names() {
        for s in SCHEDULERS {
            let mut n = [0u8; 16];
            n[..s.len()].copy_from_slice(s.as_bytes());
            assert_eq!(sched_by_name(&n).unwrap().name(), s);
        }
        assert_eq!(sched_by_name(b"rrr\0").unwrap_err().errno, ENOENT);
    }
}
