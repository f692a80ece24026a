// SPDX-License-Identifier: GPL-2.0

//! Resizing the table while readers go on: the new array filled bucket by
//! bucket under each bucket's stripe lock, published, the old one freed
//! after a grace period.

use super::*;

impl<T: Send + Sync, A: NodeAlloc<T>> RcuHashTable<T, A> {
    /// Resizes the table to `1 << bits` buckets (at least 2^5), or gives
    /// it its first array. Readers go on meanwhile; writers wait only for
    /// the bucket being copied. Process context, may sleep; does nothing
    /// if another resize runs.
    pub(crate) fn resize(&self, bits: u32, flags: kernel::alloc::Flags) -> Result {
        if self.resizing.swap(true, Ordering::Acquire) {
            return Ok(());
        }
        let _r = Resizing(&self.resizing);
        let cur = self.cur.load(Ordering::Acquire);
        let want = 1usize.checked_shl(bits.max(MIN_BITS)).ok_or(EINVAL)?;
        if cur.is_null() {
            let a = KBox::into_raw(Array::new(bits, 0, flags)?);
            self.cur.store(a, Ordering::Release);
            return Ok(());
        }
        // SAFETY: only a resize replaces `cur`, and this is the only one.
        let old = unsafe { &*cur };
        if old.heads.len() == want {
            return Ok(());
        }
        let f = KBox::into_raw(Array::new(bits, old.link ^ 1, flags)?);
        // SAFETY: just made; freed below only after it was replaced.
        let fut = unsafe { &*f };
        for c in &self.copied {
            c.store(0, Ordering::Relaxed);
        }
        self.future.store(f, Ordering::Release);
        // Copy each bucket under its lock; writers add to and remove from
        // `future` too for the buckets copied.
        let per = old.per_stripe();
        for (s, (lock, copied)) in self.locks.iter().zip(self.copied.iter()).enumerate() {
            for k in 0..per {
                let i = s.saturating_mul(per).saturating_add(k);
                {
                    let _l = lock.lock();
                    let mut p = old
                        .heads
                        .get(i)
                        .map_or(core::ptr::null_mut(), |b| b.load(Ordering::Relaxed));
                    while !p.is_null() {
                        // SAFETY: linked in `old`, and we hold its lock.
                        let n = unsafe { &*p };
                        p = old.next(n).load(Ordering::Relaxed);
                        fut.link(n);
                    }
                    copied.store(k.saturating_add(1), Ordering::Relaxed);
                }
                if k % RESCHED_BUCKETS == RESCHED_BUCKETS - 1 {
                    cond_resched();
                }
            }
        }
        // Switch: readers from now on walk `future`. A writer that found
        // the old array under its lock has linked in both; once every
        // lock was taken after the switch, none is left.
        self.cur.store(f, Ordering::Release);
        for lock in self.locks.iter() {
            drop(lock.lock());
        }
        self.future.store(core::ptr::null_mut(), Ordering::Release);
        synchronize_rcu();
        // SAFETY: replaced, and no reader that could see it is left.
        drop(unsafe { KBox::from_raw(cur) });
        Ok(())
    }
}
