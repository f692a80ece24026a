// SPDX-License-Identifier: GPL-2.0

//! SCTP as ip_vs follows it (ip_vs_proto_sctp.c): the first chunk of each
//! packet (an ABORT bundled after a COOKIE ECHO or COOKIE ACK counts
//! instead) is an event that moves the association through ip_vs's
//! states, with its state names and fixed timeouts (`ipvsadm --set` has
//! none for SCTP), so that listings, active counts and synced entries
//! agree with ip_vs. A new association is scheduled on its INIT (any
//! chunk but ABORT with `sloppy_sctp`).

use super::Dir;

/// The common header: ports, verification tag, checksum.
pub(crate) const HDR_LEN: usize = 12;
/// A chunk's header: type, flags, length.
pub(crate) const CHUNK_HDR_LEN: usize = 4;
/// Offset of the CRC32c in the common header.
pub(crate) const CSUM: usize = 8;

/// Chunk types (RFC 9260, 3.2) that matter here.
pub(crate) const CID_DATA: u8 = 0;
pub(crate) const CID_INIT: u8 = 1;
pub(crate) const CID_INIT_ACK: u8 = 2;
pub(crate) const CID_ABORT: u8 = 6;
pub(crate) const CID_SHUTDOWN: u8 = 7;
pub(crate) const CID_SHUTDOWN_ACK: u8 = 8;
pub(crate) const CID_ERROR: u8 = 9;
pub(crate) const CID_COOKIE_ECHO: u8 = 10;
pub(crate) const CID_COOKIE_ACK: u8 = 11;
pub(crate) const CID_SHUTDOWN_COMPLETE: u8 = 14;

pub(crate) const NONE: u8 = 0;
pub(crate) const INIT1: u8 = 1;
pub(crate) const INIT: u8 = 2;
pub(crate) const COOKIE_SENT: u8 = 3;
pub(crate) const COOKIE_REPLIED: u8 = 4;
pub(crate) const COOKIE_WAIT: u8 = 5;
pub(crate) const COOKIE: u8 = 6;
pub(crate) const COOKIE_ECHOED: u8 = 7;
pub(crate) const ESTABLISHED: u8 = 8;
pub(crate) const SHUTDOWN_SENT: u8 = 9;
pub(crate) const SHUTDOWN_RECEIVED: u8 = 10;
pub(crate) const SHUTDOWN_ACK_SENT: u8 = 11;
pub(crate) const REJECTED: u8 = 12;
pub(crate) const CLOSED: u8 = 13;
const LAST: usize = 14;

const NAMES: [&str; LAST] = [
    "NONE",
    "INIT1",
    "INIT",
    "C-SENT",
    "C-REPLIED",
    "C-WAIT",
    "COOKIE",
    "C-ECHOED",
    "ESTABLISHED",
    "S-SENT",
    "S-RECEIVED",
    "S-ACK-SENT",
    "REJECTED",
    "CLOSED",
];

/// ip_vs's longest retransmission time, 60 s, and a second.
const MAX_RTO: u32 = 61;
/// Timeouts in seconds: short for NONE, for an INIT never answered
/// (INIT1) and one refused (REJECTED), 15 minutes for ESTABLISHED, the
/// longest retransmission time for the rest.
const TIMEOUTS: [u32; LAST] = [
    2, 4, MAX_RTO, MAX_RTO, MAX_RTO, MAX_RTO, MAX_RTO, MAX_RTO, 900, MAX_RTO, MAX_RTO, MAX_RTO, 4,
    MAX_RTO,
];

pub(crate) fn name(state: u8) -> &'static str {
    NAMES.get(usize::from(state)).copied().unwrap_or("ERR!")
}

/// Only an established association counts as an active connection.
pub(crate) fn active(state: u8) -> bool {
    state == ESTABLISHED
}

pub(crate) fn timeout(state: u8) -> u32 {
    TIMEOUTS.get(usize::from(state)).copied().unwrap_or(2)
}

