// SPDX-License-Identifier: GPL-2.0

//! Connection sync (net/netfilter/ipvs/ip_vs_sync.c): a master director
//! multicasts the connections it forwards, a backup director keeps them
//! in its table, so that a failover does not cut them. ip_vs's wire format
//! (versions 1 and 0), ip_vs's rules of when a connection is sent, and its
//! rules of what a backup believes; kernel threads replaced by jobs on the
//! system workqueue:
//!
//! - the packet path appends entries to a message per sending port
//!   ([`SyncQ`], under one bottom-half lock, as ip_vs's `sync_buff_lock`);
//!   a full message is queued (at most sync_qlen_max per port) and the
//!   master's job kicked: after 20 ms for the first, at once for the
//!   eighth (ip_vs's IPVS_SYNC_SEND_DELAY and IPVS_SYNC_WAKEUP_RATE); the
//!   job also sends a message left unfilled for 2 s, checking every second;
//! - the backup's socket kicks the backup's job when a datagram arrives;
//!   the job takes what is queued and applies it to the connection table.

pub(crate) mod wire;

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

use crate::conn::ConnTable;
use crate::conn::{Conn, Control, Key, NewConn, F_INACTIVE, F_NOOUTPUT, F_SYNC, F_TEMPLATE};
use crate::proto::Timeouts;
use crate::proto::{self, AF_INET, AF_INET6};
use crate::svc::rt::{DestRt, SvcRt};
use crate::svc::spec::Fwd;
use crate::sys::netns::Net;
use crate::sys::sock::{self, Group, McastSock};
use crate::sys::sync::{cond_resched, BhMutex, LockKey, RcuGuard};
use crate::sys::work::{Job, Kicker, Run};
use crate::sys::{jiffies, msleep};
use wire::{flag, Entry};

/// `IP_VS_STATE_MASTER`, `IP_VS_STATE_BACKUP`.
pub(crate) const STATE_MASTER: u32 = 1;
pub(crate) const STATE_BACKUP: u32 = 2;
/// `IPVS_SYNC_PORTS_MAX`.
const PORTS_MAX: usize = 64;
/// `IPVS_SYNC_WAKEUP_RATE`: queued messages that wake the sender at once.
const WAKEUP_RATE: u32 = 8;
/// `IP_VS_IFNAME_MAXLEN`.
pub(crate) const IFNAME_MAXLEN: usize = 16;
use crate::sys::HZ;
/// Datagrams a backup's job takes per run before it yields.
const RX_BATCH: u32 = 256;

/// A daemon's configuration (ip_vs's `struct ipvs_sync_daemon_cfg`), as
/// GET_DAEMON reports it.
#[derive(Clone, Copy)]
pub(crate) struct Config {
    /// The interface's name, NUL-terminated.
    pub(crate) ifname: [u8; IFNAME_MAXLEN],
    pub(crate) syncid: u32,
    pub(crate) maxlen: u16,
    /// `AF_INET` or `AF_INET6` (0 until started: the default group).
    pub(crate) af: u16,
    pub(crate) group: [u8; 16],
    pub(crate) port: u16,
    pub(crate) ttl: u8,
}

impl Config {
    pub(crate) fn ifname(&self) -> &core::ffi::CStr {
        core::ffi::CStr::from_bytes_until_nul(&self.ifname).unwrap_or(c"")
    }
}

/// Counters of sync (for the tests and for operators).
pub(crate) mod stat {
    pub(crate) const SENT: usize = 0;
    /// Messages dropped by the master: queue full, no memory, send error.
    pub(crate) const TX_DROPPED: usize = 1;
    pub(crate) const RX_MSGS: usize = 2;
    /// Messages a backup dropped (whole or the rest after a bad entry).
    pub(crate) const RX_DROPPED: usize = 3;
    pub(crate) const RX_APPLIED: usize = 4;
    /// Entries skipped: refused by the checks, or no real server here.
    pub(crate) const RX_SKIPPED: usize = 5;
    /// Messages a backup dropped because they came from one of its own
    /// addresses (sync_accept_local 0).
    pub(crate) const RX_LOCAL: usize = 6;
    pub(crate) const N: usize = 7;
}

/// One message being filled or waiting to be sent.
struct Buf {
    data: KVec<u8>,
    /// Its size limit (ip_vs's `end`).
    cap: usize,
    first: u64,
    ver: u8,
}

