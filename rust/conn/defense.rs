// SPDX-License-Identifier: GPL-2.0

//! ip_vs's defences against memory exhaustion (ip_vs_ctl.c's
//! `update_defense_level`, ip_vs_conn.c's `todrop_entry`,
//! include/net/ip_vs.h's `ip_vs_todrop`): the once-a-second state machine
//! of the `drop_entry`, `drop_packet` and `secure_tcp` sysctls, and which
//! entries and packets they drop. Pure logic, tested on the host.

// Shared with the host crate, which uses more of it than the module.
#![allow(dead_code)]

/// What the defences do until the next update.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) struct Level {
    /// Drop entries at random (`ip_vs_random_dropentry`) this second.
    pub(crate) drop_entry: bool,
    /// Drop one new connection in `drop_rate` (0: none).
    pub(crate) drop_rate: i32,
    /// TCP follows the stricter state table (`tcp_states_dos`).
    pub(crate) secure_tcp: bool,
}

/// The three sysctls' modes: 0 never, 1 when memory is short (switching
/// to 2 meanwhile), 3 always.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) struct Modes {
    pub(crate) drop_entry: i32,
    pub(crate) drop_packet: i32,
    pub(crate) secure_tcp: i32,
}

/// A mode's step (drop_entry's and secure_tcp's): whether the defence is
/// on; 1 reads 2 while memory is short, 2 reads 1 again when it is not.
fn step(mode: &mut i32, nomem: bool) -> bool {
    match *mode {
        1 if nomem => {
            *mode = 2;
            true
        }
        2 if !nomem => {
            *mode = 1;
            false
        }
        2 | 3 => true,
        _ => false,
    }
}

/// One update (once a second, and after a write of a mode): the modes
/// change as ip_vs changes them; `avail` is the free and buffer memory in
/// pages, `amemthresh` the threshold in pages, `am_droprate` the rate of
/// drop_packet's mode 3.
pub(crate) fn update(m: &mut Modes, avail: i64, amemthresh: i32, am_droprate: i32) -> Level {
    let thresh = i64::from(amemthresh.max(0));
    let nomem = avail < thresh;
    let entry = step(&mut m.drop_entry, nomem);
    let secure_tcp = step(&mut m.secure_tcp, nomem);
    // ip_vs: amemthresh / (amemthresh - availmem), at least 1.
    let rate_now = || {
        let d = (thresh - avail).max(1);
        i32::try_from(thresh / d).unwrap_or(i32::MAX)
    };
    let rate = match m.drop_packet {
        1 if nomem => {
            m.drop_packet = 2;
            rate_now()
        }
        2 if nomem => rate_now(),
        2 => {
            m.drop_packet = 1;
            0
        }
        3 => am_droprate,
        _ => 0,
    };
    Level {
        drop_entry: entry,
        drop_rate: rate,
        secure_tcp,
    }
}

/// Whether to drop this new connection, one in `rate` (`ip_vs_todrop`):
/// `counter` counts down to the next drop.
pub(crate) fn todrop(rate: i32, counter: &mut i32) -> bool {
    if rate <= 0 {
        return false;
    }
    *counter = counter.saturating_sub(1);
    if *counter > 0 {
        return false;
    }
    *counter = rate;
    true
}

/// Whether a random drop takes an entry that has had `in_pkts` incoming
/// packets and was last used `idle` jiffies ago (`todrop_entry`): never one
/// used in the last 60 s, and among the others one in `n` of those with
/// `n` packets (n from 1 to 8), none with more; `counters` count down per
/// `n`.
pub(crate) fn todrop_entry(counters: &mut [i32; 9], in_pkts: u32, idle: u64, hz: u32) -> bool {
    if idle < 60 * u64::from(hz) {
        return false;
    }
    let Ok(i) = usize::try_from(in_pkts) else {
        return false;
    };
    let Some(c) = counters.get_mut(i) else {
        return false;
    };
    // ip_vs's rates: one in `i` for `i` packets; none for 0.
    let rate = i as i32;
    if rate == 0 {
        return false;
    }
    *c = c.saturating_sub(1);
    if *c > 0 {
        return false;
    }
    *c = rate;
    true
}

