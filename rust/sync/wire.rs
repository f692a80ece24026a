// SPDX-License-Identifier: GPL-2.0

//! The wire format of ip_vs's connection sync (net/netfilter/ipvs/
//! ip_vs_sync.c): message headers of versions 0 and 1, the connection
//! entries of each, and the checks a backup makes before it believes one.
//! Pure logic: encoded and decoded here, applied by `sync`.

/// The default group and port (224.0.0.81:8848).
pub(crate) const GROUP4: [u8; 4] = [224, 0, 0, 81];
pub(crate) const PORT: u16 = 8848;

/// Header sizes: version 1 (`struct ip_vs_sync_mesg`), version 0.
pub(crate) const HDR_V1: usize = 8;
pub(crate) const HDR_V0: usize = 4;
/// A version 1 IPv4 entry (`struct ip_vs_sync_v4`), an IPv6 one.
pub(crate) const CONN_V1_4: usize = 36;
pub(crate) const CONN_V1_6: usize = 72;
/// A version 0 entry (`struct ip_vs_sync_conn_v0`), and with options.
pub(crate) const CONN_V0: usize = 24;
/// Two `struct ip_vs_seq` (the sequence options).
pub(crate) const SEQ_OPT: usize = 24;

/// `IP_VS_CONN_F_*`, as on the wire.
pub(crate) mod flag {
    /// The forwarding method's bits (`svc::spec::Fwd::of` names them).
    pub(crate) const FWD_MASK: u32 = 0x0007;
    pub(crate) const SYNC: u32 = 0x0020;
    pub(crate) const HASHED: u32 = 0x0040;
    pub(crate) const NOOUTPUT: u32 = 0x0080;
    pub(crate) const INACTIVE: u32 = 0x0100;
    pub(crate) const SEQ_MASK: u32 = 0x0600;
    pub(crate) const NO_CPORT: u32 = 0x0800;
    pub(crate) const TEMPLATE: u32 = 0x1000;
    pub(crate) const ONE_PACKET: u32 = 0x2000;
    /// What a backup keeps of the flags it is sent.
    pub(crate) const BACKUP_MASK: u32 =
        FWD_MASK | NOOUTPUT | INACTIVE | SEQ_MASK | NO_CPORT | TEMPLATE;
}

use crate::proto::{AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};

/// Option types of version 1 entries.
const OPT_SEQ_DATA: u8 = 1;
const OPT_PE_DATA: u8 = 2;
const OPT_PE_NAME: u8 = 3;
/// An option the receiver may skip.
const OPT_F_PARAM: u8 = 1 << 6;
const PENAME_MAXLEN: usize = 16;

/// One connection or template as the sync protocol carries it. Ports and
/// the mark in host order, addresses as 16 bytes (IPv4 in the first 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) af: u16,
    pub(crate) protocol: u8,
    pub(crate) flags: u32,
    pub(crate) state: u16,
    pub(crate) cport: u16,
    pub(crate) vport: u16,
    pub(crate) dport: u16,
    pub(crate) fwmark: u32,
    /// Seconds; 0 when the sender does not say (version 0).
    pub(crate) timeout: u32,
    pub(crate) caddr: [u8; 16],
    pub(crate) vaddr: [u8; 16],
    pub(crate) daddr: [u8; 16],
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([
        *s.first()?,
        *s.get(1)?,
        *s.get(2)?,
        *s.get(3)?,
    ]))
}

fn put(b: &mut [u8], at: usize, v: &[u8]) {
    if let Some(d) = at.checked_add(v.len()).and_then(|end| b.get_mut(at..end)) {
        d.copy_from_slice(v);
    }
}

fn addr(b: &[u8], at: usize, n: usize) -> [u8; 16] {
    let mut a = [0u8; 16];
    if let (Some(s), Some(d)) = (
        at.checked_add(n).and_then(|end| b.get(at..end)),
        a.get_mut(..n),
    ) {
        d.copy_from_slice(s);
    }
    a
}

