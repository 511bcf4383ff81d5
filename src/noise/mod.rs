//! The Noise Protocol Framework (revision 34), restricted to what lwsec uses:
//! patterns `NK` and `IK`, DH `25519`, ciphers `AESGCM` and `ChaChaPoly`,
//! hash `SHA256`. Objects and functions carry the names of the spec's
//! sections 5.1 (`CipherState`), 5.2 (`SymmetricState`) and 5.3
//! (`HandshakeState`), so a reader holding the spec finds each one.

mod cipher_state;
mod handshake_state;
mod patterns;
mod symmetric_state;
#[cfg(test)]
mod vector_tests;

pub(crate) use cipher_state::CipherState;
pub(crate) use handshake_state::{HandshakeState, Initialize, LocalKey};
pub(crate) use patterns::NoisePattern;
#[cfg(test)]
pub(crate) use symmetric_state::SymmetricState;
