// SPDX-License-Identifier: GPL-2.0

//! rvs's own commands of the IPVS family. `RVS_CMD_GET_TABLE`: the
//! connection table's figures for `rvsadm metrics` (entries by state, its
//! size and limit, refusals, the defences). `RVS_CMD_GET_CONN` (ip_vs has
//! none: ipvsadm reads /proc/net/ip_vs_conn): the connection table dumped
//! over netlink, one message an entry, with filters applied in the kernel
//! (a service, a real server, a client prefix, a state). The dump walks the
//! table as /proc/net/ip_vs_conn does, a bucket at a time in hash order,
//! each bucket under its own RCU read section with a chance to reschedule
//! between two, and resumes at the bucket (and the count of its entries
//! already sent) where the previous message filled up.

use super::{payload, svc_attrs, DEST_POLICY, SVC_POLICY};
use crate::abi::RVS_CMD_GET_TABLE;
use crate::abi::{conn_attr, conn_filter, dest_attr, table_attr, RVS_CMD_GET_CONN};
use crate::conn::{Conn, ConnTable, Listed};
use crate::netstate::NetState;
use crate::proto;
use crate::svc::spec::{self, SvcKey, AF_INET6};
use crate::sys::genl::{Dump, Policy, Request, Writer};
use crate::sys::sync::{cond_resched, RcuGuard};
use crate::sys::HZ;
use crate::tables::sysctl_idx;
use core::sync::atomic::Ordering::Relaxed;
use kernel::prelude::*;

/// The request's policy: every filter typed, so the core refuses a
/// malformed or unknown one (EINVAL, with its extack message).
pub(super) static FILTER_POLICY: [Policy; conn_filter::MAX as usize + 1] = [
    Policy::unspec(),       // UNSPEC
    Policy::nested(),       // SERVICE
    Policy::nested(),       // DEST
    Policy::binary(16),     // CLIENT
    Policy::u16(),          // CLIENT_AF
    Policy::u8(),           // CLIENT_PREFIX
    Policy::nul_string(15), // STATE
];

/// The longest state name ("ESTABLISHED", "S-ACK-SENT", ...) and its NUL.
const STATE_LEN: usize = 16;

/// What a dump lists: every given filter matches.
#[derive(Default)]
struct Filter {
    svc: Option<SvcKey>,
    /// Family, address and (host-order) port of a real server.
    dest: Option<(u16, [u8; 16], u16)>,
    /// Family, address and prefix length of the clients.
    client: Option<(u16, [u8; 16], u8)>,
    /// A state's name (without its NUL) and its length.
    state: Option<([u8; STATE_LEN], usize)>,
}

fn addr16(b: &[u8]) -> [u8; 16] {
    let mut a = [0u8; 16];
    for (d, s) in a.iter_mut().zip(b) {
        *d = *s;
    }
    a
}

fn u16_ne(b: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes([*b.first()?, *b.get(1)?]))
}

fn u16_be(b: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// Whether the first `bits` bits of `a` and `b` are the same.
fn prefix_eq(a: &[u8; 16], b: &[u8; 16], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rem = bits % 8;
    if a.get(..full) != b.get(..full) {
        return false;
    }
    if rem == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rem);
    match (a.get(full), b.get(full)) {
        (Some(x), Some(y)) => (x ^ y) & mask == 0,
        _ => false,
    }
}

/// The state of an entry as /proc/net/ip_vs_conn lists it.
fn state_of(c: &Conn) -> &'static str {
    if c.is_template() {
        c.template_state()
    } else {
        proto::state_name(c.protocol, c.state.load(Relaxed))
    }
}

