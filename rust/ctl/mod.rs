// SPDX-License-Identifier: GPL-2.0

//! The control plane: the IPVS generic netlink family ("IPVS", version 1),
//! with the policies, operation flags, checks, errnos and replies of
//! ip_vs.ko (net/netfilter/ipvs/ip_vs_ctl.c).

mod conndump;

use core::ffi::CStr;
use core::sync::atomic::Ordering;
use kernel::c_str;
use kernel::prelude::*;

use crate::abi::{self, cmd, cmd_attr, daemon_attr, dest_attr, info_attr, stats_attr, svc_attr};
use crate::netstate::{Ctl, NetState};
use crate::svc::rt::{DestRt, EstLock, Stats};
use crate::svc::spec::{self, DestAttrs, DestKey, Refusal, SvcAttrs, SvcKey};
use crate::svc::{Dest, Service, TRASH_PERIOD_SECS};
use crate::sys::genl::{
    Attr, Dump, FamilySpec, Handler, Op, OpKind, Policy, PolicyOp, Request, Writer, ADMIN_PERM,
    VALIDATE_LIBERAL,
};
use crate::sys::jiffies;
use crate::sys::netns::Net;
use crate::sys::nf::Registration;
use crate::tables::{rs_hash, svc_key_hash};
use kernel::sync::Arc;

/// The handler of the IPVS family.
pub(crate) struct Ipvs;

/// Top-level attribute policy, as ip_vs's `ip_vs_cmd_policy`.
static POLICY: [Policy; cmd_attr::MAX as usize + 1] = [
    Policy::unspec(), // UNSPEC
    Policy::nested(), // SERVICE
    Policy::nested(), // DEST
    Policy::nested(), // DAEMON
    Policy::u32(),    // TIMEOUT_TCP
    Policy::u32(),    // TIMEOUT_TCP_FIN
    Policy::u32(),    // TIMEOUT_UDP
];

/// Service attribute policy, as ip_vs's `ip_vs_svc_policy`.
static SVC_POLICY: [Policy; svc_attr::MAX as usize + 1] = [
    Policy::unspec(),                              // UNSPEC
    Policy::u16(),                                 // AF
    Policy::u16(),                                 // PROTOCOL
    Policy::binary(16),                            // ADDR: union nf_inet_addr
    Policy::u16(),                                 // PORT
    Policy::u32(),                                 // FWMARK
    Policy::nul_string(abi::SCHEDNAME_MAXLEN - 1), // SCHED_NAME
    Policy::binary(8),                             // FLAGS: struct ip_vs_flags
    Policy::u32(),                                 // TIMEOUT
    Policy::u32(),                                 // NETMASK
    Policy::nested(),                              // STATS
    Policy::nul_string(abi::PENAME_MAXLEN),        // PE_NAME
    Policy::unspec(),                              // STATS64
];

/// Destination attribute policy, as ip_vs's `ip_vs_dest_policy`.
static DEST_POLICY: [Policy; dest_attr::MAX as usize + 1] = [
    Policy::unspec(),   // UNSPEC
    Policy::binary(16), // ADDR
    Policy::u16(),      // PORT
    Policy::u32(),      // FWD_METHOD
    Policy::u32(),      // WEIGHT
    Policy::u32(),      // U_THRESH
    Policy::u32(),      // L_THRESH
    Policy::u32(),      // ACTIVE_CONNS
    Policy::u32(),      // INACT_CONNS
    Policy::u32(),      // PERSIST_CONNS
    Policy::nested(),   // STATS
    Policy::u16(),      // ADDR_FAMILY
    Policy::unspec(),   // STATS64
    Policy::u8(),       // TUN_TYPE
    Policy::u16(),      // TUN_PORT
    Policy::u16(),      // TUN_FLAGS
];

/// Daemon attribute policy, as ip_vs's `ip_vs_daemon_policy`.
static DAEMON_POLICY: [Policy; daemon_attr::MAX as usize + 1] = [
    Policy::unspec(),                                          // UNSPEC
    Policy::u32(),                                             // STATE
    Policy::nul_string(crate::sync::IFNAME_MAXLEN as u16 - 1), // MCAST_IFN
    Policy::u32(),                                             // SYNC_ID
    Policy::u16(),                                             // SYNC_MAXLEN
    Policy::u32(),                                             // MCAST_GROUP
    Policy::min_len(16),                                       // MCAST_GROUP6
    Policy::u16(),                                             // MCAST_PORT
    Policy::u8(),                                              // MCAST_TTL
];

