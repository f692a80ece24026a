// SPDX-License-Identifier: GPL-2.0

//! Schedulers: which real server gets a new connection.
//!
//! One file per scheduler behind [`Scheduler`]; the service keeps one
//! [`Sched`] (an enum, so the packet path needs no allocation or dynamic
//! dispatch). The destinations are seen in ip_vs's list order (the newest
//! first, as `list_add_rcu` puts them) through [`DestView`], so the picks are
//! those of ip_vs for the same history. Pure logic: no kernel imports; the
//! host crate tests it.

// Shared with the host crate, which exercises more of it than the module.
#![allow(dead_code)]

pub(crate) mod dh;
pub(crate) mod fo;
pub(crate) mod lblc;
pub(crate) mod lblcr;
pub(crate) mod lc;
pub(crate) mod locality;
pub(crate) mod mh;
pub(crate) mod nq;
pub(crate) mod ovf;
pub(crate) mod rr;
pub(crate) mod sed;
pub(crate) mod sh;
pub(crate) mod twos;
pub(crate) mod wlc;
pub(crate) mod wrr;

use crate::proto::AF_INET6;

/// What a scheduler may read of a destination.
pub(crate) trait DestView {
    /// The weight (0: quiesced, gets no new connections).
    fn weight(&self) -> i32;
    /// Active connections (TCP established or opening).
    fn active(&self) -> i32;
    /// Inactive connections (the rest; UDP entries, TCP closing).
    fn inactive(&self) -> i32;
    /// Over its upper connection threshold (`IP_VS_DEST_F_OVERLOAD`).
    fn overloaded(&self) -> bool;
    /// The last weight above 0 it had (ip_vs's `last_weight`; what mh
    /// builds its table from, so that quiescing does not reshuffle it).
    fn last_weight(&self) -> i32;
    /// Its address family and address (network order).
    fn addr(&self) -> (u16, [u8; 16]);
    /// Its port, host order.
    fn port(&self) -> u16;
}

/// Connection thresholds (`-x` upper, `-y` lower; 0: none) as ip_vs keeps
/// `IP_VS_DEST_F_OVERLOAD`: a destination whose connections (active plus
/// inactive) reach the upper threshold when one is bound to it becomes
/// overloaded (`ip_vs_bind_dest`).
pub(crate) fn reaches_upper(total: u64, upper: u32) -> bool {
    upper != 0 && total >= u64::from(upper)
}

/// ... and stops being so when, after one leaves, they are below the lower
/// threshold, or without one below 3/4 of the upper, or at once with no
/// thresholds (`ip_vs_unbind_dest`).
pub(crate) fn below_lower(total: u64, upper: u32, lower: u32) -> bool {
    if lower != 0 {
        total < u64::from(lower)
    } else if upper != 0 {
        total.saturating_mul(4) < u64::from(upper).saturating_mul(3)
    } else {
        true
    }
}

/// ip_vs's `ip_vs_dest_conn_overhead`: active connections weigh 256 times
/// an inactive one.
pub(crate) fn conn_overhead<D: DestView>(d: &D) -> i32 {
    d.active().wrapping_shl(8).wrapping_add(d.inactive())
}

/// The packet being scheduled: what the hashing schedulers (dh, sh, mh)
/// and the locality ones (lblc, lblcr) look at.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Flow {
    pub(crate) af: u16,
    pub(crate) protocol: u8,
    /// Network-order address bytes (IPv4 in the first four).
    pub(crate) saddr: [u8; 16],
    pub(crate) daddr: [u8; 16],
    /// Host-order ports.
    pub(crate) sport: u16,
    pub(crate) dport: u16,
    /// The service's flags (`IP_VS_SVC_F_*`: sh-port, sh-fallback...).
    pub(crate) svc_flags: u32,
    /// Jiffies now, and how long lblc's and lblcr's entries live unused
    /// (jiffies; the lblc_expiration and lblcr_expiration sysctls).
    pub(crate) now: u64,
    pub(crate) lblc_expiry: u64,
    pub(crate) lblcr_expiry: u64,
}

/// The kernel's `hash_32`: the top `bits` of `val` times the golden ratio.
pub(crate) fn hash_32(val: u32, bits: u32) -> u32 {
    val.wrapping_mul(0x61c8_8647)
        .checked_shr(32u32.saturating_sub(bits))
        .unwrap_or(0)
}

/// ip_vs's address fold of the hashing schedulers, in host order: the
/// IPv4 address, or the four words of an IPv6 one xored.
pub(crate) fn addr_fold(af: u16, a: &[u8; 16]) -> u32 {
    let mut words = a
        .chunks_exact(4)
        .map(|c| c.try_into().map_or(0, u32::from_be_bytes));
    let first = words.next().unwrap_or(0);
    if af == AF_INET6 {
        words.fold(first, |x, w| x ^ w)
    } else {
        first
    }
}

