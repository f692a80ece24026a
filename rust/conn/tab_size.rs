// SPDX-License-Identifier: GPL-2.0

//! Sizing of the connection hash table, like ip_vs's `conn_tab_bits`
//! (net/netfilter/ipvs/ip_vs_conn.c): the requested number of bits is
//! clamped to [8, max], where max follows the machine's memory (at most half
//! of RAM for the table and its entries, about four entries a bucket) and is
//! never above 27. Pure logic, tested on the host.

// Shared with the host crate, which uses more of it than the module.
#![allow(dead_code)]

/// Default `conn_tab_bits` (CONFIG_IP_VS_TAB_BITS).
pub(crate) const DEFAULT_BITS: i32 = 12;
/// Smallest table: 2^8 buckets.
pub(crate) const MIN_BITS: u32 = 8;
/// Largest table on 64-bit: 2^27 buckets.
pub(crate) const MAX_BITS: u32 = 27;

/// `order_base_2(n)`: the smallest `k` with `2^k >= n` (0 for n <= 1).
pub(crate) fn order_base_2(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        u64::BITS - (n - 1).leading_zeros()
    }
}

/// The number of bits the table gets for a requested value, given the
/// machine's `totalram_pages`, its `page_shift` and the size in bytes of one
/// connection entry.
pub(crate) fn conn_tab_bits(
    requested: i32,
    totalram_pages: u64,
    page_shift: u32,
    entry_size: u64,
) -> u32 {
    let avail = i64::from(order_base_2(totalram_pages)) + i64::from(page_shift)
        - 2 // ~4 entries per bucket
        - 1 // up to 1/2 of memory
        - i64::from(order_base_2(entry_size));
    let max = avail.clamp(i64::from(MIN_BITS), i64::from(MAX_BITS));
    let bits = i64::from(requested).clamp(i64::from(MIN_BITS), max);
    // `bits` is within [8, 27] here.
    u32::try_from(bits).unwrap_or(MIN_BITS)
}

/// The number of buckets for `bits` (bits <= 27, so this cannot overflow).
pub(crate) fn conn_tab_size(bits: u32) -> u32 {
    1u32.checked_shl(bits.min(MAX_BITS))
        .unwrap_or(1 << MAX_BITS)
}

/// The size a table of `2^bits` buckets holding `n` entries should be
/// resized to, if any: grown when it has more entries than buckets,
/// shrunk when it has fewer than an eighth, to between two and four
/// buckets an entry; within [`min`, `max`] bits.
pub(crate) fn fit_bits(n: u64, bits: u32, min: u32, max: u32) -> Option<u32> {
    let buckets = 1u64.checked_shl(bits)?;
    let target = order_base_2(n).saturating_add(1).clamp(min, max.max(min));
    let grow = n > buckets && target > bits;
    let shrink = n < buckets / 8 && target < bits;
    (grow || shrink).then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_grows_past_one_entry_a_bucket_and_shrinks_below_an_eighth() {
        // 4096 buckets: fine from 512 to 4096 entries.
        assert_eq!(fit_bits(4096, 12, 8, 27), None);
        assert_eq!(fit_bits(512, 12, 8, 27), None);
        assert_eq!(fit_bits(4097, 12, 8, 27), Some(14));
        assert_eq!(fit_bits(1_000_000, 12, 8, 27), Some(21));
        assert_eq!(fit_bits(4_000_000, 21, 8, 27), Some(23));
        assert_eq!(fit_bits(511, 12, 8, 27), Some(10));
        assert_eq!(fit_bits(0, 12, 8, 27), Some(8));
        assert_eq!(fit_bits(0, 8, 8, 27), None);
        // Bounded by memory.
        assert_eq!(fit_bits(1 << 30, 19, 8, 19), None);
        assert_eq!(fit_bits(1 << 30, 12, 8, 19), Some(19));
        // A grown table is steady where it landed.
        for n in [5000u64, 70_000, 1_000_000, 9_999_999] {
            let b = fit_bits(n, 8, 8, 27).unwrap_or(8);
            assert_eq!(fit_bits(n, b, 8, 27), None, "{n}");
            let chain = n as f64 / (1u64 << b) as f64;
            assert!(chain <= 0.5 && chain > 0.25 - 1e-9, "{n}: {chain}");
        }
    }

    #[test]
    fn order_base_2_matches_c() {
        assert_eq!(order_base_2(0), 0);
        assert_eq!(order_base_2(1), 0);
        assert_eq!(order_base_2(2), 1);
        assert_eq!(order_base_2(3), 2);
        assert_eq!(order_base_2(4096), 12);
        assert_eq!(order_base_2(4097), 13);
    }

    #[test]
    fn default_on_two_gib() {
        // 2 GiB of 4 KiB pages, 512-byte entries: max = 19 + 12 - 3 - 9 = 19.
        let pages = 2u64 << 30 >> 12;
        assert_eq!(conn_tab_bits(DEFAULT_BITS, pages, 12, 512), 12);
        assert_eq!(conn_tab_size(12), 4096);
        assert_eq!(conn_tab_bits(30, pages, 12, 512), 19);
        assert_eq!(conn_tab_bits(-5, pages, 12, 512), 8);
        assert_eq!(conn_tab_bits(i32::MIN, 0, 12, 512), 8);
        assert_eq!(conn_tab_bits(i32::MAX, u64::MAX, 12, 1), 27);
    }

    #[test]
    fn tiny_memory_still_gets_the_minimum() {
        assert_eq!(conn_tab_bits(20, 16, 12, 512), 8);
    }
}
