// SPDX-License-Identifier: GPL-2.0
//! The pure-logic parts of rvs.ko, compiled from the module's own source
//! files (`rust/`) so that `cargo test` exercises exactly the code the
//! kernel runs. Nothing here may use more than `core` (`alloc` only gives
//! mh's table its host storage).
#![no_std]
#![allow(dead_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

/// `rust/conn/tab_size.rs`: connection table sizing.
#[path = "../../../rust/conn/tab_size.rs"]
pub mod tab_size;

/// `rust/conn/defense.rs`: ip_vs's defences against memory exhaustion.
#[path = "../../../rust/conn/defense.rs"]
pub mod defense;

/// `rust/abi.rs`: the IPVS netlink ABI numbers.
#[path = "../../../rust/abi.rs"]
pub mod abi;

/// `rust/svc/spec.rs`: decoding and checking of IPVS requests.
#[path = "../../../rust/svc/spec.rs"]
pub mod spec;

/// `rust/sched/`: the schedulers.
#[path = "../../../rust/sched/mod.rs"]
pub mod sched;

/// `rust/proto/`: TCP/UDP states and timeouts, IPv4 header checks.
#[path = "../../../rust/proto/mod.rs"]
pub mod proto;

/// `rust/conn/hash.rs`: the connection table's hash.
#[path = "../../../rust/conn/hash.rs"]
pub mod hash;

/// `rust/svc/est.rs`: the rate estimator.
#[path = "../../../rust/svc/est.rs"]
pub mod est;

/// `rust/sync/wire.rs`: the sync protocol's messages, and when ip_vs
/// sends a connection.
#[path = "../../../rust/sync/wire.rs"]
pub mod wire;
