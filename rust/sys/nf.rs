// SPDX-License-Identifier: GPL-2.0

//! Netfilter hooks (include/linux/netfilter.h): a trait for the hook body,
//! a const table of `nf_hook_ops` built from it, and a per-namespace
//! registration value that unregisters on drop.

use core::marker::PhantomData;
use kernel::bindings;
use kernel::prelude::*;

use super::netns::Net;
use super::skb::{Owned, Verdict};

/// The hook points rvs uses (`enum nf_inet_hooks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HookPoint {
    LocalIn,
    Forward,
    LocalOut,
}

impl HookPoint {
    const fn raw(self) -> u32 {
        match self {
            HookPoint::LocalIn => bindings::nf_inet_hooks_NF_INET_LOCAL_IN,
            HookPoint::Forward => bindings::nf_inet_hooks_NF_INET_FORWARD,
            HookPoint::LocalOut => bindings::nf_inet_hooks_NF_INET_LOCAL_OUT,
        }
    }
}

/// The body of a set of hooks; `id` tells which entry of the table fired.
pub(crate) trait Hooks: 'static {
    /// Runs in softirq or, at LOCAL_OUT, in the sender's context, under RCU.
    fn hook(id: u8, net: &Net, skb: Owned<'_>) -> Verdict;
}

/// One entry of a hook table.
#[repr(transparent)]
pub(crate) struct HookOp(bindings::nf_hook_ops);

impl HookOp {
    /// An IPv4 hook at `point` with `priority`, calling `T::hook(id, ..)`.
    pub(crate) const fn ipv4<T: Hooks>(point: HookPoint, priority: i32, id: u8) -> Self {
        Self::of::<T>(bindings::NFPROTO_IPV4 as u8, point, priority, id)
    }

    /// The same for IPv6.
    pub(crate) const fn ipv6<T: Hooks>(point: HookPoint, priority: i32, id: u8) -> Self {
        Self::of::<T>(bindings::NFPROTO_IPV6 as u8, point, priority, id)
    }

    const fn of<T: Hooks>(pf: u8, point: HookPoint, priority: i32, id: u8) -> Self {
        // SAFETY: all-zero is a valid nf_hook_ops (no hook, no device,
        // hook_ops_type NF_HOOK_OP_UNDEFINED).
        let mut o: bindings::nf_hook_ops = unsafe { core::mem::zeroed() };
        o.hook = Some(trampoline::<T>);
        o.pf = pf;
        o.hooknum = point.raw();
        o.priority = priority;
        o.priv_ = id as usize as *mut core::ffi::c_void;
        HookOp(o)
    }
}

/// A `static` table of hooks.
pub(crate) struct HookTable<const N: usize>(pub(crate) [HookOp; N]);

// SAFETY: the table is never written after construction; the kernel only
// reads it (and keeps the pointer while registered). The raw pointers in it
// are a function and an integer id, not data.
unsafe impl<const N: usize> Sync for HookTable<N> {}

/// # Safety
///
/// Called by netfilter with a valid skb and state, under RCU.
unsafe extern "C" fn trampoline<T: Hooks>(
    priv_: *mut core::ffi::c_void,
    skb: *mut bindings::sk_buff,
    state: *const bindings::nf_hook_state,
) -> core::ffi::c_uint {
    // SAFETY: netfilter passes a valid state whose `net` is alive for the
    // call, and an skb that we own for the call.
    let (net, skb) = unsafe { (Net::from_raw((*state).net), Owned::from_raw(skb)) };
    T::hook(priv_ as usize as u8, net, skb).raw()
}

/// A table registered in one namespace.
///
/// # Invariants
///
/// `ops` (static) is registered in `net`, which outlives the value (it is
/// dropped at the latest by the namespace's pernet exit).
pub(crate) struct Registration<const N: usize> {
    net: *mut bindings::net,
    ops: &'static HookTable<N>,
    _p: PhantomData<()>,
}

// SAFETY: only a handle for unregistering; no thread affinity.
unsafe impl<const N: usize> Send for Registration<N> {}
// SAFETY: no `&self` method.
unsafe impl<const N: usize> Sync for Registration<N> {}

impl<const N: usize> Registration<N> {
    /// Registers `ops` in `net`. May sleep.
    pub(crate) fn new(net: &Net, ops: &'static HookTable<N>) -> Result<Self> {
        let n = u32::try_from(N)?;
        // SAFETY: `ops` is static and `net` alive; the kernel copies what it
        // needs and keeps `ops` only until unregistration.
        kernel::error::to_result(unsafe {
            bindings::nf_register_net_hooks(net.as_ptr(), ops.0.as_ptr().cast(), n)
        })?;
        // INVARIANT: registered above.
        Ok(Self {
            net: net.as_ptr(),
            ops,
            _p: PhantomData,
        })
    }
}

impl<const N: usize> Drop for Registration<N> {
    fn drop(&mut self) {
        // SAFETY: registered in `self.net`, still alive (type invariant).
        // Waits for running hooks to finish.
        unsafe {
            bindings::nf_unregister_net_hooks(self.net, self.ops.0.as_ptr().cast(), N as u32)
        };
    }
}

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_defrag6_enable(net: *mut bindings::net) -> i32;
    fn rvs_defrag6_disable(net: *mut bindings::net);
}

/// IPv6 reassembly before rvs's hooks (`nf_defrag_ipv6`), on in a
/// namespace while the value lives: ip_vs turns it on with its first IPv6
/// service, since it sees IPv6 packets whole only.
///
/// # Invariants
///
/// One user of `nf_defrag_ipv6` in `net` is ours; `net` outlives the value
/// (dropped at the latest by the namespace's pernet exit).
pub(crate) struct Defrag6 {
    net: *mut bindings::net,
}

// SAFETY: only a handle for turning it off; no thread affinity.
unsafe impl Send for Defrag6 {}
// SAFETY: no `&self` method.
unsafe impl Sync for Defrag6 {}

impl Defrag6 {
    /// Turns reassembly on in `net`. May sleep.
    pub(crate) fn new(net: &Net) -> Result<Self> {
        // SAFETY: a live namespace.
        kernel::error::to_result(unsafe { rvs_defrag6_enable(net.as_ptr()) })?;
        // INVARIANT: enabled above.
        Ok(Self { net: net.as_ptr() })
    }
}

impl Drop for Defrag6 {
    fn drop(&mut self) {
        // SAFETY: our user of `net`'s reassembly (type invariant).
        unsafe { rvs_defrag6_disable(self.net) };
    }
}
