// SPDX-License-Identifier: GPL-2.0

//! Kernel UDP sockets of the sync daemon (include/linux/net.h): a sending
//! socket connected to a multicast group out of one interface, and a
//! receiving socket joined to the group on one interface, whose arrivals
//! kick a [`Job`](super::work::Job). The setup is ip_vs_sync.c's (in
//! shim.c).

use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

use super::netns::Net;
use super::work::{Kicker, Run};

type SockPtr = *mut core::ffi::c_void;

// Pointers to kernel structs are FFI-safe; the lint trips on zero-sized
// members deep inside some of them.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_dev_ifindex(
        net: *mut kernel::bindings::net,
        name: *const kernel::ffi::c_char,
        mtu: *mut u32,
    ) -> i32;
    fn rvs_sync_sock(
        net: *mut kernel::bindings::net,
        master: bool,
        ifindex: i32,
        af: i32,
        group: *const u8,
        port: u16,
        ttl: u8,
        bufsize: i32,
        err: *mut i32,
    ) -> SockPtr;
    fn rvs_sock_set_rx(
        sock: SockPtr,
        ready: Option<unsafe extern "C" fn(*const core::ffi::c_void)>,
        ctx: *const core::ffi::c_void,
    ) -> i32;
    fn rvs_sock_send(sock: SockPtr, buf: *const u8, len: usize) -> i32;
    fn rvs_sock_recv(sock: SockPtr, buf: *mut u8, len: usize, local: *mut bool) -> i32;
    fn rvs_sock_release(sock: SockPtr);
}

/// The index and MTU of the interface called `name` in `net`
/// (`ENODEV` if there is none).
pub(crate) fn ifindex(net: &Net, name: &core::ffi::CStr) -> Result<(i32, u32)> {
    let mut mtu = 0u32;
    // SAFETY: `net` is alive, `name` a C string; the lookup takes RCU.
    let i = unsafe { rvs_dev_ifindex(net.as_ptr(), name.as_ptr().cast(), &mut mtu) };
    if i < 0 {
        Err(Error::from_errno(i))
    } else {
        Ok((i, mtu))
    }
}

/// What a socket is for, and where.
pub(crate) struct Group<'a> {
    /// `AF_INET` or `AF_INET6`.
    pub(crate) af: u16,
    /// The group's address (4 or 16 bytes used).
    pub(crate) addr: &'a [u8; 16],
    pub(crate) port: u16,
    pub(crate) ifindex: i32,
    pub(crate) ttl: u8,
    /// SO_SNDBUF (master) or SO_RCVBUF (backup) in bytes; 0: the default.
    pub(crate) bufsize: i32,
}

/// A kernel UDP socket.
///
/// # Invariants
///
/// `sock` is a socket made by `rvs_sync_sock`, released only in `Drop`;
/// `rx` is null or an `Arc<Kicker<T>>` leaked into the socket's receive
/// hook, `rx_drop` set to `rx_drop::<T>` before it (both changed only
/// under `hook`).
pub(crate) struct McastSock {
    sock: SockPtr,
    hook: crate::sys::sync::BhMutex<Hook>,
}

/// A receive hook's context and how to drop it.
type Hook = (usize, Option<unsafe fn(*const core::ffi::c_void)>);

static HOOK_KEY: crate::sys::sync::LockKey = crate::sys::sync::LockKey::new();

// SAFETY: a socket may be used and released from any task; the hook's
// context is an Arc of a `Send + Sync` job.
unsafe impl Send for McastSock {}
// SAFETY: sending and receiving take the socket's own locks.
unsafe impl Sync for McastSock {}

/// # Safety
///
/// `ctx` is a pointer from `Arc::<Kicker<T>>::into_raw` still owned by the
/// socket's hook.
unsafe extern "C" fn rx_ready<T: Run>(ctx: *const core::ffi::c_void) {
    // SAFETY: the hook owns a reference until `McastSock::drop` has
    // removed it (after which this is never called).
    let k: ArcBorrow<'_, Kicker<T>> = unsafe { ArcBorrow::from_raw(ctx.cast()) };
    k.kick(0);
}

