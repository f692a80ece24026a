// SPDX-License-Identifier: GPL-2.0

//! A connection-table entry (ip_vs's `struct ip_vs_conn`): its key, state,
//! counters, deadline and the template that controls it; how it is made,
//! counted on its real server and found.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

use super::defense;
use crate::proto::{self, sctp, tcp, Dir, Timeouts};
use crate::svc::rt::DestRt;
use crate::svc::spec::Fwd;
use crate::sys::rcuhash::{Expiring, Fate, FromSlab, SlabCache, SlabOf, StaticSlab, Timed};
use crate::sys::{jiffies, HZ};

/// Size in bytes used to bound the table by memory, as ip_vs does with
/// `sizeof(struct ip_vs_conn)` (288 bytes on x86_64 without lock
/// debugging: order 9).
pub(crate) const ENTRY_SIZE: u64 = 512;

/// What an entry really takes (its slab object): the bound on the number
/// of entries is counted in these.
pub(crate) const ENTRY_BYTES: u64 = crate::sys::rcuhash::node_size::<Timed<Conn>>() as u64;

/// `IP_VS_CONN_F_INACTIVE`: counted as an inactive connection.
pub(crate) const F_INACTIVE: u32 = 0x0010;
/// `IP_VS_CONN_F_NOOUTPUT`: no packet from the real server seen (DR, TUN).
pub(crate) const F_NOOUTPUT: u32 = 0x0004;
/// `IP_VS_CONN_F_ONE_PACKET`: a connection for one packet, not in the table.
pub(crate) const F_ONE_PACKET: u32 = 0x2000;
/// `IP_VS_CONN_F_TEMPLATE`: a persistence template.
pub(crate) const F_TEMPLATE: u32 = 0x1000;
/// rvs's own: a template whose real server is no longer available. No
/// lookup finds it; it stays until it expires, shown with ports 0 and
/// 65535, where ip_vs rehashes it with those ports.
pub(super) const F_TPL_INVALID: u32 = 0x8000_0000;
/// rvs's own: made by a client on the director (LOCAL_OUT), whose replies
/// come in at LOCAL_IN; counted in [`ConnTable::local`].
pub(super) const F_LOCAL_CLIENT: u32 = 0x4000_0000;
/// rvs's own: a packet of the real server's has been seen (NAT: an entry
/// without it is the first to go from a full table after half-open ones).
pub(super) const F_REPLIED: u32 = 0x2000_0000;
/// `IP_VS_CONN_F_SYNC`: made by a sync message (on a backup).
pub(crate) const F_SYNC: u32 = 0x0020;

/// How long a template that still controls connections lives on when its
/// time is up (ip_vs: 60 s, then again).
const TPL_EXTEND_SECS: u32 = 60;

/// What a persistence template shares with the connections made by it
/// (ip_vs's `n_control` and `IP_VS_CTPL_S_ASSURED`): the template stays
/// while it has any.
pub(crate) struct Control {
    pub(super) n: AtomicU32,
    pub(super) assured: AtomicBool,
    /// The template's key (its connections' sync sends it after them).
    pub(crate) key: Key,
}

impl Control {
    /// The control of the template `key`.
    pub(crate) fn new(key: Key) -> Self {
        Self {
            n: AtomicU32::new(0),
            assured: AtomicBool::new(false),
            key,
        }
    }

    /// Sets the template's state as a sync message gives it.
    pub(crate) fn set_assured(&self, a: bool) {
        self.assured.store(a, Ordering::Relaxed);
    }
}