const fn op(c: u8, kind: OpKind) -> Op {
    // Every IPVS operation, reads included, needs CAP_NET_ADMIN in ip_vs.
    Op::new::<Ipvs>(c, kind, ADMIN_PERM, VALIDATE_LIBERAL)
}

/// Every command of the family, as ip_vs registers them.
static OPS: [Op; 16] = [
    op(cmd::NEW_SERVICE, OpKind::Do),
    op(cmd::SET_SERVICE, OpKind::Do),
    op(cmd::DEL_SERVICE, OpKind::Do),
    op(cmd::GET_SERVICE, OpKind::DoAndDump),
    op(cmd::NEW_DEST, OpKind::Do),
    op(cmd::SET_DEST, OpKind::Do),
    op(cmd::DEL_DEST, OpKind::Do),
    op(cmd::GET_DEST, OpKind::Dump),
    op(cmd::NEW_DAEMON, OpKind::Do),
    op(cmd::DEL_DAEMON, OpKind::Do),
    op(cmd::GET_DAEMON, OpKind::Dump),
    op(cmd::SET_CONFIG, OpKind::Do),
    op(cmd::GET_CONFIG, OpKind::Do),
    op(cmd::GET_INFO, OpKind::Do),
    op(cmd::ZERO, OpKind::Do),
    op(cmd::FLUSH, OpKind::Do),
];

/// rvs's own commands, beyond ip_vs's (each with its own policy, so that
/// ip_vs's commands and attributes stay exactly as they are).
static POLICY_OPS: [PolicyOp; 2] = [
    PolicyOp::dump::<Ipvs, _>(abi::RVS_CMD_GET_CONN, ADMIN_PERM, &conndump::FILTER_POLICY),
    PolicyOp::doit::<Ipvs, _>(
        abi::RVS_CMD_GET_TABLE,
        ADMIN_PERM,
        &conndump::NO_ATTR_POLICY,
    ),
];

/// The family, registered by the module.
pub(crate) static FAMILY: FamilySpec = FamilySpec {
    name: c_str!("IPVS"),
    version: abi::IPVS_GENL_VERSION,
    policy: &POLICY,
    ops: &OPS,
    policy_ops: &POLICY_OPS,
    resv_start_op: cmd::FLUSH + 1,
    netnsok: true,
};

/// The kernel's HZ: timeouts are kept in jiffies as ip_vs keeps them.
const HZ: u32 = kernel::bindings::CONFIG_HZ;

fn payload<'a, const N: usize>(t: &[Option<Attr<'a>>; N], i: u16) -> Option<&'a [u8]> {
    t.get(usize::from(i))
        .copied()
        .flatten()
        .map(|a| a.payload())
}

fn svc_attrs<'a>(t: &[Option<Attr<'a>>; svc_attr::MAX as usize + 1]) -> SvcAttrs<'a> {
    SvcAttrs {
        af: payload(t, svc_attr::AF),
        protocol: payload(t, svc_attr::PROTOCOL),
        addr: payload(t, svc_attr::ADDR),
        port: payload(t, svc_attr::PORT),
        fwmark: payload(t, svc_attr::FWMARK),
        sched_name: payload(t, svc_attr::SCHED_NAME),
        flags: payload(t, svc_attr::FLAGS),
        timeout: payload(t, svc_attr::TIMEOUT),
        netmask: payload(t, svc_attr::NETMASK),
        pe_name: payload(t, svc_attr::PE_NAME),
    }
}

fn dest_attrs<'a>(t: &[Option<Attr<'a>>; dest_attr::MAX as usize + 1]) -> DestAttrs<'a> {
    DestAttrs {
        addr: payload(t, dest_attr::ADDR),
        port: payload(t, dest_attr::PORT),
        addr_family: payload(t, dest_attr::ADDR_FAMILY),
        fwd_method: payload(t, dest_attr::FWD_METHOD),
        weight: payload(t, dest_attr::WEIGHT),
        u_thresh: payload(t, dest_attr::U_THRESH),
        l_thresh: payload(t, dest_attr::L_THRESH),
        tun_type: payload(t, dest_attr::TUN_TYPE),
        tun_port: payload(t, dest_attr::TUN_PORT),
        tun_flags: payload(t, dest_attr::TUN_FLAGS),
    }
}

