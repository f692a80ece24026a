// SPDX-License-Identifier: GPL-2.0

//! The connection table (ip_vs_conn.c): one entry per client connection
//! through a service, found by the packet path under RCU in both
//! directions, written under striped bottom-half locks, entries from a slab
//! cache, freed after an RCU grace period.
//!
//! Expiry: every entry has a kernel timer (ip_vs's `cp->timer`), armed
//! lazily. A packet only stores the entry's new deadline; the timer, when
//! it fires, removes the entry if its deadline passed and no packet uses it
//! (reference count 1: the table's), or arms itself for the deadline. Only
//! a deadline that moves earlier (a shorter timeout: a TCP state change,
//! an early end) re-arms the timer at once (`timer_reduce`, which costs
//! nothing when the timer is due earlier anyway). So an idle table costs
//! nothing until its entries' time comes, and a busy entry one timer run
//! per timeout period instead of a `mod_timer` per packet. The kernel's
//! timer wheel fires a long timer up to an eighth of its period late, as
//! it does ip_vs's.

pub(crate) mod defense;
mod entry;
pub(crate) mod hash;
pub(crate) mod tab_size;

pub(crate) use entry::*;
use entry::{unbind_new, ConnAlloc, F_LOCAL_CLIENT, F_REPLIED, F_TPL_INVALID};

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use kernel::alloc::flags::GFP_KERNEL_ACCOUNT;
use kernel::prelude::*;

use crate::proto::{self, sctp, tcp};
use crate::svc::spec::Fwd;
use crate::sys::memcg::Memcg;
use crate::sys::rcuhash::{Judge, TimedTable};
use crate::sys::sync::RcuGuard;

/// A listing's place in the table (see `ConnTable::list_batch`).
pub(crate) use crate::sys::rcuhash::{ListKey, Listed};
use crate::sys::{jiffies, random_u32, HZ};

/// Entries judged at most for one eviction from a full table (list heads
/// looked at: see `RcuHashTable::evict_listed`).
const EVICT_STEPS: usize = 32;
/// Entries moved at most to the list of the class they have now, for one
/// eviction (a connection is listed half-open when it starts, and moves
/// when it reaches the head of that list once established).
const EVICT_MOVES: usize = 1024;

const _: () = assert!(crate::sys::rcuhash::CLASSES == defense::EVICT_CLASSES);

/// One namespace's connections.
pub(crate) struct ConnTable {
    tab: TimedTable<Conn, ConnAlloc>,
    seed: u64,
    net: usize,
    /// Most entries in this namespace (by memory, and as `conn_max` sets
    /// it: `cap`). Each namespace has its own bound: one filling its
    /// table does not fill another's.
    max: usize,
    cap: AtomicUsize,
    /// When full, a new connection takes the place of an entry that
    /// matters less (`defense::EVICT_*`).
    evict: AtomicBool,
    /// The table's size (bits) when the namespace gets its first service,
    /// and the most it grows to.
    start_bits: u32,
    max_bits: u32,
    full_warned: AtomicBool,
    /// The memory cgroup its entries and arrays are charged to: that of
    /// whoever gave the namespace its first service.
    memcg: Memcg,
    /// New connections refused because the table was full.
    pub(crate) dropped: AtomicUsize,
    /// Entries that gave way to new ones in a full table, by class
    /// (`defense::EVICT_*`).
    pub(crate) evicted: [AtomicUsize; defense::EVICT_CLASSES],
}