/// One connection.
pub(crate) struct Conn {
    pub(crate) protocol: u8,
    /// Forwarding method, fixed at creation.
    pub(crate) fwd: Fwd,
    /// `AF_INET` or `AF_INET6` (fit in a byte: the entry stays within its
    /// 128-byte slab object).
    pub(crate) af: u8,
    pub(crate) caddr: [u8; 16],
    pub(crate) vaddr: [u8; 16],
    pub(crate) daddr: [u8; 16],
    pub(crate) cport: u16,
    pub(crate) vport: u16,
    pub(crate) dport: u16,
    pub(crate) state: AtomicU8,
    /// The state last synced (ip_vs's `old_state`).
    pub(crate) old_state: AtomicU8,
    /// Incoming packets, for the sync thresholds (ip_vs's `in_pkts`).
    pub(crate) in_pkts: AtomicU32,
    /// The end time last synced, low 32 bits of jiffies, the two lowest
    /// bits counting retries (ip_vs's `sync_endtime`).
    pub(crate) sync_end: AtomicU32,
    pub(crate) flags: AtomicU32,
    /// Jiffies after the last packet when the entry expires.
    pub(crate) timeout: AtomicU32,
    /// Deadline in jiffies.
    pub(crate) expires: AtomicU64,
    /// The table's reference plus one per packet using the entry.
    pub(super) refcnt: AtomicU32,
    /// Expired early (ip_vs's `expire_now`): invisible to lookups, removed
    /// by its timer (brought forward) as soon as it is unused.
    pub(super) dead: AtomicBool,
    pub(crate) dest: Arc<DestRt>,
    /// A template's own [`Control`], or the one of the template that made
    /// this connection.
    pub(super) control: Option<Arc<Control>>,
}

impl Conn {
    /// Takes a reference unless the entry is being removed (count 0) or
    /// expired early.
    pub(super) fn get(&self) -> bool {
        !self.dead.load(Ordering::Relaxed)
            && self
                .refcnt
                .fetch_update(Ordering::Acquire, Ordering::Relaxed, |r| {
                    if r == 0 {
                        None
                    } else {
                        r.checked_add(1)
                    }
                })
                .is_ok()
    }

    pub(crate) fn is_template(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & F_TEMPLATE != 0
    }

    /// Whether a persistence template made it (ip_vs's `cp->control`).
    pub(crate) fn controlled(&self) -> bool {
        self.control.is_some()
    }

    /// Its [`Control`] (a template's, for the connections it makes).
    pub(crate) fn control(&self) -> Option<Arc<Control>> {
        self.control.clone()
    }