/// Refuses a request: the errno, and the reason as the extended ack.
fn refuse(req: &Request<'_>, r: Refusal) -> Error {
    req.set_err_msg(r.msg);
    Error::from_errno(-r.errno.0)
}

/// Refuses a request with `errno` and the reason `msg`.
fn deny(req: &Request<'_>, errno: spec::Errno, msg: &'static CStr) -> Error {
    refuse(req, Refusal { errno, msg })
}

fn einval(req: &Request<'_>, msg: &'static CStr) -> Error {
    deny(req, spec::EINVAL, msg)
}

/// The service attribute nest of a request, parsed (EINVAL when absent or
/// malformed, as ip_vs).
fn parse_service<'a>(req: &Request<'a>) -> Result<[Option<Attr<'a>>; svc_attr::MAX as usize + 1]> {
    let nest = req
        .attr(cmd_attr::SERVICE)
        .ok_or_else(|| einval(req, c"service attribute missing"))?;
    nest.parse_nested(&SVC_POLICY)
        .map_err(|_| einval(req, c"malformed service attribute"))
}

fn fill_stats(w: &mut Writer<'_>, ty: u16, wide: bool, st: &Stats) -> Result {
    // The counters, then the estimated rates, in the widths ip_vs uses (STATS: 32-bit but bytes; STATS64: all 64-bit).
    let (v, r) = (st.read(), st.rates());
    w.nest(ty, |w| {
        for a in stats_attr::CONNS..=stats_attr::OUTBPS {
            let bytes = a == stats_attr::INBYTES || a == stats_attr::OUTBYTES;
            let i = usize::from(a.saturating_sub(stats_attr::CONNS));
            let x = match i.checked_sub(v.len()) {
                None => v.get(i).copied().unwrap_or(0),
                Some(j) => r.get(j).copied().unwrap_or(0),
            };
            if wide || bytes {
                w.put_u64(a, x, stats_attr::PAD)?;
            } else {
                w.put_u32(a, x as u32)?;
            }
        }
        Ok(())
    })
}

fn fill_service(w: &mut Writer<'_>, key: &SvcKey, svc: &Service) -> Result {
    w.nest(cmd_attr::SERVICE, |w| {
        w.put_u16(svc_attr::AF, key.af)?;
        if key.fwmark != 0 {
            w.put_u32(svc_attr::FWMARK, key.fwmark)?;
        } else {
            w.put_u16(svc_attr::PROTOCOL, key.reported_protocol())?;
            w.put(svc_attr::ADDR, &key.addr)?;
            w.put_be16(svc_attr::PORT, key.port)?;
        }
        let name = svc.cfg.sched.name().as_bytes();
        let mut buf = [0u8; abi::SCHEDNAME_MAXLEN as usize];
        for (d, s) in buf.iter_mut().zip(name.iter()) {
            *d = *s;
        }
        w.put(svc_attr::SCHED_NAME, buf.get(..=name.len()).unwrap_or(&buf))?;
        let mut flags = [0u8; 8];
        flags[..4].copy_from_slice(&svc.cfg.flags.to_ne_bytes());
        flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        w.put(svc_attr::FLAGS, &flags)?;
        w.put_u32(svc_attr::TIMEOUT, svc.cfg.timeout_secs(HZ))?;
        w.put_u32(svc_attr::NETMASK, svc.cfg.netmask)?;
        fill_stats(w, svc_attr::STATS, false, &svc.rt.stats)?;
        fill_stats(w, svc_attr::STATS64, true, &svc.rt.stats)
    })
}

