// SPDX-License-Identifier: GPL-2.0

//! /proc/net/ip_vs_conn (what `ipvsadm -L -c` reads), ip_vs_conn_sync,
//! /proc/net/ip_vs and /proc/net/ip_vs_stats in ip_vs's formats
//! (ip_vs_conn.c's ip_vs_conn_seq_show and ip_vs_conn_sync_seq_show,
//! ip_vs_ctl.c's ip_vs_info_seq_show and ip_vs_stats_show).

use core::fmt::Write;
use core::sync::atomic::Ordering::Relaxed;

use crate::abi::IP_VS_VERSION_CODE;
use crate::conn::{Conn, ConnTable, Listed, F_SYNC};
use crate::proto::{self, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};
use crate::svc::rt::SvcRt;
use crate::svc::spec::{Fwd, AF_INET6, SVC_F_ONEPACKET, SVC_F_PERSISTENT};
use crate::sys::netns::Net;
use crate::sys::proc::{Cursor, ProcSeq, ProcShow, SeqWriter};
use crate::sys::rcuhash::{Kmalloc, RcuHashTable};
use crate::sys::sync::RcuGuard;
use crate::sys::HZ;
use crate::tables::Tables;

pub(crate) struct ConnListing<const ORIGIN: bool>;
pub(crate) type ConnFile = ConnListing<false>;
pub(crate) type ConnSyncFile = ConnListing<true>;
pub(crate) struct TabFile;
pub(crate) struct InfoFile;
pub(crate) struct StatsFile;
pub(crate) struct StatsPercpuFile;

/// `ip_vs_proto_name`.
fn proto_name(w: &mut SeqWriter, p: u16) {
    let _ = match u8::try_from(p) {
        Ok(0) => w.write_str("IP"),
        Ok(IPPROTO_UDP) => w.write_str("UDP"),
        Ok(IPPROTO_TCP) => w.write_str("TCP"),
        Ok(IPPROTO_SCTP) => w.write_str("SCTP"),
        Ok(proto::IPPROTO_ICMP) => w.write_str("ICMP"),
        Ok(proto::IPPROTO_ICMPV6) => w.write_str("ICMPv6"),
        _ => write!(w, "IP_{p}"),
    };
}

/// /proc/net/ip_vs: the services and their real servers, read from the
/// packet path's tables under RCU (as ip_vs does), never under the
/// control mutex: a reader looping over it holds up no configuration
/// change. ip_vs lists its (protocol, address, port) table, then its
/// fwmark one: two passes over the one table of services here, a record
/// per service (with its real servers, as ip_vs's), and a reader resumes
/// after the last service it was given. A place: the pass (bit 40) and
/// position sought from, and the key of the last service listed.
impl ProcSeq for InfoFile {
    const NAME: &'static kernel::str::CStr = kernel::c_str!("ip_vs");
    type Data = Tables;

    fn header(t: &Tables, w: &mut SeqWriter) {
        let v = IP_VS_VERSION_CODE;
        let _ = writeln!(
            w,
            "IP Virtual Server version {}.{}.{} (size={})",
            (v >> 16) & 0xff,
            (v >> 8) & 0xff,
            v & 0xff,
            t.conn_tab_size
        );
        let _ = w.write_str("Prot LocalAddress:Port Scheduler Flags\n");
        let _ = w.write_str("  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n");
    }

    fn seek(t: &Tables, [w0, k, id]: Cursor) -> Option<Cursor> {
        let pos = w0 & (PASS - 1);
        if w0 < PASS {
            if let Some(c) = t.svcs.seek(pos) {
                let k = if c >> 6 == pos { k } else { 0 };
                return Some([c, k, id]);
            }
            // The fwmark services, from the start.
            return t.svcs.seek(0).map(|c| [PASS | c, 0, 0]);
        }
        let c = t.svcs.seek(pos)?;
        let k = if c >> 6 == pos { k } else { 0 };
        Some([PASS | c, k, id])
    }

    fn show(t: &Tables, &[w0, k, id]: &Cursor, w: &mut SeqWriter) -> Cursor {
        let fwm = w0 >= PASS;
        let c = w0 & (PASS - 1);
        let after = (k >> 32 == 1).then_some((k as u32, id));
        let mut picked = None;
        let listed = {
            let g = RcuGuard::new();
            t.svcs.list_batch(&g, c, after, |svc| {
                if (svc.key.fwmark != 0) != fwm {
                    return true;
                }
                if picked.is_some() {
                    // One a record.
                    return false;
                }
                picked = Some(svc.clone());
                true
            })
        };
        // Written outside the read section (its real servers are copied,
        // which may sleep).
        if let Some(svc) = picked {
            service_lines(w, &svc);
        }
        let pass = if fwm { PASS } else { 0 };
        match listed {
            Listed::From(Some((h, id))) => [pass | u64::from(h), 1 << 32 | u64::from(h), id],
            _ => [
                pass | RcuHashTable::<kernel::sync::Arc<SvcRt>, Kmalloc>::after(c),
                0,
                0,
            ],
        }
    }
}

