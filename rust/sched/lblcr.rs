// SPDX-License-Identifier: GPL-2.0

//! Locality-based least connections with replication (ip_vs_lblcr.c): a
//! destination address has a set of real servers; the least loaded of the
//! set serves unless it is overloaded, when the weighted least-connection
//! pick joins the set. A set of several that has not changed for the
//! expiration loses its most loaded member.

use core::ops::DerefMut;

use super::locality::{is_overloaded, passed, set_max, set_min, Cache, Entry};
use super::wlc::least_weighted;
use super::{conn_overhead, Change, DestView, Flow, Scheduler};

pub(crate) struct Lblcr<S> {
    cache: Cache<S>,
}

impl<S: DerefMut<Target = [Entry]>> Lblcr<S> {
    pub(crate) fn new(storage: S) -> Self {
        Self {
            cache: Cache::new(storage),
        }
    }
}

impl<S: DerefMut<Target = [Entry]>> Scheduler for Lblcr<S> {
    fn schedule<D: DestView>(&mut self, dests: &[D], flow: &Flow) -> Option<usize> {
        let now = flow.now;
        if let Some(e) = self.cache.get(flow.af, &flow.daddr, now, flow.lblcr_expiry) {
            let min = set_min(dests, e.members());
            if e.size() > 1 && passed(now, e.lastmod(), flow.lblcr_expiry) {
                if let Some(m) = set_max(dests, e.members()) {
                    e.erase(m, now);
                }
            }
            if let Some(i) = min {
                if dests.get(i).is_some_and(|d| !is_overloaded(d, dests)) {
                    return Some(i);
                }
            }
            let i = least_weighted(dests, conn_overhead::<D>)?;
            e.insert(i, now);
            return Some(i);
        }
        let i = least_weighted(dests, conn_overhead::<D>)?;
        if let Some(e) = self.cache.put(flow.af, &flow.daddr, now) {
            e.insert(i, now);
        }
        Some(i)
    }

    fn changed<D: DestView>(&mut self, _dests: &[D], change: Change) {
        self.cache.changed(change);
    }
}

#[cfg(test)]
mod tests {
    use super::super::locality::ENTRIES;
    use super::super::{dests, Flow, Scheduler};
    use super::*;

    fn flow(now: u64) -> Flow {
        let mut f = Flow {
            af: 2,
            now,
            lblcr_expiry: 1000,
            ..Default::default()
        };
        f.daddr[..4].copy_from_slice(&[203, 0, 113, 10]);
        f
    }

    #[test]
    fn the_set_grows_under_load_and_shrinks_when_idle() {
        let mut s = Lblcr::new(std::vec![Entry::default(); ENTRIES]);
        let mut d = dests(&[1, 1, 4]);
        // Least connections over 1:1:4 with none: the first, 0.
        assert_eq!(s.schedule(&d, &flow(0)), Some(0));
        d[0].active = 1;
        // The set {0} serves while 0 is not overloaded (1 active, weight 1).
        assert_eq!(s.schedule(&d, &flow(1)), Some(0));
        d[0].active = 2;
        d[1].active = 1;
        // Overloaded (2 > 1, and 2 is below half its weight): wlc picks 2
        // (0 per weight), which joins the set.
        assert_eq!(s.schedule(&d, &flow(2)), Some(2));
        d[2].active = 1;
        // The set {2, 0}: its least loaded per weight is 2.
        assert_eq!(s.schedule(&d, &flow(3)), Some(2));
        // Used, but unchanged for the expiration: the most loaded per
        // weight (0) leaves the set.
        assert_eq!(s.schedule(&d, &flow(900)), Some(2));
        assert_eq!(s.schedule(&d, &flow(1100)), Some(2));
        let f = flow(1101);
        let e = s.cache.get(2, &f.daddr, f.now, f.lblcr_expiry).unwrap();
        assert_eq!(e.members().collect::<std::vec::Vec<_>>(), [2]);
        // Unused for the expiration: the entry is gone, and wlc picks 1
        // (the set {2} would have kept 2: 5 active, weight 4, not
        // overloaded as none is below half its weight).
        d[2].active = 5;
        assert_eq!(s.schedule(&d, &flow(2200)), Some(1));
    }
}
