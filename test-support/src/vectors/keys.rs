//! Where the vectors' keys come from and what is derived from them: named
//! seeds, public keys, traffic keys and the parties' derived fields.

use lwsec::rng::{DeterministicRandom, SecureRandom};
use lwsec::{DirectionSecrets, StaticKeyPair};

use super::encoding::{hx, unhex32};
use super::model::{Parties, TrafficKeys};

/// Prefix of every named seed.
const SEED_PREFIX: &str = "lwsec test vectors v1/";

/// `n` bytes from the deterministic RNG seeded with
/// `"lwsec test vectors v1/" || label` (spec/VECTORS.md section 7).
pub fn seeded(label: &str, n: usize) -> Vec<u8> {
    let rng = DeterministicRandom::dangerous_from_seed_for_testing_only(
        format!("{SEED_PREFIX}{label}").as_bytes(),
    );
    let mut out = vec![0u8; n];
    rng.fill(&mut out).unwrap();
    out
}

/// The X25519 public key (hex) of a private key (hex).
pub fn public_of(private: &str) -> String {
    hx(StaticKeyPair::from_private_bytes(unhex32(private))
        .public_key()
        .as_bytes())
}

/// A direction's secret, key and IV as written in the vectors.
pub fn traffic_keys(d: &DirectionSecrets) -> TrafficKeys {
    TrafficKeys {
        secret: hx(&d.secret[..]),
        key: hx(&d.key[..]),
        iv: hx(&d.iv),
    }
}

/// `parties` with its outputs computed from its inputs: the public keys of
/// both static keys and the server key id.
pub fn with_public_keys(parties: &Parties) -> Parties {
    let server_public = public_of(&parties.server_static_private);
    Parties {
        server_key_id: hx(&lwsec::PublicKey::from_bytes(unhex32(&server_public)).key_id()),
        server_static_public: server_public,
        client_static_public: parties.client_static_private.as_deref().map(public_of),
        ..parties.clone()
    }
}