/// The second pass of /proc/net/ip_vs (the fwmark services), in a place's
/// first word.
const PASS: u64 = 1 << 40;

/// A service's lines in /proc/net/ip_vs (`ip_vs_info_seq_show`).
fn service_lines(w: &mut SeqWriter, svc: &SvcRt) {
    let k = &svc.key;
    let flags = svc.flags.load(Relaxed);
    svc.with_sched_dests(|sched, dests| {
        let ops = if flags & SVC_F_ONEPACKET != 0 {
            "ops "
        } else {
            ""
        };
        if k.fwmark != 0 {
            let _ = write!(w, "FWM  {:08X} {sched} {ops}", k.fwmark);
        } else if k.af == AF_INET6 {
            proto_name(w, k.protocol);
            let _ = w.write_str("  [");
            v6(w, &k.addr);
            let _ = write!(w, "]:{:04X} {sched} ", k.port);
        } else {
            proto_name(w, k.protocol);
            let _ = write!(w, "  {:08X}:{:04X} {sched} {ops} ", be32(&k.addr), k.port);
        }
        if flags & SVC_F_PERSISTENT != 0 {
            let _ = writeln!(
                w,
                "persistent {} {:08X}",
                svc.timeout.load(Relaxed) as i32,
                u32::from_be(svc.netmask.load(Relaxed))
            );
        } else {
            let _ = w.write_str("\n");
        }
        for d in dests {
            let fwd = Fwd::of(d.fwd.load(Relaxed)).name();
            let (wt, act, inact) = (
                d.weight.load(Relaxed),
                d.active.load(Relaxed),
                d.inactive.load(Relaxed),
            );
            if d.key.af == AF_INET6 {
                let _ = w.write_str("  -> [");
                v6(w, &d.key.addr);
                let _ = write!(w, "]:{:04X}", d.key.port);
            } else {
                let _ = write!(w, "  -> {:08X}:{:04X}", be32(&d.key.addr), d.key.port);
            }
            let _ = writeln!(w, "      {fwd:<7} {wt:<6} {act:<10} {inact:<10}");
        }
    });
}

impl ProcShow for StatsFile {
    const NAME: &'static kernel::str::CStr = kernel::c_str!("ip_vs_stats");
    type Data = Tables;

    fn show(_: &Net, t: &Tables, w: &mut SeqWriter) {
        let [c, ip, op, ib, ob] = t.stats.read();
        let [cps, ipps, opps, ibps, obps] = t.stats.rates();
        let _ = w.write_str("   Total Incoming Outgoing         Incoming         Outgoing\n");
        let _ = w.write_str("   Conns  Packets  Packets            Bytes            Bytes\n");
        let _ = writeln!(w, "{c:8X} {ip:8X} {op:8X} {ib:16X} {ob:16X}\n");
        let _ = w.write_str(" Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n");
        let _ = writeln!(w, "{cps:8X} {ipps:8X} {opps:8X} {ibps:16X} {obps:16X}");
    }
}

impl ProcShow for StatsPercpuFile {
    const NAME: &'static kernel::str::CStr = kernel::c_str!("ip_vs_stats_percpu");
    type Data = Tables;

    /// ip_vs_stats_percpu_show's format: each possible CPU's counters,
    /// the totals since the last ZERO, the rates.
    fn show(_: &Net, t: &Tables, w: &mut SeqWriter) {
        let _ = w.write_str("       Total Incoming Outgoing         Incoming         Outgoing\n");
        let _ = w.write_str("CPU    Conns  Packets  Packets            Bytes            Bytes\n");
        t.stats.for_each_cpu(|cpu, &[c, ip, op, ib, ob]| {
            let _ = writeln!(w, "{cpu:3X} {c:8X} {ip:8X} {op:8X} {ib:16X} {ob:16X}");
        });
        let [c, ip, op, ib, ob] = t.stats.read();
        let [cps, ipps, opps, ibps, obps] = t.stats.rates();
        let _ = writeln!(w, "  ~ {c:8X} {ip:8X} {op:8X} {ib:16X} {ob:16X}\n");
        let _ = w.write_str("     Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n");
        let _ = writeln!(w, "    {cps:8X} {ipps:8X} {opps:8X} {ibps:16X} {obps:16X}");
    }
}

fn be32(a: &[u8; 16]) -> u32 {
    u32::from_be_bytes([a[0], a[1], a[2], a[3]])
}

/// `%pI6`: eight groups of four hex digits, colon-separated.
fn v6(w: &mut SeqWriter, a: &[u8; 16]) {
    for (i, c) in a.chunks(2).enumerate() {
        let g = u16::from_be_bytes([
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ]);
        let _ = write!(w, "{}{:04x}", if i == 0 { "" } else { ":" }, g);
    }
}