impl Filter {
    /// The request's filters; EINVAL for one that names nothing.
    fn parse(dump: &Dump<'_>) -> Result<Self> {
        let t = dump.parse_request(&FILTER_POLICY)?;
        let get = |i: u16| t.get(usize::from(i)).copied().flatten();
        let mut f = Self::default();
        if let Some(nest) = get(conn_filter::SERVICE) {
            let st = nest.parse_nested(&SVC_POLICY)?;
            f.svc = Some(spec::parse_svc_key(&svc_attrs(&st)).map_err(|_| EINVAL)?);
        }
        if let Some(nest) = get(conn_filter::DEST) {
            let dt = nest.parse_nested(&DEST_POLICY)?;
            let addr = payload(&dt, dest_attr::ADDR).ok_or(EINVAL)?;
            let port = payload(&dt, dest_attr::PORT)
                .and_then(u16_be)
                .ok_or(EINVAL)?;
            // The service's family when the real server names none.
            let af = payload(&dt, dest_attr::ADDR_FAMILY)
                .and_then(u16_ne)
                .or(f.svc.map(|k| k.af))
                .unwrap_or(spec::AF_INET);
            f.dest = Some((af, addr16(addr), port));
        }
        if let Some(a) = get(conn_filter::CLIENT) {
            let af = get(conn_filter::CLIENT_AF)
                .and_then(|a| u16_ne(a.payload()))
                .unwrap_or(spec::AF_INET);
            let max: u8 = if af == AF_INET6 { 128 } else { 32 };
            let bits = get(conn_filter::CLIENT_PREFIX)
                .and_then(|p| p.payload().first().copied())
                .unwrap_or(max);
            if bits > max {
                return Err(EINVAL);
            }
            f.client = Some((af, addr16(a.payload()), bits));
        }
        if let Some(s) = get(conn_filter::STATE) {
            let name = s.payload().split(|b| *b == 0).next().unwrap_or(&[]);
            let mut buf = [0u8; STATE_LEN];
            if name.len() >= STATE_LEN {
                return Err(EINVAL);
            }
            for (d, s) in buf.iter_mut().zip(name) {
                *d = *s;
            }
            f.state = Some((buf, name.len()));
        }
        Ok(f)
    }

    fn matches(&self, c: &Conn) -> bool {
        let af = u16::from(c.af);
        if let Some(k) = &self.svc {
            let ok = if k.fwmark != 0 {
                c.dest.svc_mark == k.fwmark && af == k.af
            } else {
                u16::from(c.protocol) == k.protocol
                    && af == k.af
                    && c.vaddr == k.addr
                    && c.vport == k.port
            };
            if !ok {
                return false;
            }
        }
        if let Some((daf, addr, port)) = &self.dest {
            if c.dest.key.af != *daf || c.dest.key.addr != *addr || c.dest.key.port != *port {
                return false;
            }
        }
        if let Some((caf, addr, bits)) = &self.client {
            if af != *caf || !prefix_eq(&c.caddr, addr, *bits) {
                return false;
            }
        }
        if let Some((name, len)) = &self.state {
            if Some(state_of(c).as_bytes()) != name.get(..*len) {
                return false;
            }
        }
        true
    }
}

/// One entry's message: a CONN nest.
fn fill(w: &mut Writer<'_>, c: &Conn) -> Result {
    w.nest(conn_attr::CONN, |w| {
        let (cport, vport, dport) = c.listed_ports();
        w.put_u16(conn_attr::AF, u16::from(c.af))?;
        w.put_u16(conn_attr::PROTOCOL, u16::from(c.protocol))?;
        w.put(conn_attr::CADDR, &c.caddr)?;
        w.put_be16(conn_attr::CPORT, cport)?;
        w.put(conn_attr::VADDR, &c.vaddr)?;
        w.put_be16(conn_attr::VPORT, vport)?;
        w.put(conn_attr::DADDR, &c.daddr)?;
        w.put_be16(conn_attr::DPORT, dport)?;
        w.put_u16(conn_attr::DEST_AF, c.dest.key.af)?;
        let mut name = [0u8; STATE_LEN];
        let s = state_of(c).as_bytes();
        for (d, b) in name.iter_mut().zip(s) {
            *d = *b;
        }
        // The name and its NUL.
        w.put(conn_attr::STATE, name.get(..=s.len()).unwrap_or(&name))?;
        let secs = u32::try_from(c.expires_in_secs(HZ)).unwrap_or(u32::MAX);
        w.put_u32(conn_attr::EXPIRES, secs)?;
        w.put_u32(conn_attr::FLAGS, c.ipvs_flags())?;
        w.put_u32(conn_attr::FWMARK, c.dest.svc_mark)
    })
}

