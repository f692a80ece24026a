// SPDX-License-Identifier: GPL-2.0

//! The cache of the locality schedulers (lblc, lblcr): per service, which
//! real servers serve a destination address (ip_vs's `ip_vs_lblc_table`
//! and `ip_vs_lblcr_table`).
//!
//! ip_vs grows its table with `GFP_ATOMIC` allocations on the packet path
//! and trims it by timer past 16,384 entries. rvs keeps a fixed table
//! allocated with the scheduler ([`ENTRIES`] slots, 4-way set-associative):
//! no allocation under the scheduler's lock and bounded memory. An entry
//! unused for the expiration (the `lblc_expiration` / `lblcr_expiration`
//! sysctls) counts as gone when next looked at; when a set of four is
//! full, its least recently used entry makes room (ip_vs would keep it
//! until its periodic trim). Destinations are kept as indexes in the
//! service's list, followed through [`Change`]s.

use core::ops::DerefMut;

use super::{addr_fold, conn_overhead, hash_32, Change, DestView};

const WAYS: usize = 4;
const SET_BITS: u32 = 7;
/// Slots in a service's table.
pub(crate) const ENTRIES: usize = WAYS << SET_BITS;
/// Real servers an lblcr entry holds at most (the oldest gives way).
pub(crate) const SET_MAX: usize = 8;
const NONE: u16 = u16::MAX;

/// One destination address and its real servers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    addr: [u8; 16],
    used: bool,
    /// Jiffies of its last use.
    lastuse: u64,
    /// Jiffies of the last change of its set (lblcr).
    lastmod: u64,
    /// Indexes of its real servers, the newest first, then [`NONE`].
    set: [u16; SET_MAX],
}

impl Default for Entry {
    fn default() -> Self {
        Self {
            addr: [0; 16],
            used: false,
            lastuse: 0,
            lastmod: 0,
            set: [NONE; SET_MAX],
        }
    }
}

impl Entry {
    /// Its real servers' indexes, the newest first.
    pub(crate) fn members(&self) -> impl Iterator<Item = usize> + '_ {
        self.set
            .iter()
            .take_while(|&&m| m != NONE)
            .map(|&m| usize::from(m))
    }

    /// Jiffies of the last change of its set.
    pub(crate) fn lastmod(&self) -> u64 {
        self.lastmod
    }

    pub(crate) fn size(&self) -> usize {
        self.members().count()
    }

    /// Adds real server `i` at the head (lblcr: unless it is there
    /// already), restarting the set's modification time.
    pub(crate) fn insert(&mut self, i: usize, now: u64) {
        let Ok(m) = u16::try_from(i) else {
            return;
        };
        if m == NONE || self.members().any(|x| x == i) {
            return;
        }
        self.set.copy_within(0..SET_MAX - 1, 1);
        if let Some(h) = self.set.first_mut() {
            *h = m;
        }
        self.lastmod = now;
    }

    /// Takes real server `i` out of the set.
    pub(crate) fn erase(&mut self, i: usize, now: u64) {
        let pos = self.members().position(|x| x == i);
        if let Some(at) = pos {
            self.set.copy_within(at.saturating_add(1).., at);
            if let Some(l) = self.set.last_mut() {
                *l = NONE;
            }
            self.lastmod = now;
        }
    }

    /// Real servers that went away leave the set; the indexes of the
    /// others follow the list.
    fn follow(&mut self, change: Change) {
        match change {
            Change::Added(at) => {
                for m in self.set.iter_mut().filter(|m| **m != NONE) {
                    if usize::from(*m) >= at {
                        *m = m.saturating_add(1);
                    }
                }
            }
            Change::Removed(at) => {
                let mut kept = [NONE; SET_MAX];
                let mut n = 0;
                for m in self.members() {
                    let new = match m.cmp(&at) {
                        core::cmp::Ordering::Less => m,
                        core::cmp::Ordering::Equal => continue,
                        core::cmp::Ordering::Greater => m.saturating_sub(1),
                    };
                    if let (Some(k), Ok(v)) = (kept.get_mut(n), u16::try_from(new)) {
                        *k = v;
                        n = n.saturating_add(1);
                    }
                }
                self.set = kept;
            }
            Change::Updated(_) => {}
        }
    }
}

/// The table of one service; `S` is the slots' storage ([`ENTRIES`]
/// entries, allocated by the caller).
pub(crate) struct Cache<S> {
    slots: S,
}

