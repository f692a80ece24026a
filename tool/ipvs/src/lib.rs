// SPDX-License-Identifier: GPL-2.0
//! The IPVS generic netlink family ("IPVS", include/uapi/linux/ip_vs.h),
//! modelled with netlink-packet-generic, and a blocking client for it.

pub mod client;
pub mod consts;
pub mod message;
pub mod model;
pub mod nla;

pub use client::{Client, Error};
pub use message::IpvsMessage;
