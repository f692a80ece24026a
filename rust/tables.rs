// SPDX-License-Identifier: GPL-2.0

//! The packet path's tables and settings of a namespace: the service and
//! real-server lookups, the connection table, the sysctls, the defences;
//! shared by the hooks, the sync daemons, /proc and the control path.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

use crate::conn::{self, defense, tab_size, ConnTable};
use crate::proto::Timeouts;
use crate::svc::rt::{DestRt, EstLock, Stats, SvcRt};
use crate::svc::spec::{Fwd, SvcKey};
use crate::svc::Services;
use crate::sys::netns::Net;
use crate::sys::params;
use crate::sys::rcuhash::{Detached, Kmalloc, RcuHashTable};
use crate::sys::sync::{BhMutex, LockKey, RcuGuard};
use crate::sys::sysctl::{Check, IntEntry, Template};

/// Buckets of the packet path's service table (ip_vs: 256).
const SVC_TAB_BITS: u32 = 8;

/// The `net.ipv4.vs.*` settings the packet path reads, with ip_vs's names
/// and defaults, in /proc/sys/net/ipv4/vs/.
pub(crate) struct Sysctl {
    pub(crate) vals: [AtomicI32; NVALS],
}

pub(crate) const NSYSCTL: usize = 30;
/// Values: one per entry, two for sync_threshold (threshold, period).
const NVALS: usize = NSYSCTL + 1;

/// Indexes into [`Sysctl::vals`], in ip_vs's order.
pub(crate) mod sysctl_idx {
    pub(crate) const SNAT_REROUTE: usize = 0;
    pub(crate) const EXPIRE_NODEST_CONN: usize = 1;
    pub(crate) const SLOPPY_TCP: usize = 2;
    pub(crate) const NAT_ICMP_SEND: usize = 3;
    pub(crate) const PMTU_DISC: usize = 4;
    pub(crate) const CONN_REUSE_MODE: usize = 5;
    pub(crate) const IGNORE_TUNNELED: usize = 6;
    pub(crate) const RUN_ESTIMATION: usize = 7;
    pub(crate) const EXPIRE_QUIESCENT_TEMPLATE: usize = 8;
    /// Seconds (ip_vs shows jiffies as seconds).
    pub(crate) const LBLC_EXPIRATION: usize = 9;
    pub(crate) const LBLCR_EXPIRATION: usize = 10;
    /// rvs's own (not in ip_vs): seconds after which the UDP entries of a
    /// quiesced destination are scheduled afresh; 0, the default: never.
    pub(crate) const EXPIRE_QUIESCENT_UDP: usize = 11;
    /// Connection sync (ip_vs_sync.c), with ip_vs's names and defaults.
    pub(crate) const SYNC_VERSION: usize = 12;
    pub(crate) const SYNC_PORTS: usize = 13;
    pub(crate) const SYNC_PERSIST_MODE: usize = 14;
    pub(crate) const SYNC_QLEN_MAX: usize = 15;
    pub(crate) const SYNC_SOCK_SIZE: usize = 16;
    /// Two values: the threshold, then the period.
    pub(crate) const SYNC_THRESHOLD: usize = 17;
    pub(crate) const SYNC_PERIOD: usize = 18;
    /// Seconds (ip_vs shows its jiffies as seconds).
    pub(crate) const SYNC_REFRESH_PERIOD: usize = 19;
    pub(crate) const SYNC_RETRIES: usize = 20;
    pub(crate) const BACKUP_ONLY: usize = 21;
    /// ip_vs's defences (ip_vs_ctl.c's update_defense_level): available
    /// memory below which they start, in pages; the drop rate of
    /// drop_packet's mode 3; the modes (0 to 3) of drop_entry and
    /// drop_packet.
    pub(crate) const AMEMTHRESH: usize = 22;
    pub(crate) const AM_DROPRATE: usize = 23;
    pub(crate) const DROP_ENTRY: usize = 24;
    pub(crate) const DROP_PACKET: usize = 25;
    /// rvs's own: when the table is full, a new connection takes the
    /// place of an embryonic one (a TCP entry in SYN_RECV, not in use)
    /// instead of being refused (1, the default; 0: refused, as ip_vs).
    pub(crate) const EVICT_ON_FULL: usize = 26;
    /// rvs's own: the most entries of this namespace's table (0, the
    /// default: a quarter of RAM's worth).
    pub(crate) const CONN_MAX: usize = 27;
    /// ip_vs's third defence, modes 0 to 3 as drop_entry's: TCP follows
    /// the stricter state table (`tcp::TABLE_DOS`).
    pub(crate) const SECURE_TCP: usize = 28;
    /// ip_vs's: an SCTP association may start with any chunk but an ABORT
    /// (not only an INIT), for one a failed-over director never saw begin.
    pub(crate) const SLOPPY_SCTP: usize = 29;
    /// rvs's own: a backup takes sync messages whose source is one of its
    /// own addresses (0, the default: dropped; an unprivileged local user
    /// could otherwise forge them: a master's own messages do not loop
    /// back to it).
    pub(crate) const SYNC_ACCEPT_LOCAL: usize = 30;
}

