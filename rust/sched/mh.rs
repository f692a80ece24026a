// SPDX-License-Identifier: GPL-2.0

//! Maglev hashing (ip_vs_mh.c, after Eisenbud et al., NSDI 2016): a lookup
//! table of 4093 slots (a prime; ip_vs's default CONFIG_IP_VS_MH_TAB_INDEX)
//! filled by letting each destination, in list order, claim the next free
//! slot of its own permutation of the table, as many turns in a row as its
//! weight (over the weights' gcd, shifted down so the largest stays within
//! 6 bits). The client's address (and, with mh-port, its port) hashed with
//! the same keyed hash as ip_vs picks the slot. A change of the list or of
//! a weight refills the table, and each destination's permutation stays
//! where it was, so few clients move. Quiescing (weight 0) keeps the table
//! (it is built from the last non-zero weight): a client whose slot points
//! at a quiesced or overloaded destination gets none, unless mh-fallback
//! walks on to an available one.
//!
//! The table lives in storage the caller allocates (`T`, a slice of
//! [`STORAGE`] `u16`s: the slots, then each destination's next permutation
//! position, skip and turns), so this file stays pure logic.

use core::ops::DerefMut;

use super::{addr_fold, hashed_pick, hashed_source, Change, DestView, Flow, Scheduler};

/// `IP_VS_MH_TAB_SIZE`: the slots of the lookup table.
pub(crate) const TAB_SIZE: usize = 4093;
/// `IP_VS_MH_TAB_BITS`.
const TAB_BITS: u32 = 6;
/// `u16`s of storage a table needs.
pub(crate) const STORAGE: usize = 4 * TAB_SIZE;

/// `IP_VS_SVC_F_SCHED_MH_FALLBACK`, `IP_VS_SVC_F_SCHED_MH_PORT`.
pub(crate) const F_FALLBACK: u32 = 0x0008;
pub(crate) const F_PORT: u32 = 0x0010;

/// ip_vs's fixed hash keys (`generate_hash_secret`): the same table and
/// the same picks as ip_vs for the same destinations and clients.
const KEY1: [u64; 2] = [2_654_435_761, 2_654_435_761];
const KEY2: [u64; 2] = [2_654_446_892, 2_654_446_892];

/// One SipHash round.
fn sipround([mut a, mut b, mut c, mut d]: [u64; 4]) -> [u64; 4] {
    a = a.wrapping_add(b);
    b = b.rotate_left(13) ^ a;
    a = a.rotate_left(32);
    c = c.wrapping_add(d);
    d = d.rotate_left(16) ^ c;
    a = a.wrapping_add(d);
    d = d.rotate_left(21) ^ a;
    c = c.wrapping_add(b);
    b = b.rotate_left(17) ^ c;
    c = c.rotate_left(32);
    [a, b, c, d]
}

/// The kernel's `hsiphash` of four bytes (`x` in little-endian order) on a
/// 64-bit machine, where it is SipHash-1-3 truncated to 32 bits.
pub(crate) fn hsiphash_u32(x: u32, &[k0, k1]: &[u64; 2]) -> u32 {
    let b = (4u64 << 56) | u64::from(x);
    let [a, bb, c, d] = [
        0x736f_6d65_7073_6575 ^ k0,
        0x646f_7261_6e64_6f6d ^ k1,
        0x6c79_6765_6e65_7261 ^ k0,
        0x7465_6462_7974_6573 ^ k1,
    ];
    let [a, bb, c, d] = sipround([a, bb, c, d ^ b]);
    let mut v = [a ^ b, bb, c ^ 0xff, d];
    for _ in 0..3 {
        v = sipround(v);
    }
    let [a, bb, c, d] = v;
    ((a ^ bb) ^ (c ^ d)) as u32
}

