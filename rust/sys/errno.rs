// SPDX-License-Identifier: GPL-2.0

//! Error codes that `kernel::error::code` of 6.12 lacks
//! (include/uapi/asm-generic/errno.h), as [`Error`] values.

use kernel::bindings;
use kernel::error::Error;

fn code(errno: u32) -> Error {
    // The constants below are valid errnos (1..4095), so from_errno()
    // returns exactly them.
    Error::from_errno(-(errno as i32))
}

/// `EMSGSIZE`: message too long (a netlink message is full).
pub(crate) fn emsgsize() -> Error {
    code(bindings::EMSGSIZE)
}

/// `EOPNOTSUPP`: operation not supported.
#[allow(dead_code)]
pub(crate) fn eopnotsupp() -> Error {
    code(bindings::EOPNOTSUPP)
}

/// `EAFNOSUPPORT`: address family not supported.
#[allow(dead_code)]
pub(crate) fn eafnosupport() -> Error {
    code(bindings::EAFNOSUPPORT)
}