#[derive(Default)]
struct PortQ {
    cur: Option<Buf>,
    queue: KVec<Buf>,
    /// Messages queued since the sender last ran (`sync_queue_delay`).
    delay: u32,
}

/// The master's messages (ip_vs's `sync_buff` and `sync_queue` of each
/// sending thread).
#[derive(Default)]
struct MasterQ {
    on: bool,
    syncid: u8,
    maxlen: usize,
    ports: KVec<PortQ>,
    kick: Option<Kicker<MasterJob>>,
}

/// What a namespace's packet path needs of sync.
pub(crate) struct SyncQ {
    /// `IP_VS_STATE_*` bits of the daemons running (ip_vs's `sync_state`).
    pub(crate) state: AtomicU32,
    q: BhMutex<MasterQ>,
    pub(crate) stats: [AtomicU64; stat::N],
}

static SYNCQ_KEY: LockKey = LockKey::new();

impl SyncQ {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            state: AtomicU32::new(0),
            q: BhMutex::new(MasterQ::default(), c"rvs_sync_buff", &SYNCQ_KEY)?,
            stats: [const { AtomicU64::new(0) }; stat::N],
        })
    }

    fn count(&self, i: usize) {
        if let Some(c) = self.stats.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether the backup runs with backup_only (the director then
    /// forwards nothing).
    pub(crate) fn backup_only(&self, t: &impl Host) -> bool {
        self.state.load(Ordering::Relaxed) & STATE_BACKUP != 0 && t.param(Param::BackupOnly) != 0
    }
}

/// What sync needs of a namespace's tables (`tables::Tables` gives it;
/// sync sits below them and never names them): its queue and counters,
/// the connection table, the services, the settings.
pub(crate) trait Host: Send + Sync {
    /// The master's queue, the daemons' state and the counters.
    fn queue(&self) -> &SyncQ;
    /// The connection table the master sends from and the backup fills.
    fn conns(&self) -> &ConnTable;
    /// A sync setting's value now (its sysctl).
    fn param(&self, p: Param) -> i32;
    /// When a connection is sent (sync_threshold and the rest).
    fn wire_params(&self) -> wire::Params;
    /// The timeouts `--set` gave.
    fn timeouts(&self) -> Timeouts;
    /// The service a synced connection belongs to (ip_vs_service_find).
    fn service_of<'g>(
        &'g self,
        g: &'g RcuGuard,
        af: u16,
        mark: u32,
        protocol: u8,
        addr: &[u8; 16],
        port: u16,
    ) -> Option<&'g Arc<SvcRt>>;
}

/// The sync settings read through [`Host::param`] (their sysctls).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Param {
    /// sync_threshold's first value.
    Threshold,
    /// sync_version.
    Version,
    /// sync_qlen_max.
    QlenMax,
    /// sync_sock_size.
    SockSize,
    /// sync_ports.
    Ports,
    /// sync_accept_local (rvs's own).
    AcceptLocal,
    /// backup_only.
    BackupOnly,
}

/// The wire form of a connection or template as its master sends it.
fn entry_of(c: &Conn) -> Entry {
    Entry {
        af: u16::from(c.af),
        protocol: c.protocol,
        flags: c.ipvs_flags(),
        state: u16::from(c.sync_state()),
        cport: c.cport,
        vport: c.vport,
        dport: c.dport,
        fwmark: c.dest.svc_mark,
        timeout: c.timeout.load(Ordering::Relaxed) / HZ,
        caddr: c.caddr,
        vaddr: c.vaddr,
        daddr: c.daddr,
    }
}

/// A client's packet went through `c` (after it was sent on): counts it
/// and, on a master, sends the connection (and its template) when ip_vs
/// would (ip_vs_in_hook's tail and `ip_vs_sync_conn`).
pub(crate) fn on_packet<H: Host + ?Sized>(t: &H, g: &RcuGuard, c: &Conn) {
    let pkts = if c.one_packet() {
        t.param(Param::Threshold) as u32
    } else {
        c.in_pkts.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    };
    if t.queue().state.load(Ordering::Relaxed) & STATE_MASTER == 0 {
        return;
    }
    let p = t.wire_params();
    let v0 = t.param(Param::Version) == 0;
    let sent = if c.one_packet() || (v0 && u16::from(c.af) != AF_INET) {
        false
    } else if needed(c, pkts, &p) {
        add(t, c, v0);
        true
    } else {
        false
    };
    // Version 0 syncs the template only after its connection.
    if v0 && !sent {
        return;
    }
    if c.is_template() {
        return;
    }
    if let Some(ctl) = c.control() {
        if let Some(tpl) = t.conns().get_template(g, &ctl.key) {
            let pkts = tpl.in_pkts.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if needed(&tpl, pkts, &p) {
                add(t, &tpl, v0);
            }
        }
    }
}

