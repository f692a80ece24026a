// SPDX-License-Identifier: GPL-2.0

//! The connection table's hash: (namespace, protocol, address, port) mixed
//! with a random seed chosen at load, so that a client cannot aim its
//! connections at one bucket without knowing it. One hash serves both
//! directions: a request is hashed by its source (the client) and a NAT
//! reply by its destination (the same client). Pure logic.

// Shared with the host crate.
#![allow(dead_code)]

/// A 64-bit finaliser (the murmur3 one): every input bit reaches every
/// output bit.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    x
}

/// The bucket hash of a client endpoint.
pub(crate) fn conn_hash(seed: u64, net: u64, protocol: u8, addr: &[u8; 16], port: u16) -> u32 {
    let mut words = [0u64; 2];
    for (i, w) in words.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        if let Some(s) = addr.get(i * 8..i * 8 + 8) {
            b.copy_from_slice(s);
        }
        *w = u64::from_le_bytes(b);
    }
    let mut h = mix(seed ^ net);
    h = mix(h ^ words[0]);
    h = mix(h ^ words[1]);
    h = mix(h ^ (u64::from(port) << 8 | u64::from(protocol)));
    (h ^ (h >> 32)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_ports_of_one_client() {
        let a = [192, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut counts = [0u32; 256];
        for p in 0..25600u16 {
            counts[(conn_hash(7, 1, 6, &a, p) & 255) as usize] += 1;
        }
        // 100 per bucket on average: no bucket far off.
        assert!(
            counts.iter().all(|&c| (50..=160).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn every_input_counts() {
        let a = [10; 16];
        let h = conn_hash(1, 2, 6, &a, 80);
        assert_ne!(h, conn_hash(2, 2, 6, &a, 80));
        assert_ne!(h, conn_hash(1, 3, 6, &a, 80));
        assert_ne!(h, conn_hash(1, 2, 17, &a, 80));
        assert_ne!(h, conn_hash(1, 2, 6, &a, 81));
        let mut b = a;
        b[15] = 11;
        assert_ne!(h, conn_hash(1, 2, 6, &b, 80));
    }
}
