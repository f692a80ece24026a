// SPDX-License-Identifier: GPL-2.0

//! Output routes of IPv4 and IPv6 (include/net/route.h,
//! include/net/ip6_route.h): a lookup's route, and a real server's cached one ([`DstCache`], ip_vs's `ip_vs_dest_dst`), lent to
//! the packets of its connections inside an RCU read section.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::alloc::flags::__GFP_NOWARN;
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

use super::netns::Net;
use super::sync::RcuGuard;

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_route(
        net: *mut bindings::net,
        af: i32,
        daddr: *const u8,
        tos: u8,
        known_nh: bool,
        src_out: *mut u8,
        mtu: *mut u32,
        local: *mut bool,
        cookie: *mut u32,
    ) -> *mut bindings::dst_entry;
    fn rvs_dst_put(dst: *mut bindings::dst_entry);
    fn rvs_dst_valid(dst: *mut bindings::dst_entry, cookie: u32) -> bool;
    fn rvs_dst_mtu(dst: *mut bindings::dst_entry) -> u32;
    fn rvs_call_rcu(h: *mut bindings::callback_head, f: bindings::rcu_callback_t);
}

/// An IPv4 or IPv6 route (`struct dst_entry`): held (a reference of its own,
/// released on drop) or lent by a [`DstCache`] for `'g`, while the cache is
/// borrowed inside an RCU read section.
///
/// # Invariants
///
/// `rt` is a valid route of family `af`; if `held`, one reference to it
/// is ours; if not, a [`DstCache`] node holds one and lives at least for
/// `'g`.
pub(crate) struct Route<'g> {
    rt: *mut bindings::dst_entry,
    held: bool,
    /// `AF_INET` or `AF_INET6`.
    pub(crate) af: u16,
    /// The source address the route picked (IPv4: the first four bytes).
    pub(crate) saddr: [u8; 16],
    /// The path MTU of the route's device.
    pub(crate) mtu: u32,
    /// The destination is one of this host's addresses.
    pub(crate) local: bool,
    _g: PhantomData<&'g RcuGuard>,
}

impl Route<'static> {
    /// The output route of family `af` to `daddr` (IPv4: its first four
    /// bytes). `known_nh`: `daddr` is the next hop on a local segment, the
    /// packet's own destination may differ (DR).
    pub(crate) fn output(
        net: &Net,
        af: u16,
        daddr: &[u8; 16],
        tos: u8,
        known_nh: bool,
    ) -> Option<Self> {
        Self::output_cookie(net, af, daddr, tos, known_nh).map(|(r, _)| r)
    }

    /// [`Route::output`] and the cookie that checks the route later.
    fn output_cookie(
        net: &Net,
        af: u16,
        daddr: &[u8; 16],
        tos: u8,
        known_nh: bool,
    ) -> Option<(Self, u32)> {
        let (mut src, mut mtu, mut local, mut cookie) = ([0u8; 16], 0u32, false, 0u32);
        // SAFETY: a valid namespace; `daddr` has 16 bytes (the helper reads
        // 4 for IPv4) and `src` room for 16; the out-pointers are locals.
        let rt = unsafe {
            rvs_route(
                net.as_ptr(),
                i32::from(af),
                daddr.as_ptr(),
                tos,
                known_nh,
                src.as_mut_ptr(),
                &mut mtu,
                &mut local,
                &mut cookie,
            )
        };
        if rt.is_null() {
            return None;
        }
        // INVARIANT: rvs_route returns a held route of family `af`.
        Some((
            Route {
                rt,
                held: true,
                af,
                saddr: src,
                mtu,
                local,
                _g: PhantomData,
            },
            cookie,
        ))
    }
}

impl Route<'_> {
    /// The route pointer and whether a reference to it goes along.
    pub(super) fn into_raw(self) -> (*mut bindings::dst_entry, bool) {
        let r = (self.rt, self.held);
        core::mem::forget(self);
        r
    }
}

impl Drop for Route<'_> {
    fn drop(&mut self) {
        if self.held {
            // SAFETY: we hold one reference (type invariant).
            unsafe { rvs_dst_put(self.rt) };
        }
    }
}

/// One cached route: immutable once published, replaced whole.
#[repr(C)]
struct DstNode {
    /// First: the RCU callback's pointer is the node's.
    rcu: Opaque<bindings::callback_head>,
    /// Held by the node.
    rt: *mut bindings::dst_entry,
    saddr: [u8; 16],
    af: u16,
    known_nh: bool,
    local: bool,
    /// What checks an IPv6 route (`rt6_get_cookie`); 0 for IPv4.
    cookie: u32,
}

