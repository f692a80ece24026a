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
}

impl Services {
    pub(crate) fn new() -> Self {
        Self {
            tree: RBTree::new(),
        }
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
        Ok(rt)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tree.iter().next().is_none()
    }

    pub(crate) fn remove(&mut self, key: &SvcKey) -> Option<Service> {
        self.tree.remove(key)
    }

    /// Services in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&SvcKey, &Service)> {
        self.tree.iter()
    }

    /// Removes every service (FLUSH) and returns them: their real servers
    /// are marked removed (connections to them see it at once), the
    /// freeing is left to the caller ([`Services::dispose`] later, as
    /// ip_vs frees services after a grace period and real servers from
    /// its trash).
    pub(crate) fn take_all(&mut self) -> Services {
        for (_, svc) in self.tree.iter() {
            for (_, d) in svc.dests.iter() {
                d.rt.removed
                    .store(true, core::sync::atomic::Ordering::Relaxed);
            }
        }
        Services {
            tree: core::mem::replace(&mut self.tree, RBTree::new()),
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
        let rt = DestRt::new(key, self.rt.key.protocol, &cfg, self.rt.stats.clone())?;
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
    tree: RBTree<(SvcKey, DestKey), Arc<DestRt>>,
    /// Jiffies of the last sweep (at most one a second: a restore of
    /// thousands of services after a flush must not walk it each time).
    swept: u64,
}

/// How long a trashed real server stays unused before it goes (ip_vs's
/// `IP_VS_DEST_TRASH_PERIOD`).
pub(crate) const TRASH_PERIOD_SECS: u64 = 120;

impl Trash {
    pub(crate) fn new() -> Self {
        Self {
            tree: RBTree::new(),
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

    /// Lets go of those unused for `period` jiffies (`now`: jiffies; `hz`:
    /// the least time between two sweeps).
    pub(crate) fn sweep(&mut self, now: u64, hz: u64, period: u64) {
        if self.tree.iter().next().is_none() || now.wrapping_sub(self.swept) < hz {
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
        let c = self.tree.cursor_lower_bound(&(*svc, first))?;
        let ((s, _), rt) = c.current();
        (s == svc).then(|| rt.svc_stats.clone())
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
        if !Arc::ptr_eq(&self.tree.get(&k)?.svc_stats, stats) {
            return None;
        }
        self.tree.remove(&k)
    }
}