pub(crate) static SYSCTL_TEMPLATE: Template<NSYSCTL> = Template([
    IntEntry::new(c"snat_reroute"),
    IntEntry::new(c"expire_nodest_conn"),
    IntEntry::new(c"sloppy_tcp"),
    IntEntry::new(c"nat_icmp_send"),
    IntEntry::new(c"pmtu_disc"),
    IntEntry::new(c"conn_reuse_mode"),
    IntEntry::new(c"ignore_tunneled"),
    IntEntry::new(c"run_estimation"),
    IntEntry::new(c"expire_quiescent_template"),
    IntEntry::new(c"lblc_expiration"),
    IntEntry::new(c"lblcr_expiration"),
    IntEntry::new(c"expire_quiescent_udp"),
    IntEntry::checked(c"sync_version", Check::SyncVersion),
    IntEntry::checked(c"sync_ports", Check::SyncPorts),
    IntEntry::new(c"sync_persist_mode"),
    IntEntry::new(c"sync_qlen_max"),
    IntEntry::new(c"sync_sock_size"),
    IntEntry::checked(c"sync_threshold", Check::SyncThreshold),
    IntEntry::new(c"sync_refresh_period"),
    IntEntry::checked(c"sync_retries", Check::SyncRetries),
    IntEntry::new(c"backup_only"),
    IntEntry::new(c"amemthresh"),
    IntEntry::new(c"am_droprate"),
    IntEntry::checked(c"drop_entry", Check::DefenseMode),
    IntEntry::checked(c"drop_packet", Check::DefenseMode),
    IntEntry::new(c"evict_on_full"),
    IntEntry::new(c"conn_max"),
    IntEntry::checked(c"secure_tcp", Check::DefenseMode),
    IntEntry::new(c"sloppy_sctp"),
    IntEntry::new(c"sync_accept_local"),
]);

impl Sysctl {
    fn new() -> Self {
        // ip_vs's defaults, in the order above (then rvs's own, off).
        Self {
            vals: [
                1,
                0,
                0,
                0,
                1,
                1,
                0,
                1,
                0,
                86400,
                86400,
                0,
                // sync: version 1, 1 port, persist mode 0, queue bound
                // (ip_vs: free buffer pages / 32), socket size 0,
                // threshold 3 and period 50, refresh 0, retries 0,
                // backup_only 0.
                1,
                1,
                0,
                i32::try_from(crate::sys::nr_free_buffer_pages() / 32).unwrap_or(i32::MAX),
                0,
                3,
                50,
                0,
                0,
                0,
                // Defences: amemthresh 1024 pages, am_droprate 10, both
                // modes 0; evict_on_full on, conn_max by memory;
                // secure_tcp 0; sloppy_sctp 0; sync_accept_local 0.
                1024,
                10,
                0,
                0,
                1,
                0,
                0,
                0,
                0,
            ]
            .map(AtomicI32::new),
        }
    }

    pub(crate) fn get(&self, i: usize) -> i32 {
        self.vals.get(i).map_or(0, |v| v.load(Ordering::Relaxed))
    }

    pub(crate) fn expire_nodest_conn(&self) -> bool {
        self.get(sysctl_idx::EXPIRE_NODEST_CONN) != 0
    }

