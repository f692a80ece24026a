// SPDX-License-Identifier: GPL-2.0

//! rvs: Linux Virtual Server in Rust.
//!
//! The crate root: the module declaration and the wiring of its parts.
//! See `sys` (the only `unsafe`), `ctl` (the IPVS generic netlink family),
//! `netstate` (per-namespace state) and `conn` (the connection table).

use kernel::prelude::*;

mod conn;
mod ctl;
mod netstate;
mod svc;
mod sys;

module! {
    type: Rvs,
    name: "rvs",
    author: "rvs developers",
    description: "Linux Virtual Server in Rust, driven by the IPVS generic netlink family",
    license: "GPL",
}

struct Rvs {
    // Dropped in this order: the family first (no more requests), then the
    // per-namespace state it reads.
    _genl: sys::genl::Family,
    _pernet: sys::netns::Pernet<netstate::NetState>,
}

impl kernel::Module for Rvs {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let pernet = sys::netns::Pernet::<netstate::NetState>::register()?;
        let genl = sys::genl::Family::register(&ctl::FAMILY, module)?;
        pr_info!(
            "IP Virtual Server version 1.2.1 (size={}) in Rust\n",
            netstate::conn_tab_size()
        );
        Ok(Self {
            _genl: genl,
            _pernet: pernet,
        })
    }
}
