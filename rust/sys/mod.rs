// SPDX-License-Identifier: GPL-2.0

//! The only place in rvs with `unsafe`: thin safe wrappers over
//! `kernel::bindings` for what the 6.12 `kernel` crate does not cover.

pub(crate) mod errno;
pub(crate) mod genl;
pub(crate) mod netns;
pub(crate) mod params;
