// SPDX-License-Identifier: GPL-2.0

//! Socket buffers (include/linux/skbuff.h) as the packet path sees them at
//! the IP layer, and the ways a packet leaves rvs on a [`Route`]: through
//! LOCAL_OUT as it is, or inside a tunnel's header.

use core::marker::PhantomData;
use kernel::bindings;
use kernel::prelude::*;

use super::netns::Net;
use super::route::Route;

/// What a hook tells netfilter to do with the packet.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Let it continue.
    Accept,
    /// Free it.
    Drop,
    /// rvs gave it away (it was sent, or kept or freed by reassembly).
    Stolen(Gone),
}

/// The proof that the packet was given away: made only where that happens
/// ([`Owned`]'s `send`, `send_tunnel`, `defrag`), which take
/// the hook's handle on it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Gone(());

impl Gone {
    fn new() -> Self {
        Gone(())
    }
}

impl Verdict {
    pub(super) fn raw(self) -> u32 {
        match self {
            Verdict::Accept => bindings::NF_ACCEPT,
            Verdict::Drop => bindings::NF_DROP,
            Verdict::Stolen(_) => bindings::NF_STOLEN,
        }
    }
}

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_skb_len(skb: *const bindings::sk_buff) -> u32;
    fn rvs_skb_set_ipvs_property(skb: *mut bindings::sk_buff);
    fn rvs_skb_mark(skb: *const bindings::sk_buff) -> u32;
    fn rvs_skb_is_gso(skb: *const bindings::sk_buff) -> bool;
    fn rvs_skb_frag_max6(skb: *const bindings::sk_buff) -> u32;
    fn rvs_skb_gso_fits(skb: *const bindings::sk_buff, mtu: u32) -> bool;
    fn rvs_skb_ensure_writable(skb: *mut bindings::sk_buff, len: u32) -> i32;
    fn rvs_skb_linear(skb: *mut bindings::sk_buff, len: u32) -> *mut u8;
    fn rvs_skb_view(
        skb: *const bindings::sk_buff,
        len: *mut u32,
        linear: *mut u32,
        bits: *mut u32,
    ) -> *const u8;
    fn rvs_skb_csum_nat(
        skb: *mut bindings::sk_buff,
        off: u32,
        from: u32,
        to: u32,
        pfrom: u16,
        pto: u16,
        udp: bool,
    );
    fn rvs_skb_csum_nat6(
        skb: *mut bindings::sk_buff,
        off: u32,
        from: *const u8,
        to: *const u8,
        pfrom: u16,
        pto: u16,
        udp: bool,
    );
    fn rvs_skb_notrack(skb: *mut bindings::sk_buff);
    fn rvs_route_me_harder(net: *mut bindings::net, skb: *mut bindings::sk_buff, af: i32) -> i32;
    fn rvs_icmp_csum_ok(skb: *mut bindings::sk_buff, off: u32, af: i32) -> bool;
    fn rvs_icmp_csum_set(skb: *mut bindings::sk_buff, off: u32, af: i32);
    fn rvs_defrag(net: *mut bindings::net, skb: *mut bindings::sk_buff, forward: bool) -> i32;
    fn rvs_icmp_send(skb: *mut bindings::sk_buff, af: i32, ty: i32, code: i32, info: u32);
    fn rvs_send_routed(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
        dst: *mut bindings::dst_entry,
        held: bool,
        af: i32,
    ) -> i32;
    fn rvs_send_tunnel(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
        dst: *mut bindings::dst_entry,
        held: bool,
        af: i32,
        saddr: *const u8,
        daddr: *const u8,
        df: bool,
        ty: u8,
        port: u16,
        flags: u16,
    ) -> i32;
    fn rvs_skb_csum_partial(skb: *const bindings::sk_buff) -> bool;
    fn rvs_sctp_csum(skb: *mut bindings::sk_buff, off: u32);
    fn rvs_skb_copy(skb: *const bindings::sk_buff, off: u32, to: *mut u8, len: u32) -> bool;
}

/// What [`Skb::view`] gives.
pub(crate) struct View<'a> {
    /// From the IP header on, as much as is linear (maybe all of it).
    pub(crate) bytes: &'a [u8],
    /// `skb->len`.
    pub(crate) len: u32,
    /// Already handled by rvs (or ignored: ignore_tunneled).
    pub(crate) ipvs_property: bool,
    pub(crate) pkt_type: u8,
    /// No route attached yet.
    pub(crate) no_route: bool,
}

