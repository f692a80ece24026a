// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state: `struct pernet_operations` and
//! `net_generic()` (include/net/net_namespace.h, include/net/netns/generic.h).
//!
//! A type implementing [`PernetState`] gets one instance per network
//! namespace, built when the namespace is created (or, for namespaces that
//! exist already, when the [`Pernet`] registration is made) and dropped when
//! the namespace goes away (or the registration is dropped).

use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::error::from_result;
use kernel::prelude::*;
use kernel::types::Opaque;
use kernel::{bindings, ffi};

/// A network namespace (`struct net`), borrowed for a callback's duration.
///
/// # Invariants
///
/// The wrapped `struct net` is alive for as long as the reference is.
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

impl Net {
    /// Borrows a `struct net`.
    ///
    /// # Safety
    ///
    /// `ptr` is valid and the namespace stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::net) -> &'a Net {
        // SAFETY: `Net` is a transparent wrapper of `struct net`; the caller
        // guarantees validity for 'a.
        // INVARIANT: guaranteed by the caller.
        unsafe { &*ptr.cast::<Net>() }
    }

    /// The raw pointer, for the other wrappers in `sys`.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// `inet_addr_type()`: the route type of an IPv4 address (network-order
    /// bytes) in this namespace, e.g. `RTN_LOCAL`, `RTN_UNICAST`.
    pub(crate) fn inet_addr_type(&self, addr: [u8; 4]) -> u32 {
        // SAFETY: `self` is a live namespace; the lookup takes RCU itself.
        unsafe { bindings::inet_addr_type(self.as_ptr(), u32::from_ne_bytes(addr)) }
    }

    /// This namespace's instance of `T`, if `T` is registered.
    pub(crate) fn state<T: PernetState>(&self) -> Option<&T> {
        let id = T::id();
        if !id.registered.load(Ordering::Acquire) {
            return None;
        }
        // `registered` is set only after register_pernet_subsys() succeeded
        // and cleared before unregister_pernet_subsys(), so `id` is a valid
        // generic id and every live namespace has its `T`, built by
        // `init_trampoline` before the namespace is visible.
        // SAFETY: `self` is alive for the borrow, and so is its generic data.
        let ptr = unsafe { bindings::net_generic(self.as_ptr(), id.get()) };
        // SAFETY: see above: the slot holds an initialised `T` for the
        // namespace's lifetime; `T: Sync` so a shared borrow is fine.
        unsafe { ptr.cast::<T>().as_ref() }
    }
}

/// The generic-data id of one [`PernetState`] type: the C `unsigned int
/// *_net_id` that `register_pernet_subsys()` writes. Declare one `static`
/// per state type and return it from [`PernetState::id`].
pub(crate) struct PernetId {
    id: Opaque<ffi::c_uint>,
    registered: AtomicBool,
}

// SAFETY: `id` is written by the kernel only inside register_pernet_subsys(),
// before `registered` is set (release); readers read it only after observing
// `registered` (acquire) or from the pernet callbacks that the registration
// itself runs. There is no other writer.
unsafe impl Sync for PernetId {}

impl PernetId {
    /// A not yet registered id.
    pub(crate) const fn new() -> Self {
        Self {
            id: Opaque::new(0),
            registered: AtomicBool::new(false),
        }
    }

    fn get(&self) -> ffi::c_uint {
        // SAFETY: see the `Sync` impl: no concurrent writer exists when this
        // is called (after registration, or inside its callbacks).
        unsafe { *self.id.get() }
    }
}

impl Default for PernetId {
    fn default() -> Self {
        Self::new()
    }
}

/// State that every network namespace holds one of.
pub(crate) trait PernetState: Sized + Send + Sync {
    /// The id slot for this type (one `static PernetId` per type).
    fn id() -> &'static PernetId;
    /// Builds the state of namespace `net` in place. May sleep.
    fn new(net: &Net) -> impl PinInit<Self, Error>;
    /// The namespace is going away: called before its devices are
    /// unregistered (`pre_exit`), for what holds them (sockets). May sleep.
    fn pre_exit(&self) {}
}