    /// Whether a persistence template on a quiesced (weight 0) real
    /// server is dropped at its next use.
    pub(crate) fn expire_quiescent_template(&self) -> bool {
        self.get(sysctl_idx::EXPIRE_QUIESCENT_TEMPLATE) != 0
    }

    /// How long an lblc (lblcr) entry lives unused, in jiffies.
    pub(crate) fn locality_expiry(&self, idx: usize, hz: u32) -> u64 {
        let secs = self.get(idx).max(0) as u64;
        secs.saturating_mul(u64::from(hz))
    }

    /// The sync thresholds and periods the master reads.
    pub(crate) fn sync_params(&self, hz: u32) -> crate::sync::wire::Params {
        use sysctl_idx::*;
        crate::sync::wire::Params {
            threshold: self.get(SYNC_THRESHOLD),
            period: self.get(SYNC_PERIOD),
            refresh_period: (self.get(SYNC_REFRESH_PERIOD).max(0) as u32).saturating_mul(hz),
            retries: self.get(SYNC_RETRIES).clamp(0, 3),
            persist_mode: self.get(SYNC_PERSIST_MODE) != 0,
            hz,
        }
    }

    pub(crate) fn sloppy_tcp(&self) -> bool {
        self.get(sysctl_idx::SLOPPY_TCP) != 0
    }

    pub(crate) fn sloppy_sctp(&self) -> bool {
        self.get(sysctl_idx::SLOPPY_SCTP) != 0
    }

    pub(crate) fn snat_reroute(&self) -> bool {
        self.get(sysctl_idx::SNAT_REROUTE) != 0
    }

    /// The drain period of UDP entries on quiesced destinations, in
    /// jiffies (`expire_quiescent_udp` seconds; none when 0 or below).
    pub(crate) fn udp_drain(&self, hz: u32) -> Option<u64> {
        let secs = self.get(sysctl_idx::EXPIRE_QUIESCENT_UDP);
        (secs > 0).then(|| (secs as u64).saturating_mul(u64::from(hz)))
    }
}

/// The packet path's tables and settings of a namespace.
pub(crate) struct Tables {
    /// Buckets of the connection table as ip_vs counts them (GET_INFO's
    /// and /proc/net/ip_vs's conn_tab_size), fixed at the namespace's
    /// start.
    pub(crate) conn_tab_size: u32,
    /// Services by (protocol, address, port), fwmark services by mark.
    pub(crate) svcs: RcuHashTable<Arc<SvcRt>, Kmalloc>,
    /// How many services have port 0 (ip_vs's `nullsvc_counter`): only
    /// then does a packet missing its service look for one of port 0.
    pub(crate) nullsvc: AtomicU32,
    /// Real servers by (address, port): ip_vs's `rs_table`.
    pub(crate) rs: RcuHashTable<Arc<DestRt>, Kmalloc>,
    pub(crate) conns: ConnTable,
    /// Totals of the namespace (/proc/net/ip_vs_stats).
    pub(crate) stats: Stats,
    /// Flushed tables the trash let go of, freed by the next tick.
    graveyard: BhMutex<KVec<Services>>,
    /// The packet path's entries of flushed tables, freed by the next
    /// tick.
    unlinked: BhMutex<KVec<Unlinked>>,
    /// Serialises the rate estimator's writers (tick, ZERO).
    pub(crate) est_lock: EstLock,
    /// Timeouts in seconds (tcp, tcp_fin, udp), as `--set` left them.
    timeouts: [AtomicU32; 3],
    /// Lives as long as the tables, in place (the sysctl files point at
    /// its values).
    pub(crate) sysctl: Sysctl,
    /// The sync master's buffers, and which daemons run.
    pub(crate) sync: crate::sync::SyncQ,
    /// drop_packet's rate now (one new connection in it dropped; 0:
    /// none) and its countdown.
    drop_rate: AtomicI32,
    drop_count: AtomicI32,
    /// secure_tcp is on: TCP entries follow the stricter state table.
    secure_tcp: AtomicBool,
}

/// A flush's entries of `svcs` and `rs`.
type Unlinked = (
    Detached<Arc<SvcRt>, Kmalloc>,
    Detached<Arc<DestRt>, Kmalloc>,
);

/// The hash of a service key in the packet path's table.
pub(crate) fn svc_hash(protocol: u8, addr: &[u8; 16], port: u16) -> u32 {
    conn::hash::conn_hash(0, 0, protocol, addr, port)
}