/// What the hashing schedulers (sh, mh) hash of a flow: the client's
/// address folded, and its port when the service's `port_flag` (sh-port,
/// mh-port) is set, else 0.
pub(crate) fn hashed_source(flow: &Flow, port_flag: u32) -> (u32, u16) {
    let port = if flow.svc_flags & port_flag != 0 {
        flow.sport
    } else {
        0
    };
    (addr_fold(flow.af, &flow.saddr), port)
}

/// The hashing schedulers' pick (sh, mh, as ip_vs's `*_get_fallback`):
/// the destination in bucket `bucket(0)`; when it is unavailable and
/// `fallback` is set, those in the buckets `bucket((offset + first) % size)`
/// for each offset in turn, until one is available (or a bucket is empty).
/// `at` gives a bucket's destination and whether it is available.
pub(crate) fn hashed_pick(
    size: u32,
    fallback: bool,
    bucket: impl Fn(u32) -> u32,
    at: impl Fn(u32) -> Option<(usize, bool)>,
) -> Option<usize> {
    let first = bucket(0);
    let (i, ok) = at(first)?;
    if ok {
        return Some(i);
    }
    if !fallback {
        return None;
    }
    for offset in 0..size {
        let roffset = offset.wrapping_add(first).checked_rem(size)?;
        let (i, ok) = at(bucket(roffset))?;
        if ok {
            return Some(i);
        }
    }
    None
}

/// A change of a service's destination list, reported to its scheduler
/// (ip_vs's add_dest / del_dest / upd_dest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// A destination was added at this index (ip_vs adds at the head: 0).
    Added(usize),
    /// The destination that was at this index is gone.
    Removed(usize),
    /// The destination at this index changed (weight, thresholds...).
    Updated(usize),
}

/// One scheduling algorithm with its per-service state.
pub(crate) trait Scheduler {
    /// Picks the index of a destination in `dests`, or none available.
    fn schedule<D: DestView>(&mut self, dests: &[D], flow: &Flow) -> Option<usize>;
    /// Follows a change of the list; `dests` is the list after it.
    fn changed<D: DestView>(&mut self, _dests: &[D], _change: Change) {}
}

/// The scheduler of a service, by ipvsadm's name. One per service, kept in
/// place (never moved on the packet path): the size of sh's table is fine.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Sched {
    /// No scheduler ("none"): no new connections.
    None,
    Rr(rr::Rr),
    Wrr(wrr::Wrr),
    Lc(lc::Lc),
    Wlc(wlc::Wlc),
    Sed(sed::Sed),
    Nq(nq::Nq),
    Dh(dh::Dh),
    Sh(sh::Sh),
    Fo(fo::Fo),
    Ovf(ovf::Ovf),
    Mh(mh::Mh<MhStorage>),
    Twos(twos::Twos),
    Lblc(lblc::Lblc<LocStorage>),
    Lblcr(lblcr::Lblcr<LocStorage>),
}

/// What a scheduler may need from the kernel when it is created.
#[derive(Default)]
pub(crate) struct SchedInit {
    /// mh's table ([`mh::STORAGE`] `u16`s), allocated beforehand.
    pub(crate) mh: Option<MhStorage>,
    /// A random seed (twos).
    pub(crate) seed: u64,
    /// lblc's and lblcr's table ([`locality::ENTRIES`] entries).
    pub(crate) loc: Option<LocStorage>,
}

/// mh's table storage ([`mh::STORAGE`] `u16`s, about 32 kB): the kernel's
/// vector in the module, the host's in its tests.
#[cfg(CONFIG_RUST)]
pub(crate) type MhStorage = kernel::alloc::KVec<u16>;
#[cfg(not(CONFIG_RUST))]
pub(crate) type MhStorage = alloc::vec::Vec<u16>;

/// lblc's and lblcr's table storage (about 28 kB).
#[cfg(CONFIG_RUST)]
pub(crate) type LocStorage = kernel::alloc::KVec<locality::Entry>;
#[cfg(not(CONFIG_RUST))]
pub(crate) type LocStorage = alloc::vec::Vec<locality::Entry>;

impl Sched {
    /// The scheduler called `name` with fresh state for `dests`, or `None`
    /// when the name is not one the data path implements yet, or is "mh"
    /// and `init` brings no storage for its table.
    pub(crate) fn by_name<D: DestView>(name: &str, dests: &[D], init: SchedInit) -> Option<Sched> {
        Some(match name {
            "mh" => Sched::Mh(mh::Mh::new(init.mh?, dests)),
            "twos" => Sched::Twos(twos::Twos::new(init.seed)),
            "lblc" => Sched::Lblc(lblc::Lblc::new(init.loc?)),
            "lblcr" => Sched::Lblcr(lblcr::Lblcr::new(init.loc?)),
            "none" => Sched::None,
            "rr" => Sched::Rr(rr::Rr::new()),
            "wrr" => Sched::Wrr(wrr::Wrr::new(dests)),
            "lc" => Sched::Lc(lc::Lc),
            "wlc" => Sched::Wlc(wlc::Wlc),
            "sed" => Sched::Sed(sed::Sed),
            "nq" => Sched::Nq(nq::Nq),
            "dh" => Sched::Dh(dh::Dh),
            "sh" => Sched::Sh(sh::Sh::new(dests)),
            "fo" => Sched::Fo(fo::Fo),
            "ovf" => Sched::Ovf(ovf::Ovf),
            _ => return None,
        })
    }
}

