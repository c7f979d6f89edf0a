//! Shard hash ranges over the MD5 key space (SLS-API.md §8).
//!
//! A range is `[begin, end)` over u128. The last shard's end is written `ffff…ffff` on the wire
//! although it is exclusive; we represent it as `u128::MAX` and treat the key `ff…ff` as
//! belonging to it, which is what clients expect.

/// Status of a shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardStatus {
    /// Accepts writes.
    Readwrite,
    /// Closed by a split or merge; readable until its data expires.
    Readonly,
}

impl ShardStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ShardStatus::Readwrite => "readwrite",
            ShardStatus::Readonly => "readonly",
        }
    }
}

/// `n` ranges splitting the key space evenly: cut points at `floor(i * 2^128 / n)`.
///
/// Returns an empty vector for `n == 0`.
pub fn even_ranges(n: u32) -> Vec<(u128, u128)> {
    let n = u128::from(n);
    // floor(i * 2^128 / n) without overflowing: (2^128 / n) * i + ((2^128 % n) * i) / n.
    let q = u128::MAX.checked_div(n).unwrap_or(0);
    let r = u128::MAX.checked_rem(n).map_or(0, |r| r + 1);
    // n == 1 wraps q, but then q is never used (cut(0) = 0, cut(1) = MAX).
    let (q, r) = if r == n {
        (q.wrapping_add(1), 0)
    } else {
        (q, r)
    };
    let cut = |i: u128| -> u128 {
        if i == 0 {
            0
        } else if i >= n {
            u128::MAX
        } else {
            q * i + (r * i) / n
        }
    };
    (0..n).map(|i| (cut(i), cut(i + 1))).collect()
}

/// Whether `key` falls in `[begin, end)`, with `end == u128::MAX` also holding `u128::MAX`.
pub fn range_contains(begin: u128, end: u128, key: u128) -> bool {
    key >= begin && (key < end || (end == u128::MAX && key == u128::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sls_protocol::hash::format_hash_key;

    #[test]
    fn four_shards_match_the_docs() {
        let keys: Vec<(String, String)> = even_ranges(4)
            .into_iter()
            .map(|(b, e)| (format_hash_key(b), format_hash_key(e)))
            .collect();
        assert_eq!(keys[0].0, "00000000000000000000000000000000");
        assert_eq!(keys[1].0, "40000000000000000000000000000000");
        assert_eq!(keys[2].0, "80000000000000000000000000000000");
        assert_eq!(keys[3].0, "c0000000000000000000000000000000");
        assert_eq!(keys[3].1, "ffffffffffffffffffffffffffffffff");
    }

    #[test]
    fn two_shards_cut_at_80() {
        let r = even_ranges(2);
        assert_eq!(format_hash_key(r[0].1), "80000000000000000000000000000000");
    }

    proptest! {
        #[test]
        fn even_ranges_partition_the_space(n in 1u32..300, key: u128) {
            let r = even_ranges(n);
            prop_assert_eq!(r.len(), n as usize);
            prop_assert_eq!(r[0].0, 0);
            prop_assert_eq!(r[r.len() - 1].1, u128::MAX);
            for w in r.windows(2) {
                prop_assert_eq!(w[0].1, w[1].0);
                prop_assert!(w[0].0 < w[0].1);
            }
            let holders = r.iter().filter(|(b, e)| range_contains(*b, *e, key)).count();
            prop_assert_eq!(holders, 1);
        }
    }
}
