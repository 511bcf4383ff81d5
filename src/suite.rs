//! Cipher suites and handshake patterns, with their wire codes.

use std::fmt;

/// An AEAD cipher suite. The hash (SHA-256) and DH (X25519) are fixed.
///
/// Choose [`Suite::Aes256Gcm`] on machines with AES instructions (most
/// servers, modern phones) and [`Suite::ChaCha20Poly1305`] elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Suite {
    /// AES-256-GCM (Noise cipher name `AESGCM`), wire code 0x01.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (Noise cipher name `ChaChaPoly`), wire code 0x02.
    ChaCha20Poly1305,
}

impl Suite {
    /// Every suite this version supports, in lwsec's default preference order.
    pub const ALL: [Suite; 2] = [Suite::Aes256Gcm, Suite::ChaCha20Poly1305];

    /// The suite's code on the wire.
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::Aes256Gcm => 0x01,
            Self::ChaCha20Poly1305 => 0x02,
        }
    }

    /// The suite for a wire code, if this version knows it.
    pub const fn from_u8(code: u8) -> Option<Self> {
        match code {
            0x01 => Some(Self::Aes256Gcm),
            0x02 => Some(Self::ChaCha20Poly1305),
            _ => None,
        }
    }

    /// The cipher's name in a Noise protocol name.
    pub const fn noise_name(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "AESGCM",
            Self::ChaCha20Poly1305 => "ChaChaPoly",
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Aes256Gcm => "AES-256-GCM",
            Self::ChaCha20Poly1305 => "ChaCha20-Poly1305",
        })
    }
}

/// A Noise handshake pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pattern {
    /// `NK`: the server is authenticated by its pinned static key; the client
    /// stays anonymous. Wire code 0x01.
    Nk,
    /// `IK`: both sides are authenticated; the client's static (device) key
    /// travels encrypted in the first message. Wire code 0x02.
    Ik,
}

impl Pattern {
    /// The pattern's code on the wire.
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::Nk => 0x01,
            Self::Ik => 0x02,
        }
    }

    /// The pattern for a wire code, if this version knows it.
    pub const fn from_u8(code: u8) -> Option<Self> {
        match code {
            0x01 => Some(Self::Nk),
            0x02 => Some(Self::Ik),
            _ => None,
        }
    }

    /// The pattern's name in a Noise protocol name.
    pub const fn noise_name(self) -> &'static str {
        match self {
            Self::Nk => "NK",
            Self::Ik => "IK",
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noise_name())
    }
}

/// The full Noise protocol name, e.g. `Noise_IK_25519_ChaChaPoly_SHA256`.
#[cfg(any(test, feature = "dangerous"))]
pub fn noise_protocol_name(pattern: Pattern, suite: Suite) -> String {
    format!(
        "Noise_{}_25519_{}_SHA256",
        pattern.noise_name(),
        suite.noise_name()
    )
}
