// SPDX-License-Identifier: GPL-2.0

//! Weighted failover (ip_vs_fo.c): every new connection goes to the
//! destination of the highest weight that is not overloaded (the first of
//! equals in list order); weight 0 never.

use super::{DestView, Flow, Scheduler};

pub(crate) struct Fo;

impl Scheduler for Fo {
    fn schedule<D: DestView>(&mut self, dests: &[D], _flow: &Flow) -> Option<usize> {
        let mut best: Option<(usize, i32)> = None;
        for (i, d) in dests.iter().enumerate() {
            let w = d.weight();
            if !d.overloaded() && w > best.map_or(0, |(_, bw)| bw) {
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

    #[test]
    fn highest_weight_first_of_equals() {
        let f = Flow::default();
        assert_eq!(Fo.schedule(&dests(&[1, 3, 2]), &f), Some(1));
        assert_eq!(Fo.schedule(&dests(&[2, 3, 3]), &f), Some(1));
        assert_eq!(Fo.schedule(&dests(&[0, 0]), &f), None);
        let mut d = dests(&[1, 3, 2]);
        d[1].overloaded = true;
        assert_eq!(Fo.schedule(&d, &f), Some(2));
        d[1].overloaded = false;
        d[1].weight = 0;
        assert_eq!(Fo.schedule(&d, &f), Some(2));
    }
}