impl ConnTable {
    /// The table of namespace `net`, holding at most `max` entries. Its
    /// buckets come with the first
    /// service ([`ConnTable::ensure`]), `1 << start_bits` of them; it grows
    /// and shrinks with its entries ([`ConnTable::fit`]) up to `1 <<
    /// max_bits`.
    pub(crate) fn new(start_bits: u32, max_bits: u32, net: usize, max: usize) -> Result<Self> {
        let seed = u64::from(random_u32()) << 32 | u64::from(random_u32());
        Ok(Self {
            tab: TimedTable::new_empty(ConnShared {
                local: AtomicUsize::new(0),
            })?,
            seed,
            net,
            max,
            cap: AtomicUsize::new(max),
            evict: AtomicBool::new(true),
            start_bits,
            max_bits,
            full_warned: AtomicBool::new(false),
            memcg: Memcg::new(),
            dropped: AtomicUsize::new(0),
            evicted: [const { AtomicUsize::new(0) }; defense::EVICT_CLASSES],
        })
    }

    /// Gives the table its buckets if it has none yet (the namespace's
    /// first service), charged to the caller's memory cgroup. May sleep.
    pub(crate) fn ensure(&self) -> Result {
        self.memcg.take_current();
        if self.tab.buckets() == 0 {
            self.tab.resize(self.start_bits, GFP_KERNEL_ACCOUNT)?;
        }
        Ok(())
    }

    /// Resizes the table to its number of entries, if it is far off:
    /// lookups stay a chain of under one entry on average, up to millions
    /// of entries; it is never smaller than its starting size. Process
    /// context (the namespace's tick).
    pub(crate) fn fit(&self) {
        let b = self.tab.buckets();
        if b == 0 {
            return;
        }
        let bits = b.trailing_zeros();
        if let Some(want) =
            tab_size::fit_bits(self.tab.len() as u64, bits, self.start_bits, self.max_bits)
        {
            // Without memory for a larger array the table stays as it is.
            let _ = self
                .memcg
                .with(|| self.tab.resize(want, GFP_KERNEL_ACCOUNT));
        }
    }

    /// Number of buckets now.
    pub(crate) fn buckets(&self) -> usize {
        self.tab.buckets()
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.tab.len()
    }

    /// Most entries in this namespace.
    pub(crate) fn max(&self) -> usize {
        self.cap.load(Ordering::Relaxed)
    }

    /// Sets what happens when the table is full (`evict`: an embryonic
    /// entry gives way) and its bound (`conn_max`, 0 or less: by memory).
    pub(crate) fn set_limits(&self, evict: bool, conn_max: i32) {
        self.evict.store(evict, Ordering::Relaxed);
        let cap = usize::try_from(conn_max)
            .ok()
            .filter(|&m| m > 0)
            .map_or(self.max, |m| m.min(self.max));
        self.cap.store(cap, Ordering::Relaxed);
    }

    /// Entries that gave way to new ones in a full table, all classes.
    pub(crate) fn evicted_total(&self) -> usize {
        self.evicted
            .iter()
            .fold(0usize, |n, e| n.saturating_add(e.load(Ordering::Relaxed)))
    }

    /// Whether the table is at its bound.
    pub(crate) fn full(&self) -> bool {
        self.tab.len() >= self.cap.load(Ordering::Relaxed)
    }

