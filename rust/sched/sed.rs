// SPDX-License-Identifier: GPL-2.0

//! Shortest expected delay (ip_vs_sed.c): (active + 1) / weight, smallest
//! wins; inactive connections do not count.

use super::wlc::least_weighted;
use super::{DestView, Flow, Scheduler};

pub(crate) struct Sed;

/// ip_vs's `ip_vs_sed_dest_overhead` (and nq's): active connections plus
/// the new one.
pub(crate) fn expected<D: DestView>(d: &D) -> i32 {
    d.active().wrapping_add(1)
}

impl Scheduler for Sed {
    fn schedule<D: DestView>(&mut self, dests: &[D], _flow: &Flow) -> Option<usize> {
        least_weighted(dests, expected::<D>)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dests, Flow, Scheduler};
    use super::*;

    #[test]
    fn expected_delay() {
        let mut d = dests(&[1, 2]);
        // 1/1 vs 1/2: the heavier one.
        assert_eq!(Sed.schedule(&d, &Flow::default()), Some(1));
        d[1].active = 1;
        // 1/1 vs 2/2: a tie keeps the first.
        assert_eq!(Sed.schedule(&d, &Flow::default()), Some(0));
        d[0].inactive = 1000;
        assert_eq!(Sed.schedule(&d, &Flow::default()), Some(0));
    }
}