/// The dump of `RVS_CMD_GET_CONN`. Resume state: slot 0 the position to
/// list from (a cursor's start, see `ConnTable::list_seek`), slots 1 and
/// 2 the key of the last entry sent there (slot 1 its hash with bit 32
/// set, 0 for none; slot 2 its number): the next call goes on after it,
/// so that an entry there all along is sent once, however long its bucket
/// and whatever is added, removed or resized in between.
pub(super) fn dump(dump: &mut Dump<'_>, st: &NetState) -> Result {
    // The resume state's slots hold a 64-bit key.
    const _: () = assert!(core::mem::size_of::<isize>() == 8);
    let filter = Filter::parse(dump)?;
    let t = st.dp.tables();
    let mut pos = dump.arg(0) as u64;
    let k = dump.arg(1) as u64;
    let mut after = (k >> 32 == 1).then_some((k as u32, dump.arg(2) as u64));
    while let Some(cur) = t.conns.list_seek(pos) {
        loop {
            let mut full = false;
            let mut err = None;
            let listed = {
                let g = RcuGuard::new();
                t.conns.list_batch(&g, cur, after, |c| {
                    if !filter.matches(c) {
                        return true;
                    }
                    match dump.entry(RVS_CMD_GET_CONN, |w| fill(w, c)) {
                        Ok(true) => true,
                        Ok(false) => {
                            full = true;
                            false
                        }
                        Err(e) => {
                            err = Some(e);
                            false
                        }
                    }
                })
            };
            if let Some(e) = err {
                return Err(e);
            }
            let Listed::From(k) = listed else {
                break;
            };
            if full {
                // Here again next time, after the last entry sent.
                let (at, key) = match k {
                    Some((h, id)) => (u64::from(h), (1u64 << 32 | u64::from(h), id)),
                    None => (cur >> 6, (0, 0)),
                };
                dump.set_arg(0, at as isize);
                dump.set_arg(1, key.0 as isize);
                dump.set_arg(2, key.1 as isize);
                return Ok(());
            }
            after = k;
        }
        pos = ConnTable::list_after(cur);
        after = None;
        cond_resched();
    }
    // Past the last bucket: the next call adds nothing, which ends the dump.
    dump.set_arg(0, pos as isize);
    dump.set_arg(1, 0);
    dump.set_arg(2, 0);
    Ok(())
}

/// GET_TABLE takes no attribute.
/// (Two entries: a policy of one would give the op `maxattr` 0, which the
/// genl core replaces by the family's while keeping this array, and read
/// beyond it.)
pub(super) static NO_ATTR_POLICY: [Policy; 2] = [Policy::unspec(), Policy::unspec()];

/// Protocols counted by state: TCP, UDP, SCTP, other.
const PROTOS: [u8; 4] = [
    proto::IPPROTO_TCP,
    proto::IPPROTO_UDP,
    proto::IPPROTO_SCTP,
    0,
];
/// States a protocol has at most (their numbers are below it).
const STATES: usize = 16;

