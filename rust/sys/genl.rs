// SPDX-License-Identifier: GPL-2.0

//! Generic netlink families (include/net/genetlink.h, include/net/netlink.h).
//!
//! A family is described by a `'static` [`FamilySpec`] (name, version,
//! attribute policy, operations) and registered with [`Family::register`];
//! dropping the [`Family`] unregisters it. Requests reach a [`Handler`]
//! through C trampolines, as a [`Request`] (doit) or a [`Dump`] (dumpit);
//! replies are built with a [`Writer`].

// The wrapper covers the genetlink API that the IPVS family needs as a
// whole; a command set that does not use every part of it is not a reason
// to drop the part.
#![allow(dead_code)]

use core::marker::PhantomData;
use kernel::error::{from_result, to_result};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::Opaque;
use kernel::{bindings, ffi, ThisModule};

use super::errno::emsgsize;
use super::netns::Net;

/// One entry of an attribute policy (`struct nla_policy`).
#[repr(transparent)]
pub(crate) struct Policy(bindings::nla_policy);

// SAFETY: a policy is immutable after construction and the pointers it may
// hold point to other `'static` policies; the kernel only reads it.
unsafe impl Sync for Policy {}

impl Policy {
    const fn of(type_: u32, len: u16) -> Self {
        // Kernel NLA_* type numbers are all < 256.
        let mut p: bindings::nla_policy = bindings::nla_policy {
            type_: type_ as u8,
            validation_type: 0,
            len,
            __bindgen_anon_1: bindings::nla_policy__bindgen_ty_1 {
                strict_start_type: 0,
            },
        };
        p.len = len;
        Self(p)
    }
    /// No policy for this attribute type (`NLA_UNSPEC`, any length).
    pub(crate) const fn unspec() -> Self {
        Self::of(bindings::NLA_UNSPEC, 0)
    }
    /// `NLA_UNSPEC` with a minimum length (C `{ .len = n }`).
    pub(crate) const fn min_len(len: u16) -> Self {
        Self::of(bindings::NLA_UNSPEC, len)
    }
    /// `NLA_U8`.
    pub(crate) const fn u8() -> Self {
        Self::of(bindings::NLA_U8, 0)
    }
    /// `NLA_U16`.
    pub(crate) const fn u16() -> Self {
        Self::of(bindings::NLA_U16, 0)
    }
    /// `NLA_U32`.
    pub(crate) const fn u32() -> Self {
        Self::of(bindings::NLA_U32, 0)
    }
    /// `NLA_U64`.
    pub(crate) const fn u64() -> Self {
        Self::of(bindings::NLA_U64, 0)
    }
    /// `NLA_NUL_STRING` of at most `max` characters.
    pub(crate) const fn nul_string(max: u16) -> Self {
        Self::of(bindings::NLA_NUL_STRING, max)
    }
    /// `NLA_NESTED` (contents checked by the handler).
    pub(crate) const fn nested() -> Self {
        Self::of(bindings::NLA_NESTED, 0)
    }
    /// `NLA_BINARY` of at most `max` bytes.
    pub(crate) const fn binary(max: u16) -> Self {
        Self::of(bindings::NLA_BINARY, max)
    }
}

/// What an operation answers: a single request, a dump, or both.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// `doit` only.
    Do,
    /// `dumpit` only.
    Dump,
    /// Both `doit` and `dumpit`.
    DoAndDump,
}

/// One operation of a family (`struct genl_small_ops`).
#[repr(transparent)]
pub(crate) struct Op(bindings::genl_small_ops);

// SAFETY: immutable after construction; holds only function pointers.
unsafe impl Sync for Op {}

