//! Randomness replayed from recorded bytes: how tests, vectors and fuzz
//! targets give a connection exact ephemeral keys.

use std::collections::VecDeque;
use std::sync::Mutex;

use lwsec::Error;
use lwsec::rng::SecureRandom;

/// Randomness that yields the given bytes, then fails: exact ephemeral keys
/// for lwsec connections (each ephemeral key takes 32 bytes).
#[derive(Debug)]
pub struct ReplayRandom(Mutex<VecDeque<u8>>);

impl ReplayRandom {
    /// Yields `bytes`, then fails with [`Error::Rng`].
    pub fn new(bytes: &[u8]) -> Self {
        Self(Mutex::new(bytes.iter().copied().collect()))
    }

    /// How many bytes are left to yield.
    pub fn remaining(&self) -> usize {
        self.0.lock().map_or(0, |q| q.len())
    }
}

impl SecureRandom for ReplayRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        let mut queue = self.0.lock().map_err(|_| Error::Rng)?;
        if queue.len() < dest.len() {
            return Err(Error::Rng);
        }
        for b in dest.iter_mut() {
            *b = queue.pop_front().ok_or(Error::Rng)?;
        }
        Ok(())
    }
}
