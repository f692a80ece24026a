// SPDX-License-Identifier: GPL-2.0

//! The TCP state machine of ip_vs (ip_vs_proto_tcp.c): the director sees
//! the client's packets (input) and, for NAT, the real server's (output),
//! and follows the connection with the same states, transitions and
//! default timeouts as ip_vs, so listings and active/inactive counts agree.

use super::{Dir, Timeouts};

pub(crate) const NONE: u8 = 0;
pub(crate) const ESTABLISHED: u8 = 1;
pub(crate) const SYN_SENT: u8 = 2;
pub(crate) const SYN_RECV: u8 = 3;
pub(crate) const FIN_WAIT: u8 = 4;
pub(crate) const TIME_WAIT: u8 = 5;
pub(crate) const CLOSE: u8 = 6;
pub(crate) const CLOSE_WAIT: u8 = 7;
pub(crate) const LAST_ACK: u8 = 8;
pub(crate) const LISTEN: u8 = 9;
pub(crate) const SYNACK: u8 = 10;
const LAST: usize = 11;

const NAMES: [&str; LAST] = [
    "NONE",
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "SYNACK",
];

/// Default timeouts in seconds; ESTABLISHED and FIN_WAIT come from
/// `--set` (their defaults are 900 and 120).
const TIMEOUTS: [u32; LAST] = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120];

/// States that count as active connections of a destination.
const ACTIVE: [bool; LAST] = [
    false, true, true, true, false, false, false, false, false, false, true,
];

pub(crate) fn name(state: u8) -> &'static str {
    NAMES.get(usize::from(state)).copied().unwrap_or("ERR!")
}

pub(crate) fn active(state: u8) -> bool {
    ACTIVE.get(usize::from(state)).copied().unwrap_or(false)
}

pub(crate) fn timeout(state: u8, t: &Timeouts) -> u32 {
    match state {
        ESTABLISHED => t.tcp,
        FIN_WAIT => t.tcp_fin,
        _ => TIMEOUTS.get(usize::from(state)).copied().unwrap_or(2),
    }
}

/// The TCP flags that drive the machine.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Flags {
    pub(crate) syn: bool,
    pub(crate) fin: bool,
    pub(crate) ack: bool,
    pub(crate) rst: bool,
}

impl Flags {
    /// From the 13th byte of a TCP header.
    pub(crate) fn from_byte(b: u8) -> Self {
        Self {
            fin: b & 0x01 != 0,
            syn: b & 0x02 != 0,
            rst: b & 0x04 != 0,
            ack: b & 0x10 != 0,
        }
    }

    /// A SYN alone, the start of a new connection (ip_vs's `is_new_conn`).
    pub(crate) fn is_new(self) -> bool {
        self.syn && !self.ack && !self.fin && !self.rst
    }

    /// The row of the table: rst, then syn, fin, ack, as ip_vs ranks them.
    fn index(self) -> Option<usize> {
        if self.rst {
            Some(3)
        } else if self.syn {
            Some(0)
        } else if self.fin {
            Some(1)
        } else if self.ack {
            Some(2)
        } else {
            None
        }
    }
}

use self::{
    CLOSE as CL, CLOSE_WAIT as CW, ESTABLISHED as ES, FIN_WAIT as FW, LAST_ACK as LA, LISTEN as LI,
    SYNACK as SA, SYN_RECV as SR, SYN_SENT as SS, TIME_WAIT as TW,
};

