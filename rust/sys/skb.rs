// SPDX-License-Identifier: GPL-2.0

//! Socket buffers (include/linux/skbuff.h) as the packet path sees them at
//! the IP layer, IPv4 routes (include/net/route.h) and the ways a packet
//! leaves rvs: through LOCAL_OUT as it is, or inside an IP-in-IP header.

use kernel::bindings;
use kernel::types::Opaque;

use super::netns::Net;

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_skb_len(skb: *const bindings::sk_buff) -> u32;
    fn rvs_skb_ipvs_property(skb: *const bindings::sk_buff) -> bool;
    fn rvs_skb_set_ipvs_property(skb: *mut bindings::sk_buff);
    fn rvs_skb_pkt_type(skb: *const bindings::sk_buff) -> u8;
    fn rvs_skb_no_dst(skb: *const bindings::sk_buff) -> bool;
    fn rvs_skb_is_gso(skb: *const bindings::sk_buff) -> bool;
    fn rvs_skb_gso_fits(skb: *const bindings::sk_buff, mtu: u32) -> bool;
    fn rvs_skb_ensure_writable(skb: *mut bindings::sk_buff, len: u32) -> i32;
    fn rvs_skb_linear(skb: *mut bindings::sk_buff, len: u32) -> *mut u8;
    fn rvs_skb_csum_replace4(
        skb: *mut bindings::sk_buff,
        off: u32,
        from: u32,
        to: u32,
        pseudo: bool,
    );
    fn rvs_skb_csum_replace2(skb: *mut bindings::sk_buff, off: u32, from: u16, to: u16);
    fn rvs_skb_csum_partial(skb: *const bindings::sk_buff) -> bool;
    fn rvs_ip_send_check(skb: *mut bindings::sk_buff);
    fn rvs_skb_notrack(skb: *mut bindings::sk_buff);
    fn rvs_route_me_harder(net: *mut bindings::net, skb: *mut bindings::sk_buff) -> i32;
    fn rvs_icmp_csum_ok(skb: *mut bindings::sk_buff, off: u32) -> bool;
    fn rvs_icmp_csum_set(skb: *mut bindings::sk_buff, off: u32);
    fn rvs_defrag(net: *mut bindings::net, skb: *mut bindings::sk_buff, forward: bool) -> i32;
    fn rvs_icmp_send(skb: *mut bindings::sk_buff, ty: i32, code: i32, info: u32);
    fn rvs_route4(
        net: *mut bindings::net,
        daddr: u32,
        saddr: u32,
        tos: u8,
        known_nh: bool,
        src_out: *mut u32,
        mtu: *mut u32,
        local: *mut bool,
    ) -> *mut bindings::rtable;
    fn rvs_rt_put(rt: *mut bindings::rtable);
    fn rvs_send_routed(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
        rt: *mut bindings::rtable,
    ) -> i32;
    fn rvs_send_ipip(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
        rt: *mut bindings::rtable,
        saddr: u32,
        daddr: u32,
        df: bool,
    ) -> i32;
}

/// `PACKET_HOST`: addressed to this host.
pub(crate) const PACKET_HOST: u8 = 0;

/// A socket buffer the current hook owns, with `data` at the IP header.
///
/// # Invariants
///
/// Wraps a valid `sk_buff` that the holder of `&mut Skb` may modify and
/// whose network header is at `data` (netfilter's IP-layer hooks).
#[repr(transparent)]
pub(crate) struct Skb(Opaque<bindings::sk_buff>);