fn fill_dest(w: &mut Writer<'_>, key: &DestKey, dest: &Dest) -> Result {
    let c = &dest.cfg;
    w.nest(cmd_attr::DEST, |w| {
        w.put(dest_attr::ADDR, &key.addr)?;
        w.put_be16(dest_attr::PORT, key.port)?;
        w.put_u32(dest_attr::FWD_METHOD, c.fwd)?;
        w.put_u32(dest_attr::WEIGHT, c.weight as u32)?;
        w.put_u8(dest_attr::TUN_TYPE, c.tun_type)?;
        w.put_be16(dest_attr::TUN_PORT, c.tun_port)?;
        w.put_u16(dest_attr::TUN_FLAGS, c.tun_flags)?;
        w.put_u32(dest_attr::U_THRESH, c.u_threshold)?;
        w.put_u32(dest_attr::L_THRESH, c.l_threshold)?;
        let active = dest.rt.active.load(Ordering::Relaxed).max(0);
        let inactive = dest.rt.inactive.load(Ordering::Relaxed).max(0);
        w.put_u32(dest_attr::ACTIVE_CONNS, active as u32)?;
        w.put_u32(dest_attr::INACT_CONNS, inactive as u32)?;
        let persist = dest.rt.persist.load(Ordering::Relaxed).max(0);
        w.put_u32(dest_attr::PERSIST_CONNS, persist as u32)?;
        w.put_u16(dest_attr::ADDR_FAMILY, key.af)?;
        fill_stats(w, dest_attr::STATS, false, &dest.rt.stats)?;
        fill_stats(w, dest_attr::STATS64, true, &dest.rt.stats)
    })
}

/// Whether a new destination's address is one ip_vs accepts
/// (ip_vs_new_dest): a unicast or local IPv4 address, a unicast
/// non-link-local IPv6 address.
fn dest_addr_ok(req: &Request<'_>, key: &DestKey) -> bool {
    if key.af == spec::AF_INET6 {
        spec::dest_addr6_ok(&key.addr)
    } else {
        let a = [key.addr[0], key.addr[1], key.addr[2], key.addr[3]];
        let t = req.net().inet_addr_type(a);
        t == kernel::bindings::RTN_LOCAL || t == kernel::bindings::RTN_UNICAST
    }
}

/// NEW/SET/DEL_SERVICE, NEW/SET/DEL_DEST, ZERO, FLUSH, SET_CONFIG
/// (ip_vs_genl_set_cmd), in ip_vs's order of checks.
fn set_cmd(req: &Request<'_>, st: &NetState, ctl: &mut Ctl) -> Result {
    let r = set_cmd_inner(req, st, ctl);
    sync_hooks(req.net(), ctl);
    r
}

/// The hooks of a family are registered while the namespace has a
/// service of that family, as ip_vs; IPv6 reassembly goes on with the
/// first IPv6 service.
fn sync_hooks(net: &Net, ctl: &mut Ctl) {
    if !ctl.services.has_family(spec::AF_INET) {
        ctl.hooks4 = None;
    } else if ctl.hooks4.is_none() {
        match Registration::new(net, &crate::datapath::HOOKS4) {
            Ok(r) => ctl.hooks4 = Some(r),
            Err(_) => pr_warn!("could not register the netfilter hooks\n"),
        }
    }
    if !ctl.services.has_family(spec::AF_INET6) {
        ctl.hooks6 = None;
        return;
    }
    if ctl.defrag6.is_none() {
        match crate::sys::nf::Defrag6::new(net) {
            Ok(d) => ctl.defrag6 = Some(d),
            Err(_) => pr_warn!("could not turn IPv6 reassembly on\n"),
        }
    }
    if ctl.hooks6.is_none() {
        match Registration::new(net, &crate::datapath::HOOKS6) {
            Ok(r) => ctl.hooks6 = Some(r),
            Err(_) => pr_warn!("could not register the IPv6 netfilter hooks\n"),
        }
    }
}

/// A service of port 0 (not a fwmark one): ip_vs's `nullsvc_counter`.
fn is_nullsvc(key: &SvcKey) -> bool {
    key.fwmark == 0 && key.port == 0
}

/// Unpublishes a service and its real servers from the packet path's
/// tables.
fn unpublish(st: &NetState, key: &SvcKey, svc: &Service) {
    let h = svc_key_hash(key);
    let n = st
        .dp
        .svcs
        .remove_if(Some(h), |s| Arc::ptr_eq(s, &svc.rt), |_| {});
    if n != 0 && is_nullsvc(key) {
        st.dp.nullsvc.fetch_sub(1, Ordering::Relaxed);
    }
    for (dk, d) in svc.dests.iter() {
        unpublish_dest(st, dk, &d.rt);
    }
    svc.rt.clear();
}