/// `GENL_ADMIN_PERM`: the caller needs CAP_NET_ADMIN.
pub(crate) const ADMIN_PERM: u8 = bindings::GENL_ADMIN_PERM as u8;
/// `GENL_DONT_VALIDATE_STRICT | GENL_DONT_VALIDATE_DUMP`: the legacy,
/// liberal validation that old families (and their old clients) rely on.
pub(crate) const VALIDATE_LIBERAL: u8 = (bindings::genl_validate_flags_GENL_DONT_VALIDATE_STRICT
    | bindings::genl_validate_flags_GENL_DONT_VALIDATE_DUMP)
    as u8;

impl Op {
    /// An operation for command `cmd`, answered by `H`.
    pub(crate) const fn new<H: Handler>(cmd: u8, kind: OpKind, flags: u8, validate: u8) -> Self {
        let doit: Option<
            unsafe extern "C" fn(*mut bindings::sk_buff, *mut bindings::genl_info) -> ffi::c_int,
        > = match kind {
            OpKind::Dump => None,
            _ => Some(doit_trampoline::<H>),
        };
        let dumpit: Option<
            unsafe extern "C" fn(
                *mut bindings::sk_buff,
                *mut bindings::netlink_callback,
            ) -> ffi::c_int,
        > = match kind {
            OpKind::Do => None,
            _ => Some(dumpit_trampoline::<H>),
        };
        Self(bindings::genl_small_ops {
            doit,
            dumpit,
            cmd,
            internal_flags: 0,
            flags,
            validate,
        })
    }
}

/// An operation with an attribute policy of its own (`struct genl_ops`):
/// for commands a family adds beyond its first `resv_start_op`, which the
/// core validates strictly against that policy (flags, lengths, nesting,
/// no unknown attribute), the family's own policy staying as it is.
#[repr(transparent)]
pub(crate) struct PolicyOp(bindings::genl_ops);

// SAFETY: immutable after construction; holds function pointers and a
// pointer to a `'static` policy, which the kernel only reads.
unsafe impl Sync for PolicyOp {}

impl PolicyOp {
    /// A `doit` operation for command `cmd`, answered by `H`, its request
    /// checked against `policy` (indexed by attribute type).
    pub(crate) const fn doit<H: Handler, const N: usize>(
        cmd: u8,
        flags: u8,
        policy: &'static [Policy; N],
    ) -> Self {
        // The request's attributes are parsed into an array of this
        // policy's length, not the family's.
        Self::with(
            cmd,
            flags,
            policy,
            Some(policy_doit_trampoline::<H, N>),
            None,
        )
    }

    /// A dump-only operation for command `cmd`, answered by `H`, its
    /// request checked against `policy`.
    pub(crate) const fn dump<H: Handler, const N: usize>(
        cmd: u8,
        flags: u8,
        policy: &'static [Policy; N],
    ) -> Self {
        Self::with(cmd, flags, policy, None, Some(dumpit_trampoline::<H>))
    }

    const fn with<const N: usize>(
        cmd: u8,
        flags: u8,
        policy: &'static [Policy; N],
        doit: Option<
            unsafe extern "C" fn(*mut bindings::sk_buff, *mut bindings::genl_info) -> ffi::c_int,
        >,
        dumpit: Option<
            unsafe extern "C" fn(
                *mut bindings::sk_buff,
                *mut bindings::netlink_callback,
            ) -> ffi::c_int,
        >,
    ) -> Self {
        // A policy of fewer than two entries gives `maxattr` 0, which the
        // genl core takes for "the family's" while keeping this array.
        const { assert!(N >= 2) };
        Self(bindings::genl_ops {
            doit,
            start: None,
            dumpit,
            done: None,
            policy: policy.as_ptr().cast(),
            // A policy has at most a few dozen entries.
            maxattr: N.saturating_sub(1) as ffi::c_uint,
            cmd,
            internal_flags: 0,
            flags,
            validate: 0,
        })
    }
}