/// A connection's line of /proc/net/ip_vs_conn (`origin` false) or
/// ip_vs_conn_sync (`origin` true), ip_vs_conn_seq_show's and
/// ip_vs_conn_sync_seq_show's formats.
fn conn_line(w: &mut SeqWriter, c: &Conn, origin: bool) {
    let name = match c.protocol {
        IPPROTO_TCP => "TCP",
        IPPROTO_UDP => "UDP",
        IPPROTO_SCTP => "SCTP",
        _ => "IP",
    };
    let state = if c.is_template() {
        c.template_state()
    } else {
        proto::state_name(c.protocol, c.state.load(Relaxed))
    };
    let (cport, vport, dport) = c.listed_ports();
    let exp = c.expires_in_secs(HZ);
    let _ = write!(w, "{name:<3} ");
    if u16::from(c.af) == AF_INET6 {
        v6(w, &c.caddr);
        let _ = write!(w, " {cport:04X} ");
        v6(w, &c.vaddr);
        let _ = write!(w, " {vport:04X}");
    } else {
        let _ = write!(
            w,
            "{:08X} {cport:04X} {:08X} {vport:04X}",
            be32(&c.caddr),
            be32(&c.vaddr),
        );
    }
    // The real server in its own family (a tunnel's may differ).
    if c.dest.key.af == AF_INET6 {
        let _ = write!(w, " ");
        v6(w, &c.daddr);
    } else {
        let _ = write!(w, " {:08X}", be32(&c.daddr));
    }
    let _ = write!(w, " {dport:04X} {state:<11} ");
    if origin {
        let o = if c.ipvs_flags() & F_SYNC != 0 {
            "SYNC"
        } else {
            "LOCAL"
        };
        let _ = write!(w, "{o:<6} ");
    }
    let _ = writeln!(w, "{exp:>7}");
}

/// /proc/net/ip_vs_conn (`ORIGIN` false) and ip_vs_conn_sync (`ORIGIN`
/// true: with each entry's origin, LOCAL or SYNC for one a sync message
/// made), in hash order: a record is a bucket of the table, or a batch of
/// a long one's entries (at most `LIST_BATCH` lines, well within the page
/// a reader's buffer starts with), and a reader resumes after the last
/// entry it was given, even if the table was resized meanwhile: an entry
/// there all along is listed once. A place is the position sought from
/// and, within the bucket there, the key of the last entry listed (the
/// words of `conndump::dump`'s resume state).
impl<const ORIGIN: bool> ProcSeq for ConnListing<ORIGIN> {
    const NAME: &'static kernel::str::CStr = if ORIGIN {
        kernel::c_str!("ip_vs_conn_sync")
    } else {
        kernel::c_str!("ip_vs_conn")
    };

    type Data = Tables;

    fn header(_: &Tables, w: &mut SeqWriter) {
        let _ = w.write_str(if ORIGIN {
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires\n"
        } else {
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n"
        });
    }

    fn seek(t: &Tables, [pos, k, id]: Cursor) -> Option<Cursor> {
        let c = t.conns.list_seek(pos)?;
        // The key holds only in the bucket it was in.
        let k = if c >> 6 == pos { k } else { 0 };
        Some([c, k, id])
    }

    fn show(t: &Tables, &[c, k, id]: &Cursor, w: &mut SeqWriter) -> Cursor {
        let after = (k >> 32 == 1).then_some((k as u32, id));
        let g = RcuGuard::new();
        let listed = t.conns.list_batch(&g, c, after, |conn| {
            conn_line(w, conn, ORIGIN);
            true
        });
        match listed {
            Listed::From(Some((h, id))) => [u64::from(h), 1 << 32 | u64::from(h), id],
            _ => [ConnTable::list_after(c), 0, 0],
        }
    }
}

/// /proc/net/rvs_conn_tab (rvs's own): the connection table's entries,
/// its buckets now (it grows and shrinks with its entries), the most
/// entries it takes, new connections refused because it was full,
/// entries that gave way to new ones then (all, then by class in the order
/// they go), and whether secure_tcp's state table is in force.
impl ProcShow for TabFile {
    const NAME: &'static kernel::str::CStr = kernel::c_str!("rvs_conn_tab");
    type Data = Tables;

    fn show(_: &Net, t: &Tables, w: &mut SeqWriter) {
        let c = &t.conns;
        let _ = writeln!(
            w,
            "entries {}\nbuckets {}\nmax {}\ndropped {}\nevicted {}\nsecure_tcp {}",
            c.len(),
            c.buckets(),
            c.max(),
            c.dropped.load(Relaxed),
            c.evicted_total(),
            u8::from(t.secure_tcp())
        );
        for (name, n) in ["half_open", "unanswered", "template", "idle"]
            .iter()
            .zip(c.evicted.iter())
        {
            let _ = writeln!(w, "evicted_{} {}", name, n.load(Relaxed));
        }
    }
}