/// The events: rows of the tables.
const EV_DATA: usize = 0;
const EV_INIT: usize = 1;
const EV_INIT_ACK: usize = 2;
const EV_COOKIE_ECHO: usize = 3;
const EV_COOKIE_ACK: usize = 4;
const EV_SHUTDOWN: usize = 5;
const EV_SHUTDOWN_ACK: usize = 6;
const EV_SHUTDOWN_COMPLETE: usize = 7;
const EV_ERROR: usize = 8;
const EV_ABORT: usize = 9;
const EVENTS: usize = 10;

/// The event of a chunk type: DATA for DATA, SACK, HEARTBEAT(-ACK), the
/// ECN chunks and every type after SHUTDOWN COMPLETE (as ip_vs).
fn event(chunk: u8) -> usize {
    match chunk {
        CID_INIT => EV_INIT,
        CID_INIT_ACK => EV_INIT_ACK,
        CID_ABORT => EV_ABORT,
        CID_SHUTDOWN => EV_SHUTDOWN,
        CID_SHUTDOWN_ACK => EV_SHUTDOWN_ACK,
        CID_ERROR => EV_ERROR,
        CID_COOKIE_ECHO => EV_COOKIE_ECHO,
        CID_COOKIE_ACK => EV_COOKIE_ACK,
        CID_SHUTDOWN_COMPLETE => EV_SHUTDOWN_COMPLETE,
        _ => EV_DATA,
    }
}

/// What the director reads of an SCTP packet's chunks, from the bytes
/// after the IP header (`l4`, possibly only the linear part of them) and
/// the transport length `l4_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chunks {
    /// No chunk header in the packet.
    None,
    /// The first chunk's header is beyond `l4`: the caller reads it (not
    /// pulling it: the data of a GSO packet must stay where it is).
    Unread,
    /// The chunk type that drives the state.
    Type(u8),
    /// A COOKIE ECHO or COOKIE ACK (the type given) whose next chunk, at
    /// this offset from the SCTP header, is beyond `l4`: the caller reads
    /// its type (an ABORT there counts instead).
    After(u8, usize),
}

/// [`Chunks`] of a packet.
pub(crate) fn chunks(l4: &[u8], l4_total: usize) -> Chunks {
    if l4_total < HDR_LEN + CHUNK_HDR_LEN {
        return Chunks::None;
    }
    let (Some(&first), Some(&h), Some(&l)) =
        (l4.get(HDR_LEN), l4.get(HDR_LEN + 2), l4.get(HDR_LEN + 3))
    else {
        return Chunks::Unread;
    };
    if first != CID_COOKIE_ECHO && first != CID_COOKIE_ACK {
        return Chunks::Type(first);
    }
    let len = usize::from(u16::from_be_bytes([h, l]));
    if len < CHUNK_HDR_LEN {
        return Chunks::Type(first);
    }
    // The next chunk starts on a 4-byte boundary.
    let next = HDR_LEN + ((len + 3) & !3);
    if next + CHUNK_HDR_LEN > l4_total {
        return Chunks::Type(first);
    }
    match l4.get(next) {
        Some(&CID_ABORT) => Chunks::Type(CID_ABORT),
        Some(_) => Chunks::Type(first),
        None => Chunks::After(first, next),
    }
}

/// Whether a packet whose first chunk is `chunk` may start a new
/// association (ip_vs's sctp_conn_schedule): an INIT, or with
/// `sloppy` anything but an ABORT.
pub(crate) fn schedules(chunk: u8, sloppy: bool) -> bool {
    chunk != CID_ABORT && (sloppy || chunk == CID_INIT)
}

use self::{
    CLOSED as CL, COOKIE as CO, COOKIE_ECHOED as CE, COOKIE_REPLIED as CR, COOKIE_SENT as CS,
    COOKIE_WAIT as CW, ESTABLISHED as ES, INIT as IN, INIT1 as I1, REJECTED as RJ,
    SHUTDOWN_ACK_SENT as SA, SHUTDOWN_RECEIVED as SR, SHUTDOWN_SENT as SS,
};

type Table = [[u8; LAST]; EVENTS];

