// SPDX-License-Identifier: GPL-2.0

//! Source hashing (ip_vs_sh.c): the client's address (and, with sh-port,
//! its port) picks one of 256 buckets. The buckets are dealt out along
//! the destination list, each destination taking as many in a row as its
//! weight (one if its weight is 0), again whenever the list or a weight
//! changes. A quiesced or overloaded destination makes the pick fail,
//! unless sh-fallback is set: then the table is walked from the bucket on
//! (the offset added to the hash each time) for an available one.

use super::{hash_32, hashed_pick, hashed_source, Change, DestView, Flow, Scheduler};

/// `IP_VS_SH_TAB_BITS`: 256 buckets.
const TAB_BITS: u32 = 8;
const TAB_SIZE: usize = 1 << TAB_BITS;
const TAB_MASK: u32 = (1 << TAB_BITS) - 1;

/// `IP_VS_SVC_F_SCHED_SH_FALLBACK`, `IP_VS_SVC_F_SCHED_SH_PORT`.
pub(crate) const F_FALLBACK: u32 = 0x0008;
pub(crate) const F_PORT: u32 = 0x0010;

pub(crate) struct Sh {
    /// Bucket -> index in the destination list (one bucket per step along
    /// it at least, so only the first 256 destinations ever have one).
    tab: [u8; TAB_SIZE],
    /// No destination: every bucket empty.
    empty: bool,
}

impl Sh {
    pub(crate) fn new<D: DestView>(dests: &[D]) -> Self {
        let mut s = Self {
            tab: [0; TAB_SIZE],
            empty: true,
        };
        s.reassign(dests);
        s
    }

    /// ip_vs's `ip_vs_sh_reassign`.
    fn reassign<D: DestView>(&mut self, dests: &[D]) {
        let n = dests.len().min(TAB_SIZE);
        self.empty = n == 0;
        let (mut p, mut count) = (0usize, 0i32);
        for b in self.tab.iter_mut() {
            if n == 0 {
                *b = 0;
                continue;
            }
            *b = p as u8;
            count = count.saturating_add(1);
            if count >= dests.get(p).map_or(0, |d| d.weight()) {
                p = p.saturating_add(1);
                if p >= n {
                    p = 0;
                }
                count = 0;
            }
        }
    }

    fn key(fold: u32, port: u16, offset: u32) -> usize {
        (offset.wrapping_add(hash_32(u32::from(port).wrapping_add(fold), TAB_BITS)) & TAB_MASK)
            as usize
    }

    fn at<D: DestView>(&self, dests: &[D], bucket: usize) -> Option<(usize, bool)> {
        if self.empty {
            return None;
        }
        let i = usize::from(*self.tab.get(bucket)?);
        let d = dests.get(i)?;
        Some((i, d.weight() > 0 && !d.overloaded()))
    }
}

impl Scheduler for Sh {
    fn schedule<D: DestView>(&mut self, dests: &[D], flow: &Flow) -> Option<usize> {
        let (fold, port) = hashed_source(flow, F_PORT);
        hashed_pick(
            TAB_SIZE as u32,
            flow.svc_flags & F_FALLBACK != 0,
            |offset| Self::key(fold, port, offset) as u32,
            |b| self.at(dests, b as usize),
        )
    }

    fn changed<D: DestView>(&mut self, dests: &[D], _change: Change) {
        self.reassign(dests);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dests, Flow, Scheduler};
    use super::*;

    fn from(a: [u8; 4], sport: u16, svc_flags: u32) -> Flow {
        let mut f = Flow {
            af: 2,
            sport,
            svc_flags,
            ..Default::default()
        };
        f.saddr[..4].copy_from_slice(&a);
        f
    }

    #[test]
    fn buckets_by_weight() {
        let s = Sh::new(&dests(&[3, 1, 0]));
        // 3 to the first, 1 to the second, 1 to the weight-0 third, again.
        assert_eq!(&s.tab[..10], &[0, 0, 0, 1, 2, 0, 0, 0, 1, 2]);
        let mut s = Sh::new(&dests(&[]));
        assert!(s.empty);
        assert_eq!(
            s.schedule(&dests(&[]), &from([192, 0, 2, 7], 0, F_FALLBACK)),
            None
        );
    }

    #[test]
    fn one_client_one_destination_ports_only_with_sh_port() {
        let d = dests(&[1, 1, 1]);
        let mut s = Sh::new(&d);
        let a = s.schedule(&d, &from([192, 0, 2, 7], 1000, 0));
        for p in 1001..1100 {
            assert_eq!(s.schedule(&d, &from([192, 0, 2, 7], p, 0)), a);
        }
        let mut seen = [false; 3];
        for p in 1000..1100 {
            if let Some(i) = s.schedule(&d, &from([192, 0, 2, 7], p, F_PORT)) {
                seen[i] = true;
            }
        }
        assert_eq!(seen, [true, true, true]);
    }

    #[test]
    fn fallback_finds_an_available_one() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = Sh::new(&d);
        let f = from([198, 51, 100, 99], 0, 0);
        let i = s.schedule(&d, &f).expect("a pick");
        d[i].weight = 0;
        s.changed(&d, Change::Updated(i));
        // The weight-0 destination keeps one bucket in three: the client
        // may or may not hash to it now; with sh-fallback never a miss.
        let fb = from([198, 51, 100, 99], 0, F_FALLBACK);
        let j = s.schedule(&d, &fb).expect("a fallback pick");
        assert_ne!(j, i);
        d[0].overloaded = true;
        d[1].overloaded = true;
        d[2].overloaded = true;
        assert_eq!(s.schedule(&d, &fb), None);
    }

    #[test]
    fn hash_as_ip_vs() {
        // (0 + hash_32(port + addr, 8)) & 255.
        let fold = 0xc000_0207u32;
        assert_eq!(
            Sh::key(fold, 80, 0),
            ((80u32.wrapping_add(fold).wrapping_mul(0x61c8_8647) >> 24) & 255) as usize
        );
    }
}