/// The first bytes of a packet made writable by [`Skb::writable_hdr`].
///
/// # Invariants
///
/// `p` points to `len` linear, writable bytes of `skb` from its IP
/// header, valid while the guard lives (it holds the skb's only borrow).
pub(crate) struct Writable<'a> {
    skb: &'a mut Skb,
    p: *mut u8,
    len: usize,
}

impl Writable<'_> {
    pub(crate) fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the type's invariant.
        unsafe { core::slice::from_raw_parts_mut(self.p, self.len) }
    }

    /// NAT's update of the TCP or UDP checksum at `off` (within these
    /// bytes, else nothing) for an address (`from` -> `to`, in the
    /// pseudo-header: IPv4 the first four bytes, IPv6 all 16) and a port
    /// (`pfrom` -> `pto`) changed; a UDP checksum that comes out 0 is sent
    /// as 0xffff unless the device computes it. Right for every
    /// `ip_summed` state.
    pub(crate) fn csum_nat(
        &mut self,
        off: usize,
        v6: bool,
        (from, to): (&[u8; 16], &[u8; 16]),
        (pfrom, pto): ([u8; 2], [u8; 2]),
        udp: bool,
    ) {
        if off.checked_add(2).map_or(true, |end| end > self.len) {
            return;
        }
        let (pfrom, pto) = (u16::from_ne_bytes(pfrom), u16::from_ne_bytes(pto));
        let raw = self.skb.raw();
        if v6 {
            // SAFETY: the two bytes at `off` are within the writable bytes
            // (the invariant and the check above); both addresses have 16
            // bytes.
            unsafe {
                rvs_skb_csum_nat6(raw, off as u32, from.as_ptr(), to.as_ptr(), pfrom, pto, udp)
            };
            return;
        }
        let v4 = |a: &[u8; 16]| u32::from_ne_bytes([a[0], a[1], a[2], a[3]]);
        // SAFETY: as above.
        unsafe { rvs_skb_csum_nat(raw, off as u32, v4(from), v4(to), pfrom, pto, udp) };
    }
}

impl Writable<'_> {
    /// NAT's update of an SCTP packet whose header starts at `off` (its
    /// 12 bytes within these bytes, else nothing) and whose port changed:
    /// the CRC32c over the whole packet computed afresh, unless the device
    /// or segmentation computes it later (`CHECKSUM_PARTIAL`, GSO).
    pub(crate) fn sctp_csum(&mut self, off: usize) {
        if off.checked_add(12).map_or(true, |end| end > self.len) {
            return;
        }
        // SAFETY: the SCTP header at `off` is within the writable linear
        // bytes (the invariant and the check above); the rest of the
        // packet is read through the skb's own fragments.
        unsafe { rvs_sctp_csum(self.skb.raw(), off as u32) };
    }
}

/// `PACKET_HOST`: addressed to this host.
pub(crate) const PACKET_HOST: u8 = 0;

/// A socket buffer the current hook owns, with `data` at the IP header.
///
/// # Invariants
///
/// A reference to it points at a valid `sk_buff` that the holder of
/// `&mut Skb` may modify and whose network header is at `data`
/// (netfilter's IP-layer hooks).
///
/// The type has no size (the nomicon's opaque FFI type): the `sk_buff`
/// is never in a Rust value, so safe code holding two `&mut Skb` can swap
/// or replace nothing of them (`core::mem::swap` of two moves no byte);
/// nor can it be moved out of its place (not `Unpin`).
#[repr(C)]
pub(crate) struct Skb {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

impl Skb {
    /// # Safety
    ///
    /// `ptr` is a valid skb owned by the caller for `'a`, at the IP layer.
    unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a mut Skb {
        // SAFETY: a reference of no size at the skb; validity per the
        // caller.
        // INVARIANT: per the caller.
        unsafe { &mut *ptr.cast::<Skb>() }
    }

    fn raw(&self) -> *mut bindings::sk_buff {
        core::ptr::from_ref(self).cast_mut().cast()
    }

    /// Bytes of the packet from the IP header on (`skb->len`).
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: a valid skb (type invariant).
        unsafe { rvs_skb_len(self.raw()) }
    }

    /// Marks the packet as handled, for rvs's later hooks to pass it.
    pub(crate) fn set_ipvs_property(&mut self) {
        // SAFETY: a valid skb that we may modify.
        unsafe { rvs_skb_set_ipvs_property(self.raw()) };
    }

    /// The packet's firewall mark (`skb->mark`).
    pub(crate) fn mark(&self) -> u32 {
        // SAFETY: as above.
        unsafe { rvs_skb_mark(self.raw()) }
    }