/// The hash of `key` in the packet path's table: fwmark services by their
/// mark (protocol 0, which no other service has).
pub(crate) fn svc_key_hash(key: &SvcKey) -> u32 {
    if key.fwmark != 0 {
        svc_hash(0, &mark_addr(key.fwmark), 0)
    } else {
        svc_hash(key.protocol as u8, &key.addr, key.port)
    }
}

/// A firewall mark in an address's place (network order, as ip_vs keys
/// fwmark templates).
pub(crate) fn mark_addr(mark: u32) -> [u8; 16] {
    let mut a = [0u8; 16];
    let [b0, b1, b2, b3] = mark.to_be_bytes();
    a[0] = b0;
    a[1] = b1;
    a[2] = b2;
    a[3] = b3;
    a
}

/// The hash of a real server in `rs`.
pub(crate) fn rs_hash(addr: &[u8; 16], port: u16) -> u32 {
    conn::hash::conn_hash(0, 1, 0, addr, port)
}

static GRAVE_KEY: LockKey = LockKey::new();
static UNLINKED_KEY: LockKey = LockKey::new();

/// Appends `v` to `list` for the next tick to free; gives it back if the
/// list cannot grow (the lock is let go by then).
fn for_next_tick<T>(list: &BhMutex<KVec<T>>, v: T) -> Result<(), T> {
    let mut g = list.lock();
    if g.reserve(1, GFP_ATOMIC).is_err() {
        return Err(v);
    }
    // Room reserved: cannot fail.
    let _ = g.push(v, GFP_ATOMIC);
    Ok(())
}

impl Tables {
    /// The tables of namespace `net`, empty; the connection table gets
    /// its buckets with the first service.
    pub(crate) fn new(net: &Net) -> Result<Arc<Self>> {
        Ok(Arc::new(
            Tables {
                conn_tab_size: conn_tab_size(),
                svcs: RcuHashTable::new(SVC_TAB_BITS)?,
                rs: RcuHashTable::new(SVC_TAB_BITS)?,
                nullsvc: AtomicU32::new(0),
                conns: ConnTable::new(
                    conn_tab_bits(),
                    max_tab_bits(),
                    net.as_ptr() as usize,
                    max_conns(4),
                )?,
                stats: Stats::new()?,
                est_lock: EstLock::new()?,
                graveyard: BhMutex::new(KVec::new(), c"rvs_graveyard", &GRAVE_KEY)?,
                unlinked: BhMutex::new(KVec::new(), c"rvs_unlinked", &UNLINKED_KEY)?,
                timeouts: [
                    AtomicU32::new(Timeouts::DEFAULT.tcp),
                    AtomicU32::new(Timeouts::DEFAULT.tcp_fin),
                    AtomicU32::new(Timeouts::DEFAULT.udp),
                ],
                sysctl: Sysctl::new(),
                sync: crate::sync::SyncQ::new()?,
                drop_rate: AtomicI32::new(0),
                drop_count: AtomicI32::new(0),
                secure_tcp: AtomicBool::new(false),
            },
            GFP_KERNEL,
        )?)
    }

    /// Frees what flushes left for the next tick (a grace period has
    /// passed since they were unlinked). Process context.
    pub(crate) fn free_buried(&self) {
        let dead = core::mem::take(&mut *self.graveyard.lock());
        for s in dead {
            s.dispose();
        }
        // Taken out under the lock, freed outside it (each waits for its
        // grace period if that has not ended yet).
        let unlinked = core::mem::take(&mut *self.unlinked.lock());
        drop(unlinked);
    }

