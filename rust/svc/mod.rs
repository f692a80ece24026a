// SPDX-License-Identifier: GPL-2.0

//! Virtual services and their real servers (destinations), per network
//! namespace: what the control plane configures and the data path will
//! read.
//!
//! The tables are ordered maps (the kernel's red-black tree): lookups by
//! (af, protocol, address, port) or by (af, fwmark) in O(log n), and a
//! stable order for dumps that resume across messages.

pub(crate) mod est;
pub(crate) mod rt;
pub(crate) mod spec;

use kernel::prelude::*;
use kernel::rbtree::RBTree;
use kernel::sync::Arc;

use crate::sys::sync::cond_resched;
use rt::{DestRt, Stats, SvcRt};
use spec::{DestConfig, DestKey, SvcConfig, SvcKey};

/// A real server of a service.
pub(crate) struct Dest {
    pub(crate) cfg: DestConfig,
    /// What the packet path sees of it.
    pub(crate) rt: Arc<DestRt>,
}

/// A virtual service.
pub(crate) struct Service {
    pub(crate) cfg: SvcConfig,
    pub(crate) dests: RBTree<DestKey, Dest>,
    /// What the packet path sees of it.
    pub(crate) rt: Arc<SvcRt>,
}

/// The services of one namespace.
pub(crate) struct Services {
    tree: RBTree<SvcKey, Service>,
    /// Services of each family: IPv4, IPv6 (the hooks of a family are
    /// registered while it has one, as ip_vs).
    count: [usize; 2],
}

impl Services {
    pub(crate) fn new() -> Self {
        Self {
            tree: RBTree::new(),
            count: [0; 2],
        }
    }

    fn family(af: u16) -> usize {
        usize::from(af == spec::AF_INET6)
    }

    /// Whether a service of family `af` exists.
    pub(crate) fn has_family(&self, af: u16) -> bool {
        self.count.get(Self::family(af)).is_some_and(|n| *n != 0)
    }

    pub(crate) fn get(&self, key: &SvcKey) -> Option<&Service> {
        self.tree.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: &SvcKey) -> Option<&mut Service> {
        self.tree.get_mut(key)
    }

    /// Adds a service (the caller checked that `key` is free) and returns
    /// its packet-path object, for the caller to publish.
    pub(crate) fn insert(
        &mut self,
        key: SvcKey,
        cfg: SvcConfig,
        stats: Option<Arc<Stats>>,
    ) -> Result<Arc<SvcRt>> {
        let rt = SvcRt::new(key, cfg.sched.name(), cfg.flags, stats)?;
        rt.set_persistence(cfg.timeout_jiffies, cfg.netmask);
        let svc = Service {
            cfg,
            dests: RBTree::new(),
            rt: rt.clone(),
        };
        self.tree.try_create_and_insert(key, svc, GFP_KERNEL)?;
        if let Some(n) = self.count.get_mut(Self::family(key.af)) {
            *n = n.saturating_add(1);
        }
        Ok(rt)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tree.iter().next().is_none()
    }

    pub(crate) fn remove(&mut self, key: &SvcKey) -> Option<Service> {
        let s = self.tree.remove(key)?;
        if let Some(n) = self.count.get_mut(Self::family(key.af)) {
            *n = n.saturating_sub(1);
        }
        Some(s)
    }

    /// Services in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&SvcKey, &Service)> {
        self.tree.iter()
    }

    /// Removes every service (FLUSH) and returns them: their real servers
    /// are marked removed (connections to them see it at once) and their
    /// schedulers let go; the table is kept whole in the [`Trash`] (no
    /// allocation per real server), freed as its real servers fall idle.
    pub(crate) fn take_all(&mut self) -> Services {
        for (_, svc) in self.tree.iter() {
            svc.rt.retire();
            for (_, d) in svc.dests.iter() {
                d.rt.removed
                    .store(true, core::sync::atomic::Ordering::Relaxed);
                d.rt.note_idle();
            }
        }
        Services {
            tree: core::mem::take(&mut self.tree),
            count: core::mem::take(&mut self.count),
        }
    }

    /// Lets go of the real servers unused for `period` jiffies, and of
    /// services left without any (a flushed table in the trash).
    fn sweep(&mut self, period: u64) {
        let mut n = 0u32;
        let mut empty = KVec::new();
        for (k, svc) in self.tree.iter_mut() {
            let mut idle = KVec::new();
            for (dk, d) in svc.dests.iter() {
                if d.rt.idle_for(period) && idle.push(*dk, GFP_KERNEL).is_err() {
                    break;
                }
            }
            for dk in idle.iter() {
                drop(svc.dests.remove(dk));
                n = n.wrapping_add(1);
                if n % 32 == 0 {
                    cond_resched();
                }
            }
            if svc.dests.iter().next().is_none() && empty.push(*k, GFP_KERNEL).is_err() {
                break;
            }
        }
        for k in empty.iter() {
            drop(self.tree.remove(k));
        }
    }

    /// Frees removed services one at a time, letting other tasks run
    /// (process context).
    pub(crate) fn dispose(mut self) {
        let mut n = 0u32;
        while let Some(c) = self.tree.cursor_front() {
            let (_, node) = c.remove_current();
            drop(node);
            n = n.wrapping_add(1);
            if n % 32 == 0 {
                cond_resched();
            }
        }
    }
}

