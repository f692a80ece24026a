// SPDX-License-Identifier: GPL-2.0

//! The packet path's view of services and real servers: reference-counted
//! objects that the control plane creates and edits (under its mutex) and
//! publishes through a per-namespace RCU hash table, so the packet path
//! finds a service without taking the mutex. A destination stays alive
//! while a connection points at it, even after its removal.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

use super::est::Est;
use super::spec::{DestConfig, DestKey, SvcKey};
use crate::sched::{
    below_lower, locality, mh, reaches_upper, Change, DestView, Flow, Sched, SchedInit, Scheduler,
};
use crate::sys::pcpu::PcpuCounters;
use crate::sys::route::DstCache;
use crate::sys::skb::Tunnel;
use crate::sys::sync::{BhMutex, BhMutexGuard, LockKey};
use crate::sys::{jiffies, random_u32};

/// Counter indexes.
pub(crate) const CONNS: usize = 0;
pub(crate) const INPKTS: usize = 1;
pub(crate) const OUTPKTS: usize = 2;
pub(crate) const INBYTES: usize = 3;
pub(crate) const OUTBYTES: usize = 4;
const NSTATS: usize = 5;

/// Traffic counters of a service, destination or namespace: per-CPU,
/// summed when read; ZERO records a baseline instead of writing other CPUs'
/// counters. The estimator's state sits in atomics beside them: its writers
/// (the namespace's tick, ZERO) are serialised by the namespace's
/// [`EstLock`], so a destination costs two allocations (itself and its
/// per-CPU block) as in ip_vs.
pub(crate) struct Stats {
    c: PcpuCounters<NSTATS>,
    base: [AtomicU64; NSTATS],
    est_last: [AtomicU64; NSTATS],
    est_avg: [AtomicI64; NSTATS],
}

/// Serialises the estimator's writers in a namespace.
pub(crate) struct EstLock(BhMutex<()>);

/// Held [`EstLock`].
pub(crate) struct EstGuard<'a>(BhMutexGuard<'a, ()>);

static EST_KEY: LockKey = LockKey::new();

impl EstGuard<'_> {
    /// Lets the lock go for a moment and takes it again (a long pass).
    pub(crate) fn relock(&mut self) {
        self.0.relock();
    }
}

impl EstLock {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self(BhMutex::new((), c"rvs_est_lock", &EST_KEY)?))
    }

    pub(crate) fn lock(&self) -> EstGuard<'_> {
        EstGuard(self.0.lock())
    }
}

impl Stats {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            c: PcpuCounters::new()?,
            base: Default::default(),
            est_last: Default::default(),
            est_avg: Default::default(),
        })
    }

    /// The counters without the ZERO baseline.
    fn raw(&self) -> [u64; NSTATS] {
        self.c.sum_all()
    }

    fn est(&self) -> Est {
        let mut last = [0u64; NSTATS];
        let mut avg = [0i64; NSTATS];
        for (x, a) in last.iter_mut().zip(self.est_last.iter()) {
            *x = a.load(Ordering::Relaxed);
        }
        for (x, a) in avg.iter_mut().zip(self.est_avg.iter()) {
            *x = a.load(Ordering::Relaxed);
        }
        Est::from_parts(last, avg)
    }

    fn set_est(&self, e: &Est, _g: &EstGuard<'_>) {
        let (last, avg) = e.parts();
        for (a, x) in self.est_last.iter().zip(last.iter()) {
            a.store(*x, Ordering::Relaxed);
        }
        for (a, x) in self.est_avg.iter().zip(avg.iter()) {
            a.store(*x, Ordering::Relaxed);
        }
    }

    /// One step of the rate estimator (every two seconds).
    pub(crate) fn estimate(&self, g: &EstGuard<'_>) {
        let now = self.raw();
        let mut e = self.est();
        if e.settled(&now) {
            return;
        }
        e.update(now);
        self.set_est(&e, g);
    }

    /// cps, inpps, outpps, inbps, outbps.
    pub(crate) fn rates(&self) -> [u64; NSTATS] {
        self.est().rates()
    }

    pub(crate) fn conn(&self) {
        self.c.add(CONNS, 1);
    }

    pub(crate) fn inpkt(&self, bytes: u32) {
        self.c.add2(INPKTS, 1, INBYTES, u64::from(bytes));
    }

    pub(crate) fn outpkt(&self, bytes: u32) {
        self.c.add2(OUTPKTS, 1, OUTBYTES, u64::from(bytes));
    }

    /// Conns, inpkts, outpkts, inbytes, outbytes since the last ZERO.
    pub(crate) fn read(&self) -> [u64; NSTATS] {
        let mut v = self.c.sum_all();
        for (x, b) in v.iter_mut().zip(self.base.iter()) {
            *x = x.wrapping_sub(b.load(Ordering::Relaxed));
        }
        v
    }

    /// Each possible CPU's own counters (conns, inpkts, outpkts, inbytes,
    /// outbytes, never zeroed: ip_vs's per-CPU view).
    pub(crate) fn for_each_cpu(&self, f: impl FnMut(u32, &[u64; NSTATS])) {
        self.c.for_each_cpu(f);
    }

    /// ZERO: counters and rates start again from nothing.
    pub(crate) fn zero(&self, g: &EstGuard<'_>) {
        let now = self.raw();
        for (b, n) in self.base.iter().zip(now.iter()) {
            b.store(*n, Ordering::Relaxed);
        }
        self.set_est(&Est::new(now), g);
    }
}