    /// Makes room for one entry, in stripe `hash`'s first: an entry not in
    /// use gives way, in the order of `defense::EVICT_*`; bounded work
    /// (`EVICT_STEPS` list heads judged, `EVICT_MOVES` moved), no scan of
    /// the table.
    fn evict_one(&self, hash: u32) -> bool {
        let from = (hash >> 27) as usize;
        let judge =
            |c: &Conn, list: u8, seen: u32| match defense::evict_verdict(list, &c.evict_view(seen))
            {
                defense::Evict::Move(to) => Judge::Move(to),
                defense::Evict::Keep => Judge::Keep,
                defense::Evict::Take => {
                    if c.refcnt
                        .compare_exchange(1, 0, Ordering::Acquire, Ordering::Relaxed)
                        .is_err()
                    {
                        return Judge::Keep;
                    }
                    // A packet may have bound a connection to the template
                    // between the look and the swap: it stays then.
                    if c.is_template() && c.evict_view(seen).controls != 0 {
                        c.refcnt.store(1, Ordering::Release);
                        return Judge::Keep;
                    }
                    Judge::Take
                }
            };
        let taken = self.tab.evict_listed(from, EVICT_STEPS, EVICT_MOVES, judge);
        match taken.and_then(|c| self.evicted.get(usize::from(c))) {
            Some(n) => {
                n.fetch_add(1, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// ip_vs's drop_entry (`ip_vs_random_dropentry`), once a second while
    /// it is on: in a 32nd of the buckets picked at random, ends the
    /// entries of half-open TCP connections and SCTP associations,
    /// non-assured templates, and some idle ones with few packets
    /// (`defense::todrop_entry`).
    /// Process context.
    pub(crate) fn random_drop(&self, counters: &mut [i32; 9]) {
        let k = (self.tab.buckets() / 32).max(1);
        let now = jiffies();
        self.tab.for_each_sampled(k, |c| {
            let idle = now
                .saturating_add(u64::from(c.timeout.load(Ordering::Relaxed)))
                .saturating_sub(c.expires.load(Ordering::Relaxed));
            let pkts = c.in_pkts.load(Ordering::Relaxed);
            let drop = if c.is_template() {
                match &c.control {
                    Some(ctl) if ctl.n.load(Ordering::Relaxed) != 0 => false,
                    Some(ctl) => !ctl.assured.load(Ordering::Relaxed),
                    None => false,
                }
            } else if c.protocol == proto::IPPROTO_TCP {
                match c.state.load(Ordering::Relaxed) {
                    tcp::SYN_RECV | tcp::SYNACK => true,
                    tcp::ESTABLISHED => defense::todrop_entry(counters, pkts, idle, HZ),
                    _ => false,
                }
            } else if c.protocol == proto::IPPROTO_SCTP {
                // An INIT not answered yet, or a quiet association.
                match c.state.load(Ordering::Relaxed) {
                    sctp::INIT1 | sctp::INIT => true,
                    sctp::ESTABLISHED => defense::todrop_entry(counters, pkts, idle, HZ),
                    _ => false,
                }
            } else {
                defense::todrop_entry(counters, pkts, idle, HZ)
            };
            if drop && c.get() {
                self.expire_now(&ConnRef { c });
            }
        });
    }

    fn hash(&self, protocol: u8, addr: &[u8; 16], port: u16) -> u32 {
        hash::conn_hash(self.seed, self.net as u64, protocol, addr, port)
    }

    /// The connection of a client's packet to a virtual service
    /// (ip_vs's `conn_in_get`).
    pub(crate) fn get_in<'g>(&'g self, g: &'g RcuGuard, k: &Lookup<'_>) -> Option<ConnRef<'g>> {
        let h = self.hash(k.protocol, k.saddr, k.sport);
        let c = self.tab.find(g, h, |c| {
            c.protocol == k.protocol
                && c.af == k.af
                && c.cport == k.sport
                && c.vport == k.dport
                && c.caddr == *k.saddr
                && c.vaddr == *k.daddr
                && !c.is_template()
                && c.get()
        })?;
        Some(ConnRef { c })
    }

    /// A valid persistence template (ip_vs's `ct_in_get`).
    pub(crate) fn get_template<'g>(&'g self, g: &'g RcuGuard, k: &Key) -> Option<ConnRef<'g>> {
        let h = self.hash(k.protocol, &k.caddr, k.cport);
        let c = self.tab.find(g, h, |c| c.is(k) && c.get())?;
        Some(ConnRef { c })
    }

    /// Stops a template from being found (its real server is no longer
    /// available); it expires in its time.
    pub(crate) fn invalidate(&self, c: &ConnRef<'_>) {
        c.flags.fetch_or(F_TPL_INVALID, Ordering::Relaxed);
    }

    /// The connection of a real server's reply (`conn_out_get`): the
    /// packet goes to the client from the real server (NAT) or from the
    /// VIP (DR and TUN replies that pass the director).
    pub(crate) fn get_out<'g>(&'g self, g: &'g RcuGuard, k: &Lookup<'_>) -> Option<ConnRef<'g>> {
        let h = self.hash(k.protocol, k.daddr, k.dport);
        let c = self.tab.find(g, h, |c| {
            let (sport, saddr) = if c.fwd == Fwd::Masq {
                (c.dport, &c.daddr)
            } else {
                (c.vport, &c.vaddr)
            };
            c.protocol == k.protocol
                && c.af == k.af
                && c.cport == k.dport
                && sport == k.sport
                && c.caddr == *k.daddr
                && *saddr == *k.saddr
                && !c.is_template()
                && c.get()
        })?;
        Some(ConnRef { c })
    }