    pub(crate) fn is_gso(&self) -> bool {
        // SAFETY: as above.
        unsafe { rvs_skb_is_gso(self.raw()) }
    }

    /// The largest fragment of an IPv6 packet that nf_defrag_ipv6
    /// reassembled, 0 for one that came whole (only for IPv6 packets:
    /// IPv6's control block).
    pub(crate) fn frag_max6(&self) -> u32 {
        // SAFETY: a valid skb (type invariant).
        unsafe { rvs_skb_frag_max6(self.raw()) }
    }

    /// Whether a GSO packet's segments fit in `mtu`.
    pub(crate) fn gso_fits(&self, mtu: u32) -> bool {
        // SAFETY: as above.
        unsafe { rvs_skb_gso_fits(self.raw(), mtu) }
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

    /// Copies `out.len()` bytes from `off` past the IP header, wherever
    /// they are in the skb (nothing pulled or changed); false if the
    /// packet is shorter.
    pub(crate) fn copy_bits(&self, off: usize, out: &mut [u8]) -> bool {
        let (Ok(o), Ok(l)) = (u32::try_from(off), u32::try_from(out.len())) else {
            return false;
        };
        // SAFETY: a valid skb (type invariant); `out` has room for `l`
        // bytes; skb_copy_bits checks the range against the packet.
        unsafe { rvs_skb_copy(self.raw(), o, out.as_mut_ptr(), l) }
    }

    /// What the hooks look at first, in one call: the bytes from the IP
    /// header that are linear already (none pulled), the packet's length
    /// and the flags.
    pub(crate) fn view(&self) -> View<'_> {
        let (mut len, mut linear, mut bits) = (0u32, 0u32, 0u32);
        // SAFETY: a valid skb; the out-pointers are to locals.
        let p = unsafe { rvs_skb_view(self.raw(), &mut len, &mut linear, &mut bits) };
        let bytes: &[u8] = if p.is_null() {
            &[]
        } else {
            // SAFETY: `linear` bytes from the network header are in the
            // skb's head, which stays as it is while `self` is borrowed.
            unsafe { core::slice::from_raw_parts(p, linear as usize) }
        };
        View {
            bytes,
            len,
            ipvs_property: bits & 1 != 0,
            pkt_type: ((bits >> 1) & 7) as u8,
            no_route: bits & 16 != 0,
        }
    }

    /// [`Skb::writable`] as a guard that also offers the checksum update
    /// that needs those bytes writable, without making sure of it again.
    pub(crate) fn writable_hdr(&mut self, len: usize) -> Option<Writable<'_>> {
        let p = self.writable(len)?.as_mut_ptr();
        // INVARIANT: `len` bytes at `p`, linear and private (above), for
        // as long as the skb is borrowed by the guard.
        Some(Writable { skb: self, p, len })
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

    /// Detaches the packet from conntrack (ip_vs's `ip_vs_notrack`).
    pub(crate) fn notrack(&mut self) {
        // SAFETY: a valid skb.
        unsafe { rvs_skb_notrack(self.raw()) };
    }

    /// Routes the packet again after its source changed (ip_vs's
    /// `ip_vs_route_me_harder`). False if no route.
    /// `af`: the packet's family.
    pub(crate) fn route_me_harder(&mut self, net: &Net, af: u16) -> bool {
        // SAFETY: a valid skb and namespace.
        unsafe { rvs_route_me_harder(net.as_ptr(), self.raw(), i32::from(af)) == 0 }
    }

    /// Whether the ICMP (`af` IPv6: ICMPv6) message at `off` (from the IP
    /// header, to the end) has a right checksum.
    pub(crate) fn icmp_csum_ok(&mut self, off: usize, af: u16) -> bool {
        let Ok(o) = u32::try_from(off) else {
            return false;
        };
        if o.saturating_add(8) > self.len() {
            return false;
        }
        // SAFETY: a valid skb; `off` leaves an ICMP header in the packet
        // (and an IPv6 one before it for ICMPv6: the caller parsed it).
        unsafe { rvs_icmp_csum_ok(self.raw(), o, i32::from(af)) }
    }

    /// Computes the checksum of the ICMP (ICMPv6) message at `off` anew
    /// (after rvs changed the header it quotes).
    pub(crate) fn icmp_csum_set(&mut self, off: usize, af: u16) {
        if self.writable(off.saturating_add(8)).is_none() {
            return;
        }
        // SAFETY: the ICMP header at `off` is linear and writable.
        unsafe { rvs_icmp_csum_set(self.raw(), off as u32, i32::from(af)) };
    }

