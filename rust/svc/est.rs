// SPDX-License-Identifier: GPL-2.0

//! The rate estimator of ip_vs (ip_vs_est.c): every two seconds the
//! counters' increase feeds an exponentially weighted moving average
//! (weight 1/4) of connections, packets and bytes per second, kept scaled
//! (2^10 for conns and packets, 2^5 for bytes) and rounded when read.
//! Pure logic, tested on the host.

// Shared with the host crate.
#![allow(dead_code)]

/// Averages and the counters they were last updated from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Est {
    /// conns, inpkts, outpkts, inbytes, outbytes at the last update.
    last: [u64; 5],
    /// Scaled rates: cps, inpps, outpps (x 2^10), inbps, outbps (x 2^5).
    avg: [i64; 5],
}

impl Est {
    /// Starts from the current counters (ip_vs_start_estimator).
    pub(crate) fn new(now: [u64; 5]) -> Self {
        Self {
            last: now,
            avg: [0; 5],
        }
    }

    /// One two-second step with the counters `now`.
    pub(crate) fn update(&mut self, now: [u64; 5]) {
        for i in 0..5 {
            let (Some(last), Some(avg), Some(&n)) =
                (self.last.get_mut(i), self.avg.get_mut(i), now.get(i))
            else {
                continue;
            };
            // Per second, scaled: << 10 for counts, << 5 for bytes, and
            // halved for the two seconds.
            let shift = if i < 3 { 9 } else { 4 };
            let rate = (n.wrapping_sub(*last) as i64).wrapping_shl(shift);
            *last = n;
            *avg = avg.wrapping_add(rate.wrapping_sub(*avg) >> 2);
        }
    }

    /// The state as plain numbers (to keep in atomics).
    /// Whether a step to `now` would change nothing: no counter moved
    /// since the last step and every average is already 0 (an idle
    /// service or real server, most of them in a large table).
    pub(crate) fn settled(&self, now: &[u64; 5]) -> bool {
        // Or-ed differences, not `==` on the arrays: that became a call to
        // memcmp in the kernel's build, for every counter set every pass.
        let mut d = 0u64;
        for ((l, n), a) in self.last.iter().zip(now.iter()).zip(self.avg.iter()) {
            d |= (l ^ n) | (*a as u64);
        }
        d == 0
    }

    pub(crate) fn parts(&self) -> ([u64; 5], [i64; 5]) {
        (self.last, self.avg)
    }

    pub(crate) fn from_parts(last: [u64; 5], avg: [i64; 5]) -> Self {
        Self { last, avg }
    }

    /// cps, inpps, outpps, inbps, outbps as ip_vs reports them.
    pub(crate) fn rates(&self) -> [u64; 5] {
        let mut r = [0u64; 5];
        for (i, x) in r.iter_mut().enumerate() {
            let a = self.avg.get(i).copied().unwrap_or(0).max(0) as u64;
            *x = if i < 3 {
                a.saturating_add(0x1ff) >> 10
            } else {
                a.saturating_add(0xf) >> 5
            };
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converges_to_the_rate() {
        let mut e = Est::new([0; 5]);
        let mut c = [0u64; 5];
        for _ in 0..40 {
            // 10 conns/s, 100 pkts/s in, 50 out, 64 kB/s in, 1 kB/s out.
            c = [
                c[0] + 20,
                c[1] + 200,
                c[2] + 100,
                c[3] + 128_000,
                c[4] + 2000,
            ];
            e.update(c);
        }
        let r = e.rates();
        assert_eq!(r[..3], [10, 100, 50]);
        // The average approaches from below: the last unit may be missing.
        assert!((63_999..=64_000).contains(&r[3]), "{r:?}");
        assert!((999..=1000).contains(&r[4]), "{r:?}");
        for _ in 0..60 {
            e.update(c);
        }
        assert_eq!(e.rates(), [0; 5]);
    }

    #[test]
    fn settled_only_when_a_step_changes_nothing() {
        let mut e = Est::new([3, 4, 5, 6, 7]);
        assert!(e.settled(&[3, 4, 5, 6, 7]));
        assert!(!e.settled(&[3, 4, 5, 6, 8]));
        e.update([3, 4, 5, 6, 8]);
        // Moved, and decaying: not settled until every average is 0.
        assert!(!e.settled(&[3, 4, 5, 6, 8]));
        let mut steps = 0;
        while !e.settled(&[3, 4, 5, 6, 8]) {
            let before = e;
            e.update([3, 4, 5, 6, 8]);
            assert_ne!(before, e);
            steps += 1;
            assert!(steps < 100);
        }
        let before = e;
        e.update([3, 4, 5, 6, 8]);
        assert_eq!(before, e);
    }

    #[test]
    fn first_step_is_a_quarter() {
        let mut e = Est::new([0; 5]);
        e.update([8, 0, 0, 0, 0]);
        // 4/s, a quarter of it: 1.
        assert_eq!(e.rates()[0], 1);
    }
}
