// SPDX-License-Identifier: GPL-2.0

//! IPv4 output routes (include/net/route.h): a lookup's route, and a real
//! server's cached one ([`DstCache`], ip_vs's `ip_vs_dest_dst`), lent to
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
    fn rvs_rt_valid(rt: *mut bindings::rtable) -> bool;
    fn rvs_rt_mtu(rt: *mut bindings::rtable) -> u32;
    fn rvs_rt_local(rt: *const bindings::rtable) -> bool;
    fn rvs_call_rcu(h: *mut bindings::callback_head, f: bindings::rcu_callback_t);
}

/// An IPv4 route (`struct rtable`): held (a reference of its own,
/// released on drop) or lent by a [`DstCache`] for `'g`, while the cache is
/// borrowed inside an RCU read section.
///
/// # Invariants
///
/// `rt` is a valid route; if `held`, one reference to it is ours; if not,
/// a [`DstCache`] node holds one and lives at least for `'g`.
pub(crate) struct Route<'g> {
    rt: *mut bindings::rtable,
    held: bool,
    /// The source address the route picked.
    pub(crate) saddr: [u8; 4],
    /// The path MTU of the route's device.
    pub(crate) mtu: u32,
    /// The destination is one of this host's addresses.
    pub(crate) local: bool,
    _g: PhantomData<&'g RcuGuard>,
}

impl Route<'static> {
    /// The output route to `daddr`. `known_nh`: `daddr` is the next hop on
    /// a local segment, the packet's own destination may differ (DR).
    pub(crate) fn output(net: &Net, daddr: [u8; 4], tos: u8, known_nh: bool) -> Option<Self> {
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
            held: true,
            saddr: src.to_ne_bytes(),
            mtu,
            local,
            _g: PhantomData,
        })
    }
}

impl Route<'_> {
    /// The route pointer and whether a reference to it goes along.
    pub(super) fn into_raw(self) -> (*mut bindings::rtable, bool) {
        let r = (self.rt, self.held);
        core::mem::forget(self);
        r
    }
}

impl Drop for Route<'_> {
    fn drop(&mut self) {
        if self.held {
            // SAFETY: we hold one reference (type invariant).
            unsafe { rvs_rt_put(self.rt) };
        }
    }
}

/// One cached route: immutable once published, replaced whole.
#[repr(C)]
struct DstNode {
    /// First: the RCU callback's pointer is the node's.
    rcu: Opaque<bindings::callback_head>,
    /// Held by the node.
    rt: *mut bindings::rtable,
    saddr: [u8; 4],
    known_nh: bool,
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

    /// The route to `daddr` (for DR with `known_nh`), from the cache when
    /// still good; `None` without a route.
    pub(crate) fn route<'a>(
        &'a self,
        _g: &'a RcuGuard,
        net: &Net,
        daddr: [u8; 4],
        known_nh: bool,
    ) -> Option<Route<'a>> {
        let p = self.node.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: a published node, freed no earlier than a grace
            // period after it was replaced; we are in a read section.
            let n = unsafe { &*p };
            // SAFETY: the node holds `rt`.
            if n.known_nh == known_nh && unsafe { rvs_rt_valid(n.rt) } {
                // SAFETY: as above.
                let (mtu, local) = unsafe { (rvs_rt_mtu(n.rt), rvs_rt_local(n.rt)) };
                // INVARIANT: lent while the cache is borrowed and the read
                // section lasts: a replaced node outlives the section, the
                // last one lives as long as the cache.
                return Some(Route {
                    rt: n.rt,
                    held: false,
                    saddr: n.saddr,
                    mtu,
                    local,
                    _g: PhantomData,
                });
            }
        }
        let rt = Route::output(net, daddr, 0, known_nh)?;
        let Ok(b) = KBox::new(
            DstNode {
                rcu: Opaque::uninit(),
                rt: rt.rt,
                saddr: rt.saddr,
                known_nh,
            },
            GFP_ATOMIC | __GFP_NOWARN,
        ) else {
            // Not cached this time: the packet uses its own reference.
            return Some(rt);
        };
        let (raw, _) = rt.into_raw();
        let (saddr, mtu, local) = (b.saddr, b.mtu_of(), b.local_of());
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
        unsafe { rvs_rt_mtu(self.rt) }
    }

    fn local_of(&self) -> bool {
        // SAFETY: the node holds `rt`.
        unsafe { rvs_rt_local(self.rt) }
    }
}

impl Drop for DstNode {
    fn drop(&mut self) {
        // SAFETY: the node holds one reference (DstCache's invariant).
        unsafe { rvs_rt_put(self.rt) };
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