impl Service {
    /// Adds a destination (the caller checked that `key` is free), also
    /// at the head of the packet path's list.
    pub(crate) fn insert_dest(&mut self, key: DestKey, cfg: DestConfig) -> Result<Arc<DestRt>> {
        let rt = DestRt::new(
            key,
            self.rt.key.protocol,
            self.rt.key.fwmark,
            &cfg,
            self.rt.stats.clone(),
        )?;
        self.attach(key, cfg, rt.clone())?;
        Ok(rt)
    }

    /// Adds back a destination from the trash (the caller checked that
    /// `key` is free and that `rt` counts into this service's counters),
    /// at the head of the packet path's list as a new one.
    pub(crate) fn revive_dest(&mut self, key: DestKey, cfg: DestConfig, rt: Arc<DestRt>) -> Result {
        // Its new settings first: the scheduler builds on them (mh's
        // table) when it is added.
        rt.update(&cfg);
        self.attach(key, cfg, rt.clone())?;
        rt.revive();
        Ok(())
    }

    fn attach(&mut self, key: DestKey, cfg: DestConfig, rt: Arc<DestRt>) -> Result {
        let node = kernel::rbtree::RBTreeNode::new(
            key,
            Dest {
                cfg,
                rt: rt.clone(),
            },
            GFP_KERNEL,
        )?;
        self.rt.add_dest(rt)?;
        self.dests.insert(node);
        Ok(())
    }

    /// Changes a destination's configuration.
    pub(crate) fn update_dest(&mut self, key: &DestKey, cfg: DestConfig) -> bool {
        match self.dests.get_mut(key) {
            Some(d) => {
                d.cfg = cfg;
                d.rt.update(&cfg);
                self.rt.upd_dest(&d.rt);
                true
            }
            None => false,
        }
    }

    /// Removes a destination; its connections keep it alive.
    pub(crate) fn remove_dest(&mut self, key: &DestKey) -> Option<Arc<DestRt>> {
        let d = self.dests.remove(key)?;
        // An allocation failure leaves it listed for the packet path but
        // marked removed: it gets no new connections.
        let _ = self.rt.del_dest(&d.rt);
        Some(d.rt)
    }
}

/// Real servers removed from their service, kept as ip_vs keeps them in
/// its trash: one added back to a service of the same key is the same
/// object again (its connections, persistence templates and counters go
/// on), as after `ipvsadm -C` and a restore; one unused for
/// [`TRASH_PERIOD_SECS`] goes.
pub(crate) struct Trash {
    /// Those removed one by one (by their service or on their own).
    tree: RBTree<(SvcKey, DestKey), Arc<DestRt>>,
    /// Whole tables removed by a flush, oldest first, with the jiffies of
    /// the flush: kept as they were (a flush of 100,000 real servers
    /// allocates nothing; ip_vs links its dests into a list).
    flushed: [Option<(u64, Services)>; MAX_FLUSHED],
    /// Jiffies of the last sweep (at most one a second: a restore of
    /// thousands of services after a flush must not walk it each time).
    swept: u64,
}

/// How long a trashed real server stays unused before it goes (ip_vs's
/// `IP_VS_DEST_TRASH_PERIOD`).
pub(crate) const TRASH_PERIOD_SECS: u64 = 120;

/// Flushed tables kept at once; beyond, the oldest is freed (its unused
/// real servers would be by the sweep anyway, within the period).
const MAX_FLUSHED: usize = 16;

impl Trash {
    pub(crate) fn new() -> Self {
        Self {
            tree: RBTree::new(),
            flushed: core::array::from_fn(|_| None),
            swept: 0,
        }
    }

