// SPDX-License-Identifier: GPL-2.0

//! Round robin (ip_vs_rr.c): the next available destination after the last
//! one picked, in list order; quiesced (weight 0) and overloaded ones are
//! skipped.

use super::{Change, DestView, Flow, Scheduler};

/// The position of the last pick: `None` is the list head (nothing picked
/// yet), `Some(i)` the destination at index `i`.
pub(crate) struct Rr {
    last: Option<usize>,
}

impl Rr {
    pub(crate) fn new() -> Self {
        Self { last: None }
    }
}

fn available<D: DestView>(d: &D) -> bool {
    !d.overloaded() && d.weight() > 0
}

impl Scheduler for Rr {
    fn schedule<D: DestView>(&mut self, dests: &[D], _flow: &Flow) -> Option<usize> {
        let start = self.last.map_or(0, |l| l.saturating_add(1));
        // From after the last pick to the end, then from the start up to
        // and including the last pick (a second pass only when there was
        // one, as ip_vs).
        let first = (start..dests.len()).find(|&i| dests.get(i).is_some_and(available));
        let pick = first.or_else(|| {
            let last = self.last?;
            (0..=last.min(dests.len().saturating_sub(1)))
                .find(|&i| dests.get(i).is_some_and(available))
        })?;
        self.last = Some(pick);
        Some(pick)
    }

    fn changed<D: DestView>(&mut self, _dests: &[D], change: Change) {
        self.last = match (change, self.last) {
            (_, None) => None,
            (Change::Added(at), Some(l)) if at <= l => Some(l.saturating_add(1)),
            // The last pick is gone: continue from the one before it.
            (Change::Removed(at), Some(l)) if at == l => l.checked_sub(1),
            (Change::Removed(at), Some(l)) if at < l => Some(l.saturating_sub(1)),
            (_, l) => l,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dests, Flow, Scheduler};
    use super::*;

    fn picks(s: &mut Rr, d: &[super::super::TestDest], n: usize) -> std::vec::Vec<Option<usize>> {
        (0..n).map(|_| s.schedule(d, &Flow::default())).collect()
    }

    #[test]
    fn cycles_in_list_order() {
        let d = dests(&[1, 1, 1]);
        let mut s = Rr::new();
        assert_eq!(picks(&mut s, &d, 7), [0, 1, 2, 0, 1, 2, 0].map(Some));
    }

    #[test]
    fn skips_quiesced_and_overloaded() {
        let mut d = dests(&[1, 0, 1]);
        d[2].overloaded = true;
        let mut s = Rr::new();
        assert_eq!(picks(&mut s, &d, 3), [Some(0); 3]);
        let none = dests(&[0, 0]);
        assert_eq!(Rr::new().schedule(&none, &Flow::default()), None);
        assert_eq!(Rr::new().schedule(&dests(&[]), &Flow::default()), None);
    }

    #[test]
    fn follows_list_changes() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = Rr::new();
        assert_eq!(picks(&mut s, &d, 2), [Some(0), Some(1)]);
        // The last pick (index 1) is removed: continue after index 0.
        d.remove(1);
        s.changed(&d, Change::Removed(1));
        assert_eq!(picks(&mut s, &d, 2), [Some(1), Some(0)]);
        d.insert(
            0,
            super::super::TestDest {
                weight: 1,
                ..Default::default()
            },
        );
        s.changed(&d, Change::Added(0));
        // Last pick was old index 0, now 1: the next is 2.
        assert_eq!(picks(&mut s, &d, 3), [Some(2), Some(0), Some(1)]);
    }
}