impl Entry {
    /// Its size as a version 1 entry (no options: rvs has no sequence
    /// adjustment or persistence engine data to send).
    pub(crate) fn v1_len(&self) -> usize {
        if self.af == AF_INET6 {
            CONN_V1_6
        } else {
            CONN_V1_4
        }
    }

    /// Writes it as a version 1 entry at the start of `b` (at least
    /// `v1_len()` bytes); flags as the master sends them (no HASHED).
    pub(crate) fn put_v1(&self, b: &mut [u8]) {
        let len = self.v1_len();
        let six = self.af == AF_INET6;
        put(b, 0, &[u8::from(six), self.protocol]);
        put(b, 2, &((len as u16) & 0x0fff).to_be_bytes());
        put(b, 4, &(self.flags & !flag::HASHED).to_be_bytes());
        put(b, 8, &self.state.to_be_bytes());
        put(b, 10, &self.cport.to_be_bytes());
        put(b, 12, &self.vport.to_be_bytes());
        put(b, 14, &self.dport.to_be_bytes());
        put(b, 16, &self.fwmark.to_be_bytes());
        put(b, 20, &self.timeout.to_be_bytes());
        let n = if six { 16 } else { 4 };
        for (i, a) in [&self.caddr, &self.vaddr, &self.daddr]
            .into_iter()
            .enumerate()
        {
            if let Some(s) = a.get(..n) {
                put(b, 24 + i * n, s);
            }
        }
    }

    /// Writes it as a version 0 entry (IPv4 only, 16-bit flags) at the
    /// start of `b` (at least `CONN_V0` bytes).
    pub(crate) fn put_v0(&self, b: &mut [u8]) {
        put(b, 0, &[0, self.protocol]);
        put(b, 2, &self.cport.to_be_bytes());
        put(b, 4, &self.vport.to_be_bytes());
        put(b, 6, &self.dport.to_be_bytes());
        for (i, a) in [&self.caddr, &self.vaddr, &self.daddr]
            .into_iter()
            .enumerate()
        {
            if let Some(s) = a.get(..4) {
                put(b, 8 + i * 4, s);
            }
        }
        put(b, 20, &((self.flags & !flag::HASHED) as u16).to_be_bytes());
        put(b, 22, &self.state.to_be_bytes());
    }
}

/// A version 1 message header for `syncid` (size and count 0).
pub(crate) fn header_v1(syncid: u8) -> [u8; HDR_V1] {
    [0, syncid, 0, HDR_V1 as u8, 0, 1, 0, 0]
}

/// A version 0 message header for `syncid`.
pub(crate) fn header_v0(syncid: u8) -> [u8; HDR_V0] {
    [0, syncid, 0, HDR_V0 as u8]
}

/// Counts one more entry in a message of version `ver` whose length is
/// now `len`.
pub(crate) fn account(b: &mut [u8], ver: u8, len: usize) {
    let at = if ver == 0 { 0 } else { 4 };
    if let Some(n) = b.get_mut(at) {
        *n = n.wrapping_add(1);
    }
    put(b, 2, &(len as u16).to_be_bytes());
}

/// The number of states of a protocol ip_vs syncs (`num_states`), `None`
/// for one it does not know.
pub(crate) fn proto_states(protocol: u8) -> Option<u16> {
    match protocol {
        IPPROTO_TCP => Some(11),
        IPPROTO_UDP => Some(1),
        IPPROTO_SCTP => Some(14),
        50 | 51 => Some(1),
        _ => None,
    }
}

/// Why a message (or the rest of it) was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bad {
    /// Shorter than a header, or its size field is not its length.
    Size,
    /// For another sync id.
    SyncId,
    /// An entry runs past the message, or is malformed (ip_vs drops the
    /// rest of the message).
    Bogus,
    /// An entry of an unknown version.
    Version,
}

/// Why one entry was skipped (the message goes on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Flags a backup refuses (NO_CPORT on a template, ONE_PACKET).
    Flags,
    /// A protocol ip_vs does not sync, or a state beyond its table.
    State,
    /// A mandatory option rvs does not know, or persistence engine data.
    Option,
}