    /// Keeps a removed real server (without memory for it, it is simply
    /// never revived).
    pub(crate) fn put(&mut self, svc: SvcKey, key: DestKey, rt: Arc<DestRt>) {
        rt.note_idle();
        let _ = self.tree.try_create_and_insert((svc, key), rt, GFP_KERNEL);
    }

    /// Keeps the real servers of a removed service.
    pub(crate) fn put_service(&mut self, key: &SvcKey, svc: &Service) {
        for (dk, d) in svc.dests.iter() {
            self.put(*key, *dk, d.rt.clone());
        }
    }

    /// Keeps the services a flush removed (from [`Services::take_all`]);
    /// returns the oldest flushed table kept if it had to make room, for
    /// the caller to free.
    pub(crate) fn put_flushed(&mut self, now: u64, gone: Services) -> Option<Services> {
        let slot = match self.flushed.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.flushed.rotate_left(1);
                MAX_FLUSHED.saturating_sub(1)
            }
        };
        let s = self.flushed.get_mut(slot)?;
        s.replace((now, gone)).map(|(_, old)| old)
    }

    /// Lets go of those unused for `period` jiffies (`now`: jiffies; `hz`:
    /// the least time between two sweeps).
    pub(crate) fn sweep(&mut self, now: u64, hz: u64, period: u64) {
        if now.wrapping_sub(self.swept) < hz {
            return;
        }
        self.swept = now;
        let mut idle = KVec::new();
        for (k, rt) in self.tree.iter() {
            if rt.idle_for(period) && idle.push(*k, GFP_KERNEL).is_err() {
                break;
            }
        }
        for k in idle.iter() {
            drop(self.tree.remove(k));
        }
        // A flushed table's real servers cannot have been idle for the
        // period before it was flushed: younger tables are not walked.
        for i in 0..MAX_FLUSHED {
            let Some(slot) = self.flushed.get_mut(i) else {
                break;
            };
            let Some((at, gone)) = slot else {
                break;
            };
            if now.wrapping_sub(*at) < period {
                break;
            }
            gone.sweep(period);
            if gone.is_empty() {
                if let Some((_, g)) = slot.take() {
                    g.dispose();
                }
            }
        }
        // Kept in order, oldest first, the free slots last.
        let mut n = 0;
        for i in 0..MAX_FLUSHED {
            if self.flushed.get(i).is_some_and(Option::is_some) {
                self.flushed.swap(n, i);
                n += 1;
            }
        }
    }

    /// The counters of the service of key `svc` whose real servers are
    /// here, for a new service of that key to count on (ip_vs's revived
    /// real servers count into the service they are added back to).
    pub(crate) fn svc_stats(&mut self, svc: &SvcKey) -> Option<Arc<Stats>> {
        let first = DestKey {
            af: 0,
            addr: [0; 16],
            port: 0,
        };
        if let Some(c) = self.tree.cursor_lower_bound(&(*svc, first)) {
            let ((s, _), rt) = c.current();
            if s == svc {
                return Some(rt.svc_stats.clone());
            }
        }
        // The latest flush first.
        self.flushed.iter().rev().flatten().find_map(|(_, gone)| {
            let old = gone.get(svc)?;
            old.dests.iter().next().map(|(_, d)| d.rt.svc_stats.clone())
        })
    }

    /// Takes out real server `key` of service `svc`, if it counts into
    /// `stats` (the service's).
    pub(crate) fn take(
        &mut self,
        svc: &SvcKey,
        key: &DestKey,
        stats: &Arc<Stats>,
    ) -> Option<Arc<DestRt>> {
        let k = (*svc, *key);
        if let Some(rt) = self.tree.get(&k) {
            if Arc::ptr_eq(&rt.svc_stats, stats) {
                return self.tree.remove(&k);
            }
        }
        for (_, gone) in self.flushed.iter_mut().rev().flatten() {
            let Some(old) = gone.get_mut(svc) else {
                continue;
            };
            let Some(d) = old.dests.get(key) else {
                continue;
            };
            if Arc::ptr_eq(&d.rt.svc_stats, stats) {
                return old.dests.remove(key).map(|d| d.rt);
            }
        }
        None
    }
}

impl Drop for Trash {
    fn drop(&mut self) {
        for slot in self.flushed.iter_mut() {
            if let Some((_, gone)) = slot.take() {
                gone.dispose();
            }
        }
    }
}