/// Next state by [event][current state] for the client's packets, as
/// the real server would see the association (ip_vs's INPUT table).
/// Columns: NO I1 IN CS CR CW CO CE ES SS SR SA RJ CL.
const INPUT: Table = [
    [ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL], // DATA
    [I1, IN, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, IN, IN], // INIT
    [CW, CW, CW, CS, CR, CO, CO, CE, ES, SS, SR, SA, RJ, CL], // INIT ACK
    [CR, IN, IN, CR, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL], // COOKIE ECHO
    [ES, I1, IN, CS, CR, CW, CO, ES, ES, SS, SR, SA, RJ, CL], // COOKIE ACK
    [SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL], // SHUTDOWN
    [CL, IN, IN, CS, CR, CW, CO, CE, ES, CL, SR, CL, RJ, CL], // SHUTDOWN ACK
    [CL, CL, CL, CS, CR, CW, CO, CE, ES, SS, SR, CL, RJ, CL], // SHUTDOWN COMPLETE
    [CL, I1, IN, CS, CR, CW, CO, CL, ES, SS, SR, SA, RJ, CL], // ERROR
    [CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL], // ABORT
];

/// The real server's packets (NAT), ip_vs's OUTPUT table.
const OUTPUT: Table = [
    [ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL], // DATA
    [CW, CW, CW, CW, CW, CW, CW, CW, ES, CW, CW, CW, CW, CW], // INIT
    [CS, CS, CS, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL], // INIT ACK
    [CE, CE, CE, CE, CE, CE, CE, CE, ES, SS, SR, SA, RJ, CL], // COOKIE ECHO
    [ES, ES, ES, ES, ES, ES, ES, ES, ES, SS, SR, SA, RJ, CL], // COOKIE ACK
    [SS, SS, SS, SS, SS, SS, SS, SS, SS, SS, SR, SA, RJ, CL], // SHUTDOWN
    [SA, SA, SA, SA, SA, CW, CO, CE, ES, SA, SA, SA, RJ, CL], // SHUTDOWN ACK
    [CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL], // SHUTDOWN COMPLETE
    [CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, SR, SA, RJ, CL], // ERROR
    [CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL], // ABORT
];

/// The client's packets while no answer passed the director (DR, TUN),
/// ip_vs's INPUT-ONLY table.
const INPUT_ONLY: Table = [
    [ES, I1, IN, CS, CR, ES, CO, CE, ES, SS, SR, SA, RJ, CL], // DATA
    [I1, IN, IN, IN, IN, IN, CO, CE, ES, SS, SR, SA, IN, IN], // INIT
    [CE, CE, CE, CE, CE, CE, CO, CE, ES, SS, SR, SA, RJ, CL], // INIT ACK
    [ES, ES, ES, ES, ES, ES, CO, CE, ES, SS, SR, SA, RJ, CL], // COOKIE ECHO
    [ES, I1, IN, ES, ES, CW, ES, ES, ES, SS, SR, SA, RJ, CL], // COOKIE ACK
    [SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL], // SHUTDOWN
    [CL, IN, IN, CS, CR, CW, CO, CE, CL, CL, SR, CL, RJ, CL], // SHUTDOWN ACK
    [CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, CL, CL, RJ, CL], // SHUTDOWN COMPLETE
    [CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL], // ERROR
    [CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL], // ABORT
];