impl Skb {
    /// # Safety
    ///
    /// `ptr` is a valid skb owned by the caller for `'a`, at the IP layer.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a mut Skb {
        // SAFETY: transparent wrapper; validity per the caller.
        // INVARIANT: per the caller.
        unsafe { &mut *ptr.cast::<Skb>() }
    }

    fn raw(&self) -> *mut bindings::sk_buff {
        self.0.get()
    }

    /// Bytes of the packet from the IP header on (`skb->len`).
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: a valid skb (type invariant).
        unsafe { rvs_skb_len(self.raw()) }
    }

    /// Set on packets that rvs (or ip_vs) already handled.
    pub(crate) fn ipvs_property(&self) -> bool {
        // SAFETY: as above.
        unsafe { rvs_skb_ipvs_property(self.raw()) }
    }

    /// Marks the packet as handled, for rvs's later hooks to pass it.
    pub(crate) fn set_ipvs_property(&mut self) {
        // SAFETY: a valid skb that we may modify.
        unsafe { rvs_skb_set_ipvs_property(self.raw()) };
    }

    pub(crate) fn pkt_type(&self) -> u8 {
        // SAFETY: as above.
        unsafe { rvs_skb_pkt_type(self.raw()) }
    }

    /// Whether the packet has no route attached (nothing to send it by).
    pub(crate) fn no_route(&self) -> bool {
        // SAFETY: as above.
        unsafe { rvs_skb_no_dst(self.raw()) }
    }

    pub(crate) fn is_gso(&self) -> bool {
        // SAFETY: as above.
        unsafe { rvs_skb_is_gso(self.raw()) }
    }

    /// Whether a GSO packet's segments fit in `mtu`.
    pub(crate) fn gso_fits(&self, mtu: u32) -> bool {
        // SAFETY: as above.
        unsafe { rvs_skb_gso_fits(self.raw(), mtu) }
    }

    /// Whether the L4 checksum is left to the device (CHECKSUM_PARTIAL).
    pub(crate) fn csum_partial(&self) -> bool {
        // SAFETY: as above.
        unsafe { rvs_skb_csum_partial(self.raw()) }
    }

    /// The first `len` bytes from the IP header, made linear (pulled) if
    /// they exist. Read-only: use [`Skb::writable`] to change them.
    pub(crate) fn head(&mut self, len: usize) -> Option<&[u8]> {
        let l = u32::try_from(len).ok()?;
        // SAFETY: a valid skb; pskb_may_pull may move the head, which is
        // why this takes `&mut self`.
        let p = unsafe { rvs_skb_linear(self.raw(), l) };
        if p.is_null() {
            return None;
        }
        // SAFETY: `len` bytes from the network header are linear and live
        // as long as the skb is not changed (borrowed from `self`).
        Some(unsafe { core::slice::from_raw_parts(p, len) })
    }

    /// The first `len` bytes from the IP header, private to this skb and
    /// writable (`skb_ensure_writable`), or `None` (no memory, too short).
    pub(crate) fn writable(&mut self, len: usize) -> Option<&mut [u8]> {
        let l = u32::try_from(len).ok()?;
        // SAFETY: a valid skb.
        if unsafe { rvs_skb_ensure_writable(self.raw(), l) } != 0 {
            return None;
        }
        // SAFETY: as above; after skb_ensure_writable the bytes are linear.
        let p = unsafe { rvs_skb_linear(self.raw(), l) };
        if p.is_null() {
            return None;
        }
        // SAFETY: linear, unshared (ensure_writable) and borrowed from self.
        Some(unsafe { core::slice::from_raw_parts_mut(p, len) })
    }

    /// Updates the 16-bit checksum at `off` (from the IP header, within
    /// bytes made writable) for a 4-byte change; `pseudo`: the bytes are in
    /// the pseudo-header (addresses). Right for every `ip_summed` state.
    pub(crate) fn csum_replace4(&mut self, off: usize, from: [u8; 4], to: [u8; 4], pseudo: bool) {
        if self.writable(off.saturating_add(2)).is_none() {
            return;
        }
        // SAFETY: the two bytes at `off` are linear and writable (above).
        unsafe {
            rvs_skb_csum_replace4(
                self.raw(),
                off as u32,
                u32::from_ne_bytes(from),
                u32::from_ne_bytes(to),
                pseudo,
            )
        };
    }

    /// As [`Skb::csum_replace4`] for a 2-byte change outside the
    /// pseudo-header (a port).
    pub(crate) fn csum_replace2(&mut self, off: usize, from: [u8; 2], to: [u8; 2]) {
        if self.writable(off.saturating_add(2)).is_none() {
            return;
        }
        // SAFETY: as above.
        unsafe {
            rvs_skb_csum_replace2(
                self.raw(),
                off as u32,
                u16::from_ne_bytes(from),
                u16::from_ne_bytes(to),
            )
        };
    }

    /// Recomputes the IPv4 header checksum (header already writable).
    pub(crate) fn ip_send_check(&mut self) {
        if self.writable(20).is_none() {
            return;
        }
        // SAFETY: the IP header is linear and writable.
        unsafe { rvs_ip_send_check(self.raw()) };
    }

    /// Detaches the packet from conntrack (ip_vs's `ip_vs_notrack`).
    pub(crate) fn notrack(&mut self) {
        // SAFETY: a valid skb.
        unsafe { rvs_skb_notrack(self.raw()) };
    }

    /// Routes the packet again after its source changed (ip_vs's
    /// `ip_vs_route_me_harder`). False if no route.
    pub(crate) fn route_me_harder(&mut self, net: &Net) -> bool {
        // SAFETY: a valid skb and namespace.
        unsafe { rvs_route_me_harder(net.as_ptr(), self.raw()) == 0 }
    }

    /// Whether the ICMP message at `off` (from the IP header, to the end)
    /// has a right checksum.
    pub(crate) fn icmp_csum_ok(&mut self, off: usize) -> bool {
        let Ok(o) = u32::try_from(off) else {
            return false;
        };
        if o.saturating_add(8) > self.len() {
            return false;
        }
        // SAFETY: a valid skb; `off` leaves an ICMP header in the packet.
        unsafe { rvs_icmp_csum_ok(self.raw(), o) }
    }

    /// Computes the checksum of the ICMP message at `off` anew (after
    /// rvs changed the header it quotes).
    pub(crate) fn icmp_csum_set(&mut self, off: usize) {
        if self.writable(off.saturating_add(8)).is_none() {
            return;
        }
        // SAFETY: the ICMP header at `off` is linear and writable.
        unsafe { rvs_icmp_csum_set(self.raw(), off as u32) };
    }

    /// Reassembles a fragment with the others of its datagram (ip_vs's
    /// `ip_vs_gather_frags`). True: the skb is now the whole datagram.
    /// False: netfilter no longer owns it (queued for the missing
    /// fragments, or freed): the caller returns
    /// [`super::nf::Verdict::Stolen`] and does not touch it again.
    pub(crate) fn defrag(&mut self, net: &Net, forward: bool) -> bool {
        // SAFETY: a valid skb and namespace; on a non-zero return ip_defrag
        // kept or freed the skb, which the caller then gives up.
        unsafe { rvs_defrag(net.as_ptr(), self.raw(), forward) == 0 }
    }

    /// Sends an ICMP error about this packet to its source.
    pub(crate) fn icmp_send(&mut self, ty: u8, code: u8, info: u32) {
        // SAFETY: a valid skb with a route (the hooks rvs uses have one).
        unsafe { rvs_icmp_send(self.raw(), ty.into(), code.into(), info.to_be()) };
    }

    /// Hands the packet to LOCAL_OUT on `rt` as it is now: rvs is done
    /// with it (the caller returns [`super::nf::Verdict::Stolen`]).
    pub(crate) fn send(&mut self, net: &Net, rt: Route) {
        let raw = rt.into_raw();
        // SAFETY: the skb is ours to give away (after this call the caller
        // does not touch it: it returns NF_STOLEN); the route reference is
        // passed on with it.
        unsafe { rvs_send_routed(net.as_ptr(), self.raw(), raw) };
    }

    /// Wraps the packet in an IPv4 header from `saddr` to `daddr` (IP in
    /// IP) and sends it on `rt`; rvs is done with it, as with `send`.
    pub(crate) fn send_ipip(
        &mut self,
        net: &Net,
        rt: Route,
        saddr: [u8; 4],
        daddr: [u8; 4],
        df: bool,
    ) {
        let raw = rt.into_raw();
        // SAFETY: as in `send`; the helper frees the skb and the route on
        // failure.
        unsafe {
            rvs_send_ipip(
                net.as_ptr(),
                self.raw(),
                raw,
                u32::from_ne_bytes(saddr),
                u32::from_ne_bytes(daddr),
                df,
            )
        };
    }
}

