// SPDX-License-Identifier: GPL-2.0

//! A listing of the table in the order of its entries' keys, in batches
//! that stay exact across inserts, removals and resizes (`ListKey`).

use super::*;

impl<T: Send + Sync, A: NodeAlloc<T>> RcuHashTable<T, A> {
    /// A listing of the table in hash order, a bucket at a time, that
    /// resumes exactly whatever resizes happen in between: a cursor is
    /// the start of a range of the hash space (`u32` values) and the size
    /// of the bucket that covered it (`start << 6 | bits`); a listing
    /// goes from cursor to cursor with [`RcuHashTable::seek`] and
    /// [`RcuHashTable::after`]. Returns the first cursor at or after
    /// position `from` with entries, if any.
    pub(crate) fn seek(&self, from: u64) -> Option<u64> {
        let g = RcuGuard::new();
        let a = self.array(&g)?;
        let start = u32::try_from(from).ok()?;
        let b = a.index(start);
        let mut here = false;
        a.walk(b, |n| here |= n.hash >= start);
        let at = if here {
            u64::from(start)
        } else {
            let next = b.checked_add(1)?;
            let rest = a.heads.get(next..)?;
            let i = rest
                .iter()
                .position(|h| !h.load(Ordering::Relaxed).is_null())?;
            (next.checked_add(i)? as u64) << a.shift
        };
        Some(at << 6 | u64::from(a.bits()))
    }

    /// The position after cursor `c`'s range.
    pub(crate) fn after(c: u64) -> u64 {
        let bits = (c & 63) as u32;
        let start = c >> 6;
        let size = 1u64 << (32 - bits.clamp(1, 32));
        (start & !(size - 1)).saturating_add(size)
    }

    /// Calls `f` on the entries in cursor `c`'s range of the hash space.
    pub(crate) fn for_each_at(&self, g: &RcuGuard, c: u64, mut f: impl FnMut(&T)) {
        let Some(a) = self.array(g) else {
            return;
        };
        let start = c >> 6;
        let end = Self::after(c);
        let (Ok(lo), Ok(hi)) = (u32::try_from(start), u32::try_from(end.saturating_sub(1))) else {
            return;
        };
        for i in a.index(lo)..=a.index(hi) {
            a.walk(i, |n| {
                if n.hash >= lo && n.hash <= hi {
                    f(&n.val)
                }
            });
        }
    }

    /// Calls `f` in key order on entries of cursor `c`'s range whose key
    /// ([`ListKey`]) is above `after` (all of them, with `None`), at most
    /// [`LIST_BATCH`], until `f` says no (what it was given did not fit:
    /// it counts as not given). Says where the range's listing resumes:
    /// an entry there all along is given once, whatever is linked,
    /// unlinked or resized in between; a long chain costs a walk per
    /// batch, and no batch more than [`LIST_BATCH`] entries.
    pub(crate) fn list_batch<'g>(
        &'g self,
        g: &'g RcuGuard,
        c: u64,
        after: Option<ListKey>,
        mut f: impl FnMut(&'g T) -> bool,
    ) -> Listed {
        let Some(a) = self.array(g) else {
            return Listed::Done;
        };
        let start = c >> 6;
        let end = Self::after(c);
        let (Ok(lo), Ok(hi)) = (u32::try_from(start), u32::try_from(end.saturating_sub(1))) else {
            return Listed::Done;
        };
        // The smallest keys above `after`, in order.
        let mut batch: [Option<(ListKey, &'g Node<T>)>; LIST_BATCH] = [None; LIST_BATCH];
        let mut len = 0usize;
        let mut more = false;
        for i in a.index(lo)..=a.index(hi) {
            a.walk(i, |n| {
                let key = (n.hash, n.id.load(Ordering::Relaxed));
                if n.hash < lo || n.hash > hi || after.is_some_and(|a| key <= a) {
                    return;
                }
                if len == LIST_BATCH {
                    more = true;
                    let last = batch.last().copied().flatten();
                    if last.is_none_or(|(k, _)| key >= k) {
                        return;
                    }
                    len -= 1;
                }
                let pos = batch.get(..len).map_or(0, |b| {
                    b.partition_point(|e| e.is_some_and(|(k, _)| k < key))
                });
                if let Some(s) = batch.get_mut(pos..=len) {
                    s.rotate_right(1);
                    if let Some(first) = s.first_mut() {
                        *first = Some((key, n));
                        len += 1;
                    }
                }
            });
        }
        let mut given = after;
        for (key, n) in batch.iter().take(len).flatten() {
            if !f(&n.val) {
                return Listed::From(given);
            }
            given = Some(*key);
        }
        if more {
            Listed::From(given)
        } else {
            Listed::Done
        }
    }
}
