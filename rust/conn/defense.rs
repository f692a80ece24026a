// SPDX-License-Identifier: GPL-2.0

//! ip_vs's defences against memory exhaustion (ip_vs_ctl.c's
//! `update_defense_level`, ip_vs_conn.c's `todrop_entry`,
//! include/net/ip_vs.h's `ip_vs_todrop`): the once-a-second state machine
//! of the `drop_entry` and `drop_packet` sysctls, and which entries and
//! packets they drop. Pure logic, tested on the host.

// Shared with the host crate, which uses more of it than the module.
#![allow(dead_code)]

/// What the defences do until the next update.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) struct Level {
    /// Drop entries at random (`ip_vs_random_dropentry`) this second.
    pub(crate) drop_entry: bool,
    /// Drop one new connection in `drop_rate` (0: none).
    pub(crate) drop_rate: i32,
}

/// One update, once a second: `drop_entry` and `drop_packet` are the
/// sysctls' modes (0 never, 1 when memory is short, switching to 2
/// meanwhile, 3 always), changed here as ip_vs changes them; `avail` is the
/// free and buffer memory in pages, `amemthresh` the threshold in pages,
/// `am_droprate` the rate of mode 3.
pub(crate) fn update(
    drop_entry: &mut i32,
    drop_packet: &mut i32,
    avail: i64,
    amemthresh: i32,
    am_droprate: i32,
) -> Level {
    let thresh = i64::from(amemthresh.max(0));
    let nomem = avail < thresh;
    let entry = match *drop_entry {
        1 if nomem => {
            *drop_entry = 2;
            true
        }
        2 if !nomem => {
            *drop_entry = 1;
            false
        }
        2 | 3 => true,
        _ => false,
    };
    // ip_vs: amemthresh / (amemthresh - availmem), at least 1.
    let rate_now = || {
        let d = (thresh - avail).max(1);
        i32::try_from(thresh / d).unwrap_or(i32::MAX)
    };
    let rate = match *drop_packet {
        1 if nomem => {
            *drop_packet = 2;
            rate_now()
        }
        2 if nomem => rate_now(),
        2 => {
            *drop_packet = 1;
            0
        }
        3 => am_droprate,
        _ => 0,
    };
    Level {
        drop_entry: entry,
        drop_rate: rate,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_switch_as_ip_vs_does() {
        let (mut e, mut p) = (1, 1);
        // Plenty of memory: nothing.
        let l = update(&mut e, &mut p, 5000, 1024, 10);
        assert_eq!(
            l,
            Level {
                drop_entry: false,
                drop_rate: 0
            }
        );
        assert_eq!((e, p), (1, 1));
        // Short: on, the modes read 2.
        let l = update(&mut e, &mut p, 1000, 1024, 10);
        assert_eq!(
            l,
            Level {
                drop_entry: true,
                drop_rate: 1024 / 24
            }
        );
        assert_eq!((e, p), (2, 2));
        let l = update(&mut e, &mut p, 24, 1024, 10);
        assert_eq!(l.drop_rate, 1);
        // Back: off, the modes read 1 again.
        let l = update(&mut e, &mut p, 2000, 1024, 10);
        assert_eq!(
            l,
            Level {
                drop_entry: false,
                drop_rate: 0
            }
        );
        assert_eq!((e, p), (1, 1));
        // 3: always; 0: never.
        let (mut e, mut p) = (3, 3);
        assert_eq!(
            update(&mut e, &mut p, 1 << 30, 1024, 10),
            Level {
                drop_entry: true,
                drop_rate: 10
            }
        );
        let (mut e, mut p) = (0, 0);
        assert_eq!(
            update(&mut e, &mut p, 0, 1024, 10),
            Level {
                drop_entry: false,
                drop_rate: 0
            }
        );
        assert_eq!((e, p), (0, 0));
        // A negative threshold counts as 0: never short.
        let (mut e, mut p) = (1, 1);
        assert!(!update(&mut e, &mut p, 0, -5, 10).drop_entry);
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