    /// A template's state as /proc/net/ip_vs_conn names it.
    pub(crate) fn template_state(&self) -> &'static str {
        match &self.control {
            Some(c) if c.assured.load(Ordering::Relaxed) => "ASSURED",
            _ => "NONE",
        }
    }

    /// The client, virtual and real server ports as listed: an invalid
    /// template shows 0, 65535, 65535 (ip_vs rehashes it so).
    pub(crate) fn listed_ports(&self) -> (u16, u16, u16) {
        if self.flags.load(Ordering::Relaxed) & F_TPL_INVALID != 0 {
            (0, 0xffff, 0xffff)
        } else {
            (self.cport, self.vport, self.dport)
        }
    }

    /// Marks the template that made this connection as assured (the
    /// connection got established, or a UDP reply came).
    pub(crate) fn assure(&self) {
        if let Some(c) = &self.control {
            if !c.assured.load(Ordering::Relaxed) {
                c.assured.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Restarts the entry's timeout from now.
    pub(crate) fn touch(&self) {
        let t = u64::from(self.timeout.load(Ordering::Relaxed));
        self.expires
            .store(jiffies().wrapping_add(t), Ordering::Relaxed);
    }

    /// Marks it counted inactive (or active), moving it between its
    /// destination's counters (a sync message's INACTIVE flag).
    pub(crate) fn set_inactive(&self, inactive: bool) {
        if self.is_template() {
            return;
        }
        if inactive {
            if self.flags.fetch_or(F_INACTIVE, Ordering::Relaxed) & F_INACTIVE == 0 {
                self.dest.active.fetch_sub(1, Ordering::Relaxed);
                self.dest.inactive.fetch_add(1, Ordering::Relaxed);
            }
        } else if self.flags.fetch_and(!F_INACTIVE, Ordering::Relaxed) & F_INACTIVE != 0 {
            self.dest.active.fetch_add(1, Ordering::Relaxed);
            self.dest.inactive.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// A template's state as ip_vs numbers it (NONE 0, ASSURED 1); a
    /// connection's protocol state.
    pub(crate) fn sync_state(&self) -> u8 {
        if self.is_template() {
            u8::from(self.template_state() == "ASSURED")
        } else {
            self.state.load(Ordering::Relaxed)
        }
    }

    /// Whether it was made for a single packet (not synced).
    pub(crate) fn one_packet(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & F_ONE_PACKET != 0
    }

    /// Its flags as ip_vs numbers them on the wire (`IP_VS_CONN_F_*`).
    pub(crate) fn ipvs_flags(&self) -> u32 {
        let f = self.flags.load(Ordering::Relaxed);
        let mut w = self.fwd.bits();
        if f & F_NOOUTPUT != 0 {
            w |= 0x0080;
        }
        if f & F_INACTIVE != 0 || f & F_TEMPLATE != 0 {
            w |= 0x0100;
        }
        if f & F_TEMPLATE != 0 {
            w |= 0x1000;
            if self.fwd != Fwd::Masq {
                w |= 0x0080;
            }
        }
        if f & F_ONE_PACKET != 0 {
            w |= 0x2000;
        }
        w | (f & F_SYNC)
    }

    /// Seconds left before expiry, as /proc/net/ip_vs_conn shows them.
    pub(crate) fn expires_in_secs(&self, hz: u32) -> u64 {
        let left = self
            .expires
            .load(Ordering::Relaxed)
            .saturating_sub(jiffies());
        left.checked_div(u64::from(hz)).unwrap_or(0)
    }

    /// Drops the destination's count of this connection (on removal) and
    /// its template's.
    pub(super) fn unbind(&self) {
        uncount(
            &self.dest,
            self.flags.load(Ordering::Relaxed),
            self.control.as_ref(),
        );
        self.dest.conn_unbound();
        self.dest.note_idle();
    }

    /// Counts it on its destination and template (before it is in the
    /// table, where another CPU may remove it at once).
    pub(super) fn bind(&self) {
        if self.is_template() {
            self.dest.persist.fetch_add(1, Ordering::Relaxed);
        } else {
            if self.flags.load(Ordering::Relaxed) & F_INACTIVE != 0 {
                self.dest.inactive.fetch_add(1, Ordering::Relaxed);
            } else {
                self.dest.active.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(c) = &self.control {
                c.n.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// What eviction from a full table looks at; `seen`: when the entry
    /// was last put at the end of its eviction list (low 32 bits of
    /// jiffies).
    pub(super) fn evict_view(&self, seen: u32) -> defense::EvictView {
        let f = self.flags.load(Ordering::Relaxed);
        let state = self.state.load(Ordering::Relaxed);
        let template = f & F_TEMPLATE != 0;
        let half_open = !template
            && match self.protocol {
                proto::IPPROTO_TCP => {
                    matches!(
                        state,
                        tcp::NONE | tcp::SYN_SENT | tcp::SYN_RECV | tcp::SYNACK
                    )
                }
                proto::IPPROTO_SCTP => state < sctp::ESTABLISHED,
                _ => false,
            };
        // The last packet's time: its deadline less its timeout.
        let last = self
            .expires
            .load(Ordering::Relaxed)
            .wrapping_sub(u64::from(self.timeout.load(Ordering::Relaxed)));
        defense::EvictView {
            template,
            half_open,
            unanswered: self.fwd == Fwd::Masq && f & F_REPLIED == 0,
            controls: match &self.control {
                Some(c) if template => c.n.load(Ordering::Relaxed),
                _ => 0,
            },
            used_since: ((last as u32).wrapping_sub(seen) as i32) > 0,
        }
    }

    /// Whether it is the entry `k` describes (and not one ended early).
    pub(super) fn is(&self, k: &Key) -> bool {
        self.protocol == k.protocol
            && self.af == k.af
            && self.cport == k.cport
            && self.vport == k.vport
            && self.caddr == k.caddr
            && self.vaddr == k.vaddr
            && !self.dead.load(Ordering::Relaxed)
            && self.flags.load(Ordering::Relaxed) & (F_TEMPLATE | F_TPL_INVALID) == k.template
    }
}

impl Conn {
    /// The entry for `n`, with the table's reference.
    pub(super) fn from_new(n: &NewConn, flags: u32) -> Conn {
        Conn {
            protocol: n.protocol,
            fwd: Fwd::of(n.dest.fwd.load(Ordering::Relaxed)),
            af: n.af as u8,
            caddr: n.caddr,
            vaddr: n.vaddr,
            daddr: n.daddr,
            cport: n.cport,
            vport: n.vport,
            dport: n.dport,
            state: AtomicU8::new(n.state),
            old_state: AtomicU8::new(0),
            in_pkts: AtomicU32::new(0),
            sync_end: AtomicU32::new(0),
            flags: AtomicU32::new(flags),
            timeout: AtomicU32::new(n.timeout),
            expires: AtomicU64::new(jiffies().wrapping_add(u64::from(n.timeout))),
            refcnt: AtomicU32::new(1),
            dead: AtomicBool::new(false),
            dest: n.dest.clone(),
            control: n.control.clone(),
        }
    }
}

/// The connection of one datagram under one-packet scheduling (`-o`, UDP;
/// `IP_VS_CONN_F_ONE_PACKET`): never in the table, counted on its
/// destination (inactive) while the packet is sent, then gone, as ip_vs
/// binds such a connection and expires it at once.
pub(crate) struct OnePacket(Conn);

impl OnePacket {
    pub(crate) fn new(n: NewConn, no_output: bool) -> OnePacket {
        let mut flags = F_INACTIVE | F_ONE_PACKET;
        if no_output {
            flags |= F_NOOUTPUT;
        }
        let c = Conn::from_new(&n, flags);
        c.bind();
        n.dest.conn_bound();
        OnePacket(c)
    }
}

impl core::ops::Deref for OnePacket {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl Drop for OnePacket {
    fn drop(&mut self) {
        self.0.unbind();
    }
}

/// A connection in use by a packet: the entry is not removed meanwhile.
pub(crate) struct ConnRef<'g> {
    pub(super) c: &'g Timed<Conn>,
}

impl core::ops::Deref for ConnRef<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.c
    }
}

impl ConnRef<'_> {
    /// Notes a packet of the real server's (once: no store after the
    /// first).
    pub(crate) fn note_reply(&self) {
        if self.flags.load(Ordering::Relaxed) & F_REPLIED == 0 {
            self.flags.fetch_or(F_REPLIED, Ordering::Relaxed);
        }
    }

    /// Moves the TCP state machine for a packet going `dir` with `flags`,
    /// updates the destination's active/inactive counts and the timeout.
    pub(crate) fn tcp_packet(
        &self,
        dir: Dir,
        flags: tcp::Flags,
        t: &Timeouts,
        secure: bool,
        hz: u32,
    ) {
        self.transition(
            dir,
            |old, input_only| tcp::next(old, dir, input_only, flags, secure),
            tcp::active,
            tcp::ESTABLISHED,
        );
        let state = self.state.load(Ordering::Relaxed);
        let secs = proto::timeout(proto::IPPROTO_TCP, state, t);
        self.set_timeout(secs.saturating_mul(hz));
    }

    /// The same for SCTP: `chunk` is the packet's driving chunk type
    /// (`sctp::Chunks`).
    pub(crate) fn sctp_packet(&self, dir: Dir, chunk: u8, hz: u32) {
        self.transition(
            dir,
            |old, input_only| sctp::next(old, dir, input_only, chunk),
            sctp::active,
            sctp::ESTABLISHED,
        );
        let state = self.state.load(Ordering::Relaxed);
        self.set_timeout(sctp::timeout(state).saturating_mul(hz));
    }

    /// One step of a protocol's state machine: `step` gives the next
    /// state from the current one (and whether the client's packets
    /// follow the input-only table: no answer seen yet); the destination's
    /// active/inactive counts follow `active`, and reaching `assured` makes
    /// the entry assured. The first packet of the real server's clears
    /// NO_OUTPUT.
    pub(super) fn transition(
        &self,
        dir: Dir,
        step: impl FnOnce(u8, bool) -> u8,
        active: fn(u8) -> bool,
        assured: u8,
    ) {
        let mut f = self.flags.load(Ordering::Relaxed);
        let no_output = f & F_NOOUTPUT != 0;
        if no_output && dir == Dir::Output {
            f = self.flags.fetch_and(!F_NOOUTPUT, Ordering::Relaxed) & !F_NOOUTPUT;
        }
        let old = self.state.load(Ordering::Relaxed);
        let new = step(old, no_output && dir == Dir::Input);
        if new != old
            && self
                .state
                .compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let inactive = f & F_INACTIVE != 0;
            if !inactive && !active(new) {
                if self.flags.fetch_or(F_INACTIVE, Ordering::Relaxed) & F_INACTIVE == 0 {
                    self.dest.active.fetch_sub(1, Ordering::Relaxed);
                    self.dest.inactive.fetch_add(1, Ordering::Relaxed);
                }
            } else if inactive
                && active(new)
                && self.flags.fetch_and(!F_INACTIVE, Ordering::Relaxed) & F_INACTIVE != 0
            {
                self.dest.active.fetch_add(1, Ordering::Relaxed);
                self.dest.inactive.fetch_sub(1, Ordering::Relaxed);
            }
        }
        if new != old && self.state.load(Ordering::Relaxed) == assured {
            self.assure();
        }
    }

    /// Sets the timeout (jiffies) and restarts it from now; a shorter one
    /// than before brings the entry's timer forward.
    pub(crate) fn set_timeout(&self, t: u32) {
        let old = self.timeout.load(Ordering::Relaxed);
        if old != t {
            self.timeout.store(t, Ordering::Relaxed);
        }
        self.touch();
        if t < old {
            self.c.fire_by(self.expires.load(Ordering::Relaxed));
        }
    }
}

impl Drop for ConnRef<'_> {
    fn drop(&mut self) {
        self.c.refcnt.fetch_sub(1, Ordering::Release);
    }
}

/// The module-wide slab cache of connection entries ("rvs_conn").
pub(crate) static CONN_SLAB: StaticSlab<Timed<Conn>> = StaticSlab::new();

/// Names [`CONN_SLAB`] as the source of the table's nodes.
pub(crate) struct ConnSlabOf;

impl SlabOf<Timed<Conn>> for ConnSlabOf {
    fn slab() -> &'static StaticSlab<Timed<Conn>> {
        &CONN_SLAB
    }
}

pub(super) type ConnAlloc = FromSlab<ConnSlabOf>;

/// What the entries of a table share: counts their timers update.
pub(crate) struct ConnShared {
    /// Entries of clients on the director (`F_LOCAL_CLIENT`): while there
    /// are none, no packet coming in at LOCAL_IN can be a reply to one.
    pub(super) local: AtomicUsize,
}

impl Expiring for Conn {
    type Ctx = ConnShared;

    fn fired(&self) -> Fate {
        let now = jiffies();
        let exp = self.expires.load(Ordering::Relaxed);
        if (now.wrapping_sub(exp) as i64) < 0 && !self.dead.load(Ordering::Relaxed) {
            return Fate::At(exp);
        }
        // A template lives on while it controls connections (checked
        // before the reference: a packet adding one holds a reference
        // meanwhile).
        if let Some(ctl) = &self.control {
            if self.is_template() && ctl.n.load(Ordering::Relaxed) != 0 {
                self.timeout
                    .store(TPL_EXTEND_SECS.saturating_mul(HZ), Ordering::Relaxed);
                self.touch();
                return Fate::At(self.expires.load(Ordering::Relaxed));
            }
        }
        if self
            .refcnt
            .compare_exchange(1, 0, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            Fate::Remove
        } else {
            // A packet is using it: look again soon (ip_vs: HZ/16).
            Fate::At(now.wrapping_add(u64::from((HZ / 16).max(1))))
        }
    }

    fn gone(&self, ctx: &ConnShared) {
        if self.flags.load(Ordering::Relaxed) & F_LOCAL_CLIENT != 0 {
            ctx.local.fetch_sub(1, Ordering::Relaxed);
        }
        self.unbind();
    }
}

/// Creates the cache; the module publishes it in [`CONN_SLAB`].
pub(crate) fn new_slab() -> Result<SlabCache<Timed<Conn>>> {
    SlabCache::new(kernel::c_str!("rvs_conn"))
}

/// What a packet looks up.
pub(crate) struct Lookup<'a> {
    pub(crate) protocol: u8,
    /// `AF_INET` or `AF_INET6` (the addresses alone could be either).
    pub(crate) af: u8,
    pub(crate) saddr: &'a [u8; 16],
    pub(crate) sport: u16,
    pub(crate) daddr: &'a [u8; 16],
    pub(crate) dport: u16,
}

/// A new entry's description.
pub(crate) struct NewConn {
    pub(crate) protocol: u8,
    pub(crate) af: u16,
    pub(crate) caddr: [u8; 16],
    pub(crate) cport: u16,
    pub(crate) vaddr: [u8; 16],
    pub(crate) vport: u16,
    pub(crate) daddr: [u8; 16],
    pub(crate) dport: u16,
    pub(crate) dest: Arc<DestRt>,
    pub(crate) timeout: u32,
    /// The template's [`Control`] (for a template, its own, new).
    pub(crate) control: Option<Arc<Control>>,
    /// Its protocol state as it starts: 0 (none) for a packet's; a sync
    /// message's for a synced one, so that its eviction class is right
    /// from the start (an established entry is not listed half-open).
    pub(crate) state: u8,
}

/// What identifies an entry: a connection's ends, or a template's
/// (protocol or 0 for a fwmark, client network, port 0, VIP or mark, VIP
/// port or 0).
#[derive(Clone, Copy)]
pub(crate) struct Key {
    pub(crate) protocol: u8,
    pub(crate) af: u8,
    pub(crate) caddr: [u8; 16],
    pub(crate) cport: u16,
    pub(crate) vaddr: [u8; 16],
    pub(crate) vport: u16,
    /// `F_TEMPLATE` for a template, else 0.
    pub(super) template: u32,
}

impl Key {
    /// The key of a connection (or with `template`, of a template) as a
    /// sync message names it.
    pub(crate) fn new(
        protocol: u8,
        af: u8,
        caddr: [u8; 16],
        cport: u16,
        vaddr: [u8; 16],
        vport: u16,
        template: bool,
    ) -> Key {
        Key {
            protocol,
            af,
            caddr,
            cport,
            vaddr,
            vport,
            template: if template { F_TEMPLATE } else { 0 },
        }
    }

    /// A persistence template's key.
    pub(crate) fn template(
        protocol: u8,
        af: u8,
        caddr: [u8; 16],
        vaddr: [u8; 16],
        vport: u16,
    ) -> Key {
        Key {
            protocol,
            af,
            caddr,
            cport: 0,
            vaddr,
            vport,
            template: F_TEMPLATE,
        }
    }
}

/// Takes back what [`Conn::bind`] counted, for an entry of flags `flags`
/// (its template's count too, `control`).
fn uncount(dest: &DestRt, flags: u32, control: Option<&Arc<Control>>) {
    if flags & F_TEMPLATE != 0 {
        dest.persist.fetch_sub(1, Ordering::Relaxed);
    } else {
        if flags & F_INACTIVE != 0 {
            dest.inactive.fetch_sub(1, Ordering::Relaxed);
        } else {
            dest.active.fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(c) = control {
            c.n.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Undoes [`Conn::bind`] for an entry of `n` that did not get in.
pub(super) fn unbind_new(n: &NewConn, flags: u32) {
    uncount(&n.dest, flags, n.control.as_ref());
}