/// The description of a family, `'static` so the kernel may keep pointers.
pub(crate) struct FamilySpec {
    /// `GENL_NAMSIZ`-bounded family name.
    pub(crate) name: &'static CStr,
    /// Family version reported to the controller.
    pub(crate) version: u32,
    /// Top-level attribute policy, indexed by attribute type (length is
    /// `maxattr + 1`).
    pub(crate) policy: &'static [Policy],
    /// The operations.
    pub(crate) ops: &'static [Op],
    /// Operations with policies of their own (command numbers from
    /// `resv_start_op` on).
    pub(crate) policy_ops: &'static [PolicyOp],
    /// First command number that is validated strictly (`resv_start_op`).
    pub(crate) resv_start_op: u8,
    /// Whether the family answers in every network namespace.
    pub(crate) netnsok: bool,
}

/// The requests of a family.
pub(crate) trait Handler {
    /// Answers one request (`doit`). Replies, if any, go through
    /// [`Request::reply`].
    fn doit(req: &Request<'_>) -> Result;
    /// Adds entries to a dump; returns when the message is full or the dump
    /// is complete. The position to resume at is kept in [`Dump::arg`].
    fn dumpit(dump: &mut Dump<'_>) -> Result;
}

/// A registered generic netlink family.
///
/// # Invariants
///
/// `family` is registered with `genl_register_family()` for self's lifetime.
pub(crate) struct Family {
    family: Pin<KBox<Opaque<bindings::genl_family>>>,
}

// SAFETY: the registration has no thread affinity; the C structure is only
// touched by the kernel (under genl_lock) once registered.
unsafe impl Send for Family {}
// SAFETY: no method takes `&self`.
unsafe impl Sync for Family {}

impl Family {
    /// Registers the family described by `spec`.
    pub(crate) fn register(spec: &'static FamilySpec, module: &'static ThisModule) -> Result<Self> {
        let name = spec.name.as_bytes_with_nul();
        let maxattr = spec.policy.len().checked_sub(1).ok_or(EINVAL)?;
        let n_ops: u8 = spec.ops.len().try_into()?;
        let n_policy_ops: u8 = spec.policy_ops.len().try_into()?;
        let family = KBox::pin(Opaque::new(bindings::genl_family::default()), GFP_KERNEL)?;
        let raw = family.get();
        // SAFETY: `raw` points to our zeroed, pinned allocation, not shared
        // with the kernel yet.
        let f = unsafe { &mut *raw };
        if name.len() > f.name.len() {
            return Err(EINVAL);
        }
        for (dst, src) in f.name.iter_mut().zip(name.iter()) {
            *dst = *src as ffi::c_char;
        }
        f.hdrsize = 0;
        f.version = spec.version;
        f.maxattr = maxattr.try_into()?;
        f.policy = spec.policy.as_ptr().cast();
        f.small_ops = spec.ops.as_ptr().cast();
        f.n_small_ops = n_ops;
        if n_policy_ops > 0 {
            f.ops = spec.policy_ops.as_ptr().cast();
            f.n_ops = n_policy_ops;
        }
        f.resv_start_op = spec.resv_start_op;
        f.set_netnsok(u8::from(spec.netnsok));
        f.module = module.as_ptr();
        // SAFETY: `raw` is a complete genl_family whose policy and ops are
        // 'static; it stays pinned until `Drop` unregisters it.
        to_result(unsafe { bindings::genl_register_family(raw) })?;
        // INVARIANT: registered above.
        Ok(Self { family })
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        // SAFETY: registered by the type invariant; unregistering waits for
        // running operations (genl_lock) and dumps hold a module reference.
        unsafe { bindings::genl_unregister_family(self.family.get()) };
    }
}

/// One attribute of a request (`struct nlattr` and its payload).
#[derive(Clone, Copy)]
pub(crate) struct Attr<'a> {
    raw: *const bindings::nlattr,
    ty: u16,
    payload: &'a [u8],
}

impl<'a> Attr<'a> {
    /// # Safety
    ///
    /// `nla` is a valid attribute inside a message that lives for `'a`
    /// (the netlink core checked its length against the message).
    unsafe fn from_raw(nla: *const bindings::nlattr) -> Option<Self> {
        if nla.is_null() {
            return None;
        }
        // SAFETY: valid per the caller.
        let (len, ty) = unsafe { ((*nla).nla_len, (*nla).nla_type) };
        let hdr = bindings::NLA_HDRLEN as usize;
        let plen = usize::from(len).checked_sub(hdr)?;
        // SAFETY: the netlink core validated that `nla_len` bytes from `nla`
        // are inside the message; the payload starts after the header.
        let payload = unsafe { core::slice::from_raw_parts(nla.cast::<u8>().add(hdr), plen) };
        Some(Self {
            raw: nla,
            ty: ty & (bindings::NLA_TYPE_MASK as u16),
            payload,
        })
    }