/// `ip_vs_mh_hashkey`.
fn hashkey(fold: u32, port: u16, key: &[u64; 2], offset: u32) -> u32 {
    hsiphash_u32(offset.wrapping_add(u32::from(port)).wrapping_add(fold), key)
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Bit length (the kernel's `fls`).
fn fls(x: u32) -> u32 {
    32 - x.leading_zeros()
}

pub(crate) struct Mh<T> {
    /// Slots `[0, TAB_SIZE)`: destination index + 1 (0: none); then
    /// per destination its permutation position, skip and turns.
    st: T,
}

/// Where the parts of the storage start.
const PERM: usize = TAB_SIZE;
const SKIP: usize = 2 * TAB_SIZE;
const TURNS: usize = 3 * TAB_SIZE;

impl<T: DerefMut<Target = [u16]>> Mh<T> {
    /// A table for `dests` in `storage` ([`STORAGE`] `u16`s).
    pub(crate) fn new<D: DestView>(storage: T, dests: &[D]) -> Self {
        let mut m = Self { st: storage };
        m.reassign(dests);
        m
    }

    fn get(&self, i: usize) -> u16 {
        self.st.get(i).copied().unwrap_or(0)
    }

    fn set(&mut self, i: usize, x: u16) {
        if let Some(s) = self.st.get_mut(i) {
            *s = x;
        }
    }

    /// `ip_vs_mh_reassign`: the permutations (`ip_vs_mh_permutate`), then
    /// the slots (`ip_vs_mh_populate`); no table with more destinations
    /// than slots, or with no weight.
    fn reassign<D: DestView>(&mut self, dests: &[D]) {
        for s in self.st.iter_mut().take(TAB_SIZE) {
            *s = 0;
        }
        let n = dests.len();
        if n == 0 || n > TAB_SIZE || self.st.len() < STORAGE {
            return;
        }
        let weights = || dests.iter().map(|d| d.last_weight().max(0) as u32);
        let g = weights().filter(|&w| w > 0).fold(0, gcd);
        if g == 0 {
            return;
        }
        let max = weights().max().unwrap_or(0);
        let rshift = fls(max / g).saturating_sub(TAB_BITS);
        let tab = TAB_SIZE as u32;
        for (i, d) in dests.iter().enumerate() {
            let (af, addr) = d.addr();
            let fold = addr_fold(af, &addr);
            let offset = hashkey(fold, d.port(), &KEY1, 0) % tab;
            let skip = hashkey(fold, d.port(), &KEY2, 0) % (tab - 1) + 1;
            let lw = d.last_weight().max(0) as u32;
            let turns = match (lw / g) >> rshift {
                0 => u32::from(lw != 0),
                t => t,
            };
            // All below TAB_SIZE, or at most 2^6 for turns.
            self.set(PERM + i, offset as u16);
            self.set(SKIP + i, skip as u16);
            self.set(TURNS + i, turns.min(u32::from(u16::MAX)) as u16);
        }
        if (0..n).all(|i| self.get(TURNS + i) == 0) {
            return;
        }
        // Each destination in turn claims the next free slot of its
        // permutation, `turns` times in a row, until all are taken.
        let mut taken = [0u64; TAB_SIZE.div_ceil(64)];
        let mut filled = 0;
        'fill: loop {
            for i in 0..n {
                let turns = self.get(TURNS + i);
                for _ in 0..turns {
                    let skip = usize::from(self.get(SKIP + i));
                    let mut c = usize::from(self.get(PERM + i));
                    while taken.get(c / 64).is_some_and(|w| w & (1 << (c % 64)) != 0) {
                        c += skip;
                        if c >= TAB_SIZE {
                            c -= TAB_SIZE;
                        }
                    }
                    self.set(PERM + i, c as u16);
                    if let Some(w) = taken.get_mut(c / 64) {
                        *w |= 1 << (c % 64);
                    }
                    self.set(c, (i + 1) as u16);
                    filled += 1;
                    if filled == TAB_SIZE {
                        break 'fill;
                    }
                }
            }
        }
    }

    /// The destination of slot `hash % TAB_SIZE`, and whether it is
    /// available (weight above 0, not overloaded).
    fn at<D: DestView>(&self, dests: &[D], hash: u32) -> Option<(usize, bool)> {
        let slot = usize::from(self.get((hash % TAB_SIZE as u32) as usize));
        let i = slot.checked_sub(1)?;
        let d = dests.get(i)?;
        Some((i, d.weight() > 0 && !d.overloaded()))
    }
}

impl<T: DerefMut<Target = [u16]>> Scheduler for Mh<T> {
    fn schedule<D: DestView>(&mut self, dests: &[D], flow: &Flow) -> Option<usize> {
        let (fold, port) = hashed_source(flow, F_PORT);
        hashed_pick(
            TAB_SIZE as u32,
            flow.svc_flags & F_FALLBACK != 0,
            |offset| hashkey(fold, port, &KEY1, offset) % TAB_SIZE as u32,
            |b| self.at(dests, b),
        )
    }

    fn changed<D: DestView>(&mut self, dests: &[D], _change: Change) {
        self.reassign(dests);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dests, Flow, Scheduler, TestDest};
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn storage() -> Vec<u16> {
        vec![0; STORAGE]
    }

    fn servers(weights: &[i32]) -> Vec<TestDest> {
        let mut d = dests(weights);
        for (i, x) in d.iter_mut().enumerate() {
            x.addr = [198, 51, 100, 11 + i as u8];
            x.port = 80;
        }
        d
    }

    fn client(i: u32, sport: u16, flags: u32) -> Flow {
        let mut saddr = [0u8; 16];
        saddr[..4].copy_from_slice(&(0xc000_0200u32 + i).to_be_bytes());
        Flow {
            af: 2,
            protocol: 6,
            saddr,
            sport,
            svc_flags: flags,
            ..Default::default()
        }
    }

    #[test]
    fn hsiphash_as_the_kernel() {
        // lib/siphash_kunit.c's 64-bit vector for the bytes 00 01 02 03
        // under the key 00..0f.
        let key = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];
        assert_eq!(hsiphash_u32(0x0302_0100, &key), 0x88d3_8328);
    }

    fn slots(m: &Mh<Vec<u16>>, n: usize) -> Vec<usize> {
        let mut c = vec![0; n];
        for s in m.st.iter().take(TAB_SIZE) {
            assert!(*s >= 1 && usize::from(*s) <= n, "every slot filled");
            c[usize::from(*s) - 1] += 1;
        }
        c
    }

    #[test]
    fn slots_by_weight() {
        let d = servers(&[1, 1, 1]);
        let c = slots(&Mh::new(storage(), &d), 3);
        assert_eq!(c.iter().sum::<usize>(), TAB_SIZE);
        // Round robin claims: equal within one.
        assert!(
            c.iter().max().unwrap() - c.iter().min().unwrap() <= 1,
            "{c:?}"
        );
        let d = servers(&[3, 2, 1]);
        let c = slots(&Mh::new(storage(), &d), 3);
        assert!(c[0] > c[1] && c[1] > c[2], "{c:?}");
        // Large weights are shifted down, not looped over for ever.
        let d = servers(&[1_000_000, 1, 7]);
        let c = slots(&Mh::new(storage(), &d), 3);
        assert!(c[0] > c[2] && c[2] >= c[1], "{c:?}");
    }

    #[test]
    fn few_clients_move_when_a_server_goes() {
        let d = servers(&[1, 1, 1, 1]);
        let mut m = Mh::new(storage(), &d);
        let before: Vec<_> = (0..400)
            .map(|i| m.schedule(&d, &client(i, 0, 0)).unwrap())
            .collect();
        // The last one removed: the others keep their clients.
        let d3 = servers(&[1, 1, 1]);
        m.changed(&d3, Change::Removed(3));
        let mut moved = 0;
        for (i, b) in before.iter().enumerate() {
            let a = m.schedule(&d3, &client(i as u32, 0, 0)).unwrap();
            if *b != 3 && a != *b {
                moved += 1;
            }
        }
        // Maglev's disruption is small, not zero.
        assert!(moved < 40, "{moved} of the other clients moved");
    }

    #[test]
    fn quiesced_keeps_the_table_and_fallback_walks_on() {
        let mut d = servers(&[1, 1, 1]);
        let mut m = Mh::new(storage(), &d);
        let f = client(7, 0, 0);
        let i = m.schedule(&d, &f).unwrap();
        d[i].weight = 0;
        d[i].last_weight = Some(1);
        m.changed(&d, Change::Updated(i));
        assert_eq!(m.schedule(&d, &f), None);
        let ff = client(7, 0, F_FALLBACK);
        let j = m.schedule(&d, &ff).unwrap();
        assert_ne!(i, j);
        // Overloaded: the same.
        d[i].weight = 1;
        d[i].overloaded = true;
        assert_eq!(m.schedule(&d, &f), None);
        assert!(m.schedule(&d, &ff).is_some());
    }

    #[test]
    fn port_only_with_mh_port() {
        let d = servers(&[1, 1, 1]);
        let mut m = Mh::new(storage(), &d);
        let one: Vec<_> = (0..50)
            .map(|p| m.schedule(&d, &client(1, 1000 + p, 0)).unwrap())
            .collect();
        assert!(one.iter().all(|&x| x == one[0]));
        let many: Vec<_> = (0..50)
            .map(|p| m.schedule(&d, &client(1, 1000 + p, F_PORT)).unwrap())
            .collect();
        assert!(many.iter().any(|&x| x != many[0]));
    }

    #[test]
    fn no_weight_no_table() {
        let d = servers(&[0, 0]);
        let mut m = Mh::new(storage(), &d);
        assert_eq!(m.schedule(&d, &client(1, 0, F_FALLBACK)), None);
        let none: [TestDest; 0] = [];
        let mut m = Mh::new(storage(), &none);
        assert_eq!(m.schedule(&none, &client(1, 0, 0)), None);
        // Storage too small: no slot, no panic.
        let mut m = Mh::new(vec![0u16; 10], &servers(&[1]));
        assert_eq!(m.schedule(&servers(&[1]), &client(1, 0, 0)), None);
    }
}