/// The order in which entries of a full table give way to a new
/// connection (rvs's own: ip_vs has no bound): half-open ones first (a TCP
/// SYN_RECV or SYNACK, an SCTP INIT), then those whose real server never
/// answered (NAT), then persistence templates that control no connection,
/// then the least recently used idle entry (DR and TUN, whose real
/// servers' answers the director does not see, and everything else).
pub(crate) const EVICT_HALF_OPEN: u8 = 0;
pub(crate) const EVICT_UNANSWERED: u8 = 1;
pub(crate) const EVICT_TEMPLATE: u8 = 2;
pub(crate) const EVICT_IDLE: u8 = 3;
/// The number of classes.
pub(crate) const EVICT_CLASSES: usize = 4;

/// What eviction looks at in an entry.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EvictView {
    pub(crate) template: bool,
    /// A TCP or SCTP handshake not finished.
    pub(crate) half_open: bool,
    /// By NAT, and no packet of the real server's seen yet.
    pub(crate) unanswered: bool,
    /// A template's connections.
    pub(crate) controls: u32,
    /// A packet used it since it was last put at the end of its list.
    pub(crate) used_since: bool,
}

/// An entry's eviction class now.
pub(crate) fn evict_class(e: &EvictView) -> u8 {
    if e.template {
        EVICT_TEMPLATE
    } else if e.half_open {
        EVICT_HALF_OPEN
    } else if e.unanswered {
        EVICT_UNANSWERED
    } else {
        EVICT_IDLE
    }
}

/// What happens to the entry at the head of the eviction list of `list`.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Evict {
    /// It gives way (if no packet is using it).
    Take,
    /// Its class changed: to that list.
    Move(u8),
    /// It stays (a template controlling connections, an idle-class entry
    /// used since it was last looked at): to the end of its list.
    Keep,
}