/// # Safety
///
/// `ctx` is a pointer from `Arc::<Kicker<T>>::into_raw`, given up here.
unsafe fn rx_drop<T: Run>(ctx: *const core::ffi::c_void) {
    // SAFETY: the reference leaked in `set_rx`, taken back once.
    drop(unsafe { Arc::<Kicker<T>>::from_raw(ctx.cast()) });
}

impl McastSock {
    /// A sending (`master`) or receiving socket for `g` in `net`. May sleep.
    pub(crate) fn new(net: &Net, master: bool, g: &Group<'_>) -> Result<Self> {
        let mut err = 0i32;
        // SAFETY: `net` is alive; `g.addr` is 16 readable bytes.
        let sock = unsafe {
            rvs_sync_sock(
                net.as_ptr(),
                master,
                g.ifindex,
                i32::from(g.af),
                g.addr.as_ptr(),
                g.port,
                g.ttl,
                g.bufsize,
                &mut err,
            )
        };
        if sock.is_null() {
            return Err(Error::from_errno(if err < 0 { err } else { -22 }));
        }
        let hook = match crate::sys::sync::BhMutex::new((0, None), c"rvs_sock_hook", &HOOK_KEY) {
            Ok(h) => h,
            Err(e) => {
                // SAFETY: made above, released once.
                unsafe { rvs_sock_release(sock) };
                return Err(e);
            }
        };
        // INVARIANT: made above; no hook yet.
        Ok(Self { sock, hook })
    }

    /// Kicks `k`'s job whenever a datagram arrives. Once. May sleep.
    pub(crate) fn set_rx<T: Run>(&self, k: Kicker<T>) -> Result {
        if self.hook.lock().1.is_some() {
            return Err(EBUSY);
        }
        let a = Arc::new(k, GFP_KERNEL)?;
        let ctx = Arc::into_raw(a).cast::<core::ffi::c_void>();
        // SAFETY: the socket is alive; `ctx` stays valid until clear_rx
        // takes the hook away again.
        let r = unsafe { rvs_sock_set_rx(self.sock, Some(rx_ready::<T>), ctx) };
        if r < 0 {
            // SAFETY: not handed to the socket.
            unsafe { rx_drop::<T>(ctx) };
            return Err(Error::from_errno(r));
        }
        // INVARIANT: the hook owns `ctx` until clear_rx.
        *self.hook.lock() = (ctx as usize, Some(rx_drop::<T>));
        Ok(())
    }

    /// Takes the receive hook away: no kick after this returns. May sleep.
    pub(crate) fn clear_rx(&self) {
        let (ctx, f) = core::mem::take(&mut *self.hook.lock());
        if let Some(f) = f {
            // SAFETY: the socket is alive; with no hook, no callback runs
            // after this returns (the socket's callback lock), so the
            // hook's reference can go.
            unsafe {
                rvs_sock_set_rx(self.sock, None, core::ptr::null());
                f(ctx as *const core::ffi::c_void);
            }
        }
    }

    /// Sends one datagram without waiting: its length, or the errno
    /// (`EAGAIN` when the send buffer is full).
    pub(crate) fn send(&self, buf: &[u8]) -> Result<usize> {
        // SAFETY: the socket is alive; `buf` is readable for its length.
        let r = unsafe { rvs_sock_send(self.sock, buf.as_ptr(), buf.len()) };
        usize::try_from(r).map_err(|_| Error::from_errno(r))
    }

    /// Takes one datagram without waiting into `buf`: its length (at most
    /// `buf.len()`) and whether its source is an address of this host's
    /// (the socket's namespace), or the errno (`EAGAIN` when none is
    /// queued).
    pub(crate) fn recv(&self, buf: &mut [u8]) -> Result<(usize, bool)> {
        let mut local = false;
        // SAFETY: the socket is alive; `buf` is writable for its length;
        // `local` is a writable bool.
        let r = unsafe { rvs_sock_recv(self.sock, buf.as_mut_ptr(), buf.len(), &mut local) };
        usize::try_from(r)
            .map(|n| (n, local))
            .map_err(|_| Error::from_errno(r))
    }
}

impl Drop for McastSock {
    fn drop(&mut self) {
        self.clear_rx();
        // SAFETY: made by rvs_sync_sock, released once.
        unsafe { rvs_sock_release(self.sock) };
    }
}
