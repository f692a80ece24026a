// SPDX-License-Identifier: GPL-2.0

//! What rvs keeps for every network namespace (ip_vs's `struct netns_ipvs`).

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};
use kernel::{new_mutex, try_pin_init};

use crate::procfs::{ConnFile, ConnSyncFile, InfoFile, StatsFile, StatsPercpuFile, TabFile};
use crate::proto::Timeouts;
use crate::svc::rt::{EstGuard, Stats};
use crate::svc::{Services, Trash};
use crate::sys::netns::{Net, PernetId, PernetState};
use crate::sys::nf::Registration;
use crate::sys::proc::{ProcFile, SeqFile};
use crate::sys::sync::{BhMutex, LockKey, RcuGuard};
use crate::sys::sysctl::Registration as SysctlReg;
use crate::sys::work::{Job, Periodic, Run, Tick};
use crate::tables::{conn_tab_size, sysctl_idx, Tables, NSYSCTL, SYSCTL_TEMPLATE};

static NET_ID: PernetId = PernetId::new();

/// The configuration of a namespace, changed only under [`NetState::ctl`]
/// (ip_vs's `__ip_vs_mutex`).
pub(crate) struct Ctl {
    /// The timeouts `--set` gave.
    pub(crate) timeouts: Timeouts,
    /// The virtual services.
    pub(crate) services: Services,
    /// Their removed real servers, for a while.
    pub(crate) trash: Trash,
    /// The IPv4 hooks, registered while there is an IPv4 service.
    pub(crate) hooks4: Option<Registration<3>>,
    /// The IPv6 hooks, while there is an IPv6 service.
    pub(crate) hooks6: Option<Registration<3>>,
    /// IPv6 reassembly before the hooks, on once an IPv6 service was added
    /// (as ip_vs; dropped with the namespace's state).
    pub(crate) defrag6: Option<crate::sys::nf::Defrag6>,
    /// The sync daemons that run (dropped before the tables they fill).
    pub(crate) daemons: crate::sync::Daemons,
}

/// Counter sets the estimator updates per taking of the namespace's
/// [`EstLock`] (bottom halves stay off that long: some microseconds).
const EST_BATCH: u32 = 64;

/// The periodic job of a namespace, every second: frees what flushes
/// left, estimates rates every two seconds. (Connections expire by their
/// own timers.)
struct Ticker {
    t: Arc<Tables>,
    n: AtomicU32,
    /// drop_entry's countdowns by packets (`defense::todrop_entry`).
    todrop: BhMutex<[i32; 9]>,
}

impl Tick for Ticker {
    fn tick(&self) {
        let t = &self.t;
        t.conns.fit();
        t.defend(&self.todrop);
        t.free_buried();
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        if n % 2 == 1 && t.sysctl.get(sysctl_idx::RUN_ESTIMATION) != 0 {
            // The lock (which keeps bottom halves off) is taken for
            // EST_BATCH counter sets at a time, never for a pass over every
            // service.
            let rg = RcuGuard::new();
            let mut g = t.est_lock.lock();
            let mut k = 0u32;
            let mut step = |s: &Stats, g: &mut EstGuard<'_>| {
                s.estimate(g);
                k = k.wrapping_add(1);
                if k % EST_BATCH == 0 {
                    g.relock();
                }
            };
            step(&t.stats, &mut g);
            t.svcs.for_each(&rg, |s| step(&s.stats, &mut g));
            t.rs.for_each(&rg, |d| step(&d.stats, &mut g));
        }
    }
}

/// What the packet path of a namespace uses.
pub(crate) struct DataPlane {
    /// Dropped first: they hold `t` and read it.
    _sysctl_reg: SysctlReg<NSYSCTL, Tables>,
    _info_file: SeqFile<InfoFile>,
    _conn_file: SeqFile<ConnFile>,
    _conn_sync_file: SeqFile<ConnSyncFile>,
    _stats_file: ProcFile<StatsFile>,
    _stats_percpu_file: ProcFile<StatsPercpuFile>,
    _tab_file: ProcFile<TabFile>,
    _tick: Periodic<Ticker>,
    /// Ends the entries of removed real servers (expire_nodest_conn).
    nodest: Job<Nodest>,
    t: Arc<Tables>,
}

