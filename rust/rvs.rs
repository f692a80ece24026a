// SPDX-License-Identifier: GPL-2.0

//! rvs: Linux Virtual Server in Rust.
//!
//! The crate root: the module declaration and the wiring of its parts.
//! See `sys` (the only `unsafe`), `ctl` (the IPVS generic netlink family),
//! `netstate` (per-namespace state), `svc` (services), `conn` (the
//! connection table), `sched` (schedulers), `proto` (protocol states),
//! `datapath` (the netfilter hooks) and `xmit` (NAT, tunnel, DR).

// Built only by the kernel's own rustc (1.96, qemu/env.sh), not by the
// oldest one the kernel tree allows (its clippy.toml's msrv, 1.78).
#![allow(clippy::incompatible_msrv)]

use kernel::prelude::*;

mod abi;
mod conn;
mod ctl;
mod datapath;
mod netstate;
mod procfs;
mod proto;
mod sched;
mod svc;
mod sync;
mod sys;
mod tables;
mod xmit;

module! {
    type: Rvs,
    name: "rvs",
    author: "rvs developers",
    description: "Linux Virtual Server in Rust, driven by the IPVS generic netlink family",
    license: "GPL",
}

/// The connection slab cache, published for the table's allocator while
/// the module lives; on drop it waits for the RCU callbacks that still
/// free entries into it.
struct ConnSlab(Option<sys::rcuhash::SlabCache<sys::rcuhash::Timed<conn::Conn>>>);

impl Drop for ConnSlab {
    fn drop(&mut self) {
        // Every table is gone; entries queued for freeing still go back
        // through CONN_SLAB: wait for them before unpublishing.
        sys::sync::rcu_barrier();
        conn::CONN_SLAB.set(None);
        // Dropping the cache destroys it.
        self.0 = None;
    }
}

struct Rvs {
    // Dropped in this order: the family first (no more requests), then the
    // per-namespace state it reads (hooks, tables), then the slab cache of
    // the connection entries.
    _genl: sys::genl::Family,
    _pernet: sys::netns::Pernet<netstate::NetState>,
    _slab: ConnSlab,
}

impl kernel::Module for Rvs {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let slab = ConnSlab(Some(conn::new_slab()?));
        conn::CONN_SLAB.set(slab.0.as_ref());
        // The family first: with ip_vs.ko loaded it exists already and
        // loading stops here with EEXIST, before any per-namespace state
        // (its /proc and sysctl names are ip_vs's too). A request that
        // comes before the state exists is refused with ENODEV.
        let genl = sys::genl::Family::register(&ctl::FAMILY, module)?;
        let pernet = sys::netns::Pernet::<netstate::NetState>::register()?;
        pr_info!(
            "IP Virtual Server version 1.2.1 (size={}) in Rust\n",
            tables::conn_tab_size()
        );
        Ok(Self {
            _genl: genl,
            _pernet: pernet,
            _slab: slab,
        })
    }
}