fn unpublish_dest(st: &NetState, key: &DestKey, d: &Arc<DestRt>) {
    st.dp.rs.remove_if(
        Some(rs_hash(&key.addr, key.port)),
        |x| Arc::ptr_eq(x, d),
        |_| {},
    );
}

/// ZERO of a service and its real servers, the estimator's lock taken for
/// one counter set at a time (it keeps bottom halves off).
fn zero_service(svc: &Service, l: &EstLock) {
    svc.rt.stats.zero(&l.lock());
    for (_, d) in svc.dests.iter() {
        d.rt.stats.zero(&l.lock());
    }
}

fn set_cmd_inner(req: &Request<'_>, st: &NetState, ctl: &mut Ctl) -> Result {
    let c = req.cmd();
    let u32_attr = |ty: u16| -> Result<Option<u32>> {
        match req.attr(ty) {
            Some(a) => spec::ne_u32(a.payload())
                .map(Some)
                .map_err(|r| refuse(req, r)),
            None => Ok(None),
        }
    };
    let hz = u64::from(HZ);
    ctl.trash
        .sweep(jiffies(), hz, TRASH_PERIOD_SECS.saturating_mul(hz));
    match c {
        cmd::FLUSH => {
            // Everything goes: empty the packet path's tables a bucket at
            // a time (many services may share a real server, whose entries
            // then share a bucket).
            st.dp.unlink_all();
            let gone = ctl.services.take_all();
            if let Some(old) = ctl.trash.put_flushed(jiffies(), gone) {
                st.dp.bury(old);
            }
            return Ok(());
        }
        cmd::SET_CONFIG => {
            let tcp = u32_attr(cmd_attr::TIMEOUT_TCP)?;
            let fin = u32_attr(cmd_attr::TIMEOUT_TCP_FIN)?;
            let udp = u32_attr(cmd_attr::TIMEOUT_UDP)?;
            ctl.timeouts = spec::apply_timeouts(ctl.timeouts, tcp, fin, udp, HZ)
                .map_err(|r| refuse(req, r))?;
            st.dp.set_timeouts(ctl.timeouts);
            return Ok(());
        }
        cmd::ZERO if req.attr(cmd_attr::SERVICE).is_none() => {
            for (_, svc) in ctl.services.iter() {
                zero_service(svc, &st.dp.est_lock);
            }
            st.dp.stats.zero(&st.dp.est_lock.lock());
            return Ok(());
        }
        _ => {}
    }

    let t = parse_service(req)?;
    let sa = svc_attrs(&t);
    let key = spec::parse_svc_key(&sa).map_err(|r| refuse(req, r))?;
    let full = c == cmd::NEW_SERVICE || c == cmd::SET_SERVICE;
    let request = if full {
        Some(spec::parse_svc_request(&sa).map_err(|r| refuse(req, r))?)
    } else {
        None
    };
    let old_flags = ctl.services.get(&key).map(|s| s.cfg.flags);
    if c != cmd::NEW_SERVICE && old_flags.is_none() {
        return Err(deny(req, spec::ESRCH, c"no such service"));
    }

    let mut dest = None;
    if c == cmd::NEW_DEST || c == cmd::SET_DEST || c == cmd::DEL_DEST {
        let nest = req
            .attr(cmd_attr::DEST)
            .ok_or_else(|| einval(req, c"destination attribute missing"))?;
        let dt = nest
            .parse_nested(&DEST_POLICY)
            .map_err(|_| einval(req, c"malformed destination attribute"))?;
        dest = Some(
            spec::parse_dest(&key, &dest_attrs(&dt), c != cmd::DEL_DEST)
                .map_err(|r| refuse(req, r))?,
        );
    }

    match (c, request, dest) {
        (cmd::NEW_SERVICE, Some(r), _) => {
            if old_flags.is_some() {
                return Err(deny(req, spec::EEXIST, c"service exists"));
            }
            let cfg = r.check(&key, None, HZ).map_err(|e| refuse(req, e))?;
            // The connection table gets its buckets with the first service.
            st.dp.conns.ensure()?;
            // The counters of the service of this key whose real servers
            // are in the trash, from zero, so that those real servers
            // can come back into it.
            let stats = ctl.trash.svc_stats(&key);
            if let Some(s) = &stats {
                s.zero(&st.dp.est_lock.lock());
            }
            let rt = ctl.services.insert(key, cfg, stats)?;
            if let Err(e) = st.dp.svcs.insert(svc_key_hash(&key), rt) {
                ctl.services.remove(&key);
                return Err(e);
            }
            if is_nullsvc(&key) {
                st.dp.nullsvc.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }
        (cmd::SET_SERVICE, Some(r), _) => {
            let cfg = r.check(&key, old_flags, HZ).map_err(|e| refuse(req, e))?;
            if let Some(s) = ctl.services.get_mut(&key) {
                if s.cfg.sched != cfg.sched {
                    s.rt.set_sched(cfg.sched.name())?;
                }
                s.rt.flags.store(cfg.flags, Ordering::Relaxed);
                s.rt.set_persistence(cfg.timeout_jiffies, cfg.netmask);
                s.cfg = cfg;
            }
            Ok(())
        }
        (cmd::DEL_SERVICE, _, _) => {
            if let Some(svc) = ctl.services.remove(&key) {
                unpublish(st, &key, &svc);
                ctl.trash.put_service(&key, &svc);
            }
            Ok(())
        }
        (cmd::NEW_DEST | cmd::SET_DEST, _, Some((dkey, Some(dcfg)))) => {
            spec::check_dest_config(&dcfg).map_err(|r| refuse(req, r))?;
            let addr_ok = dest_addr_ok(req, &dkey);
            let Ctl {
                services, trash, ..
            } = &mut *ctl;
            let svc = services.get_mut(&key).ok_or(ESRCH)?;
            let exists = svc.dests.get(&dkey).is_some();
            if c == cmd::NEW_DEST {
                if exists {
                    return Err(deny(req, spec::EEXIST, c"destination exists"));
                }
                if !addr_ok {
                    return Err(einval(req, c"destination address is not unicast"));
                }
                // A real server of this service in the trash comes back
                // as it was (ip_vs_trash_get_dest).
                let rt = match trash.take(&key, &dkey, &svc.rt.stats) {
                    Some(rt) => {
                        svc.revive_dest(dkey, dcfg, rt.clone())?;
                        rt
                    }
                    None => svc.insert_dest(dkey, dcfg)?,
                };
                // Without memory for the lookup entry only the
                // nat_icmp_send check misses this server.
                let _ = st.dp.rs.insert(rs_hash(&dkey.addr, dkey.port), rt);
                Ok(())
            } else {
                if svc.update_dest(&dkey, dcfg) {
                    Ok(())
                } else {
                    Err(deny(req, spec::ENOENT, c"no such destination"))
                }
            }
        }
        (cmd::DEL_DEST, _, Some((dkey, _))) => {
            let svc = ctl.services.get_mut(&key).ok_or(ESRCH)?;
            match svc.remove_dest(&dkey) {
                Some(rt) => {
                    unpublish_dest(st, &dkey, &rt);
                    ctl.trash.put(key, dkey, rt);
                    if st.dp.sysctl.expire_nodest_conn() {
                        st.dp.expire_nodest_soon();
                    }
                    Ok(())
                }
                None => Err(deny(req, spec::ENOENT, c"no such destination")),
            }
        }
        (cmd::ZERO, _, _) => {
            if let Some(svc) = ctl.services.get(&key) {
                zero_service(svc, &st.dp.est_lock);
            }
            Ok(())
        }
        _ => Err(einval(req, c"unknown command")),
    }
}

/// Adds the `items` not yet dumped, one `cmd` message each, as ip_vs's
/// dumpers do: the position to resume at is kept in the dump's slot 0.
fn dump_entries<'a, K: 'a, V: 'a>(
    dump: &mut Dump<'_>,
    cmd: u8,
    items: impl Iterator<Item = (&'a K, &'a V)>,
    fill: fn(&mut Writer<'_>, &K, &V) -> Result,
) -> Result {
    let start = dump.arg(0);
    let mut idx: isize = 0;
    for (key, value) in items {
        idx = idx.saturating_add(1);
        if idx <= start {
            continue;
        }
        if !dump.entry(cmd, |w| fill(w, key, value))? {
            idx = idx.saturating_sub(1);
            break;
        }
    }
    dump.set_arg(0, idx);
    Ok(())
}

impl Handler for Ipvs {
    fn doit(req: &Request<'_>) -> Result {
        let Some(st) = req.net().state::<NetState>() else {
            req.set_err_msg(c"rvs: no state for this network namespace");
            return Err(ENODEV);
        };
        match req.cmd() {
            abi::RVS_CMD_GET_TABLE => conndump::table(req, st),
            cmd::GET_INFO => req.reply(cmd::SET_INFO, |w| {
                w.put_u32(info_attr::VERSION, abi::IP_VS_VERSION_CODE)?;
                w.put_u32(info_attr::CONN_TAB_SIZE, st.conn_tab_size)
            }),
            cmd::GET_CONFIG => {
                let t = st.ctl.lock().timeouts;
                req.reply(cmd::SET_CONFIG, |w| {
                    w.put_u32(cmd_attr::TIMEOUT_TCP, t.tcp)?;
                    w.put_u32(cmd_attr::TIMEOUT_TCP_FIN, t.tcp_fin)?;
                    w.put_u32(cmd_attr::TIMEOUT_UDP, t.udp)
                })
            }
            cmd::GET_SERVICE => {
                let t = parse_service(req)?;
                let key = spec::parse_svc_key(&svc_attrs(&t)).map_err(|r| refuse(req, r))?;
                let ctl = st.ctl.lock();
                let svc = ctl
                    .services
                    .get(&key)
                    .ok_or_else(|| deny(req, spec::ESRCH, c"no such service"))?;
                req.reply(cmd::NEW_SERVICE, |w| fill_service(w, &key, svc))
            }
            cmd::NEW_DAEMON | cmd::DEL_DAEMON => {
                let mut ctl = st.ctl.lock();
                daemon_cmd(req, st, &mut ctl)
            }
            _ => {
                let mut ctl = st.ctl.lock();
                set_cmd(req, st, &mut ctl)
            }
        }
    }

    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let Some(st) = dump.net().state::<NetState>() else {
            return Err(ENODEV);
        };
        // The connection table needs no configuration lock.
        if dump.cmd() == abi::RVS_CMD_GET_CONN {
            return conndump::dump(dump, st);
        }
        let ctl = st.ctl.lock();
        match dump.cmd() {
            cmd::GET_SERVICE => {
                dump_entries(dump, cmd::NEW_SERVICE, ctl.services.iter(), fill_service)
            }
            cmd::GET_DEST => {
                // As ip_vs: a missing or unknown service dumps nothing.
                let Ok(t) = dump.parse_request(&POLICY) else {
                    return Ok(());
                };
                let Some(nest) = t.get(usize::from(cmd_attr::SERVICE)).copied().flatten() else {
                    return Ok(());
                };
                let Ok(st) = nest.parse_nested(&SVC_POLICY) else {
                    return Ok(());
                };
                let Ok(key) = spec::parse_svc_key(&svc_attrs(&st)) else {
                    return Ok(());
                };
                let Some(svc) = ctl.services.get(&key) else {
                    return Ok(());
                };
                dump_entries(dump, cmd::NEW_DEST, svc.dests.iter(), fill_dest)
            }
            cmd::GET_DAEMON => {
                let (m, b) = ctl.daemons.configs();
                for (i, state, c) in [
                    (0, crate::sync::STATE_MASTER, m),
                    (1, crate::sync::STATE_BACKUP, b),
                ] {
                    let Some(c) = c else { continue };
                    if dump.arg(i) != 0 {
                        continue;
                    }
                    if !dump.entry(cmd::NEW_DAEMON, |w| fill_daemon(w, state, c))? {
                        break;
                    }
                    dump.set_arg(i, 1);
                }
                Ok(())
            }
            _ => Err(EINVAL),
        }
    }
}

