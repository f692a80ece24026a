// SPDX-License-Identifier: GPL-2.0

//! Virtual services and their real servers (destinations), per network
//! namespace: what the control plane configures and the data path will
//! read.
//!
//! The tables are ordered maps (the kernel's red-black tree): lookups by
//! (af, protocol, address, port) or by (af, fwmark) in O(log n), and a
//! stable order for dumps that resume across messages.

pub(crate) mod spec;

use kernel::prelude::*;
use kernel::rbtree::RBTree;

use spec::{DestConfig, DestKey, SvcConfig, SvcKey};

/// A real server of a service.
pub(crate) struct Dest {
    pub(crate) cfg: DestConfig,
}

/// A virtual service.
pub(crate) struct Service {
    pub(crate) cfg: SvcConfig,
    pub(crate) dests: RBTree<DestKey, Dest>,
}

/// The services of one namespace.
pub(crate) struct Services {
    tree: RBTree<SvcKey, Service>,
}

impl Services {
    pub(crate) fn new() -> Self {
        Self {
            tree: RBTree::new(),
        }
    }

    pub(crate) fn get(&self, key: &SvcKey) -> Option<&Service> {
        self.tree.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: &SvcKey) -> Option<&mut Service> {
        self.tree.get_mut(key)
    }

    /// Adds a service (the caller checked that `key` is free).
    pub(crate) fn insert(&mut self, key: SvcKey, cfg: SvcConfig) -> Result {
        let svc = Service {
            cfg,
            dests: RBTree::new(),
        };
        self.tree.try_create_and_insert(key, svc, GFP_KERNEL)?;
        Ok(())
    }

    pub(crate) fn remove(&mut self, key: &SvcKey) -> Option<Service> {
        self.tree.remove(key)
    }

    /// Services in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&SvcKey, &Service)> {
        self.tree.iter()
    }

    /// Removes every service (FLUSH).
    pub(crate) fn clear(&mut self) {
        self.tree = RBTree::new();
    }
}

impl Service {
    /// Adds a destination (the caller checked that `key` is free).
    pub(crate) fn insert_dest(&mut self, key: DestKey, cfg: DestConfig) -> Result {
        self.dests
            .try_create_and_insert(key, Dest { cfg }, GFP_KERNEL)?;
        Ok(())
    }
}
