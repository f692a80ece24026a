// SPDX-License-Identifier: GPL-2.0

//! UDP: one state, whose timeout (`--set`'s third value, 300 s by default)
//! restarts with every datagram. Entries are always inactive.

/// The only state's name.
pub(crate) const NAME: &str = "UDP";
/// The only state.
pub(crate) const NORMAL: u8 = 0;