/// A real server's cached output route (ip_vs's `dest_dst`): the packet
/// path takes it under RCU without a reference and checks it is still
/// good (`dst_check`: a route change, a device going down or a new path
/// MTU make the kernel mark it obsolete); a stale or missing one is looked
/// up again and published in its place, the old one freed after a grace
/// period.
///
/// # Invariants
///
/// `node` is null or a `KBox<DstNode>` raw pointer whose `rt` is held; a
/// node replaced while readers may see it is freed by `call_rcu`; the last
/// one is freed with the cache, which its owner drops only when no reader
/// can reach it (a real server is freed with its last reference, after
/// the RCU grace period of whatever published it).
pub(crate) struct DstCache {
    node: AtomicPtr<DstNode>,
}

// SAFETY: the node is shared by RCU readers and replaced atomically; the
// route in it is a reference-counted kernel object usable from any CPU.
unsafe impl Send for DstCache {}
// SAFETY: as above.
unsafe impl Sync for DstCache {}

impl DstCache {
    pub(crate) const fn new() -> Self {
        Self {
            node: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// The route of family `af` to `daddr` (for DR with `known_nh`), from
    /// the cache when still good; `None` without a route.
    pub(crate) fn route<'a>(
        &'a self,
        _g: &'a RcuGuard,
        net: &Net,
        af: u16,
        daddr: &[u8; 16],
        known_nh: bool,
    ) -> Option<Route<'a>> {
        let p = self.node.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: a published node, freed no earlier than a grace
            // period after it was replaced; we are in a read section.
            let n = unsafe { &*p };
            // SAFETY: the node holds `rt`.
            if n.known_nh == known_nh && n.af == af && unsafe { rvs_dst_valid(n.rt, n.cookie) } {
                // INVARIANT: lent while the cache is borrowed and the read
                // section lasts: a replaced node outlives the section, the
                // last one lives as long as the cache.
                return Some(Route {
                    rt: n.rt,
                    held: false,
                    af,
                    saddr: n.saddr,
                    mtu: n.mtu_of(),
                    local: n.local,
                    _g: PhantomData,
                });
            }
        }
        let (rt, cookie) = Route::output_cookie(net, af, daddr, 0, known_nh)?;
        let Ok(b) = KBox::new(
            DstNode {
                rcu: Opaque::uninit(),
                rt: rt.rt,
                saddr: rt.saddr,
                af,
                known_nh,
                local: rt.local,
                cookie,
            },
            GFP_ATOMIC | __GFP_NOWARN,
        ) else {
            // Not cached this time: the packet uses its own reference.
            return Some(rt);
        };
        let (raw, _) = rt.into_raw();
        let (saddr, mtu, local) = (b.saddr, b.mtu_of(), b.local);
        let new = KBox::into_raw(b);
        let old = self.node.swap(new, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: `old` was published and is unpublished now; readers
            // that still see it are in read sections the grace period
            // waits for; `rcu` is its first field.
            unsafe { rvs_call_rcu((*old).rcu.get(), Some(free_dst_node)) };
        }
        // INVARIANT: the node just published holds the reference; it is
        // freed a grace period after a replacement, or with the cache.
        Some(Route {
            rt: raw,
            held: false,
            af,
            saddr,
            mtu,
            local,
            _g: PhantomData,
        })
    }
}

impl DstNode {
    fn mtu_of(&self) -> u32 {
        // SAFETY: the node holds `rt`.
        unsafe { rvs_dst_mtu(self.rt) }
    }
}

impl Drop for DstNode {
    fn drop(&mut self) {
        // SAFETY: the node holds one reference (DstCache's invariant).
        unsafe { rvs_dst_put(self.rt) };
    }
}

/// The RCU callback freeing a replaced node.
///
/// # Safety
///
/// `head` is the `rcu` field of an unpublished node from `KBox::into_raw`.
unsafe extern "C" fn free_dst_node(head: *mut bindings::callback_head) {
    // SAFETY: `rcu` is the first field of the repr(C) node; the grace
    // period is over, nobody reaches it.
    drop(unsafe { KBox::from_raw(head.cast::<DstNode>()) });
}

impl Drop for DstCache {
    fn drop(&mut self) {
        let p = *self.node.get_mut();
        if !p.is_null() {
            // Freed now rather than by call_rcu: this may run in an RCU
            // callback during the module's final rcu_barrier, which would
            // not wait for a callback queued here.
            // SAFETY: `&mut self`: no route the cache lent is in use (their
            // lifetimes end with the borrow); the node is ours.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}
