// SPDX-License-Identifier: GPL-2.0

//! Weighted round robin (ip_vs_wrr.c): passes over the list with a current
//! weight that steps down from the largest weight by the weights' greatest
//! common divisor; a destination is picked when its weight reaches the
//! current one. Weights 3:2:1 give 3/6, 2/6, 1/6 of the connections.

use super::{Change, DestView, Flow, Scheduler};

/// ip_vs's `struct ip_vs_wrr_mark`.
pub(crate) struct Wrr {
    /// Position in the list: `None` is the head.
    cl: Option<usize>,
    /// Current weight.
    cw: i32,
    /// Largest weight, less `di - 1`.
    mw: i32,
    /// Greatest common divisor of the positive weights.
    di: i32,
}

fn gcd(mut a: i32, mut b: i32) -> i32 {
    while b != 0 {
        let t = a.checked_rem(b).unwrap_or(0);
        a = b;
        b = t;
    }
    a
}

fn gcd_weight<D: DestView>(dests: &[D]) -> i32 {
    let g = dests
        .iter()
        .map(|d| d.weight())
        .filter(|&w| w > 0)
        .fold(0, |g, w| if g > 0 { gcd(w, g) } else { w });
    if g > 0 {
        g
    } else {
        1
    }
}

fn max_weight<D: DestView>(dests: &[D]) -> i32 {
    dests.iter().map(|d| d.weight()).fold(0, i32::max)
}

impl Wrr {
    pub(crate) fn new<D: DestView>(dests: &[D]) -> Self {
        let di = gcd_weight(dests);
        let mw = max_weight(dests).saturating_sub(di.saturating_sub(1));
        Self {
            cl: None,
            cw: mw,
            mw,
            di,
        }
    }
}

impl Scheduler for Wrr {
    fn schedule<D: DestView>(&mut self, dests: &[D], _flow: &Flow) -> Option<usize> {
        if self.mw <= 0 {
            return None;
        }
        let last = self.cl;
        let mut pos = self.cl;
        let mut stop: Option<usize> = None;
        let (mut last_pass, mut restarted) = (false, false);
        loop {
            let start = pos.map_or(0, |p| p.saturating_add(1));
            for (i, d) in dests.iter().enumerate().skip(start) {
                pos = Some(i);
                if !d.overloaded() && d.weight() >= self.cw {
                    self.cl = pos;
                    return pos;
                }
                if stop == Some(i) {
                    self.cl = pos;
                    return None;
                }
            }
            // Back at the head: one step down in weight.
            pos = None;
            self.cw = self.cw.saturating_sub(self.di);
            if self.cw <= 0 {
                self.cw = self.mw;
                if last_pass || last.is_none() {
                    self.cl = None;
                    return None;
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last.is_some() {
                // The first traversal for weight >= 1 covered only the
                // destinations after `last`: now the ones up to it.
                stop = last;
            }
        }
    }

    fn changed<D: DestView>(&mut self, dests: &[D], _change: Change) {
        self.cl = None;
        self.di = gcd_weight(dests);
        self.mw = max_weight(dests).saturating_sub(self.di.saturating_sub(1));
        if self.cw > self.mw || self.cw == 0 {
            self.cw = self.mw;
        } else if self.di > 1 {
            self.cw = (self.cw / self.di)
                .saturating_mul(self.di)
                .saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dests, Flow, Scheduler};
    use super::*;

    fn counts(weights: &[i32], n: usize) -> std::vec::Vec<usize> {
        let d = dests(weights);
        let mut s = Wrr::new(&d);
        let mut c = std::vec![0; d.len()];
        for _ in 0..n {
            let i = s.schedule(&d, &Flow::default()).unwrap();
            c[i] += 1;
        }
        c
    }

    #[test]
    fn three_two_one() {
        assert_eq!(counts(&[3, 2, 1], 300), [150, 100, 50]);
        assert_eq!(counts(&[1, 2, 3], 6), [1, 2, 3]);
        assert_eq!(counts(&[4, 2], 6), [4, 2]);
    }

    #[test]
    fn sequence_as_ip_vs() {
        // Weights 3,2,1: cw 3 -> a; cw 2 -> a,b; cw 1 -> a,b,c.
        let d = dests(&[3, 2, 1]);
        let mut s = Wrr::new(&d);
        let seq: std::vec::Vec<_> = (0..6)
            .map(|_| s.schedule(&d, &Flow::default()).unwrap())
            .collect();
        assert_eq!(seq, [0, 0, 1, 0, 1, 2]);
    }

    #[test]
    fn nothing_available() {
        let d = dests(&[0, 0]);
        assert_eq!(Wrr::new(&d).schedule(&d, &Flow::default()), None);
        let mut d = dests(&[2, 1]);
        d[0].overloaded = true;
        d[1].overloaded = true;
        assert_eq!(Wrr::new(&d).schedule(&d, &Flow::default()), None);
    }

    #[test]
    fn weight_change_is_followed() {
        let mut d = dests(&[1, 1]);
        let mut s = Wrr::new(&d);
        d[0].weight = 0;
        s.changed(&d, Change::Updated(0));
        for _ in 0..4 {
            assert_eq!(s.schedule(&d, &Flow::default()), Some(1));
        }
    }
}
