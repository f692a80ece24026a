// SPDX-License-Identifier: GPL-2.0

//! Never queue (ip_vs_nq.c): an idle destination (no active connection)
//! right away, in list order; otherwise the shortest expected delay.

use super::sed::expected;
use super::{DestView, Flow, Scheduler};

pub(crate) struct Nq;

impl Scheduler for Nq {
    fn schedule<D: DestView>(&mut self, dests: &[D], _flow: &Flow) -> Option<usize> {
        let mut least: Option<(usize, i32)> = None;
        for (i, d) in dests.iter().enumerate() {
            if d.overloaded() || d.weight() == 0 {
                continue;
            }
            let doh = expected(d);
            if d.active() == 0 {
                return Some(i);
            }
            let better = match least {
                None => true,
                Some((l, loh)) => {
                    let lw = dests.get(l).map_or(0, |x| x.weight());
                    i64::from(loh) * i64::from(d.weight()) > i64::from(doh) * i64::from(lw)
                }
            };
            if better {
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
    fn idle_first() {
        let mut d = dests(&[1, 5, 1]);
        d[0].active = 3;
        d[1].active = 1;
        assert_eq!(Nq.schedule(&d, &Flow::default()), Some(2));
        d[2].active = 1;
        // 4/1, 2/5, 2/1: the second.
        assert_eq!(Nq.schedule(&d, &Flow::default()), Some(1));
    }
}