fn fill_daemon(w: &mut Writer<'_>, state: u32, c: &crate::sync::Config) -> Result {
    w.nest(cmd_attr::DAEMON, |w| {
        w.put_u32(daemon_attr::STATE, state)?;
        w.put(daemon_attr::MCAST_IFN, c.ifname().to_bytes_with_nul())?;
        w.put_u32(daemon_attr::SYNC_ID, c.syncid)?;
        w.put_u16(daemon_attr::SYNC_MAXLEN, c.maxlen)?;
        w.put_u16(daemon_attr::MCAST_PORT, c.port)?;
        w.put_u8(daemon_attr::MCAST_TTL, c.ttl)?;
        if c.af == spec::AF_INET6 {
            w.put(daemon_attr::MCAST_GROUP6, &c.group)
        } else {
            w.put(
                daemon_attr::MCAST_GROUP,
                c.group.get(..4).unwrap_or(&[0; 4]),
            )
        }
    })
}

/// NEW_DAEMON and DEL_DAEMON (ip_vs_genl_set_daemon), with ip_vs's checks
/// and errnos.
fn daemon_cmd(req: &Request<'_>, st: &NetState, ctl: &mut Ctl) -> Result {
    let nest = req
        .attr(cmd_attr::DAEMON)
        .ok_or_else(|| einval(req, c"daemon attribute missing"))?;
    let t = nest
        .parse_nested(&DAEMON_POLICY)
        .map_err(|_| einval(req, c"malformed daemon attribute"))?;
    let get = |i: u16| payload(&t, i);
    let u32_of = |b: &[u8]| spec::ne_u32(b).unwrap_or(0);
    let u16_of = |b: &[u8]| match b {
        [a, b, ..] => u16::from_ne_bytes([*a, *b]),
        _ => 0,
    };
    if req.cmd() == cmd::DEL_DAEMON {
        let state = get(daemon_attr::STATE)
            .map(u32_of)
            .ok_or_else(|| einval(req, c"daemon state missing"))?;
        return ctl.daemons.stop(state).inspect_err(|&e| {
            if e == ESRCH {
                req.set_err_msg(c"no such sync daemon runs");
            } else {
                req.set_err_msg(c"daemon state is neither master nor backup");
            }
        });
    }
    let (Some(state), Some(ifn), Some(id)) = (
        get(daemon_attr::STATE),
        get(daemon_attr::MCAST_IFN),
        get(daemon_attr::SYNC_ID),
    ) else {
        return Err(einval(req, c"daemon state, interface or sync id missing"));
    };
    let mut c = crate::sync::Config {
        ifname: [0; crate::sync::IFNAME_MAXLEN],
        syncid: u32_of(id),
        maxlen: get(daemon_attr::SYNC_MAXLEN).map_or(0, u16_of),
        af: 0,
        group: [0; 16],
        port: 0,
        ttl: 0,
    };
    for (d, s) in c
        .ifname
        .iter_mut()
        .zip(ifn.iter().take_while(|b| **b != 0))
        .take(crate::sync::IFNAME_MAXLEN - 1)
    {
        *d = *s;
    }
    if let Some(g) = get(daemon_attr::MCAST_GROUP) {
        let a = [
            g.first().copied().unwrap_or(0),
            g.get(1).copied().unwrap_or(0),
            g.get(2).copied().unwrap_or(0),
            g.get(3).copied().unwrap_or(0),
        ];
        if a[0] & 0xf0 != 0xe0 {
            return Err(einval(
                req,
                c"multicast group is not an IPv4 multicast address",
            ));
        }
        c.af = spec::AF_INET;
        c.group[..4].copy_from_slice(&a);
    } else if let Some(g) = get(daemon_attr::MCAST_GROUP6) {
        if g.first() != Some(&0xff) {
            return Err(einval(
                req,
                c"multicast group is not an IPv6 multicast address",
            ));
        }
        c.af = spec::AF_INET6;
        for (d, s) in c.group.iter_mut().zip(g.iter()) {
            *d = *s;
        }
    }
    if let Some(p) = get(daemon_attr::MCAST_PORT) {
        c.port = u16_of(p);
    }
    if let Some(v) = get(daemon_attr::MCAST_TTL) {
        c.ttl = v.first().copied().unwrap_or(0);
    }
    let state = u32_of(state);
    ctl.daemons
        .start(req.net(), &st.dp.host(), c, state)
        .inspect_err(|&e| {
            let msg = if e == EEXIST {
                c"that sync daemon runs already"
            } else if e == ENODEV {
                c"no such multicast interface"
            } else if e == EINVAL {
                c"daemon state is neither master nor backup"
            } else {
                c"the sync daemon could not start"
            };
            req.set_err_msg(msg);
        })
}