fn flags_ok(f: u32) -> bool {
    !(f & flag::NO_CPORT != 0 && f & flag::TEMPLATE != 0) && f & flag::ONE_PACKET == 0
}

fn state_ok(f: u32, protocol: u8, state: u16) -> bool {
    if f & flag::TEMPLATE != 0 {
        state < 2
    } else {
        proto_states(protocol).is_some_and(|n| state < n)
    }
}

/// Decodes one message as a backup of `syncid` (0: any) does
/// (`ip_vs_process_message`): `f` gets each entry, its flags masked as a
/// backup keeps them plus SYNC, or why it was skipped. Entries before a
/// malformed one have been given to `f` when that error is returned.
pub(crate) fn parse(
    b: &[u8],
    syncid: u8,
    mut f: impl FnMut(Result<Entry, Skip>),
) -> Result<(), Bad> {
    if b.len() < HDR_V0 {
        return Err(Bad::Size);
    }
    if usize::from(be16(b, 2).ok_or(Bad::Size)?) != b.len() {
        return Err(Bad::Size);
    }
    let id = b.get(1).copied().unwrap_or(0);
    if syncid != 0 && id != syncid {
        return Err(Bad::SyncId);
    }
    let v1 =
        b.len() >= HDR_V1 && b.get(5) == Some(&1) && b.first() == Some(&0) && be16(b, 6) == Some(0);
    if v1 {
        let n = b.get(4).copied().unwrap_or(0);
        let mut p = HDR_V1;
        for _ in 0..n {
            if p.checked_add(CONN_V1_4).is_none_or(|e| e > b.len()) {
                return Err(Bad::Bogus);
            }
            let vs = be16(b, p.saturating_add(2)).ok_or(Bad::Bogus)?;
            let size = usize::from(vs & 0x0fff);
            let end = p.checked_add(size).ok_or(Bad::Bogus)?;
            if end > b.len() {
                return Err(Bad::Bogus);
            }
            if vs >> 12 != 0 {
                return Err(Bad::Version);
            }
            f(conn_v1(b.get(p..end).ok_or(Bad::Bogus)?)?);
            p = p.saturating_add((size.saturating_add(3)) & !3);
        }
    } else {
        let n = b.first().copied().unwrap_or(0);
        let mut p = HDR_V0;
        for _ in 0..n {
            let s = p
                .checked_add(CONN_V0)
                .and_then(|e| b.get(p..e))
                .ok_or(Bad::Bogus)?;
            let flags = u32::from(be16(s, 20).ok_or(Bad::Bogus)?);
            p = p.saturating_add(CONN_V0);
            if flags & flag::SEQ_MASK != 0 {
                p = p.saturating_add(SEQ_OPT);
                if p > b.len() {
                    return Err(Bad::Bogus);
                }
            }
            if !flags_ok(flags) {
                f(Err(Skip::Flags));
                continue;
            }
            let protocol = s.get(1).copied().unwrap_or(0);
            let state = be16(s, 22).ok_or(Bad::Bogus)?;
            if !state_ok(flags, protocol, state) {
                f(Err(Skip::State));
                continue;
            }
            f(Ok(Entry {
                af: AF_INET,
                protocol,
                flags: (flags & flag::BACKUP_MASK) | flag::SYNC,
                state,
                cport: be16(s, 2).unwrap_or(0),
                vport: be16(s, 4).unwrap_or(0),
                dport: be16(s, 6).unwrap_or(0),
                fwmark: 0,
                timeout: 0,
                caddr: addr(s, 8, 4),
                vaddr: addr(s, 12, 4),
                daddr: addr(s, 16, 4),
            }));
        }
    }
    Ok(())
}