impl Sched {
    /// Its name, as `by_name` takes it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Sched::None => "none",
            Sched::Rr(_) => "rr",
            Sched::Wrr(_) => "wrr",
            Sched::Lc(_) => "lc",
            Sched::Wlc(_) => "wlc",
            Sched::Sed(_) => "sed",
            Sched::Nq(_) => "nq",
            Sched::Dh(_) => "dh",
            Sched::Sh(_) => "sh",
            Sched::Fo(_) => "fo",
            Sched::Ovf(_) => "ovf",
            Sched::Mh(_) => "mh",
            Sched::Twos(_) => "twos",
            Sched::Lblc(_) => "lblc",
            Sched::Lblcr(_) => "lblcr",
        }
    }
}

impl Scheduler for Sched {
    fn schedule<D: DestView>(&mut self, dests: &[D], flow: &Flow) -> Option<usize> {
        match self {
            Sched::None => None,
            Sched::Rr(s) => s.schedule(dests, flow),
            Sched::Wrr(s) => s.schedule(dests, flow),
            Sched::Lc(s) => s.schedule(dests, flow),
            Sched::Wlc(s) => s.schedule(dests, flow),
            Sched::Sed(s) => s.schedule(dests, flow),
            Sched::Nq(s) => s.schedule(dests, flow),
            Sched::Dh(s) => s.schedule(dests, flow),
            Sched::Sh(s) => s.schedule(dests, flow),
            Sched::Fo(s) => s.schedule(dests, flow),
            Sched::Ovf(s) => s.schedule(dests, flow),
            Sched::Mh(s) => s.schedule(dests, flow),
            Sched::Twos(s) => s.schedule(dests, flow),
            Sched::Lblc(s) => s.schedule(dests, flow),
            Sched::Lblcr(s) => s.schedule(dests, flow),
        }
    }

    fn changed<D: DestView>(&mut self, dests: &[D], change: Change) {
        match self {
            Sched::None => {}
            Sched::Rr(s) => s.changed(dests, change),
            Sched::Wrr(s) => s.changed(dests, change),
            Sched::Lc(s) => s.changed(dests, change),
            Sched::Wlc(s) => s.changed(dests, change),
            Sched::Sed(s) => s.changed(dests, change),
            Sched::Nq(s) => s.changed(dests, change),
            Sched::Dh(s) => s.changed(dests, change),
            Sched::Sh(s) => s.changed(dests, change),
            Sched::Fo(s) => s.changed(dests, change),
            Sched::Ovf(s) => s.changed(dests, change),
            Sched::Mh(s) => s.changed(dests, change),
            Sched::Twos(s) => s.changed(dests, change),
            Sched::Lblc(s) => s.changed(dests, change),
            Sched::Lblcr(s) => s.changed(dests, change),
        }
    }
}

/// A destination as the tests build them.
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TestDest {
    pub(crate) weight: i32,
    pub(crate) active: i32,
    pub(crate) inactive: i32,
    pub(crate) overloaded: bool,
    /// `None`: the weight.
    pub(crate) last_weight: Option<i32>,
    /// An IPv4 address.
    pub(crate) addr: [u8; 4],
    pub(crate) port: u16,
}

#[cfg(test)]
impl DestView for TestDest {
    fn weight(&self) -> i32 {
        self.weight
    }
    fn active(&self) -> i32 {
        self.active
    }
    fn inactive(&self) -> i32 {
        self.inactive
    }
    fn overloaded(&self) -> bool {
        self.overloaded
    }
    fn last_weight(&self) -> i32 {
        self.last_weight.unwrap_or(self.weight)
    }
    fn addr(&self) -> (u16, [u8; 16]) {
        let mut a = [0; 16];
        a[..4].copy_from_slice(&self.addr);
        (2, a)
    }
    fn port(&self) -> u16 {
        self.port
    }
}

#[cfg(test)]
pub(crate) fn dests(weights: &[i32]) -> std::vec::Vec<TestDest> {
    weights
        .iter()
        .map(|&weight| TestDest {
            weight,
            ..Default::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_as_ip_vs() {
        // No upper threshold: never overloaded.
        assert!(!reaches_upper(1_000_000, 0));
        // -x 2: the second connection overloads.
        assert!(!reaches_upper(1, 2));
        assert!(reaches_upper(2, 2));
        // -y 1: free again at 0 connections only.
        assert!(!below_lower(1, 2, 1));
        assert!(below_lower(0, 2, 1));
        // No lower threshold: below 3/4 of the upper (-x 8: at 5, not 6).
        assert!(!below_lower(6, 8, 0));
        assert!(below_lower(5, 8, 0));
        // Thresholds removed: free at once.
        assert!(below_lower(100, 0, 0));
        // No overflow at the extremes.
        assert!(reaches_upper(u64::MAX, u32::MAX));
        assert!(!below_lower(u64::MAX, u32::MAX, 0));
    }
}