/// A real server as the packet path sees it.
pub(crate) struct DestRt {
    pub(crate) key: DestKey,
    /// The protocol of its service (0 for fwmark services).
    pub(crate) protocol: u16,
    /// The firewall mark of its service (0 for others): what sync sends
    /// as a connection's mark.
    pub(crate) svc_mark: u32,
    /// `IP_VS_CONN_F_*` forwarding method.
    pub(crate) fwd: AtomicU32,
    /// The tunnel's type, port and flags (see [`DestRt::tunnel`]).
    tun: AtomicU64,
    pub(crate) weight: AtomicI32,
    /// The last weight above 0 (ip_vs's `last_weight`, for mh).
    last_weight: AtomicI32,
    /// Jiffies when its weight became 0 (for expire_quiescent_udp).
    quiesced_at: AtomicU64,
    pub(crate) active: AtomicI32,
    pub(crate) inactive: AtomicI32,
    /// Persistence templates bound to it (`--persistent-conn`).
    pub(crate) persist: AtomicI32,
    /// Connection thresholds (`-x`, `-y`; 0: none).
    u_threshold: AtomicU32,
    l_threshold: AtomicU32,
    /// `IP_VS_DEST_F_OVERLOAD`: at its upper threshold, it gets no new
    /// connections until it falls below the lower one.
    overload: AtomicBool,
    /// Removed from its service (ip_vs's trash): existing connections may
    /// still use it, new ones never.
    pub(crate) removed: AtomicBool,
    /// Once removed: jiffies (at least 1) since when no connection or
    /// template uses it; 0 while some do.
    idle_since: AtomicU64,
    pub(crate) stats: Stats,
    /// The service's counters.
    pub(crate) svc_stats: Arc<Stats>,
    /// The route to it, cached for the packet path.
    pub(crate) dst: DstCache,
}