    /// Parses the attributes nested in this one against `policy`, the way
    /// old families do (`nla_parse_nested_deprecated`: liberal, unknown
    /// types ignored). Entry `i` is attribute type `i`.
    pub(crate) fn parse_nested<const N: usize>(
        &self,
        policy: &'static [Policy; N],
    ) -> Result<[Option<Attr<'a>>; N]> {
        let maxtype: i32 = N.checked_sub(1).ok_or(EINVAL)?.try_into()?;
        let mut tb = [core::ptr::null_mut::<bindings::nlattr>(); N];
        // SAFETY: `tb` and `policy` have `maxtype + 1` entries; `raw` is a
        // valid attribute of a message that lives for 'a.
        to_result(unsafe {
            bindings::nla_parse_nested_deprecated(
                tb.as_mut_ptr(),
                maxtype,
                self.raw,
                policy.as_ptr().cast(),
                core::ptr::null_mut(),
            )
        })?;
        Ok(attrs_of(&tb))
    }

    /// The attribute type (without the nested/byte-order flags).
    pub(crate) fn ty(&self) -> u16 {
        self.ty
    }

    /// The payload bytes.
    pub(crate) fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// The table filled by a netlink parse, as [`Attr`]s.
fn attrs_of<'a, const N: usize>(tb: &[*mut bindings::nlattr; N]) -> [Option<Attr<'a>>; N] {
    // SAFETY: the entries were filled by the netlink parser: null or
    // attributes inside the message being handled, which lives for 'a.
    tb.map(|p| unsafe { Attr::from_raw(p) })
}

/// A generic netlink request being answered (`struct genl_info`).
pub(crate) struct Request<'a> {
    info: *mut bindings::genl_info,
    /// The last index of `info->attrs`: the operation's policy's, for one
    /// with a policy of its own, else (`None`) the family's.
    maxattr: Option<u32>,
    _p: PhantomData<&'a ()>,
}

impl<'a> Request<'a> {
    /// The command number.
    pub(crate) fn cmd(&self) -> u8 {
        // SAFETY: `info` and its `genlhdr` are valid during the callback.
        unsafe { (*(*self.info).genlhdr).cmd }
    }