    /// Adds a connection, counted inactive on its destination until its
    /// protocol says otherwise, and returns it in use. `None` when the
    /// table is full or memory is short (the packet is dropped).
    /// `local_client`: its client is a program on the director.
    pub(crate) fn add<'g>(
        &'g self,
        g: &'g RcuGuard,
        n: NewConn,
        no_output: bool,
        local_client: bool,
    ) -> Option<ConnRef<'g>> {
        let mut flags = F_INACTIVE;
        if no_output {
            flags |= F_NOOUTPUT;
        }
        if local_client {
            flags |= F_LOCAL_CLIENT;
        }
        self.insert(g, n, flags)
    }

    /// Adds a connection or template made by a sync message, `flags` its
    /// rvs flags (F_INACTIVE, F_NOOUTPUT, F_TEMPLATE, F_SYNC), counted on
    /// its destination as those say; returns it in use. Its master saw it
    /// through: it does not count as never answered (a full backup evicts
    /// it by recency, not first).
    pub(crate) fn add_synced<'g>(
        &'g self,
        g: &'g RcuGuard,
        n: NewConn,
        flags: u32,
    ) -> Option<ConnRef<'g>> {
        self.insert(g, n, flags | F_REPLIED)
    }

    /// The entry `k` names (a connection or a template), whatever its
    /// real server.
    pub(crate) fn find<'g>(&'g self, g: &'g RcuGuard, k: &Key) -> Option<ConnRef<'g>> {
        let h = self.hash(k.protocol, &k.caddr, k.cport);
        let c = self.tab.find(g, h, |c| c.is(k) && c.get())?;
        Some(ConnRef { c })
    }

    /// Whether the table holds a connection of a client on the director.
    pub(crate) fn has_local_clients(&self) -> bool {
        self.tab.ctx().local.load(Ordering::Relaxed) != 0
    }

    /// Adds a persistence template (`n.control` its own), counted among
    /// its destination's persistent connections, and returns it in use;
    /// if another CPU added the same one meanwhile, that one.
    pub(crate) fn add_template<'g>(&'g self, g: &'g RcuGuard, n: NewConn) -> Option<ConnRef<'g>> {
        self.insert(g, n, F_TEMPLATE)
    }

    fn insert<'g>(&'g self, g: &'g RcuGuard, n: NewConn, flags: u32) -> Option<ConnRef<'g>> {
        let h = self.hash(n.protocol, &n.caddr, n.cport);
        let full = self.full();
        if full && self.evict.load(Ordering::Relaxed) && self.evict_one(h) {
            // Room made.
        } else if full {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            if !self.full_warned.swap(true, Ordering::Relaxed) {
                pr_warn!(
                    "connection table full ({} entries): new connections dropped\n",
                    self.cap.load(Ordering::Relaxed)
                );
            }
            return None;
        }
        let k = Key {
            protocol: n.protocol,
            af: n.af as u8,
            caddr: n.caddr,
            cport: n.cport,
            vaddr: n.vaddr,
            vport: n.vport,
            template: flags & F_TEMPLATE,
        };
        // Made again if memory runs out before the bound (a memory
        // cgroup's limit): room is made as at the bound, once.
        let mut room_made = false;
        loop {
            let conn = Conn::from_new(&n, flags);
            let first = conn.expires.load(Ordering::Relaxed);
            conn.bind();
            // Two packets of one new connection may race on two CPUs: the
            // second finds the first's entry instead of adding its own. An
            // entry ended early (a SYN reusing a closing connection's ports)
            // waits for its timer but does not hold its key.
            // The local count goes up first: the entry's timer may remove it
            // as soon as it is linked.
            let local = &self.tab.ctx().local;
            if flags & F_LOCAL_CLIENT != 0 {
                local.fetch_add(1, Ordering::Relaxed);
            }
            // Its eviction class as it starts, by its state (a connection
            // of TCP or SCTP made by a packet is half-open until its
            // protocol says otherwise; one from a sync message is in the
            // state it gives); looked at again when it reaches the head of
            // its list.
            let class = defense::evict_class(&conn.evict_view(0));
            let linked = self
                .memcg
                .with(|| self.tab.insert_if(h, conn, first, class, |c| !c.is(&k)));
            if flags & F_LOCAL_CLIENT != 0 && !matches!(linked, Ok(true)) {
                local.fetch_sub(1, Ordering::Relaxed);
            }
            match linked {
                Ok(true) => {
                    if k.template == 0 {
                        n.dest.conn_bound();
                    }
                    break;
                }
                Ok(false) if k.template != 0 => {
                    // The other CPU's template serves.
                    unbind_new(&n, flags);
                    return self.get_template(g, &k);
                }
                Ok(false) => {
                    unbind_new(&n, flags);
                    return None;
                }
                Err(_) => {
                    unbind_new(&n, flags);
                    if !room_made && self.evict.load(Ordering::Relaxed) && self.evict_one(h) {
                        room_made = true;
                        continue;
                    }
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
            }
        }
        let c = self.tab.find(g, h, |c| c.is(&k) && c.get())?;
        Some(ConnRef { c })
    }

    /// Ends a connection now (ip_vs's `ip_vs_conn_expire_now`): lookups no
    /// longer find it, so the packet at hand may start a new one; its timer
    /// removes it as soon as no packet uses it.
    pub(crate) fn expire_now(&self, c: &ConnRef<'_>) {
        c.dead.store(true, Ordering::Relaxed);
        let now = jiffies();
        c.expires.store(now, Ordering::Relaxed);
        c.c.fire_by(now);
    }

    /// Ends every connection whose real server was removed
    /// (expire_nodest_conn). Process context.
    pub(crate) fn expire_nodest(&self) {
        self.tab.for_each_resched(|c| {
            // Only an entry that is not being removed may have its timer
            // brought forward.
            if c.dest.removed.load(Ordering::Relaxed) && c.get() {
                self.expire_now(&ConnRef { c });
            }
        });
    }

    /// A listing a bucket at a time in hash order, resumable across
    /// resizes: the first cursor at or after position `from` (see
    /// `RcuHashTable::seek`).
    pub(crate) fn list_seek(&self, from: u64) -> Option<u64> {
        self.tab.seek(from)
    }

    /// The position after cursor `c`.
    pub(crate) fn list_after(c: u64) -> u64 {
        TimedTable::<Conn, ConnAlloc>::after(c)
    }

    /// Calls `f` in key order on at most a batch of the entries of cursor
    /// `c` above key `after`, until it says no (see
    /// `RcuHashTable::list_batch`): an exact listing however long the
    /// bucket and whatever changes in between.
    pub(crate) fn list_batch<'g>(
        &'g self,
        g: &'g RcuGuard,
        c: u64,
        after: Option<ListKey>,
        mut f: impl FnMut(&'g Conn) -> bool,
    ) -> Listed {
        self.tab.list_batch(g, c, after, |e| f(e))
    }

    /// Calls `f` on the entries of cursor `c`.
    pub(crate) fn list_at(&self, g: &RcuGuard, c: u64, mut f: impl FnMut(&Conn)) {
        self.tab.for_each_at(g, c, |e| f(e))
    }
}
