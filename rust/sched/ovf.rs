// SPDX-License-Identifier: GPL-2.0

//! Weighted overflow (ip_vs_ovf.c): new connections go to the destination
//! of the highest weight (the first of equals in list order) while its
//! active connections do not exceed its weight, then overflow to the next
//! highest; quiesced and overloaded destinations are passed over.

use super::{DestView, Flow, Scheduler};

pub(crate) struct Ovf;

impl Scheduler for Ovf {
    fn schedule<D: DestView>(&mut self, dests: &[D], _flow: &Flow) -> Option<usize> {
        let mut best: Option<(usize, i32)> = None;
        for (i, d) in dests.iter().enumerate() {
            let w = d.weight();
            if d.overloaded() || d.active() > w || w == 0 {
                continue;
            }
            if best.is_none_or(|(_, bw)| w > bw) {
                best = Some((i, w));
            }
        }
        best.map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dests, Flow, Scheduler};
    use super::*;

    /// Connections held open: each pick adds an active one.
    #[test]
    fn fills_by_weight_then_overflows() {
        let mut d = dests(&[1, 2, 3]);
        let f = Flow::default();
        let mut got = std::vec::Vec::new();
        while let Some(i) = Ovf.schedule(&d, &f) {
            got.push(i);
            d[i].active += 1;
        }
        // Active may reach weight + 1 (the check is "more than").
        assert_eq!(got, [2, 2, 2, 2, 1, 1, 1, 0, 0]);
    }

    #[test]
    fn passes_over_quiesced_and_overloaded() {
        let f = Flow::default();
        let mut d = dests(&[1, 5, 3]);
        d[1].overloaded = true;
        assert_eq!(Ovf.schedule(&d, &f), Some(2));
        d[2].weight = 0;
        assert_eq!(Ovf.schedule(&d, &f), Some(0));
        assert_eq!(Ovf.schedule(&dests(&[0]), &f), None);
        // Negative weights never happen; equal weights: the first.
        assert_eq!(Ovf.schedule(&dests(&[2, 2]), &f), Some(0));
    }
}
