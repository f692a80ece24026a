// SPDX-License-Identifier: GPL-2.0

//! Destination hashing (ip_vs_dh.c): the packet's destination address
//! picks one of 256 buckets, which ip_vs fills by going round the
//! destination list (weights play no part), so bucket `b` belongs to the
//! destination at index `b mod n`. Nothing else is kept: the buckets
//! follow the list, which changes only with the scheduler told. A
//! quiesced or overloaded destination makes the pick fail (no fallback).

use super::{hash_32, DestView, Flow, Scheduler};

/// `IP_VS_DH_TAB_BITS`: 256 buckets.
const TAB_BITS: u32 = 8;

pub(crate) struct Dh;

impl Scheduler for Dh {
    fn schedule<D: DestView>(&mut self, dests: &[D], flow: &Flow) -> Option<usize> {
        let n = dests.len();
        if n == 0 {
            return None;
        }
        let bucket = hash_32(super::addr_fold(flow.af, &flow.daddr), TAB_BITS) as usize;
        let i = bucket.checked_rem(n)?;
        let d = dests.get(i)?;
        (d.weight() > 0 && !d.overloaded()).then_some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dests, Flow, Scheduler};
    use super::*;

    fn to(a: [u8; 4]) -> Flow {
        let mut f = Flow {
            af: 2,
            ..Default::default()
        };
        f.daddr[..4].copy_from_slice(&a);
        f
    }

    #[test]
    fn one_address_one_destination() {
        let d = dests(&[1, 1, 1]);
        let mut s = Dh;
        let a = s.schedule(&d, &to([203, 0, 113, 10]));
        for _ in 0..10 {
            assert_eq!(s.schedule(&d, &to([203, 0, 113, 10])), a);
        }
        // 256 addresses cover every destination.
        let mut seen = [false; 3];
        for x in 0..=255u8 {
            if let Some(i) = s.schedule(&d, &to([203, 0, 113, x])) {
                seen[i] = true;
            }
        }
        assert_eq!(seen, [true, true, true]);
    }

    #[test]
    fn quiesced_or_overloaded_is_no_pick() {
        let mut d = dests(&[1]);
        let f = to([192, 0, 2, 1]);
        assert_eq!(Dh.schedule(&d, &f), Some(0));
        d[0].weight = 0;
        assert_eq!(Dh.schedule(&d, &f), None);
        d[0].weight = 1;
        d[0].overloaded = true;
        assert_eq!(Dh.schedule(&d, &f), None);
        assert_eq!(Dh.schedule(&dests(&[]), &f), None);
    }

    #[test]
    fn bucket_of_an_address() {
        // hash_32(0xcb00710a, 8) = (0xcb00710a * 0x61c88647) >> 24.
        let h = hash_32(0xcb00_710a, 8);
        assert_eq!(h, (0xcb00_710au32.wrapping_mul(0x61c8_8647)) >> 24);
        let d = dests(&[1, 1, 1]);
        assert_eq!(
            Dh.schedule(&d, &to([203, 0, 113, 10])),
            Some(h as usize % 3)
        );
    }
}