/// The verdict on `e`, at the head of list `list`.
pub(crate) fn evict_verdict(list: u8, e: &EvictView) -> Evict {
    let c = evict_class(e);
    if c != list {
        return Evict::Move(c);
    }
    match c {
        EVICT_TEMPLATE if e.controls != 0 => Evict::Keep,
        EVICT_IDLE if e.used_since => Evict::Keep,
        _ => Evict::Take,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_order() {
        let v = |f: fn(&mut EvictView)| {
            let mut e = EvictView::default();
            f(&mut e);
            e
        };
        let half = v(|e| e.half_open = true);
        let unans = v(|e| e.unanswered = true);
        let tpl = v(|e| e.template = true);
        let busy_tpl = v(|e| {
            e.template = true;
            e.controls = 2
        });
        let idle = v(|_| {});
        let used = v(|e| e.used_since = true);
        // A half-open entry is half-open whether answered or not.
        let half_unans = v(|e| {
            e.half_open = true;
            e.unanswered = true
        });
        assert_eq!(evict_class(&half), EVICT_HALF_OPEN);
        assert_eq!(evict_class(&half_unans), EVICT_HALF_OPEN);
        assert_eq!(evict_class(&unans), EVICT_UNANSWERED);
        assert_eq!(evict_class(&tpl), EVICT_TEMPLATE);
        assert_eq!(evict_class(&idle), EVICT_IDLE);
        assert_eq!(evict_verdict(EVICT_HALF_OPEN, &half), Evict::Take);
        assert_eq!(evict_verdict(EVICT_UNANSWERED, &unans), Evict::Take);
        assert_eq!(evict_verdict(EVICT_TEMPLATE, &tpl), Evict::Take);
        assert_eq!(evict_verdict(EVICT_TEMPLATE, &busy_tpl), Evict::Keep);
        assert_eq!(evict_verdict(EVICT_IDLE, &idle), Evict::Take);
        assert_eq!(evict_verdict(EVICT_IDLE, &used), Evict::Keep);
        // A handshake that finished moves on; an answered NAT entry too.
        assert_eq!(
            evict_verdict(EVICT_HALF_OPEN, &unans),
            Evict::Move(EVICT_UNANSWERED)
        );
        assert_eq!(
            evict_verdict(EVICT_UNANSWERED, &idle),
            Evict::Move(EVICT_IDLE)
        );
        assert_eq!(
            evict_verdict(EVICT_IDLE, &half),
            Evict::Move(EVICT_HALF_OPEN)
        );
        assert!(EVICT_IDLE as usize == EVICT_CLASSES - 1);
    }

    fn modes(e: i32, p: i32, s: i32) -> Modes {
        Modes {
            drop_entry: e,
            drop_packet: p,
            secure_tcp: s,
        }
    }

    #[test]
    fn modes_switch_as_ip_vs_does() {
        let mut m = modes(1, 1, 1);
        // Plenty of memory: nothing.
        let l = update(&mut m, 5000, 1024, 10);
        assert_eq!(
            l,
            Level {
                drop_entry: false,
                drop_rate: 0,
                secure_tcp: false
            }
        );
        assert_eq!(m, modes(1, 1, 1));
        // Short: on, the modes read 2.
        let l = update(&mut m, 1000, 1024, 10);
        assert_eq!(
            l,
            Level {
                drop_entry: true,
                drop_rate: 1024 / 24,
                secure_tcp: true
            }
        );
        assert_eq!(m, modes(2, 2, 2));
        let l = update(&mut m, 24, 1024, 10);
        assert_eq!(l.drop_rate, 1);
        // Back: off, the modes read 1 again.
        let l = update(&mut m, 2000, 1024, 10);
        assert_eq!(
            l,
            Level {
                drop_entry: false,
                drop_rate: 0,
                secure_tcp: false
            }
        );
        assert_eq!(m, modes(1, 1, 1));
        // 3: always; 0: never.
        let mut m = modes(3, 3, 3);
        assert_eq!(
            update(&mut m, 1 << 30, 1024, 10),
            Level {
                drop_entry: true,
                drop_rate: 10,
                secure_tcp: true
            }
        );
        let mut m = modes(0, 0, 0);
        assert_eq!(
            update(&mut m, 0, 1024, 10),
            Level {
                drop_entry: false,
                drop_rate: 0,
                secure_tcp: false
            }
        );
        assert_eq!(m, modes(0, 0, 0));
        // A negative threshold counts as 0: never short.
        let mut m = modes(1, 1, 1);
        let l = update(&mut m, 0, -5, 10);
        assert!(!l.drop_entry && !l.secure_tcp);
        // 2 with memory plenty reads 1 (a write of 2 lasts one update).
        let mut m = modes(0, 0, 2);
        assert!(!update(&mut m, 5000, 1024, 10).secure_tcp);
        assert_eq!(m, modes(0, 0, 1));
    }

    #[test]
    fn one_in_rate() {
        let mut c = 0;
        let drops: usize = (0..100).filter(|_| todrop(10, &mut c)).count();
        assert_eq!(drops, 10);
        assert!(!todrop(0, &mut c));
    }

    #[test]
    fn entries_by_packets_and_age() {
        let mut c = [0; 9];
        // Used within 60 s: kept.
        assert!(!todrop_entry(&mut c, 1, 59 * 250, 250));
        // No packet, or more than 8: kept.
        assert!(!todrop_entry(&mut c, 0, 600 * 250, 250));
        assert!(!todrop_entry(&mut c, 9, 600 * 250, 250));
        // One packet: every time; three: one in three.
        assert!((0..5).all(|_| todrop_entry(&mut c, 1, 600 * 250, 250)));
        let n = (0..9)
            .filter(|_| todrop_entry(&mut c, 3, 600 * 250, 250))
            .count();
        assert_eq!(n, 3);
    }
}
