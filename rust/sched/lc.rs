// SPDX-License-Identifier: GPL-2.0

//! Least connections (ip_vs_lc.c): the available destination with the
//! smallest overhead (256 x active + inactive); the first one in list order
//! wins a tie.

use super::{conn_overhead, DestView, Flow, Scheduler};

pub(crate) struct Lc;

impl Scheduler for Lc {
    fn schedule<D: DestView>(&mut self, dests: &[D], _flow: &Flow) -> Option<usize> {
        let mut least: Option<(usize, i32)> = None;
        for (i, d) in dests.iter().enumerate() {
            if d.overloaded() || d.weight() == 0 {
                continue;
            }
            let doh = conn_overhead(d);
            if least.is_none_or(|(_, loh)| (doh as u32) < (loh as u32)) {
                least = Some((i, doh));
            }
        }
        least.map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dests, Flow, Scheduler};
    use super::*;

    #[test]
    fn least_loaded_first_on_tie() {
        let mut d = dests(&[1, 1, 1]);
        assert_eq!(Lc.schedule(&d, &Flow::default()), Some(0));
        d[0].active = 1;
        assert_eq!(Lc.schedule(&d, &Flow::default()), Some(1));
        d[1].inactive = 300;
        d[2].active = 1;
        // 256 + 0 vs 300 vs 256: the first of the two 256s.
        assert_eq!(Lc.schedule(&d, &Flow::default()), Some(0));
        d[0].weight = 0;
        assert_eq!(Lc.schedule(&d, &Flow::default()), Some(2));
    }
}
