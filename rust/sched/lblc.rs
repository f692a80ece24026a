// SPDX-License-Identifier: GPL-2.0

//! Locality-based least connections (ip_vs_lblc.c): a destination address
//! (a web cache's client asks for a site) keeps the real server it was
//! given while that server has a weight and is not overloaded; otherwise
//! the weighted least-connection pick, remembered for the address.

use core::ops::DerefMut;

use super::locality::{is_overloaded, Cache, Entry};
use super::wlc::least_weighted;
use super::{conn_overhead, Change, DestView, Flow, Scheduler};

pub(crate) struct Lblc<S> {
    cache: Cache<S>,
}

impl<S: DerefMut<Target = [Entry]>> Lblc<S> {
    pub(crate) fn new(storage: S) -> Self {
        Self {
            cache: Cache::new(storage),
        }
    }
}

impl<S: DerefMut<Target = [Entry]>> Scheduler for Lblc<S> {
    fn schedule<D: DestView>(&mut self, dests: &[D], flow: &Flow) -> Option<usize> {
        if let Some(e) = self
            .cache
            .get(flow.af, &flow.daddr, flow.now, flow.lblc_expiry)
        {
            if let Some(i) = e.members().next() {
                if let Some(d) = dests.get(i) {
                    if d.weight() > 0 && !is_overloaded(d, dests) {
                        return Some(i);
                    }
                }
            }
        }
        let i = least_weighted(dests, conn_overhead::<D>)?;
        // (The pick stands even without room to remember it.)
        if let Some(e) = self.cache.put(flow.af, &flow.daddr, flow.now) {
            e.insert(i, flow.now);
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
    use super::super::{dests, Change, Flow, Scheduler};
    use super::*;

    fn flow(a: u8, now: u64) -> Flow {
        let mut f = Flow {
            af: 2,
            now,
            lblc_expiry: 1000,
            ..Default::default()
        };
        f.daddr[..4].copy_from_slice(&[203, 0, 113, a]);
        f
    }

    fn lblc() -> Lblc<std::vec::Vec<Entry>> {
        Lblc::new(std::vec![Entry::default(); ENTRIES])
    }

    #[test]
    fn an_address_keeps_its_server() {
        let mut s = lblc();
        let mut d = dests(&[1, 1, 1]);
        assert_eq!(s.schedule(&d, &flow(1, 0)), Some(0));
        d[0].active = 1;
        // Least connections would now say 1; the address stays on 0.
        assert_eq!(s.schedule(&d, &flow(1, 1)), Some(0));
        // Another address: least connections.
        assert_eq!(s.schedule(&d, &flow(2, 2)), Some(1));
    }

    #[test]
    fn overloaded_or_quiesced_moves_the_address() {
        let mut s = lblc();
        let mut d = dests(&[1, 4, 1]);
        assert_eq!(s.schedule(&d, &flow(1, 0)), Some(0));
        // 2 active > weight 1 while rs2 is below half of its weight 4.
        d[0].active = 2;
        assert_eq!(s.schedule(&d, &flow(1, 1)), Some(1));
        assert_eq!(s.schedule(&d, &flow(1, 2)), Some(1));
        d[1].weight = 0;
        assert_eq!(s.schedule(&d, &flow(1, 3)), Some(2));
    }

    #[test]
    fn entries_expire_and_follow_the_list() {
        let mut s = lblc();
        let mut d = dests(&[1, 1]);
        assert_eq!(s.schedule(&d, &flow(1, 0)), Some(0));
        d[0].active = 1;
        // Unused for longer than the expiration: scheduled afresh.
        assert_eq!(s.schedule(&d, &flow(1, 2000)), Some(1));
        // A server added at the head: the entry's index follows.
        d.insert(0, dests(&[1])[0]);
        d[0].active = 5;
        s.changed(&d, Change::Added(0));
        assert_eq!(s.schedule(&d, &flow(1, 2001)), Some(2));
        // Its server removed: another.
        d.remove(2);
        s.changed(&d, Change::Removed(2));
        assert_eq!(s.schedule(&d, &flow(1, 2002)), Some(1));
    }

    #[test]
    fn a_full_set_gives_way_to_the_newest() {
        let mut s = lblc();
        let d = dests(&[1]);
        for a in 0..=255u8 {
            assert_eq!(s.schedule(&d, &flow(a, u64::from(a))), Some(0));
        }
        assert_eq!(s.schedule(&d, &flow(255, 300)), Some(0));
    }
}