/// One version 1 entry, `s` its bytes (`ip_vs_proc_sync_conn`): an error
/// drops the rest of the message, a skip only this entry.
fn conn_v1(s: &[u8]) -> Result<Result<Entry, Skip>, Bad> {
    let ty = s.first().copied().unwrap_or(0);
    let (af, hdr, n) = if ty & 1 != 0 {
        (AF_INET6, CONN_V1_6, 16)
    } else if ty == 0 {
        (AF_INET, CONN_V1_4, 4)
    } else {
        return Err(Bad::Bogus);
    };
    if hdr > s.len() {
        return Err(Bad::Bogus);
    }
    let mut p = hdr;
    let (mut seen, mut pe_data, mut skip) = (0u8, false, false);
    while p < s.len() {
        let ptype = *s.get(p).ok_or(Bad::Bogus)?;
        let plen = usize::from(*s.get(p.saturating_add(1)).ok_or(Bad::Bogus)?);
        p = p.saturating_add(2);
        if plen == 0 || p.saturating_add(plen) > s.len() {
            return Err(Bad::Bogus);
        }
        let t = ptype & !OPT_F_PARAM;
        match t {
            OPT_SEQ_DATA | OPT_PE_DATA | OPT_PE_NAME => {
                let bit = 1u8 << (t - 1);
                if seen & bit != 0
                    || (t == OPT_SEQ_DATA && plen != SEQ_OPT)
                    || (t == OPT_PE_NAME && plen > PENAME_MAXLEN)
                {
                    return Err(Bad::Bogus);
                }
                seen |= bit;
                pe_data |= t == OPT_PE_DATA;
            }
            _ => {
                if ptype & OPT_F_PARAM == 0 {
                    skip = true;
                }
            }
        }
        if skip {
            return Ok(Err(Skip::Option));
        }
        p = p.saturating_add(plen);
    }
    let flags = be32(s, 4).ok_or(Bad::Bogus)?;
    if !flags_ok(flags) {
        return Ok(Err(Skip::Flags));
    }
    let protocol = s.get(1).copied().unwrap_or(0);
    let state = be16(s, 8).ok_or(Bad::Bogus)?;
    let flags = (flags & flag::BACKUP_MASK) | flag::SYNC;
    if !state_ok(flags, protocol, state) {
        return Ok(Err(Skip::State));
    }
    // Persistence engine data (sip): no engine in rvs to give it to.
    if pe_data {
        return Ok(Err(Skip::Option));
    }
    Ok(Ok(Entry {
        af,
        protocol,
        flags,
        state,
        cport: be16(s, 10).unwrap_or(0),
        vport: be16(s, 12).unwrap_or(0),
        dport: be16(s, 14).unwrap_or(0),
        fwmark: be32(s, 16).unwrap_or(0),
        timeout: be32(s, 20).unwrap_or(0),
        caddr: addr(s, 24, n),
        vaddr: addr(s, 24 + n, n),
        daddr: addr(s, 24 + 2 * n, n),
    }))
}

/// Whether a connection is due to be sent (`ip_vs_sync_conn_needed`),
/// updating its `sync_endtime` (jiffies of its end as last sent, the low 2
/// bits counting retries) and `old_state` as ip_vs does; the caller does
/// the compare-and-swap with the returned new end time.
pub(crate) struct Needed {
    /// Send it.
    pub(crate) send: bool,
    /// The new `sync_endtime` to store (compare-and-swap from the old).
    pub(crate) endtime: Option<u32>,
    /// Whether the state changed (forces the send even if the swap fails).
    pub(crate) force: bool,
}

/// The sync sysctls the master reads.
#[derive(Clone, Copy)]
pub(crate) struct Params {
    pub(crate) threshold: i32,
    pub(crate) period: i32,
    /// Jiffies.
    pub(crate) refresh_period: u32,
    pub(crate) retries: i32,
    pub(crate) persist_mode: bool,
    pub(crate) hz: u32,
}

/// TCP states synced (ESTABLISHED, FIN_WAIT, CLOSE, CLOSE_WAIT,
/// TIME_WAIT), SCTP ones (ESTABLISHED, SHUTDOWN_*, CLOSED).
const TCP_SYNCED: u32 = (1 << 1) | (1 << 4) | (1 << 6) | (1 << 7) | (1 << 5);
const SCTP_SYNCED: u32 = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 13);