/// A held IPv4 route (`struct rtable`), released on drop.
///
/// # Invariants
///
/// `rt` holds one reference to a valid route.
pub(crate) struct Route {
    rt: *mut bindings::rtable,
    /// The source address the route picked.
    pub(crate) saddr: [u8; 4],
    /// The path MTU of the route's device.
    pub(crate) mtu: u32,
    /// The destination is one of this host's addresses.
    pub(crate) local: bool,
}

impl Route {
    /// The output route to `daddr`. `known_nh`: `daddr` is the next hop on
    /// a local segment, the packet's own destination may differ (DR).
    pub(crate) fn output(net: &Net, daddr: [u8; 4], tos: u8, known_nh: bool) -> Option<Route> {
        let (mut src, mut mtu, mut local) = (0u32, 0u32, false);
        // SAFETY: a valid namespace; the out-pointers are locals.
        let rt = unsafe {
            rvs_route4(
                net.as_ptr(),
                u32::from_ne_bytes(daddr),
                0,
                tos,
                known_nh,
                &mut src,
                &mut mtu,
                &mut local,
            )
        };
        if rt.is_null() {
            return None;
        }
        // INVARIANT: rvs_route4 returns a held route.
        Some(Route {
            rt,
            saddr: src.to_ne_bytes(),
            mtu,
            local,
        })
    }

    fn into_raw(self) -> *mut bindings::rtable {
        let rt = self.rt;
        core::mem::forget(self);
        rt
    }
}

impl Drop for Route {
    fn drop(&mut self) {
        // SAFETY: we hold one reference (type invariant).
        unsafe { rvs_rt_put(self.rt) };
    }
}