impl DestRt {
    pub(crate) fn new(
        key: DestKey,
        protocol: u16,
        svc_mark: u32,
        cfg: &DestConfig,
        svc_stats: Arc<Stats>,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(
            DestRt {
                key,
                protocol,
                svc_mark,
                fwd: AtomicU32::new(cfg.fwd),
                tun: AtomicU64::new(tun_bits(cfg)),
                weight: AtomicI32::new(cfg.weight),
                last_weight: AtomicI32::new(cfg.weight),
                quiesced_at: AtomicU64::new(jiffies()),
                active: AtomicI32::new(0),
                inactive: AtomicI32::new(0),
                persist: AtomicI32::new(0),
                u_threshold: AtomicU32::new(cfg.u_threshold),
                l_threshold: AtomicU32::new(cfg.l_threshold),
                overload: AtomicBool::new(false),
                removed: AtomicBool::new(false),
                idle_since: AtomicU64::new(0),
                stats: Stats::new()?,
                svc_stats,
                dst: DstCache::new(),
            },
            GFP_KERNEL,
        )?)
    }

    pub(crate) fn update(&self, cfg: &DestConfig) {
        self.fwd.store(cfg.fwd, Ordering::Relaxed);
        self.tun.store(tun_bits(cfg), Ordering::Relaxed);
        let old = self.weight.swap(cfg.weight, Ordering::Relaxed);
        if cfg.weight == 0 && old != 0 {
            self.quiesced_at.store(jiffies(), Ordering::Relaxed);
        }
        if cfg.weight != 0 {
            self.last_weight.store(cfg.weight, Ordering::Relaxed);
        }
        // As __ip_vs_update_dest: no upper threshold, or a higher one,
        // lifts the overload at once; a lower one waits for the next
        // connection.
        let u = self.u_threshold.load(Ordering::Relaxed);
        if cfg.u_threshold == 0 || cfg.u_threshold > u {
            self.overload.store(false, Ordering::Relaxed);
        }
        self.u_threshold.store(cfg.u_threshold, Ordering::Relaxed);
        self.l_threshold.store(cfg.l_threshold, Ordering::Relaxed);
    }

    /// How a tunnel to it is built (`--tun-type`, `--tun-port`,
    /// `--tun-*csum`).
    pub(crate) fn tunnel(&self) -> Tunnel {
        let t = self.tun.load(Ordering::Relaxed);
        Tunnel {
            ty: (t >> 32) as u8,
            port: (t >> 16) as u16,
            flags: t as u16,
        }
    }

    /// Connections and templates bound to it.
    fn in_use(&self) -> bool {
        self.total_conns() != 0 || self.persist.load(Ordering::Relaxed) > 0
    }

    /// A connection or template left it: once removed and unused, its
    /// idle time starts (ip_vs frees a trashed real server idle for 120 s).
    pub(crate) fn note_idle(&self) {
        if self.removed.load(Ordering::Relaxed) && !self.in_use() {
            let _ = self.idle_since.compare_exchange(
                0,
                jiffies().max(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    /// Whether, removed, it has been unused for `period` jiffies.
    pub(crate) fn idle_for(&self, period: u64) -> bool {
        self.note_idle();
        let since = self.idle_since.load(Ordering::Relaxed);
        since != 0 && !self.in_use() && jiffies().wrapping_sub(since) >= period
    }

    /// Added back to its service from the trash: the same object again,
    /// with its connections, templates and counters.
    pub(crate) fn revive(&self) {
        self.idle_since.store(0, Ordering::Relaxed);
        self.removed.store(false, Ordering::Relaxed);
    }

    /// Whether it has been quiesced (weight 0) for `period` jiffies.
    pub(crate) fn quiesced_for(&self, period: u64) -> bool {
        self.weight.load(Ordering::Relaxed) == 0
            && jiffies().wrapping_sub(self.quiesced_at.load(Ordering::Relaxed)) >= period
    }

    /// Active plus inactive connections (`ip_vs_dest_totalconns`).
    fn total_conns(&self) -> u64 {
        let a = self.active.load(Ordering::Relaxed).max(0) as u64;
        let i = self.inactive.load(Ordering::Relaxed).max(0) as u64;
        a.saturating_add(i)
    }

    /// A connection was bound to it (ip_vs_bind_dest): at its upper
    /// threshold it becomes overloaded.
    pub(crate) fn conn_bound(&self) {
        if reaches_upper(self.total_conns(), self.u_threshold.load(Ordering::Relaxed)) {
            self.overload.store(true, Ordering::Relaxed);
        }
    }

    /// A connection left it (ip_vs_unbind_dest): below the lower
    /// threshold, or without one below 3/4 of the upper, or with no
    /// thresholds at all, it takes new connections again.
    pub(crate) fn conn_unbound(&self) {
        if self.overload.load(Ordering::Relaxed)
            && below_lower(
                self.total_conns(),
                self.u_threshold.load(Ordering::Relaxed),
                self.l_threshold.load(Ordering::Relaxed),
            )
        {
            self.overload.store(false, Ordering::Relaxed);
        }
    }
}

impl DestView for Arc<DestRt> {
    fn weight(&self) -> i32 {
        self.weight.load(Ordering::Relaxed)
    }
    fn active(&self) -> i32 {
        self.active.load(Ordering::Relaxed)
    }
    fn inactive(&self) -> i32 {
        self.inactive.load(Ordering::Relaxed)
    }
    fn overloaded(&self) -> bool {
        self.overload.load(Ordering::Relaxed)
    }
    fn last_weight(&self) -> i32 {
        self.last_weight.load(Ordering::Relaxed)
    }
    fn addr(&self) -> (u16, [u8; 16]) {
        (self.key.af, self.key.addr)
    }
    fn port(&self) -> u16 {
        self.key.port
    }
}

/// A destination's tunnel settings in one word, changed at once.
fn tun_bits(cfg: &DestConfig) -> u64 {
    u64::from(cfg.tun_type) << 32 | u64::from(cfg.tun_port) << 16 | u64::from(cfg.tun_flags)
}

/// What the scheduler called `name` needs (allocated before the
/// scheduler's lock is taken): mh's table, a random seed.
fn sched_init(name: &str) -> Result<SchedInit> {
    let mut init = SchedInit::default();
    if name == "twos" {
        init.seed = u64::from(random_u32()) << 32 | u64::from(random_u32());
    }
    if name == "mh" {
        let mut v = KVec::with_capacity(mh::STORAGE, GFP_KERNEL)?;
        for _ in 0..mh::STORAGE {
            v.push(0u16, GFP_KERNEL)?;
        }
        init.mh = Some(v);
    }
    if name == "lblc" || name == "lblcr" {
        let mut v = KVec::with_capacity(locality::ENTRIES, GFP_KERNEL)?;
        for _ in 0..locality::ENTRIES {
            v.push(locality::Entry::default(), GFP_KERNEL)?;
        }
        init.loc = Some(v);
    }
    Ok(init)
}

/// The scheduler and the destination list it picks from, changed together.
struct SchedSlot {
    sched: Sched,
    /// ip_vs's list order: the newest destination first.
    dests: KVec<Arc<DestRt>>,
}

static SCHED_KEY: LockKey = LockKey::new();

/// A virtual service as the packet path sees it.
pub(crate) struct SvcRt {
    pub(crate) key: SvcKey,
    pub(crate) flags: AtomicU32,
    /// Persistence timeout in jiffies (`-p`).
    pub(crate) timeout: AtomicU32,
    /// Persistence netmask (`-M`): network-order bytes for IPv4, a prefix
    /// length for IPv6.
    pub(crate) netmask: AtomicU32,
    pub(crate) stats: Arc<Stats>,
    slot: BhMutex<SchedSlot>,
}

impl SvcRt {
    /// A service; `stats`: its counters, when it takes over those of an
    /// earlier service of the same key whose real servers are in the trash.
    pub(crate) fn new(
        key: SvcKey,
        sched_name: &str,
        flags: u32,
        stats: Option<Arc<Stats>>,
    ) -> Result<Arc<Self>> {
        let empty: [Arc<DestRt>; 0] = [];
        let sched =
            Sched::by_name(sched_name, &empty, sched_init(sched_name)?).unwrap_or(Sched::None);
        Ok(Arc::new(
            SvcRt {
                key,
                flags: AtomicU32::new(flags),
                timeout: AtomicU32::new(0),
                netmask: AtomicU32::new(u32::MAX),
                stats: match stats {
                    Some(s) => s,
                    None => Arc::new(Stats::new()?, GFP_KERNEL)?,
                },
                slot: BhMutex::new(
                    SchedSlot {
                        sched,
                        dests: KVec::new(),
                    },
                    c"rvs_sched_lock",
                    &SCHED_KEY,
                )?,
            },
            GFP_KERNEL,
        )?)
    }

    /// Sets the persistence timeout (jiffies) and netmask.
    pub(crate) fn set_persistence(&self, timeout: u32, netmask: u32) {
        self.timeout.store(timeout, Ordering::Relaxed);
        self.netmask.store(netmask, Ordering::Relaxed);
    }

    /// A destination for a new connection, or none available.
    pub(crate) fn schedule(&self, flow: &Flow) -> Option<Arc<DestRt>> {
        let mut s = self.slot.lock();
        let SchedSlot { sched, dests } = &mut *s;
        let i = sched.schedule(dests, flow)?;
        dests.get(i).cloned()
    }

    /// Removed by a flush and kept in the trash for its real servers: its
    /// scheduler's state and list go now (no new connection gets one).
    pub(crate) fn retire(&self) {
        let old = {
            let mut s = self.slot.lock();
            (
                core::mem::replace(&mut s.sched, Sched::None),
                core::mem::take(&mut s.dests),
            )
        };
        // (Freed outside the lock.)
        drop(old);
    }

    /// Switches to the scheduler called `name` (fresh state).
    pub(crate) fn set_sched(&self, name: &str) -> Result {
        let init = sched_init(name)?;
        let old = {
            let mut s = self.slot.lock();
            let new = Sched::by_name(name, &s.dests, init).unwrap_or(Sched::None);
            core::mem::replace(&mut s.sched, new)
        };
        // (mh's table freed outside the lock.)
        drop(old);
        Ok(())
    }

    /// Adds `d` at the head of the list, as ip_vs does.
    pub(crate) fn add_dest(&self, d: Arc<DestRt>) -> Result {
        let n = self.slot.lock().dests.len();
        let mut v = KVec::with_capacity(n.saturating_add(1), GFP_KERNEL)?;
        v.push(d, GFP_KERNEL)?;
        let old = {
            let mut s = self.slot.lock();
            // The list cannot have changed: the caller holds the control
            // plane's mutex. Still, copy what is there now.
            for x in s.dests.iter() {
                if v.push(x.clone(), GFP_ATOMIC).is_err() {
                    return Err(ENOMEM);
                }
            }
            let old = core::mem::replace(&mut s.dests, v);
            let SchedSlot { sched, dests } = &mut *s;
            sched.changed(dests, Change::Added(0));
            old
        };
        drop(old);
        Ok(())
    }

    /// Removes `d` from the list; it stays alive for its connections.
    pub(crate) fn del_dest(&self, d: &Arc<DestRt>) -> Result {
        d.removed.store(true, Ordering::Relaxed);
        let n = self.slot.lock().dests.len();
        let mut v = KVec::with_capacity(n, GFP_KERNEL)?;
        let old = {
            let mut s = self.slot.lock();
            let mut at = None;
            for (i, x) in s.dests.iter().enumerate() {
                if Arc::ptr_eq(x, d) {
                    at = Some(i);
                } else if v.push(x.clone(), GFP_ATOMIC).is_err() {
                    return Err(ENOMEM);
                }
            }
            let old = core::mem::replace(&mut s.dests, v);
            if let Some(i) = at {
                let SchedSlot { sched, dests } = &mut *s;
                sched.changed(dests, Change::Removed(i));
            }
            old
        };
        drop(old);
        Ok(())
    }

    /// Tells the scheduler that `d` changed (weight...).
    pub(crate) fn upd_dest(&self, d: &Arc<DestRt>) {
        let mut s = self.slot.lock();
        let SchedSlot { sched, dests } = &mut *s;
        if let Some(i) = dests.iter().position(|x| Arc::ptr_eq(x, d)) {
            sched.changed(dests, Change::Updated(i));
        }
    }

    /// The destination of (family, address, port), if it has one.
    pub(crate) fn find_dest(&self, af: u16, addr: &[u8; 16], port: u16) -> Option<Arc<DestRt>> {
        let s = self.slot.lock();
        s.dests
            .iter()
            .find(|d| d.key.af == af && d.key.port == port && d.key.addr == *addr)
            .cloned()
    }

    /// Calls `f` on each destination in ip_vs's list order (newest first).
    /// Calls `f` with the scheduler's name and the destinations. They are
    /// copied (their `Arc`s) under the scheduler's lock, which is held for
    /// the copy only: a reader (a /proc file) that formats them does not
    /// hold up the packet path's scheduling. Process context (it may sleep
    /// to allocate the copy; without memory for it, `f` runs under the
    /// lock).
    pub(crate) fn with_sched_dests(&self, f: impl FnOnce(&'static str, &[Arc<DestRt>])) {
        let n = self.slot.lock().dests.len();
        let Ok(mut copy) = KVec::<Arc<DestRt>>::with_capacity(n, GFP_KERNEL) else {
            let s = self.slot.lock();
            f(s.sched.name(), &s.dests);
            return;
        };
        let name = {
            let s = self.slot.lock();
            // Those that fit: a destination added since is left out, as
            // if the reader had come a moment earlier.
            for d in s.dests.iter().take(n) {
                // Within the capacity reserved: cannot fail.
                let _ = copy.push(d.clone(), GFP_ATOMIC);
            }
            s.sched.name()
        };
        f(name, &copy);
    }

    /// Empties the list (the service is going away).
    pub(crate) fn clear(&self) {
        let old = {
            let mut s = self.slot.lock();
            for d in s.dests.iter() {
                d.removed.store(true, Ordering::Relaxed);
            }
            core::mem::take(&mut s.dests)
        };
        drop(old);
    }
}