    /// The namespace of the requesting socket.
    pub(crate) fn net(&self) -> &'a Net {
        // SAFETY: `info` is valid; the namespace of the request outlives it.
        unsafe { Net::from_raw(bindings::genl_info_net(self.info)) }
    }

    /// The top-level attribute `ty`, if present.
    pub(crate) fn attr(&self, ty: u16) -> Option<Attr<'a>> {
        let maxattr = match self.maxattr {
            Some(m) => m,
            // SAFETY: `info` and its family are valid during the callback.
            None => unsafe { (*(*self.info).family).maxattr },
        };
        if u32::from(ty) > maxattr {
            return None;
        }
        // SAFETY: `attrs` has `maxattr + 1` entries (parsed by the genl core
        // against the operation's policy, of `maxattr + 1` entries), and
        // `ty <= maxattr`.
        let nla = unsafe {
            let attrs = (*self.info).attrs;
            if attrs.is_null() {
                return None;
            }
            *attrs.add(usize::from(ty))
        };
        // SAFETY: entries are null or attributes inside the request message.
        unsafe { Attr::from_raw(nla) }
    }

    /// Sets the extended-ack message of the reply (`GENL_SET_ERR_MSG`).
    pub(crate) fn set_err_msg(&self, msg: &'static core::ffi::CStr) {
        // SAFETY: `info` is valid; `extack` is null or valid; a 'static
        // string outlives the request.
        unsafe {
            let ext = (*self.info).extack;
            if !ext.is_null() {
                (*ext)._msg = msg.as_ptr().cast();
            }
        }
    }

    /// Sends a reply with command `cmd`, whose attributes `fill` writes.
    pub(crate) fn reply(&self, cmd: u8, fill: impl FnOnce(&mut Writer<'_>) -> Result) -> Result {
        let size = bindings::NLMSG_GOODSIZE - bindings::NLMSG_HDRLEN as usize;
        // SAFETY: plain allocation.
        let msg = unsafe { bindings::genlmsg_new(size, bindings::GFP_KERNEL) };
        if msg.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `msg` is a fresh netlink skb; `info` is valid.
        let hdr = unsafe {
            bindings::genlmsg_put(
                msg,
                (*self.info).snd_portid,
                (*self.info).snd_seq,
                (*self.info).family,
                0,
                cmd,
            )
        };
        let res = if hdr.is_null() {
            Err(emsgsize())
        } else {
            fill(&mut Writer {
                skb: msg,
                _p: PhantomData,
            })
        };
        if let Err(e) = res {
            // SAFETY: `msg` is ours and not sent.
            unsafe { bindings::nlmsg_free(msg) };
            return Err(e);
        }
        // SAFETY: `hdr` was returned by genlmsg_put on `msg`; genlmsg_reply
        // consumes `msg` whatever it returns.
        unsafe {
            bindings::genlmsg_end(msg, hdr);
            to_result(bindings::genlmsg_reply(msg, self.info))
        }
    }
}

/// A dump in progress (`struct netlink_callback`).
pub(crate) struct Dump<'a> {
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    _p: PhantomData<&'a ()>,
}