/// expire_nodest_conn's walk over the table, on the system workqueue
/// (ip_vs's `expire_nodest_conn_work`): a removal of a real server asks
/// for it and returns; the control mutex is not held meanwhile.
struct Nodest(Arc<Tables>);

impl Run for Nodest {
    fn run(&self) -> Option<u64> {
        self.0.conns.expire_nodest();
        None
    }
}

impl DataPlane {
    /// Ends, a jiffy from now and off the control path, every entry whose
    /// real server was removed (ip_vs's
    /// `ip_vs_enqueue_expire_nodest_conns`); one walk covers the removals
    /// made before it starts.
    pub(crate) fn expire_nodest_soon(&self) {
        self.nodest.kicker().kick_unless_pending(1);
    }

    /// The tables, shared, as the sync daemons' jobs see them.
    pub(crate) fn host(&self) -> Arc<dyn crate::sync::Host> {
        self.t.clone()
    }

    /// The tables.
    pub(crate) fn tables(&self) -> &Tables {
        &self.t
    }
}

impl core::ops::Deref for DataPlane {
    type Target = Tables;
    fn deref(&self) -> &Tables {
        &self.t
    }
}

impl DataPlane {
    fn new(net: &Net) -> Result<Self> {
        let t = Tables::new(net)?;
        let tick = Periodic::start(
            Ticker {
                t: t.clone(),
                n: AtomicU32::new(0),
                todrop: BhMutex::new([0; 9], c"rvs_todrop", &TODROP_KEY)?,
            },
            u64::from(crate::sys::HZ),
        )?;
        let nodest = Job::start(Nodest(t.clone()), u64::from(crate::sys::HZ))?;
        // As ip_vs, an unprivileged namespace owner does not size the
        // sync queue and socket or turn rate estimation on and off.
        let reg = SysctlReg::new(
            net,
            c"net/ipv4/vs",
            &SYSCTL_TEMPLATE,
            t.clone(),
            |t| &t.sysctl.vals[..],
            &[
                sysctl_idx::RUN_ESTIMATION,
                sysctl_idx::SYNC_QLEN_MAX,
                sysctl_idx::SYNC_SOCK_SIZE,
            ],
            // Nor does it see the lblc and lblcr schedulers' (ip_vs_lblc
            // and ip_vs_lblcr register them with no entry there).
            &[sysctl_idx::LBLC_EXPIRATION, sysctl_idx::LBLCR_EXPIRATION],
        )?;
        Ok(Self {
            _sysctl_reg: reg,
            _info_file: SeqFile::new(net, t.clone())?,
            _conn_file: SeqFile::new(net, t.clone())?,
            _conn_sync_file: SeqFile::new(net, t.clone())?,
            _stats_file: ProcFile::new(net, t.clone())?,
            _stats_percpu_file: ProcFile::new(net, t.clone())?,
            _tab_file: ProcFile::new(net, t.clone())?,
            _tick: tick,
            nodest,
            t,
        })
    }
}

static TODROP_KEY: LockKey = LockKey::new();

/// Per-namespace state.
#[pin_data]
pub(crate) struct NetState {
    /// Buckets of the connection table (GET_INFO's conn_tab_size).
    pub(crate) conn_tab_size: u32,
    /// The configuration (dropped first: it holds the hooks).
    #[pin]
    pub(crate) ctl: Mutex<Ctl>,
    /// The packet path's state.
    pub(crate) dp: DataPlane,
}

impl PernetState for NetState {
    fn id() -> &'static PernetId {
        &NET_ID
    }

    fn new(net: &Net) -> impl PinInit<Self, Error> {
        let dp = DataPlane::new(net);
        try_pin_init!(NetState {
            conn_tab_size: conn_tab_size(),
            ctl <- new_mutex!(Ctl {
                timeouts: Timeouts::DEFAULT,
                services: Services::new(),
                trash: Trash::new(),
                hooks4: None,
                hooks6: None,
                defrag6: None,
                daemons: crate::sync::Daemons::new(),
            }, "rvs_ctl"),
            dp: dp?,
        }? Error)
    }

    fn pre_exit(&self) {
        // The sync daemons' sockets hold routes through the namespace's
        // devices: they go before the devices do (ip_vs stops its threads
        // from its device-level exit likewise).
        self.ctl.lock().daemons.stop_all();
    }
}