/// Next state by [direction][flag row][current state]: input, output,
/// input-only (no output seen yet, as with DR and TUN).
const TABLE: [[[u8; LAST]; 4]; 3] = [
    [
        // input: syn, fin, ack, rst
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
    ],
    [
        // output
        [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
        [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
    [
        // input only
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
];

/// The table of `secure_tcp` (ip_vs's `tcp_states_dos`): an entry leaves
/// SYN_RECV on the client's ACK only once the real server has answered
/// (NAT: its SYN-ACK makes it SYNACK, its next packet ESTABLISHED), so
/// spoofed handshakes stay half-open, with the short timeouts.
const TABLE_DOS: [[[u8; LAST]; 4]; 3] = [
    [
        // input: syn, fin, ack, rst
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA],
        [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA],
        [ES, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
    [
        // output
        [SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA],
        [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
    [
        // input only
        [SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA],
        [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
];

/// The state after a packet with `flags` going `dir`. `no_output` is true
/// while the connection has not seen a packet from the real server (then
/// input packets follow the input-only table); `secure` picks the table
/// of `secure_tcp`. A packet with none of the four flags closes the
/// connection, as in ip_vs.
pub(crate) fn next(state: u8, dir: Dir, no_output: bool, flags: Flags, secure: bool) -> u8 {
    let tables = if secure { &TABLE_DOS } else { &TABLE };
    let table = match (dir, no_output) {
        (Dir::Output, _) => 1,
        (Dir::Input, true) => 2,
        (Dir::Input, false) => 0,
    };
    let Some(row) = flags.index() else {
        return CLOSE;
    };
    tables
        .get(table)
        .and_then(|t| t.get(row))
        .and_then(|r| r.get(usize::from(state)))
        .copied()
        .unwrap_or(CLOSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYN: Flags = Flags {
        syn: true,
        fin: false,
        ack: false,
        rst: false,
    };
    const SYNACK_F: Flags = Flags {
        syn: true,
        fin: false,
        ack: true,
        rst: false,
    };
    const ACK: Flags = Flags {
        syn: false,
        fin: false,
        ack: true,
        rst: false,
    };
    const FIN: Flags = Flags {
        syn: false,
        fin: true,
        ack: true,
        rst: false,
    };

    #[test]
    fn nat_handshake_and_close() {
        let mut s = NONE;
        s = next(s, Dir::Input, true, SYN, false);
        assert_eq!(s, SYN_RECV);
        s = next(s, Dir::Output, true, SYNACK_F, false);
        assert_eq!(s, SYN_RECV);
        s = next(s, Dir::Input, false, ACK, false);
        assert_eq!(s, ESTABLISHED);
        s = next(s, Dir::Input, false, FIN, false);
        assert_eq!(s, CLOSE_WAIT);
        s = next(s, Dir::Output, false, FIN, false);
        assert_eq!(s, TIME_WAIT);
        assert!(!active(s));
    }

    #[test]
    fn only_a_lone_syn_is_new() {
        assert!(Flags::from_byte(0x02).is_new());
        // SYN+ACK, SYN+FIN, SYN+RST, ACK.
        for b in [0x12, 0x03, 0x06, 0x10] {
            assert!(!Flags::from_byte(b).is_new(), "{b:#x}");
        }
    }

    #[test]
    fn dr_close_is_fin_wait() {
        let mut s = next(NONE, Dir::Input, true, SYN, false);
        s = next(s, Dir::Input, true, ACK, false);
        assert_eq!(s, ESTABLISHED);
        assert!(active(s));
        s = next(s, Dir::Input, true, FIN, false);
        assert_eq!(s, FIN_WAIT);
        let t = Timeouts {
            tcp: 900,
            tcp_fin: 7,
            udp: 300,
        };
        assert_eq!(timeout(s, &t), 7);
        assert_eq!(name(s), "FIN_WAIT");
        assert_eq!(next(s, Dir::Input, true, Flags::default(), false), CLOSE);
        assert_eq!(name(200), "ERR!");
    }

    #[test]
    fn secure_tcp_waits_for_the_real_server() {
        // NAT: the client's ACK after the SYN-ACK does not establish it;
        // the real server's next packet does.
        let mut s = next(NONE, Dir::Input, false, SYN, true);
        assert_eq!(s, SYN_RECV);
        s = next(s, Dir::Output, false, SYNACK_F, true);
        assert_eq!(s, SYNACK);
        s = next(s, Dir::Input, false, ACK, true);
        assert_eq!(s, SYNACK);
        assert!(active(s));
        s = next(s, Dir::Output, false, ACK, true);
        assert_eq!(s, ESTABLISHED);
        // An ACK without an answer: still half-open (ESTABLISHED without
        // secure_tcp).
        let s = next(SYN_RECV, Dir::Input, false, ACK, true);
        assert_eq!(s, SYN_RECV);
        assert_eq!(next(SYN_RECV, Dir::Input, false, ACK, false), ESTABLISHED);
        // DR/TUN: a SYN makes SYNACK, the ACK ESTABLISHED.
        let s = next(NONE, Dir::Input, true, SYN, true);
        assert_eq!(s, SYNACK);
        assert_eq!(next(FIN_WAIT, Dir::Input, true, SYN, true), SYNACK);
        assert_eq!(next(SYNACK, Dir::Input, true, ACK, true), ESTABLISHED);
    }
}
