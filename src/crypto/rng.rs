//! Randomness as an input: the [`SecureRandom`] trait and its implementations.
//!
//! The sans-IO core never reaches for a global RNG. Configurations carry an
//! `Arc<dyn SecureRandom>`; production code uses [`OsRandom`], and tests or
//! vector generators inject a deterministic source so that every byte on the
//! wire is reproducible.

use std::fmt;

use rand_core::{OsRng, RngCore};

use crate::error::Error;

/// A source of cryptographically secure random bytes.
pub trait SecureRandom: Send + Sync + fmt::Debug {
    /// Fills `dest` entirely with random bytes, or fails with [`Error::Rng`].
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error>;
}

/// The operating system's random number generator (`getrandom`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        OsRng.try_fill_bytes(dest).map_err(|_| Error::Rng)
    }
}

#[cfg(any(test, feature = "dangerous"))]
#[cfg_attr(docsrs, doc(cfg(feature = "dangerous")))]
pub use deterministic::DeterministicRandom;

#[cfg(any(test, feature = "dangerous"))]
mod deterministic {
    use std::fmt;
    use std::sync::Mutex;

    use super::SecureRandom;
    use crate::crypto::RUST_CRYPTO;
    use crate::error::Error;

    /// A deterministic byte stream expanded from a seed with SHA-256 in counter
    /// mode. **Never use it for real connections**: anyone who knows the seed
    /// knows every key. It exists so that vectors and tests are reproducible.
    pub struct DeterministicRandom {
        seed: [u8; 32],
        state: Mutex<(u64, Vec<u8>)>,
    }

    impl DeterministicRandom {
        /// A stream determined entirely by `seed`.
        pub fn dangerous_from_seed_for_testing_only(seed: &[u8]) -> Self {
            Self {
                seed: RUST_CRYPTO.hash.sha256(&[b"lwsec deterministic rng", seed]),
                state: Mutex::new((0, Vec::new())),
            }
        }
    }

    impl fmt::Debug for DeterministicRandom {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("DeterministicRandom(<testing only>)")
        }
    }

    impl SecureRandom for DeterministicRandom {
        fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
            let mut guard = self.state.lock().map_err(|_| Error::Rng)?;
            let (counter, pool) = &mut *guard;
            for byte in dest.iter_mut() {
                if pool.is_empty() {
                    let block = RUST_CRYPTO
                        .hash
                        .sha256(&[&self.seed, &counter.to_be_bytes()]);
                    *counter = counter.checked_add(1).ok_or(Error::Rng)?;
                    pool.extend(block.iter().rev());
                }
                *byte = pool.pop().ok_or(Error::Rng)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_random_is_reproducible_and_not_constant() {
        let a = DeterministicRandom::dangerous_from_seed_for_testing_only(b"x");
        let b = DeterministicRandom::dangerous_from_seed_for_testing_only(b"x");
        let (mut x, mut y) = ([0u8; 50], [0u8; 50]);
        a.fill(&mut x).unwrap();
        b.fill(&mut y[..20]).unwrap();
        b.fill(&mut y[20..]).unwrap();
        assert_eq!(x, y);
        assert_ne!(x[..16], x[16..32]);
    }
}