/// The reply of `RVS_CMD_GET_TABLE`: the table's figures and its entries
/// by state, counted in a walk of the table a bucket at a time (each under
/// its own RCU read section, rescheduling between two).
pub(super) fn table(req: &Request<'_>, st: &NetState) -> Result {
    let t = st.dp.tables();
    let mut by_state = [[0u64; STATES]; PROTOS.len()];
    // Templates: "NONE" and "ASSURED" of each protocol.
    let mut templates = [[0u64; 2]; PROTOS.len()];
    let mut pos = 0u64;
    while let Some(cur) = t.conns.list_seek(pos) {
        {
            let g = RcuGuard::new();
            t.conns.list_at(&g, cur, |c| {
                let p = PROTOS
                    .iter()
                    .position(|p| *p == c.protocol)
                    .unwrap_or(PROTOS.len() - 1);
                let slot = if c.is_template() {
                    templates
                        .get_mut(p)
                        .and_then(|a| a.get_mut(usize::from(c.template_state() == "ASSURED")))
                } else {
                    by_state
                        .get_mut(p)
                        .and_then(|a| a.get_mut(usize::from(c.state.load(Relaxed))))
                };
                if let Some(n) = slot {
                    *n = n.saturating_add(1);
                }
            });
        }
        pos = ConnTable::list_after(cur);
        cond_resched();
    }
    let s = &t.sysctl;
    let u64_of = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    let i32_as_u32 = |v: i32| u32::try_from(v).unwrap_or(0);
    req.reply(RVS_CMD_GET_TABLE, |w| {
        use table_attr::*;
        w.put_u64(ENTRIES, u64_of(t.conns.len()), PAD)?;
        w.put_u64(BUCKETS, u64_of(t.conns.buckets()), PAD)?;
        w.put_u64(MAX, u64_of(t.conns.max()), PAD)?;
        w.put_u64(REFUSED_FULL, u64_of(t.conns.dropped.load(Relaxed)), PAD)?;
        w.put_u64(EVICTED, u64_of(t.conns.evicted_total()), PAD)?;
        for (a, n) in [
            EVICTED_HALF_OPEN,
            EVICTED_UNANSWERED,
            EVICTED_TEMPLATE,
            EVICTED_IDLE,
        ]
        .iter()
        .zip(t.conns.evicted.iter())
        {
            w.put_u64(*a, u64_of(n.load(Relaxed)), PAD)?;
        }
        w.put_u32(SECURE_TCP_ON, u32::from(t.secure_tcp()))?;
        w.put_u32(DROP_RATE, i32_as_u32(t.drop_rate()))?;
        w.put_u32(AMEMTHRESH, i32_as_u32(s.get(sysctl_idx::AMEMTHRESH)))?;
        w.put_u32(DROP_ENTRY, i32_as_u32(s.get(sysctl_idx::DROP_ENTRY)))?;
        w.put_u32(DROP_PACKET, i32_as_u32(s.get(sysctl_idx::DROP_PACKET)))?;
        w.put_u32(SECURE_TCP, i32_as_u32(s.get(sysctl_idx::SECURE_TCP)))?;
        w.nest(STATES, |w| {
            for (i, p) in PROTOS.iter().enumerate() {
                let counts = by_state.get(i).into_iter().flatten().enumerate();
                let tpl = templates.get(i).into_iter().flatten().enumerate();
                let states = counts.map(|(st, n)| (proto::state_name(*p, st as u8), n));
                let tpls = tpl.map(|(a, n)| (if a == 1 { "ASSURED" } else { "NONE" }, n));
                for (name, n) in Iterator::chain(states, tpls) {
                    if *n == 0 {
                        continue;
                    }
                    w.nest(STATE, |w| {
                        w.put_u16(STATE_PROTOCOL, u16::from(*p))?;
                        let mut b = [0u8; STATE_LEN];
                        for (d, c) in b.iter_mut().zip(name.as_bytes()) {
                            *d = *c;
                        }
                        w.put(STATE_NAME, b.get(..=name.len()).unwrap_or(&b))?;
                        w.put_u64(STATE_COUNT, *n, STATE_PAD)
                    })?;
                }
            }
            Ok(())
        })
    })
}