impl<'a> Dump<'a> {
    /// The namespace of the requesting socket.
    pub(crate) fn net(&self) -> &'a Net {
        // SAFETY: the dump skb belongs to the requesting socket, whose
        // namespace outlives the dump call.
        unsafe { Net::from_raw(bindings::sock_net((*self.skb).sk)) }
    }

    /// The command being dumped.
    pub(crate) fn cmd(&self) -> u8 {
        // SAFETY: during a genl dump, genl_info_dump(cb) is valid and its
        // genlhdr points into the request message.
        unsafe { (*(*bindings::genl_info_dump(self.cb)).genlhdr).cmd }
    }

    /// Parses the attributes of the dump request against `policy` (the
    /// genl core does not, for families that skip dump validation).
    pub(crate) fn parse_request<const N: usize>(
        &self,
        policy: &'static [Policy; N],
    ) -> Result<[Option<Attr<'a>>; N]> {
        let maxtype: i32 = N.checked_sub(1).ok_or(EINVAL)?.try_into()?;
        let hdr = bindings::NLMSG_HDRLEN as usize + bindings::GENL_HDRLEN;
        // SAFETY: `cb->nlh` is the request, valid during the callback.
        let (nlh, total) = unsafe { ((*self.cb).nlh, (*(*self.cb).nlh).nlmsg_len as usize) };
        let len: i32 = total.checked_sub(hdr).ok_or(EINVAL)?.try_into()?;
        let mut tb = [core::ptr::null_mut::<bindings::nlattr>(); N];
        // SAFETY: the netlink core checked that `nlmsg_len` bytes from `nlh`
        // are the request, so `len` bytes from `hdr` are in it; `tb` and
        // `policy` have `maxtype + 1` entries.
        to_result(unsafe {
            bindings::__nla_parse(
                tb.as_mut_ptr(),
                maxtype,
                nlh.cast::<u8>().add(hdr).cast(),
                len,
                policy.as_ptr().cast(),
                bindings::netlink_validation_NL_VALIDATE_LIBERAL,
                core::ptr::null_mut(),
            )
        })?;
        Ok(attrs_of(&tb))
    }

    /// Resume state slot `i` (0..6) kept between the calls of one dump.
    pub(crate) fn arg(&self, i: usize) -> isize {
        // SAFETY: `cb` is valid during the callback; `args` is plain data.
        let args = unsafe { &(*self.cb).__bindgen_anon_1.args };
        args.get(i).copied().unwrap_or(0)
    }

    /// Sets resume state slot `i`.
    pub(crate) fn set_arg(&mut self, i: usize, v: isize) {
        // SAFETY: as in `arg`; we have the only reference during the call.
        let args = unsafe { &mut (*self.cb).__bindgen_anon_1.args };
        if let Some(a) = args.get_mut(i) {
            *a = v;
        }
    }

    /// Adds one message with command `cmd` whose attributes `fill` writes.
    /// Returns `Ok(false)` when the dump message is full (the entry was not
    /// added and must be retried in the next call).
    pub(crate) fn entry(
        &mut self,
        cmd: u8,
        fill: impl FnOnce(&mut Writer<'_>) -> Result,
    ) -> Result<bool> {
        // SAFETY: `cb` and its request skb are valid during the callback;
        // NETLINK_CB(skb) is the `netlink_skb_parms` at the start of skb->cb.
        let (portid, seq, family) = unsafe {
            let parms = (*(*self.cb).skb)
                .cb
                .as_ptr()
                .cast::<bindings::netlink_skb_parms>();
            let info = bindings::genl_info_dump(self.cb);
            ((*parms).portid, (*(*self.cb).nlh).nlmsg_seq, (*info).family)
        };
        // SAFETY: `skb` is the dump skb being filled.
        let hdr = unsafe {
            bindings::genlmsg_put(
                self.skb,
                portid,
                seq,
                family,
                bindings::NLM_F_MULTI as i32,
                cmd,
            )
        };
        if hdr.is_null() {
            return Ok(false);
        }
        match fill(&mut Writer {
            skb: self.skb,
            _p: PhantomData,
        }) {
            Ok(()) => {
                // SAFETY: `hdr` was put on `skb` above.
                unsafe { bindings::genlmsg_end(self.skb, hdr) };
                Ok(true)
            }
            Err(e) => {
                // SAFETY: `hdr` was put on `skb` above; cancelling trims it.
                unsafe { bindings::genlmsg_cancel(self.skb, hdr) };
                if e == emsgsize() {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// Writes attributes into a netlink message being built.
pub(crate) struct Writer<'a> {
    skb: *mut bindings::sk_buff,
    _p: PhantomData<&'a mut ()>,
}

impl Writer<'_> {
    /// Adds attribute `ty` with payload `data` (`nla_put`).
    pub(crate) fn put(&mut self, ty: u16, data: &[u8]) -> Result {
        let len: i32 = data.len().try_into().map_err(|_| emsgsize())?;
        // SAFETY: `skb` is the message being built; `data` is valid for
        // `len` bytes; nla_put checks the tailroom.
        to_result(unsafe { bindings::nla_put(self.skb, ty.into(), len, data.as_ptr().cast()) })
            .map_err(|_| emsgsize())
    }
    /// `nla_put_u8`.
    pub(crate) fn put_u8(&mut self, ty: u16, v: u8) -> Result {
        self.put(ty, &[v])
    }
    /// `nla_put_u16` (host order).
    pub(crate) fn put_u16(&mut self, ty: u16, v: u16) -> Result {
        self.put(ty, &v.to_ne_bytes())
    }
    /// `nla_put_be16`.
    pub(crate) fn put_be16(&mut self, ty: u16, v: u16) -> Result {
        self.put(ty, &v.to_be_bytes())
    }
    /// `nla_put_u32` (host order).
    pub(crate) fn put_u32(&mut self, ty: u16, v: u32) -> Result {
        self.put(ty, &v.to_ne_bytes())
    }
    /// `nla_put_u64_64bit` with padding attribute `pad`.
    pub(crate) fn put_u64(&mut self, ty: u16, v: u64, pad: u16) -> Result {
        let b = v.to_ne_bytes();
        // SAFETY: as in `put`; nla_put_64bit aligns with a `pad` attribute.
        to_result(unsafe {
            bindings::nla_put_64bit(self.skb, ty.into(), 8, b.as_ptr().cast(), pad.into())
        })
        .map_err(|_| emsgsize())
    }
    /// `nla_put_string`: the string and its terminating NUL.
    pub(crate) fn put_str(&mut self, ty: u16, s: &CStr) -> Result {
        self.put(ty, s.as_bytes_with_nul())
    }
    /// A nested attribute `ty` (without NLA_F_NESTED, like
    /// `nla_nest_start_noflag`), filled by `fill`.
    pub(crate) fn nest(&mut self, ty: u16, fill: impl FnOnce(&mut Self) -> Result) -> Result {
        // SAFETY: `skb` is the message being built.
        let start = unsafe { bindings::nla_nest_start_noflag(self.skb, ty.into()) };
        if start.is_null() {
            return Err(emsgsize());
        }
        match fill(self) {
            Ok(()) => {
                // SAFETY: `start` was returned for this skb above.
                unsafe { bindings::nla_nest_end(self.skb, start) };
                Ok(())
            }
            Err(e) => {
                // SAFETY: as above; cancelling trims what the nest added.
                unsafe { bindings::nla_nest_cancel(self.skb, start) };
                Err(e)
            }
        }
    }
}

/// # Safety
///
/// Called by the genl core with a valid request skb and `genl_info`.
unsafe extern "C" fn doit_trampoline<H: Handler>(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> ffi::c_int {
    // SAFETY: as this callback's caller promises.
    from_result(|| unsafe { answer::<H>(info, None) })
}

/// # Safety
///
/// Called by the genl core with a valid request skb and `genl_info` of an
/// operation whose policy has `N` entries (a [`PolicyOp`]).
unsafe extern "C" fn policy_doit_trampoline<H: Handler, const N: usize>(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> ffi::c_int {
    from_result(|| {
        let maxattr = u32::try_from(N.checked_sub(1).ok_or(EINVAL)?)?;
        // SAFETY: as this callback's caller promises; the attributes were
        // parsed against the `N` entries of the operation's policy.
        unsafe { answer::<H>(info, Some(maxattr)) }
    })
}

/// Answers the request `info`.
///
/// # Safety
///
/// `info` is the valid `genl_info` of a request being answered, whose
/// attribute array has `maxattr + 1` entries (`None`: the family's
/// `maxattr`).
unsafe fn answer<H: Handler>(info: *mut bindings::genl_info, maxattr: Option<u32>) -> Result<i32> {
    let req = Request {
        info,
        maxattr,
        _p: PhantomData,
    };
    H::doit(&req)?;
    Ok(0)
}

/// # Safety
///
/// Called by the netlink core with the dump skb and a valid callback.
unsafe extern "C" fn dumpit_trampoline<H: Handler>(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
) -> ffi::c_int {
    from_result(|| {
        let mut dump = Dump {
            skb,
            cb,
            _p: PhantomData,
        };
        H::dumpit(&mut dump)?;
        // SAFETY: `skb` is valid during the callback. Like the C dumpers we
        // return the bytes added: zero ends the dump.
        let len = unsafe { (*skb).len };
        Ok(len.try_into().unwrap_or(i32::MAX))
    })
}