    /// Sends an ICMP (`af` IPv6: ICMPv6) error about this packet to its
    /// source; `info` (an MTU) in host order.
    pub(crate) fn icmp_send(&mut self, af: u16, ty: u8, code: u8, info: u32) {
        // SAFETY: a valid skb with a route (the hooks rvs uses have one).
        unsafe { rvs_icmp_send(self.raw(), i32::from(af), ty.into(), code.into(), info) };
    }

    /// Whether the device is to complete the L4 checksum
    /// (`CHECKSUM_PARTIAL`).
    pub(crate) fn csum_partial(&self) -> bool {
        // SAFETY: a valid skb (type invariant).
        unsafe { rvs_skb_csum_partial(self.raw()) }
    }
}

/// The hook's hold on its packet: an [`Skb`] to read and change (it
/// dereferences to one), and the only way to give the packet away. Giving
/// it away (`send`, `send_tunnel`, a `defrag` that keeps it) takes the
/// handle, so no code touches the skb afterwards, and returns the only
/// [`Verdict::Stolen`] there is.
///
/// # Invariants
///
/// The skb is owned by the current hook for `'a`, at the IP layer.
pub(crate) struct Owned<'a>(&'a mut Skb);

impl<'a> Owned<'a> {
    /// # Safety
    ///
    /// `ptr` is a valid skb owned by the caller for `'a`, at the IP layer.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Self {
        // SAFETY: per the caller.
        // INVARIANT: per the caller.
        Owned(unsafe { Skb::from_raw(ptr) })
    }

    /// Reassembles a fragment with the others of its datagram (ip_vs's
    /// `ip_vs_gather_frags`): the whole datagram, or `Err(Stolen)` when
    /// netfilter no longer owns it (queued for the missing fragments, or
    /// freed).
    pub(crate) fn defrag(self, net: &Net, forward: bool) -> Result<Self, Verdict> {
        // SAFETY: a valid skb and namespace; on a non-zero return ip_defrag
        // kept or freed the skb, and `self` is gone.
        if unsafe { rvs_defrag(net.as_ptr(), self.0.raw(), forward) } == 0 {
            Ok(self)
        } else {
            Err(Verdict::Stolen(Gone::new()))
        }
    }

    /// Hands the packet to LOCAL_OUT on `rt` as it is now.
    pub(crate) fn send(self, net: &Net, rt: Route<'_>) -> Verdict {
        let rt_af = rt.af;
        let (raw, held) = rt.into_raw();
        // SAFETY: the skb is ours to give away (`self` is consumed); a held
        // route's reference goes with it, a lent one stays valid for the
        // RCU read section the hook runs in.
        unsafe { rvs_send_routed(net.as_ptr(), self.0.raw(), raw, held, i32::from(rt_af)) };
        Verdict::Stolen(Gone::new())
    }

    /// Wraps the packet (IPv4 or IPv6) in an outer header of `rt`'s
    /// family from `saddr` to `daddr`, after the header of `tun`'s type
    /// (none for IP in IP, GUE, GRE), and sends it on `rt`, as `send`.
    pub(crate) fn send_tunnel(
        self,
        net: &Net,
        rt: Route<'_>,
        (saddr, daddr): (&[u8; 16], &[u8; 16]),
        df: bool,
        tun: Tunnel,
    ) -> Verdict {
        let af = rt.af;
        let (raw, held) = rt.into_raw();
        // SAFETY: as in `send`; both addresses have 16 bytes (it reads 4
        // for an IPv4 route); the helper frees the skb and the route on
        // failure.
        unsafe {
            rvs_send_tunnel(
                net.as_ptr(),
                self.0.raw(),
                raw,
                held,
                i32::from(af),
                saddr.as_ptr(),
                daddr.as_ptr(),
                df,
                tun.ty,
                tun.port,
                tun.flags,
            )
        };
        Verdict::Stolen(Gone::new())
    }
}

impl core::ops::Deref for Owned<'_> {
    type Target = Skb;
    fn deref(&self) -> &Skb {
        self.0
    }
}

impl core::ops::DerefMut for Owned<'_> {
    fn deref_mut(&mut self) -> &mut Skb {
        self.0
    }
}

/// A tunnel's type (`IP_VS_CONN_F_TUNNEL_TYPE_*`), its UDP port for GUE
/// (host order) and its `IP_VS_TUNNEL_ENCAP_FLAG_*`.
#[derive(Clone, Copy)]
pub(crate) struct Tunnel {
    pub(crate) ty: u8,
    pub(crate) port: u16,
    pub(crate) flags: u16,
}