    /// ip_vs's defences, once a second (`update_defense_level`,
    /// `defense_work_handler`): the modes of drop_entry and drop_packet
    /// follow the memory available, drop_entry's random drop runs, and
    /// the table takes conn_max and evict_on_full.
    pub(crate) fn defend(&self, todrop: &BhMutex<[i32; 9]>) {
        use sysctl_idx::*;
        let s = &self.sysctl;
        let m0 = defense::Modes {
            drop_entry: s.get(DROP_ENTRY),
            drop_packet: s.get(DROP_PACKET),
            secure_tcp: s.get(SECURE_TCP),
        };
        let mut m = m0;
        let avail = i64::try_from(crate::sys::avail_pages()).unwrap_or(i64::MAX);
        let lvl = defense::update(&mut m, avail, s.get(AMEMTHRESH), s.get(AM_DROPRATE));
        // As ip_vs, modes 1 and 2 show whether memory is short; a write
        // meanwhile wins.
        for (i, old, new) in [
            (DROP_ENTRY, m0.drop_entry, m.drop_entry),
            (DROP_PACKET, m0.drop_packet, m.drop_packet),
            (SECURE_TCP, m0.secure_tcp, m.secure_tcp),
        ] {
            if old != new {
                if let Some(v) = s.vals.get(i) {
                    let _ = v.compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed);
                }
            }
        }
        self.secure_tcp.store(lvl.secure_tcp, Ordering::Relaxed);
        if self.drop_rate.swap(lvl.drop_rate, Ordering::Relaxed) != lvl.drop_rate {
            self.drop_count.store(lvl.drop_rate, Ordering::Relaxed);
        }
        self.conns
            .set_limits(s.get(EVICT_ON_FULL) != 0, s.get(CONN_MAX));
        // drop_entry's mode 1 engages when memory is short, and when the
        // table is at its bound (a table capped by conn_max is full long
        // before memory is short).
        if lvl.drop_entry || (self.conns.full() && matches!(s.get(DROP_ENTRY), 1 | 2)) {
            let mut c = *todrop.lock();
            self.conns.random_drop(&mut c);
            *todrop.lock() = c;
        }
    }

    /// Whether TCP entries follow secure_tcp's state table now.
    pub(crate) fn secure_tcp(&self) -> bool {
        self.secure_tcp.load(Ordering::Relaxed)
    }

    /// drop_packet's rate now (one new connection in it dropped; 0: off).
    pub(crate) fn drop_rate(&self) -> i32 {
        self.drop_rate.load(Ordering::Relaxed)
    }

    /// Whether drop_packet drops this new connection (`ip_vs_todrop`).
    pub(crate) fn todrop(&self) -> bool {
        let rate = self.drop_rate.load(Ordering::Relaxed);
        if rate <= 0 {
            return false;
        }
        let mut c = self.drop_count.load(Ordering::Relaxed);
        let d = defense::todrop(rate, &mut c);
        self.drop_count.store(c, Ordering::Relaxed);
        d
    }

    /// Empties the service and real-server tables (FLUSH). Their entries
    /// are freed together by the next tick, after a grace period (ip_vs
    /// leaves its real servers to a timer likewise), or here if the list
    /// cannot grow. Process context.
    pub(crate) fn unlink_all(&self) {
        let u = (self.svcs.detach_all(), self.rs.detach_all());
        self.nullsvc.store(0, Ordering::Relaxed);
        // Freed here (after the lock is let go) if the list cannot grow.
        drop(for_next_tick(&self.unlinked, u));
    }

    /// Leaves removed services to the next tick to free, or frees them now
    /// if the list cannot grow.
    pub(crate) fn bury(&self, s: Services) {
        if let Err(s) = for_next_tick(&self.graveyard, s) {
            s.dispose();
        }
    }

    /// The service of family `af` a new connection to (protocol, VIP,
    /// port) with firewall mark `mark` belongs to (ip_vs_service_find): by
    /// mark first, then by address and port, then a service of port 0 of
    /// that address.
    pub(crate) fn service_of<'g>(
        &'g self,
        g: &'g RcuGuard,
        af: u16,
        mark: u32,
        protocol: u8,
        addr: &[u8; 16],
        port: u16,
    ) -> Option<&'g Arc<SvcRt>> {
        let by_addr = |port: u16| {
            self.svcs.find(g, svc_hash(protocol, addr, port), |s| {
                s.key.fwmark == 0
                    && s.key.af == af
                    && s.key.protocol == u16::from(protocol)
                    && s.key.port == port
                    && s.key.addr == *addr
            })
        };
        if mark != 0 {
            let m = self.svcs.find(g, svc_hash(0, &mark_addr(mark), 0), |s| {
                s.key.fwmark == mark && s.key.af == af
            });
            if m.is_some() {
                return m;
            }
        }
        by_addr(port).or_else(|| {
            if self.nullsvc.load(Ordering::Relaxed) != 0 {
                by_addr(0)
            } else {
                None
            }
        })
    }

    /// Whether the (family, protocol, address, port) is a NAT real server
    /// of some service (ip_vs's `ip_vs_has_real_service`).
    pub(crate) fn has_real_service(
        &self,
        g: &RcuGuard,
        af: u16,
        protocol: u8,
        addr: &[u8; 16],
        port: u16,
    ) -> bool {
        self.rs
            .find(g, rs_hash(addr, port), |d| {
                d.key.port == port
                    && d.key.af == af
                    && d.key.addr == *addr
                    && (d.protocol == u16::from(protocol) || d.protocol == 0)
                    && Fwd::of(d.fwd.load(Ordering::Relaxed)) == Fwd::Masq
            })
            .is_some()
    }

    pub(crate) fn timeouts(&self) -> Timeouts {
        Timeouts {
            tcp: self.timeouts[0].load(Ordering::Relaxed),
            tcp_fin: self.timeouts[1].load(Ordering::Relaxed),
            udp: self.timeouts[2].load(Ordering::Relaxed),
        }
    }

    pub(crate) fn set_timeouts(&self, t: Timeouts) {
        self.timeouts[0].store(t.tcp, Ordering::Relaxed);
        self.timeouts[1].store(t.tcp_fin, Ordering::Relaxed);
        self.timeouts[2].store(t.udp, Ordering::Relaxed);
    }
}