/// `ip_vs_sync_conn_needed`, its updates of `old_state` and `sync_end`.
fn needed(c: &Conn, pkts: u32, p: &wire::Params) -> bool {
    let orig = c.sync_end.load(Ordering::Relaxed);
    let state = c.state.load(Ordering::Relaxed);
    let r = wire::needed(
        p,
        c.is_template(),
        c.controlled(),
        c.protocol,
        state,
        c.old_state.load(Ordering::Relaxed),
        c.timeout.load(Ordering::Relaxed),
        orig,
        pkts,
        jiffies() as u32,
    );
    if !r.send {
        return false;
    }
    c.old_state.store(state, Ordering::Relaxed);
    let swapped = r.endtime.is_none_or(|n| {
        c.sync_end
            .compare_exchange(orig, n, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    });
    swapped || r.force
}

/// The sending port of a connection (ip_vs picks by its address).
fn port_of(c: &Conn, n: usize) -> usize {
    let h = crate::conn::hash::conn_hash(0, 2, c.protocol, &c.caddr, c.cport);
    (h as usize) & n.saturating_sub(1)
}

/// Appends `c` to its port's message, queueing the message when full or
/// of the other version (`ip_vs_sync_conn`, `ip_vs_sync_conn_v0`).
fn add<H: Host + ?Sized>(t: &H, c: &Conn, v0: bool) {
    let e = entry_of(c);
    let ver = u8::from(!v0);
    let (len, hdr) = if v0 {
        (wire::CONN_V0, wire::HDR_V0)
    } else {
        (e.v1_len(), wire::HDR_V1)
    };
    let qlen_max = t.param(Param::QlenMax).max(0) as usize;
    let mut q = t.queue().q.lock();
    if !q.on {
        return;
    }
    let MasterQ {
        syncid,
        maxlen,
        ports,
        kick,
        ..
    } = &mut *q;
    let id = port_of(c, ports.len());
    let Some(pq) = ports.get_mut(id) else {
        return;
    };
    let mut pad = 0;
    if let Some(b) = &pq.cur {
        pad = if v0 {
            0
        } else {
            b.data.len().wrapping_neg() & 3
        };
        if b.data.len().saturating_add(pad).saturating_add(len) > b.cap || b.ver != ver {
            if let Some(b) = pq.cur.take() {
                enqueue(t, pq, b, qlen_max, kick.as_ref());
            }
            pad = 0;
        }
    }
    if pq.cur.is_none() {
        let cap = len.saturating_add(hdr).max(*maxlen);
        let Ok(mut data) = KVec::with_capacity(cap, GFP_ATOMIC) else {
            t.queue().count(stat::TX_DROPPED);
            return;
        };
        let h: &[u8] = if v0 {
            &wire::header_v0(*syncid)
        } else {
            &wire::header_v1(*syncid)
        };
        // Within the capacity: cannot fail.
        let _ = data.extend_from_slice(h, GFP_ATOMIC);
        pq.cur = Some(Buf {
            data,
            cap,
            first: jiffies(),
            ver,
        });
    }
    let Some(b) = pq.cur.as_mut() else {
        return;
    };
    let at = b.data.len().saturating_add(pad);
    // Within the capacity checked above: cannot fail.
    if b.data
        .extend_with(pad.saturating_add(len), 0, GFP_ATOMIC)
        .is_err()
    {
        return;
    }
    if let Some(s) = b.data.get_mut(at..) {
        if v0 {
            e.put_v0(s);
        } else {
            e.put_v1(s);
        }
    }
    let n = b.data.len();
    wire::account(&mut b.data, ver, n);
}

/// `sb_queue_tail`: a full message waits for the sender, unless the queue
/// is at sync_qlen_max.
fn enqueue<H: Host + ?Sized>(
    t: &H,
    pq: &mut PortQ,
    b: Buf,
    qlen_max: usize,
    kick: Option<&Kicker<MasterJob>>,
) {
    if pq.queue.len() >= qlen_max || pq.queue.push(b, GFP_ATOMIC).is_err() {
        t.queue().count(stat::TX_DROPPED);
        return;
    }
    if let Some(k) = kick {
        if pq.queue.len() == 1 {
            k.kick_unless_pending(u64::from((HZ / 50).max(1)));
        }
        pq.delay = pq.delay.saturating_add(1);
        if pq.delay == WAKEUP_RATE {
            k.kick(0);
        }
    }
}

/// The master's sender: its sockets, one per port.
pub(crate) struct MasterJob {
    t: Arc<dyn Host>,
    socks: KVec<McastSock>,
}

impl MasterJob {
    /// Per port, the queued messages and the current one if it was left
    /// unfilled for 2 s (ip_vs's IPVS_SYNC_FLUSH_TIME), taken out of the
    /// queues whole (no copy, no allocation under the lock).
    fn take(&self) -> Result<KVec<(KVec<Buf>, Option<Buf>)>> {
        let mut out = KVec::with_capacity(self.socks.len(), GFP_KERNEL)?;
        let now = jiffies();
        let flush = u64::from(HZ) * 2;
        let mut q = self.t.queue().q.lock();
        for pq in q.ports.iter_mut().take(self.socks.len()) {
            let queued = core::mem::take(&mut pq.queue);
            pq.delay = 0;
            let old = pq
                .cur
                .as_ref()
                .is_some_and(|b| now.wrapping_sub(b.first) >= flush);
            let cur = if old { pq.cur.take() } else { None };
            // Within the capacity reserved above: no allocation.
            if out.push((queued, cur), GFP_ATOMIC).is_err() {
                self.t.queue().count(stat::TX_DROPPED);
            }
        }
        Ok(out)
    }

    fn send(&self, id: usize, b: &Buf) {
        let Some(s) = self.socks.get(id) else {
            return;
        };
        // A full send buffer: wait for room a little (ip_vs's thread
        // sleeps until the socket is writable), then give up on it.
        for _ in 0..100 {
            match s.send(&b.data) {
                Ok(_) => {
                    self.t.queue().count(stat::SENT);
                    return;
                }
                Err(e) if e == EAGAIN => msleep(10),
                Err(_) => break,
            }
        }
        self.t.queue().count(stat::TX_DROPPED);
    }
}

impl Run for MasterJob {
    fn run(&self) -> Option<u64> {
        // (No memory for the list: the messages wait for the next run.)
        if let Ok(ports) = self.take() {
            for (id, (queued, cur)) in ports.iter().enumerate() {
                for b in Iterator::chain(queued.iter(), cur.iter()) {
                    self.send(id, b);
                }
            }
        }
        // ip_vs's IPVS_SYNC_CHECK_PERIOD.
        Some(u64::from(HZ))
    }
}

/// The backup's receiver: a socket per port, as the master sends.
pub(crate) struct BackupJob {
    t: Arc<dyn Host>,
    socks: KVec<McastSock>,
    syncid: u32,
    buf: Arc<kernel::sync::Mutex<KVec<u8>>>,
}

impl Run for BackupJob {
    fn run(&self) -> Option<u64> {
        let mut buf = self.buf.lock();
        let mut more = false;
        let accept_local = self.t.param(Param::AcceptLocal) != 0;
        for s in self.socks.iter() {
            let mut n = 0u32;
            while let Ok((len, local)) = s.recv(&mut buf) {
                if local && !accept_local {
                    // Sent from this host: not a master's (whose own
                    // sends do not loop back), maybe any local user's.
                    self.t.queue().count(stat::RX_LOCAL);
                } else if let Some(m) = buf.get(..len) {
                    process(&*self.t, m, self.syncid);
                }
                n = n.saturating_add(1);
                if n == RX_BATCH {
                    more = true;
                    break;
                }
            }
            // Up to RX_BATCH datagrams a port: let others run between
            // ports (no read section or spinlock is held here).
            cond_resched();
        }
        // More may be queued: again soon, letting others run meanwhile.
        more.then_some(0)
    }
}

/// One received message (`ip_vs_process_message`).
pub(crate) fn process<H: Host + ?Sized>(t: &H, m: &[u8], syncid: u32) {
    let s = t.queue();
    s.count(stat::RX_MSGS);
    // ip_vs compares the message's byte with its int setting.
    let filter = if syncid != 0 && syncid > 255 {
        None
    } else {
        Some(syncid as u8)
    };
    let Some(filter) = filter else {
        s.count(stat::RX_DROPPED);
        return;
    };
    let threshold = t.param(Param::Threshold);
    let g = RcuGuard::new();
    let r = wire::parse(m, filter, |e| match e {
        Ok(e) => {
            if apply(t, &g, &e, threshold) {
                s.count(stat::RX_APPLIED);
            } else {
                s.count(stat::RX_SKIPPED);
            }
        }
        Err(_) => s.count(stat::RX_SKIPPED),
    });
    if r.is_err() {
        s.count(stat::RX_DROPPED);
    }
}

/// The real server of a synced entry here (`ip_vs_find_dest`), in its
/// service `svc`.
fn find_dest(svc: &SvcRt, e: &Entry) -> Option<Arc<DestRt>> {
    let port = if e.fwmark != 0 && Fwd::of(e.flags) != Fwd::Masq {
        0
    } else {
        e.dport
    };
    svc.find_dest(e.af, &e.daddr, port)
        .or_else(|| svc.find_dest(e.af, &e.daddr, port ^ e.dport))
}

/// How long a template made by a sync message lives here without one in
/// the message (ip_vs: 3 minutes).
const TPL_SYNC_SECS: u32 = 180;

/// The timeout (jiffies) a synced entry gets: the message's, but never
/// more than this director gives such an entry itself (the timeout of its
/// protocol and state, a template the persistence timeout of its service),
/// so that a forged message cannot make an entry outlive local policy (a
/// timeout of 0xffffffff seconds would otherwise live for weeks).
/// Without one in the message (version 0), what ip_vs's
/// `ip_vs_proc_conn` gives: the state's timeout, 3 minutes for a template.
fn synced_timeout<H: Host + ?Sized>(t: &H, svc: Option<&SvcRt>, e: &Entry, template: bool) -> u32 {
    let state = (!template && proto::balanced(e.protocol))
        .then(|| proto::timeout(e.protocol, e.state as u8, &t.timeouts()).saturating_mul(HZ));
    let three_min = TPL_SYNC_SECS.saturating_mul(HZ);
    if e.timeout == 0 {
        return state.unwrap_or(three_min);
    }
    let local = if template {
        svc.map(|s| s.timeout.load(Ordering::Relaxed))
            .filter(|&j| j != 0)
            .unwrap_or(three_min)
    } else {
        state.unwrap_or(three_min)
    };
    e.timeout.saturating_mul(HZ).min(local)
}

/// Adds or updates a connection or template as a backup
/// (`ip_vs_proc_conn`). False when it was not kept: it names a connection
/// replaced since, or no real server of it exists here (ip_vs keeps such
/// an entry unbound; rvs's entries are always bound).
fn apply<H: Host + ?Sized>(t: &H, g: &RcuGuard, e: &Entry, threshold: i32) -> bool {
    let template = e.flags & flag::TEMPLATE != 0;
    let inactive = e.flags & flag::INACTIVE != 0;
    let key = Key::new(
        e.protocol, e.af as u8, e.caddr, e.cport, e.vaddr, e.vport, template,
    );
    let mut cp = t.conns().find(g, &key);
    if !template {
        if let Some(c) = &cp {
            if c.dport != e.dport || c.daddr != e.daddr {
                if inactive {
                    // The end of a connection replaced since.
                    return false;
                }
                t.conns().expire_now(c);
                cp = None;
            }
        }
    }
    let svc = t.service_of(g, e.af, e.fwmark, e.protocol, &e.vaddr, e.vport);
    let timeout = synced_timeout(t, svc.map(|s| &**s), e, template);
    let c = match cp {
        Some(c) => {
            c.set_inactive(inactive);
            c
        }
        None => {
            let Some(dest) = svc.and_then(|s| find_dest(s, e)) else {
                return false;
            };
            let fwd = Fwd::of(dest.fwd.load(Ordering::Relaxed));
            let mut flags = F_SYNC;
            if template {
                flags |= F_TEMPLATE;
            } else {
                if inactive {
                    flags |= F_INACTIVE;
                }
                if fwd != Fwd::Masq {
                    flags |= F_NOOUTPUT;
                }
            }
            let control = if template {
                match Arc::new(Control::new(key), GFP_ATOMIC) {
                    Ok(c) => Some(c),
                    Err(_) => return false,
                }
            } else {
                None
            };
            let n = NewConn {
                protocol: e.protocol,
                af: e.af,
                caddr: e.caddr,
                cport: e.cport,
                vaddr: e.vaddr,
                vport: e.vport,
                daddr: e.daddr,
                dport: e.dport,
                dest,
                timeout,
                control,
                // (A template's state is its assurance, set below.)
                state: if template { 0 } else { e.state as u8 },
            };
            match t.conns().add_synced(g, n, flags) {
                Some(c) => c,
                None => return false,
            }
        }
    };
    let state = e.state as u8;
    if template {
        if let Some(ctl) = c.control() {
            ctl.set_assured(state == 1);
        }
    } else {
        c.state.store(state, Ordering::Relaxed);
    }
    c.old_state.store(state, Ordering::Relaxed);
    c.in_pkts.store(threshold as u32, Ordering::Relaxed);
    c.set_timeout(timeout);
    true
}

/// The daemons of a namespace (under the control plane's mutex).
pub(crate) struct Daemons {
    master: Option<Master>,
    backup: Option<Backup>,
    /// Ports (threads) of the daemons running: sync_ports when the first
    /// started (ip_vs's `threads_mask + 1`).
    ports: usize,
}

struct Master {
    cfg: Config,
    t: Arc<dyn Host>,
    job: Option<Job<MasterJob>>,
}

struct Backup {
    cfg: Config,
    t: Arc<dyn Host>,
    job: Option<Job<BackupJob>>,
}

impl Drop for Master {
    fn drop(&mut self) {
        // The packet path stops adding, and can no longer kick the job.
        {
            let mut q = self.t.queue().q.lock();
            q.on = false;
            q.kick = None;
        }
        self.t
            .queue()
            .state
            .fetch_and(!STATE_MASTER, Ordering::Relaxed);
        // Stops the job (waiting for a run under way), then what is left
        // goes with the buffers.
        self.job = None;
        let left = core::mem::take(&mut *self.t.queue().q.lock());
        drop(left);
    }
}

impl Drop for Backup {
    fn drop(&mut self) {
        self.t
            .queue()
            .state
            .fetch_and(!STATE_BACKUP, Ordering::Relaxed);
        // No more kicks from the sockets, then no more runs.
        if let Some(j) = &self.job {
            for s in j.ctx().socks.iter() {
                s.clear_rx();
            }
        }
        self.job = None;
    }
}

impl Daemons {
    pub(crate) fn new() -> Self {
        Self {
            master: None,
            backup: None,
            ports: 1,
        }
    }

    /// The configurations of the running daemons: master, backup.
    pub(crate) fn configs(&self) -> (Option<&Config>, Option<&Config>) {
        (
            self.master.as_ref().map(|m| &m.cfg),
            self.backup.as_ref().map(|b| &b.cfg),
        )
    }

    /// Starts a daemon (`start_sync_thread`): EEXIST if that one runs,
    /// ENODEV without the interface, EINVAL for another state.
    pub(crate) fn start(
        &mut self,
        net: &Net,
        t: &Arc<dyn Host>,
        mut c: Config,
        state: u32,
    ) -> Result {
        let ports = if self.master.is_none() && self.backup.is_none() {
            let n = t.param(Param::Ports).clamp(1, PORTS_MAX as i32) as usize;
            // ip_vs's handler takes only powers of 2.
            n.next_power_of_two().min(PORTS_MAX)
        } else {
            self.ports
        };
        if c.af == 0 {
            c.af = AF_INET;
            c.group = [0; 16];
            c.group[..4].copy_from_slice(&wire::GROUP4);
        }
        if c.port == 0 {
            c.port = wire::PORT;
        }
        if c.ttl == 0 {
            c.ttl = 1;
        }
        let (ifindex, mtu) = sock::ifindex(net, c.ifname())?;
        let hlen: u32 = if c.af == AF_INET6 { 40 + 8 } else { 20 + 8 };
        let backup = state == STATE_BACKUP;
        let mtu = if backup { mtu.clamp(1500, 65535) } else { 1500 };
        let min = if backup { 1024 } else { 1 };
        c.maxlen = if c.maxlen != 0 {
            u32::from(c.maxlen).clamp(min, 65535u32.saturating_sub(hlen)) as u16
        } else {
            mtu.saturating_sub(hlen) as u16
        };
        let bufsize = t.param(Param::SockSize);
        let group = |id: usize| Group {
            af: c.af,
            addr: &c.group,
            port: c.port.wrapping_add(id as u16),
            ifindex,
            ttl: c.ttl,
            bufsize,
        };
        // One socket per port, sending or receiving.
        let sockets = |send: bool| -> Result<KVec<McastSock>> {
            let mut socks = KVec::with_capacity(ports, GFP_KERNEL)?;
            for id in 0..ports {
                socks.push(McastSock::new(net, send, &group(id))?, GFP_KERNEL)?;
            }
            Ok(socks)
        };
        // ip_vs's line when a daemon starts.
        let started = |what: &str, c: &Config| {
            pr_info!(
                "sync thread started: state = {}, mcast_ifn = {}, syncid = {}, id = 0\n",
                what,
                c.ifname().to_str().unwrap_or("?"),
                c.syncid
            );
        };
        match state {
            STATE_MASTER => {
                if self.master.is_some() {
                    return Err(EEXIST);
                }
                let socks = sockets(true)?;
                let mut pq = KVec::with_capacity(ports, GFP_KERNEL)?;
                for _ in 0..ports {
                    pq.push(PortQ::default(), GFP_KERNEL)?;
                }
                let job = Job::start(
                    MasterJob {
                        t: t.clone(),
                        socks,
                    },
                    u64::from(HZ),
                )?;
                {
                    let mut q = t.queue().q.lock();
                    *q = MasterQ {
                        on: true,
                        syncid: c.syncid as u8,
                        maxlen: usize::from(c.maxlen),
                        ports: pq,
                        kick: Some(job.kicker()),
                    };
                }
                t.queue().state.fetch_or(STATE_MASTER, Ordering::Relaxed);
                started("MASTER", &c);
                self.ports = ports;
                self.master = Some(Master {
                    cfg: c,
                    t: t.clone(),
                    job: Some(job),
                });
                Ok(())
            }
            STATE_BACKUP => {
                if self.backup.is_some() {
                    return Err(EEXIST);
                }
                let socks = sockets(false)?;
                let mut v = KVec::new();
                v.extend_with(usize::from(c.maxlen), 0u8, GFP_KERNEL)?;
                let buf = Arc::pin_init(kernel::new_mutex!(v, "rvs_sync_rx"), GFP_KERNEL)?;
                let job = Job::start(
                    BackupJob {
                        t: t.clone(),
                        socks,
                        syncid: c.syncid,
                        buf,
                    },
                    0,
                )?;
                // Owned by a `Backup` before any socket gets its hook: if a
                // later one fails, dropping it takes every hook away again
                // (a hook holds a reference to the job, which holds the
                // sockets: left in place, the cycle would keep a socket
                // bound and calling into rvs after the module is gone).
                let b = Backup {
                    cfg: c,
                    t: t.clone(),
                    job: Some(job),
                };
                if let Some(job) = &b.job {
                    for s in job.ctx().socks.iter() {
                        s.set_rx(job.kicker())?;
                    }
                }
                t.queue().state.fetch_or(STATE_BACKUP, Ordering::Relaxed);
                started("BACKUP", &b.cfg);
                self.ports = ports;
                self.backup = Some(b);
                Ok(())
            }
            _ => Err(EINVAL),
        }
    }

    /// Stops both daemons (the namespace is going away).
    pub(crate) fn stop_all(&mut self) {
        self.master = None;
        self.backup = None;
    }

    /// Stops a daemon (`stop_sync_thread`): ESRCH if it does not run,
    /// EINVAL for another state.
    pub(crate) fn stop(&mut self, state: u32) -> Result {
        let gone = match state {
            STATE_MASTER => self.master.take().map(|_| ()),
            STATE_BACKUP => self.backup.take().map(|_| ()),
            _ => return Err(EINVAL),
        };
        gone.ok_or(ESRCH)
    }
}