/// The state after a packet whose driving chunk is `chunk` going `dir`;
/// `no_output` while no packet of the real server's was seen (then the
/// client's follow the input-only table). A state out of range closes.
pub(crate) fn next(state: u8, dir: Dir, no_output: bool, chunk: u8) -> u8 {
    let table = match (dir, no_output) {
        (Dir::Output, _) => &OUTPUT,
        (Dir::Input, true) => &INPUT_ONLY,
        (Dir::Input, false) => &INPUT,
    };
    table
        .get(event(chunk))
        .and_then(|r| r.get(usize::from(state)))
        .copied()
        .unwrap_or(CLOSED)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SCTP packet (common header, then chunks of the given types and
    /// lengths, each padded to 4 bytes).
    fn packet(chunks: &[(u8, usize)]) -> [u8; 256] {
        let mut b = [0u8; 256];
        let mut off = HDR_LEN;
        for &(ty, len) in chunks {
            b[off] = ty;
            b[off + 2..off + 4].copy_from_slice(&(len as u16).to_be_bytes());
            off += (len + 3) & !3;
        }
        b
    }

    #[test]
    fn nat_association_and_shutdown() {
        // Client INIT, server INIT ACK, client COOKIE ECHO, server
        // COOKIE ACK: established; then the client shuts down.
        let mut s = NONE;
        let steps = [
            (Dir::Input, CID_INIT, INIT1),
            (Dir::Output, CID_INIT_ACK, COOKIE_SENT),
            (Dir::Input, CID_COOKIE_ECHO, COOKIE_REPLIED),
            (Dir::Output, CID_COOKIE_ACK, ESTABLISHED),
            (Dir::Input, CID_DATA, ESTABLISHED),
            (Dir::Input, CID_SHUTDOWN, SHUTDOWN_RECEIVED),
            (Dir::Output, CID_SHUTDOWN_ACK, SHUTDOWN_ACK_SENT),
            (Dir::Input, CID_SHUTDOWN_COMPLETE, CLOSED),
        ];
        for (i, &(dir, chunk, want)) in steps.iter().enumerate() {
            // NAT entries never wait for output (NO_OUTPUT is DR's, TUN's).
            s = next(s, dir, false, chunk);
            assert_eq!(name(s), name(want), "step {i}");
        }
        assert!(!active(s));
        assert_eq!(timeout(ESTABLISHED), 900);
        assert_eq!(timeout(INIT1), 4);
        assert_eq!(timeout(CLOSED), 61);
        assert_eq!(name(200), "ERR!");
    }

    #[test]
    fn dr_association_is_seen_from_the_client() {
        let mut s = next(NONE, Dir::Input, true, CID_INIT);
        assert_eq!(s, INIT1);
        // The client's COOKIE ECHO is all a DR director sees of the
        // handshake: established.
        s = next(s, Dir::Input, true, CID_COOKIE_ECHO);
        assert_eq!(s, ESTABLISHED);
        assert!(active(s));
        s = next(s, Dir::Input, true, CID_ABORT);
        assert_eq!(s, CLOSED);
        // A second INIT (the first lost) and an unknown chunk type.
        assert_eq!(next(INIT1, Dir::Input, true, CID_INIT), INIT);
        assert_eq!(next(ESTABLISHED, Dir::Input, true, 0xc0), ESTABLISHED);
        assert_eq!(next(99, Dir::Input, true, CID_DATA), CLOSED);
    }

    #[test]
    fn the_driving_chunk() {
        assert_eq!(chunks(&packet(&[]), HDR_LEN), Chunks::None);
        // A chunk in the packet, but not in the bytes given.
        assert_eq!(chunks(&packet(&[(CID_INIT, 20)])[..14], 32), Chunks::Unread);
        assert_eq!(
            chunks(&packet(&[(CID_INIT, 20)]), 32),
            Chunks::Type(CID_INIT)
        );
        // An ABORT bundled after a COOKIE ECHO counts.
        let b = packet(&[(CID_COOKIE_ECHO, 37), (CID_ABORT, 4)]);
        assert_eq!(chunks(&b, 12 + 40 + 4), Chunks::Type(CID_ABORT));
        // Anything else after it does not; nor a chunk past the end.
        let b = packet(&[(CID_COOKIE_ECHO, 37), (CID_DATA, 20)]);
        assert_eq!(chunks(&b, 12 + 40 + 20), Chunks::Type(CID_COOKIE_ECHO));
        assert_eq!(chunks(&b, 12 + 40), Chunks::Type(CID_COOKIE_ECHO));
        // A length below a header's: no second chunk is looked for.
        let b = packet(&[(CID_COOKIE_ACK, 2)]);
        assert_eq!(chunks(&b, 32), Chunks::Type(CID_COOKIE_ACK));
        // The next chunk beyond the bytes given: the caller reads it.
        let b = packet(&[(CID_COOKIE_ECHO, 200), (CID_ABORT, 4)]);
        assert_eq!(
            chunks(&b[..100], 12 + 200 + 4),
            Chunks::After(CID_COOKIE_ECHO, 212)
        );
        assert_eq!(chunks(&b, 12 + 200 + 4), Chunks::Type(CID_ABORT));
    }

    #[test]
    fn scheduling() {
        assert!(schedules(CID_INIT, false));
        assert!(!schedules(CID_DATA, false));
        assert!(schedules(CID_DATA, true));
        assert!(!schedules(CID_ABORT, true));
    }
}