impl crate::sync::Host for Tables {
    fn queue(&self) -> &crate::sync::SyncQ {
        &self.sync
    }

    fn conns(&self) -> &ConnTable {
        &self.conns
    }

    fn param(&self, p: crate::sync::Param) -> i32 {
        use crate::sync::Param;
        self.sysctl.get(match p {
            Param::Threshold => sysctl_idx::SYNC_THRESHOLD,
            Param::Version => sysctl_idx::SYNC_VERSION,
            Param::QlenMax => sysctl_idx::SYNC_QLEN_MAX,
            Param::SockSize => sysctl_idx::SYNC_SOCK_SIZE,
            Param::Ports => sysctl_idx::SYNC_PORTS,
            Param::AcceptLocal => sysctl_idx::SYNC_ACCEPT_LOCAL,
            Param::BackupOnly => sysctl_idx::BACKUP_ONLY,
        })
    }

    fn wire_params(&self) -> crate::sync::wire::Params {
        self.sysctl.sync_params(crate::sys::HZ)
    }

    fn timeouts(&self) -> Timeouts {
        Tables::timeouts(self)
    }

    fn service_of<'g>(
        &'g self,
        g: &'g RcuGuard,
        af: u16,
        mark: u32,
        protocol: u8,
        addr: &[u8; 16],
        port: u16,
    ) -> Option<&'g Arc<SvcRt>> {
        Tables::service_of(self, g, af, mark, protocol, addr, port)
    }
}

pub(crate) fn conn_tab_bits() -> u32 {
    tab_size::conn_tab_bits(
        params::conn_tab_bits(),
        params::totalram_pages(),
        u32::try_from(params::PAGE_SHIFT).unwrap_or(12),
        conn::ENTRY_SIZE,
    )
}

/// The table size that the `conn_tab_bits` parameter gives on this machine.
pub(crate) fn conn_tab_size() -> u32 {
    tab_size::conn_tab_size(conn_tab_bits())
}

/// The largest table this machine's memory allows (ip_vs's bound on
/// `conn_tab_bits`): what a table grows to at most.
fn max_tab_bits() -> u32 {
    tab_size::conn_tab_bits(
        tab_size::MAX_BITS as i32,
        params::totalram_pages(),
        u32::try_from(params::PAGE_SHIFT).unwrap_or(12),
        conn::ENTRY_SIZE,
    )
}

/// At most a `part`th of RAM in connection entries (a quarter in one
/// namespace, half in all).
fn max_conns(part: u64) -> usize {
    let bytes = params::totalram_pages().saturating_mul(1u64 << params::PAGE_SHIFT) / part.max(1);
    usize::try_from(bytes / conn::ENTRY_BYTES.max(1)).unwrap_or(usize::MAX)
}
