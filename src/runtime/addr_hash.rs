//! A hasher for maps keyed by addresses (`VMFuncRef` pointers): one multiplication instead
//! of SipHash. The keys are addresses of our own allocations, not attacker-chosen values,
//! so flooding resistance buys nothing there.

use std::hash::{BuildHasherDefault, Hasher};

/// Hashes one integer key by a multiplication (Fibonacci hashing): the high bits, which
/// `HashMap` uses, depend on every bit of the key.
#[derive(Default, Clone, Copy)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by integer keys; kept correct for any other key.
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// `BuildHasher` of [`AddrHasher`], for `HashMap<usize, _, BuildAddrHasher>`.
pub type BuildAddrHasher = BuildHasherDefault<AddrHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn aligned_addresses_spread_over_the_high_bits() {
        let hash = |k: usize| {
            let mut h = AddrHasher::default();
            h.write_usize(k);
            h.finish() >> 57
        };
        // 16-byte aligned keys differ only above bit 4; the top 7 bits must still vary.
        let tops: std::collections::HashSet<u64> = (0..256).map(|i| hash(0x7f00_0000_0000 + 16 * i)).collect();
        assert!(tops.len() > 64, "only {} distinct top-7-bit values", tops.len());
        let mut m: HashMap<usize, u32, BuildAddrHasher> = HashMap::default();
        for i in 0..1000 {
            m.insert(0x5000 + 32 * i, i as u32);
        }
        assert!((0..1000).all(|i| m[&(0x5000 + 32 * i)] == i as u32));
        assert!(!m.contains_key(&0x5010));
    }
}