/// The decision of `ip_vs_sync_conn_needed` for a connection (`template`,
/// `protocol`, `state`, `old_state`, `timeout` in jiffies, last
/// `endtime`), controlled by a template (`persistent`), with `pkts` its
/// incoming packets, at `now` (jiffies, low 32 bits).
#[allow(clippy::too_many_arguments)]
pub(crate) fn needed(
    p: &Params,
    template: bool,
    persistent: bool,
    protocol: u8,
    state: u8,
    old_state: u8,
    timeout: u32,
    endtime: u32,
    pkts: u32,
    now: u32,
) -> Needed {
    let no = Needed {
        send: false,
        endtime: None,
        force: false,
    };
    let mut n = now.wrapping_add(timeout) & !3;
    let mut force = false;
    let mut set_now = false;
    if template {
    } else if p.persist_mode && persistent {
        return no;
    } else if protocol == IPPROTO_TCP || protocol == IPPROTO_SCTP {
        let mask = if protocol == IPPROTO_TCP {
            TCP_SYNCED
        } else {
            SCTP_SYNCED
        };
        if state >= 32 || mask & (1u32 << state) == 0 {
            return no;
        }
        force = state != old_state;
        let established = if protocol == IPPROTO_TCP { 1 } else { 8 };
        set_now = force && state != established;
    }
    if !set_now {
        if p.refresh_period > 0 {
            let diff = n.wrapping_sub(endtime) as i32;
            let min_diff = (timeout >> 1).max(10u32.saturating_mul(p.hz));
            let lim = i64::from(p.refresh_period.min(min_diff));
            if i64::from(diff).abs() < lim {
                let retries = (endtime & 3) as i32;
                if retries >= p.retries {
                    return no;
                }
                let at = endtime
                    .wrapping_sub(timeout)
                    .wrapping_add(p.refresh_period >> 3);
                if (now.wrapping_sub(at) as i32) < 0 {
                    return no;
                }
                n |= (retries as u32).wrapping_add(1);
            }
        }
        if p.period > 0 {
            if !template && (pkts % (p.period as u32)) as i32 != p.threshold {
                return no;
            }
        } else if p.refresh_period == 0 && pkts as i32 != p.threshold {
            return no;
        }
    }
    Needed {
        send: true,
        endtime: Some(n),
        force,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn entry() -> Entry {
        let mut e = Entry {
            af: AF_INET,
            protocol: 6,
            flags: 0x3 | flag::NOOUTPUT,
            state: 1,
            cport: 40000,
            vport: 80,
            dport: 8080,
            fwmark: 0,
            timeout: 900,
            caddr: [0; 16],
            vaddr: [0; 16],
            daddr: [0; 16],
        };
        e.caddr[..4].copy_from_slice(&[203, 0, 113, 5]);
        e.vaddr[..4].copy_from_slice(&[192, 0, 2, 1]);
        e.daddr[..4].copy_from_slice(&[198, 51, 100, 2]);
        e
    }

    fn msg_v1(es: &[Entry]) -> Vec<u8> {
        let mut m = header_v1(7).to_vec();
        for e in es {
            while !m.len().is_multiple_of(4) {
                m.push(0);
            }
            let at = m.len();
            m.resize(at + e.v1_len(), 0);
            e.put_v1(&mut m[at..]);
            let len = m.len();
            account(&mut m, 1, len);
        }
        m
    }

    #[test]
    fn v1_round_trip_with_sync_flag() {
        let e = entry();
        let mut six = entry();
        six.af = AF_INET6;
        six.caddr = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let m = msg_v1(&[e, six]);
        assert_eq!(m.len(), 8 + 36 + 72);
        assert_eq!(&m[..8], &[0, 7, 0, 116, 2, 1, 0, 0]);
        // ip_vs's bytes for the IPv4 entry.
        assert_eq!(&m[8..12], &[0, 6, 0, 36]);
        assert_eq!(&m[12..16], &[0, 0, 0, 0x83]);
        let mut got = Vec::new();
        parse(&m, 7, |r| got.push(r)).unwrap();
        let mut want = e;
        want.flags |= flag::SYNC;
        let mut want6 = six;
        want6.flags |= flag::SYNC;
        assert_eq!(got, [Ok(want), Ok(want6)]);
        assert_eq!(parse(&m, 8, |_| ()), Err(Bad::SyncId));
        assert_eq!(parse(&m, 0, |_| ()), Ok(()));
    }

    #[test]
    fn v0_round_trip() {
        let e = entry();
        let mut m = header_v0(3).to_vec();
        m.resize(4 + CONN_V0, 0);
        e.put_v0(&mut m[4..]);
        account(&mut m, 0, 28);
        assert_eq!(&m[..4], &[1, 3, 0, 28]);
        let mut got = Vec::new();
        parse(&m, 0, |r| got.push(r)).unwrap();
        let mut want = e;
        want.flags |= flag::SYNC;
        want.timeout = 0;
        assert_eq!(got, [Ok(want)]);
    }

    #[test]
    fn bad_input_is_refused_not_believed() {
        let m = msg_v1(&[entry()]);
        // Truncated, or a size field that lies.
        for cut in 0..m.len() {
            assert_eq!(
                parse(&m[..cut], 0, |_| panic!("entry from a truncated message")),
                Err(Bad::Size)
            );
        }
        // An entry of version 1 (ver_size high bits): dropped.
        let mut v = m.clone();
        v[10] = 0x10;
        assert_eq!(parse(&v, 0, |_| ()), Err(Bad::Version));
        // A state beyond TCP's table: skipped.
        let mut s = m.clone();
        s[17] = 11;
        let mut got = Vec::new();
        parse(&s, 0, |r| got.push(r)).unwrap();
        assert_eq!(got, [Err(Skip::State)]);
        // One-packet flag: skipped.
        let mut o = m.clone();
        o[14] = 0x20;
        got.clear();
        parse(&o, 0, |r| got.push(r)).unwrap();
        assert_eq!(got, [Err(Skip::Flags)]);
        // More entries announced than present.
        let mut n = m.clone();
        n[4] = 2;
        assert_eq!(parse(&n, 0, |_| ()), Err(Bad::Bogus));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for len in 0..600usize {
            let mut b: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            if len >= 4 {
                b[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                if len >= 8 && x.is_multiple_of(2) {
                    b[0] = 0;
                    b[5] = 1;
                    b[6] = 0;
                    b[7] = 0;
                }
            }
            let _ = parse(&b, 0, |_| ());
        }
    }

    #[test]
    fn needed_follows_ip_vs() {
        let p = Params {
            threshold: 3,
            period: 50,
            refresh_period: 0,
            retries: 0,
            persist_mode: false,
            hz: 250,
        };
        // TCP: not before ESTABLISHED, then at the 3rd packet and every 50.
        assert!(!needed(&p, false, false, 6, 3, 0, 100, 0, 1, 1000).send);
        assert!(!needed(&p, false, false, 6, 1, 0, 100, 0, 2, 1000).send);
        let r = needed(&p, false, false, 6, 1, 0, 100, 0, 3, 1000);
        assert!(r.send && r.force && r.endtime == Some(1100 & !3));
        assert!(!needed(&p, false, false, 6, 1, 1, 100, 1100, 4, 1001).send);
        assert!(needed(&p, false, false, 6, 1, 1, 100, 1100, 53, 1001).send);
        // A close is sent at once, whatever the count.
        assert!(needed(&p, false, false, 6, 4, 1, 100, 1100, 10, 1001).send);
        // UDP at the threshold; templates always.
        assert!(needed(&p, false, false, 17, 0, 0, 100, 0, 3, 10).send);
        assert!(!needed(&p, false, false, 17, 0, 0, 100, 0, 4, 10).send);
        assert!(needed(&p, true, false, 6, 0, 0, 100, 0, 9, 10).send);
        // sync_persist_mode: connections of templates are not sent.
        let q = Params {
            persist_mode: true,
            ..p
        };
        assert!(!needed(&q, false, true, 6, 1, 0, 100, 0, 3, 10).send);
    }
}