/// A registration of `T` as per-namespace state; dropping it frees every
/// namespace's `T`.
///
/// # Invariants
///
/// `ops` is registered with `register_pernet_subsys()` for self's lifetime.
pub(crate) struct Pernet<T: PernetState> {
    ops: Pin<KBox<Opaque<bindings::pernet_operations>>>,
    _t: PhantomData<T>,
}

// SAFETY: the registration is only an owner of the kernel-side ops
// structure; it has no thread affinity.
unsafe impl<T: PernetState> Send for Pernet<T> {}
// SAFETY: no method takes `&self`.
unsafe impl<T: PernetState> Sync for Pernet<T> {}

impl<T: PernetState> Pernet<T> {
    /// Registers `T`: builds it for every existing namespace now and for
    /// every new one later.
    pub(crate) fn register() -> Result<Self> {
        let id = T::id();
        if id.registered.load(Ordering::Acquire) {
            return Err(EBUSY);
        }
        // The kernel allocates the slot with kzalloc(): its alignment is
        // ARCH_SLAB_MINALIGN at least, and no more is promised.
        if core::mem::align_of::<T>() > bindings::ARCH_SLAB_MINALIGN {
            return Err(EINVAL);
        }
        let ops = KBox::pin(
            Opaque::new(bindings::pernet_operations::default()),
            GFP_KERNEL,
        )?;
        let raw = ops.get();
        // SAFETY: `raw` points to our zeroed, pinned allocation, not yet
        // shared with the kernel.
        unsafe {
            (*raw).init = Some(init_trampoline::<T>);
            (*raw).exit = Some(exit_trampoline::<T>);
            (*raw).pre_exit = Some(pre_exit_trampoline::<T>);
            (*raw).id = id.id.get();
            (*raw).size = core::mem::size_of::<T>();
        }
        // SAFETY: `raw` is a fully initialised pernet_operations that stays
        // pinned until `Drop` unregisters it; the callbacks match the C
        // signatures.
        kernel::error::to_result(unsafe { bindings::register_pernet_subsys(raw) })?;
        id.registered.store(true, Ordering::Release);
        // INVARIANT: registered above.
        Ok(Self {
            ops,
            _t: PhantomData,
        })
    }
}

impl<T: PernetState> Drop for Pernet<T> {
    fn drop(&mut self) {
        T::id().registered.store(false, Ordering::Release);
        // SAFETY: by the type invariant `ops` is registered; unregistering
        // runs `exit` for every namespace and waits for them.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
    }
}

/// # Safety
///
/// Called by the kernel for a new namespace, with the generic slot of
/// `size_of::<T>()` zeroed bytes already allocated.
unsafe extern "C" fn init_trampoline<T: PernetState>(net: *mut bindings::net) -> ffi::c_int {
    from_result(|| {
        // SAFETY: the kernel passes a live namespace.
        let n = unsafe { Net::from_raw(net) };
        // SAFETY: the kernel assigned the slot (size_of::<T>() bytes, kzalloc
        // alignment, checked against T's at registration) before `init`.
        let slot = unsafe { bindings::net_generic(net, T::id().get()) }.cast::<T>();
        if slot.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `slot` is valid, uninitialised, and never moves: it is
        // freed by the kernel after `exit_trampoline` dropped the value.
        unsafe { T::new(n).__pinned_init(slot) }?;
        Ok(0)
    })
}

/// # Safety
///
/// Called by the kernel when a namespace whose `init` succeeded starts to
/// go away, before `exit`.
unsafe extern "C" fn pre_exit_trampoline<T: PernetState>(net: *mut bindings::net) {
    // SAFETY: `init_trampoline` stored a `T` in this slot; it is dropped
    // only by `exit_trampoline`, after this.
    unsafe {
        let slot = bindings::net_generic(net, T::id().get()).cast::<T>();
        if let Some(t) = slot.as_ref() {
            t.pre_exit();
        }
    }
}

/// # Safety
///
/// Called by the kernel when a namespace whose `init` succeeded goes away.
unsafe extern "C" fn exit_trampoline<T: PernetState>(net: *mut bindings::net) {
    // SAFETY: `init_trampoline` stored a `T` in this slot, and `exit` runs
    // once, after every user of the namespace is gone.
    unsafe {
        let slot = bindings::net_generic(net, T::id().get()).cast::<T>();
        if !slot.is_null() {
            core::ptr::drop_in_place(slot);
        }
    }
}
