// SPDX-License-Identifier: GPL-2.0

//! Eviction from a full table: the stripes' lists of entries by class,
//! judged at their heads, in bounded work.

use super::*;

impl<T: Send + Sync, A: NodeAlloc<T>> RcuHashTable<T, A> {
    /// Makes room for one entry from the eviction lists: class by class
    /// (0 first), stripe by stripe from stripe `from` on, the entry at the
    /// head of a non-empty list is put to `judge` (under the stripe lock,
    /// with its class and when it was put at the list's end), which takes
    /// it (it is unlinked, passed to `gone` under the lock and freed after
    /// a grace period), moves it to another class's list or sends it to
    /// the end of its own. At most `steps` heads are judged to stay, a
    /// class's share each (busy entries of one class never keep the next
    /// from being judged), and `moves` moved: the cost is bounded whatever
    /// the table holds (moves count apart: a table of entries that all
    /// changed class since they were listed moves many before it takes
    /// one; once they are used up the lists of the classes after are still
    /// judged). A moved entry goes to the end of its new list, seen now.
    /// Returns the class of the entry taken. Any context.
    pub(crate) fn evict_listed(
        &self,
        from: usize,
        steps: usize,
        moves: usize,
        mut judge: impl FnMut(&T, u8, u32) -> Judge,
        gone: impl FnOnce(&T),
    ) -> Option<u8> {
        let share = (steps / CLASSES).max(1);
        let mut moves_left = moves;
        let now = crate::sys::jiffies() as u32;
        for class in 0..CLASSES {
            let mut left = share;
            for k in 0..STRIPES {
                if left == 0 {
                    break;
                }
                let s = from.wrapping_add(k) % STRIPES;
                let (Some(lists), Some(lock)) = (self.lists.get(s), self.locks.get(s)) else {
                    continue;
                };
                if lists
                    .n
                    .get(class)
                    .is_none_or(|n| n.load(Ordering::Relaxed) == 0)
                {
                    continue;
                }
                let l = lock.lock();
                let cur = self.array_locked(&l)?;
                // Each entry of the list judged once at most, and a list
                // does not take all the steps.
                let mut here = lists
                    .n
                    .get(class)
                    .map_or(0, |n| n.load(Ordering::Relaxed))
                    .min(share);
                while left > 0 && here > 0 {
                    let Some(p) = lists.ends.get(class).map(|e| e[0].load(Ordering::Relaxed))
                    else {
                        break;
                    };
                    if p.is_null() {
                        break;
                    }
                    // SAFETY: a listed node is linked (type invariant), and
                    // we hold its stripe's lock.
                    let n = unsafe { &*p };
                    let c = class as u8;
                    match judge(&n.val, c, n.seen.load(Ordering::Relaxed)) {
                        Judge::Take => {
                            // Listed, so linked (invariant); were it not,
                            // nothing is taken.
                            if !self.take_out(&l, cur, n) {
                                return None;
                            }
                            gone(&n.val);
                            // SAFETY: unlinked from every array and list;
                            // readers that still see it are in read
                            // sections that the grace period waits for.
                            unsafe { rvs_call_rcu(n.rcu.get(), Some(free_node::<T, A>)) };
                            return Some(c);
                        }
                        Judge::Move(to) if usize::from(to) < CLASSES => {
                            if moves_left == 0 {
                                // No more moves: this list's head stays;
                                // on to the next list.
                                break;
                            }
                            lists.del(n);
                            lists.push(n, to, now);
                            moves_left -= 1;
                        }
                        _ => {
                            lists.del(n);
                            lists.push(n, c, now);
                            left -= 1;
                            here -= 1;
                        }
                    }
                }
                drop(l);
            }
        }
        None
    }
}
