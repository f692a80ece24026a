// SPDX-License-Identifier: GPL-2.0

//! Weighted least connections (ip_vs_wlc.c): the smallest overhead per
//! unit of weight, compared as cross products (no division).

use super::{conn_overhead, DestView, Flow, Scheduler};

pub(crate) struct Wlc;

/// The pick of wlc and sed: the first available destination, then any
/// later one (not overloaded) whose `overhead / weight` is strictly
/// smaller. `overhead` is the scheduler's cost function.
pub(crate) fn least_weighted<D: DestView>(dests: &[D], overhead: fn(&D) -> i32) -> Option<usize> {
    let first = dests
        .iter()
        .position(|d| !d.overloaded() && d.weight() > 0)?;
    let mut least = first;
    let mut loh = dests.get(first).map(overhead)?;
    for (i, d) in dests.iter().enumerate().skip(first.saturating_add(1)) {
        if d.overloaded() {
            continue;
        }
        let doh = overhead(d);
        let lw = dests.get(least).map_or(0, |l| l.weight());
        if i64::from(loh) * i64::from(d.weight()) > i64::from(doh) * i64::from(lw) {
            least = i;
            loh = doh;
        }
    }
    Some(least)
}

impl Scheduler for Wlc {
    fn schedule<D: DestView>(&mut self, dests: &[D], _flow: &Flow) -> Option<usize> {
        least_weighted(dests, conn_overhead::<D>)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dests, Flow, Scheduler};
    use super::*;

    #[test]
    fn per_weight() {
        let mut d = dests(&[1, 3]);
        d[0].active = 1;
        d[1].active = 2;
        // 256/1 vs 512/3: the second.
        assert_eq!(Wlc.schedule(&d, &Flow::default()), Some(1));
        d[1].active = 4;
        // 256/1 vs 1024/3 (341): the first.
        assert_eq!(Wlc.schedule(&d, &Flow::default()), Some(0));
        d[0].weight = 0;
        assert_eq!(Wlc.schedule(&d, &Flow::default()), Some(1));
    }
}
