// SPDX-License-Identifier: GPL-2.0

//! Weighted random twos choice (ip_vs_twos.c): two destinations drawn at
//! random, each with a chance in proportion to its weight, and the less
//! loaded of the two (connection overhead over weight) gets the
//! connection. Quiesced and overloaded destinations are never drawn.

use super::{conn_overhead, DestView, Flow, Scheduler};

pub(crate) struct Twos {
    /// xorshift64* state (never 0), seeded by the caller.
    state: u64,
}

impl Twos {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed | 1 }
    }

    /// A number in `[0, n)` (the kernel's `get_random_u32_below`, by a
    /// multiply of a 32-bit draw).
    fn below(&mut self, n: u32) -> u32 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        let r = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32;
        ((u64::from(r) * u64::from(n)) >> 32) as u32
    }
}

fn available<D: DestView>(d: &D) -> bool {
    !d.overloaded() && d.weight() > 0
}

/// The pick for the draws `r1` and `r2` in `[0, total weight]`: each
/// lands on the first available destination at which the running sum of
/// weights reaches it; the second wins if it is strictly less loaded
/// (`weight2 * overhead1 > weight1 * overhead2`).
pub(crate) fn pick<D: DestView>(dests: &[D], r1: i32, r2: i32) -> Option<usize> {
    let last = dests.iter().rposition(available)?;
    let (mut r1, mut r2) = (r1, r2);
    let mut first: Option<(usize, i32, i32)> = None;
    let mut second: Option<(usize, i32, i32)> = None;
    for (i, d) in dests.iter().enumerate() {
        if !available(d) {
            continue;
        }
        let w = d.weight();
        r1 = r1.wrapping_sub(w);
        r2 = r2.wrapping_sub(w);
        if r1 <= 0 && first.is_none() {
            first = Some((i, w, conn_overhead(d)));
        }
        if r2 <= 0 && second.is_none() {
            second = Some((i, w, conn_overhead(d)));
        }
        if first.is_some() && second.is_some() {
            break;
        }
    }
    let Some((i1, w1, o1)) = first else {
        return Some(last);
    };
    match second {
        Some((i2, w2, o2)) if w2.wrapping_mul(o1) > w1.wrapping_mul(o2) => Some(i2),
        _ => Some(i1),
    }
}

impl Scheduler for Twos {
    fn schedule<D: DestView>(&mut self, dests: &[D], _flow: &Flow) -> Option<usize> {
        let total = dests
            .iter()
            .filter(|d| available(*d))
            .fold(0i32, |t, d| t.saturating_add(d.weight()));
        if total == 0 {
            return None;
        }
        // Inclusive of the total, as ip_vs draws.
        let n = total.saturating_add(1) as u32;
        let r1 = self.below(n) as i32;
        let r2 = self.below(n) as i32;
        pick(dests, r1, r2)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dests, Flow, Scheduler};
    use super::*;

    /// Where draw `r` alone lands.
    fn lands(d: &[super::super::TestDest], r: i32) -> usize {
        let mut r = r;
        for (i, x) in d.iter().enumerate() {
            if available(x) {
                r -= x.weight;
                if r <= 0 {
                    return i;
                }
            }
        }
        unreachable!()
    }

    #[test]
    fn the_less_loaded_of_the_two_draws() {
        let mut d = dests(&[1, 2, 3, 0, 4]);
        for (i, x) in d.iter_mut().enumerate() {
            x.active = (i as i32 * 7) % 5;
            x.inactive = (i as i32 * 3) % 4;
        }
        d[1].overloaded = true;
        let total: i32 = d.iter().filter(|x| available(*x)).map(|x| x.weight).sum();
        for r1 in 0..=total {
            for r2 in 0..=total {
                let (a, b) = (lands(&d, r1), lands(&d, r2));
                let p = pick(&d, r1, r2).unwrap();
                assert!(p == a || p == b);
                assert!(available(&d[p]));
                let load = |i: usize| conn_overhead(&d[i]) as i64 * 1000 / d[i].weight as i64;
                assert!(load(p) <= load(a).min(load(b)) + 1, "r1 {r1} r2 {r2}");
            }
        }
    }

    #[test]
    fn spreads_by_weight_as_load_builds() {
        let mut d = dests(&[1, 2, 3]);
        let mut s = Twos::new(12345);
        let f = Flow::default();
        for _ in 0..600 {
            let i = s.schedule(&d, &f).unwrap();
            d[i].inactive += 1;
        }
        let c: std::vec::Vec<i32> = d.iter().map(|x| x.inactive).collect();
        for (got, want) in c.iter().zip([100, 200, 300]) {
            assert!((got - want).abs() <= want / 10, "{c:?}");
        }
    }

    #[test]
    fn none_available() {
        let mut d = dests(&[0, 1]);
        d[1].overloaded = true;
        assert_eq!(Twos::new(1).schedule(&d, &Flow::default()), None);
        let none: [super::super::TestDest; 0] = [];
        assert_eq!(Twos::new(1).schedule(&none, &Flow::default()), None);
    }
}