/// Whether `then + period` is before `now` (the kernel's `time_after`).
pub(crate) fn passed(now: u64, then: u64, period: u64) -> bool {
    (then.wrapping_add(period).wrapping_sub(now) as i64) < 0
}

impl<S: DerefMut<Target = [Entry]>> Cache<S> {
    pub(crate) fn new(mut slots: S) -> Self {
        for e in slots.iter_mut() {
            *e = Entry::default();
        }
        Self { slots }
    }

    /// The four slots `addr` may be in.
    fn ways(&mut self, af: u16, addr: &[u8; 16]) -> &mut [Entry] {
        let set = hash_32(addr_fold(af, addr), SET_BITS) as usize;
        let start = set.saturating_mul(WAYS);
        self.slots
            .get_mut(start..start.saturating_add(WAYS))
            .unwrap_or(&mut [])
    }

    /// The live entry of `addr` (unused for less than `expiry`), its
    /// last use set to `now`.
    pub(crate) fn get(
        &mut self,
        af: u16,
        addr: &[u8; 16],
        now: u64,
        expiry: u64,
    ) -> Option<&mut Entry> {
        let e = self
            .ways(af, addr)
            .iter_mut()
            .find(|e| e.used && e.addr == *addr)?;
        if passed(now, e.lastuse, expiry) {
            e.used = false;
            return None;
        }
        e.lastuse = now;
        Some(e)
    }

    /// A new, empty entry for `addr`: in a free slot of its set, else in
    /// place of the set's least recently used one.
    pub(crate) fn put(&mut self, af: u16, addr: &[u8; 16], now: u64) -> Option<&mut Entry> {
        let ways = self.ways(af, addr);
        let at = match ways.iter().position(|e| !e.used || e.addr == *addr) {
            Some(i) => i,
            None => ways
                .iter()
                .enumerate()
                .max_by_key(|(_, e)| now.wrapping_sub(e.lastuse))
                .map(|(i, _)| i)?,
        };
        let e = ways.get_mut(at)?;
        *e = Entry {
            addr: *addr,
            used: true,
            lastuse: now,
            lastmod: now,
            set: [NONE; SET_MAX],
        };
        Some(e)
    }

    /// Follows a change of the service's list.
    pub(crate) fn changed(&mut self, change: Change) {
        for e in self.slots.iter_mut().filter(|e| e.used) {
            e.follow(change);
        }
    }
}

/// ip_vs's `is_overloaded` of lblc and lblcr: more active connections
/// than its weight while some real server is below half of its own.
pub(crate) fn is_overloaded<D: DestView>(d: &D, dests: &[D]) -> bool {
    d.active() > d.weight()
        && dests
            .iter()
            .any(|x| i64::from(x.active()) * 2 < i64::from(x.weight()))
}

/// The least loaded real server of `members` (per unit of weight; the
/// first of equals), skipping overloaded ones and starting from one with
/// a weight (lblcr's `ip_vs_dest_set_min`).
pub(crate) fn set_min<D: DestView>(
    dests: &[D],
    members: impl Iterator<Item = usize>,
) -> Option<usize> {
    let mut least: Option<(usize, i32, i32)> = None;
    for i in members {
        let Some(d) = dests.get(i) else { continue };
        if d.overloaded() {
            continue;
        }
        let doh = conn_overhead(d);
        match least {
            None if d.weight() > 0 => least = Some((i, doh, d.weight())),
            Some((_, loh, lw))
                if i64::from(loh) * i64::from(d.weight()) > i64::from(doh) * i64::from(lw) =>
            {
                least = Some((i, doh, d.weight()));
            }
            _ => {}
        }
    }
    least.map(|(i, _, _)| i)
}

/// The most loaded real server of `members` with a weight
/// (`ip_vs_dest_set_max`).
pub(crate) fn set_max<D: DestView>(
    dests: &[D],
    members: impl Iterator<Item = usize>,
) -> Option<usize> {
    let mut most: Option<(usize, i32, i32)> = None;
    for i in members {
        let Some(d) = dests.get(i) else { continue };
        let doh = conn_overhead(d);
        match most {
            None if d.weight() > 0 => most = Some((i, doh, d.weight())),
            Some((_, moh, mw))
                if i64::from(moh) * i64::from(d.weight()) < i64::from(doh) * i64::from(mw)
                    && d.weight() > 0 =>
            {
                most = Some((i, doh, d.weight()));
            }
            _ => {}
        }
    }
    most.map(|(i, _, _)| i)
}
