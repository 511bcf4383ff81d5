//! The key text format: how static keys are saved, loaded and pinned.
//!
//! ```text
//! lwsec-secret-v1:<64 lowercase hex digits: the X25519 private key>
//! lwsec-public-v1:<64 lowercase hex digits: the X25519 public key>
//! ```
//!
//! A key file holds one such line. Blank lines and lines starting with `#`
//! are ignored, as is white space around the line; upper-case hex digits are
//! accepted. Anything else is an [`Error::InvalidKey`] that says what is wrong.
//!
//! ```
//! use lwsec::{PublicKey, StaticKeyPair, rng::OsRandom};
//! let pair = StaticKeyPair::generate(&OsRandom)?;
//! let saved = pair.to_text();
//! let loaded = StaticKeyPair::from_text(&saved)?;
//! assert_eq!(loaded.public_key(), pair.public_key());
//! let pinned = PublicKey::from_text(&pair.public_key().to_text())?;
//! assert_eq!(pinned, pair.public_key());
//! # Ok::<(), lwsec::Error>(())
//! ```

use std::io::{self, Write};
use std::path::Path;

use zeroize::Zeroizing;

use crate::crypto::dh::{KEY_LEN, PublicKey, StaticKeyPair};
use crate::error::Error;

/// Prefix of a saved private key.
pub const SECRET_PREFIX: &str = "lwsec-secret-v1:";
/// Prefix of a saved public key.
pub const PUBLIC_PREFIX: &str = "lwsec-public-v1:";

const HEX: &[u8; 16] = b"0123456789abcdef";

fn encode(prefix: &str, bytes: &[u8; KEY_LEN]) -> String {
    let mut out = String::with_capacity(prefix.len().saturating_add(2 * KEY_LEN));
    out.push_str(prefix);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(*HEX.get(usize::from(nibble)).unwrap_or(&b'0')));
        }
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => u8::try_from(char::from(c).to_digit(16)?).ok(),
        _ => None,
    }
}

/// The one meaningful line of a key text, without comments and blank lines.
fn key_line(text: &str) -> Result<&str, Error> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines.next().ok_or(Error::InvalidKey(
        "no key found (empty text or only comments)",
    ))?;
    if lines.next().is_some() {
        return Err(Error::InvalidKey(
            "more than one key line; a key file holds exactly one key",
        ));
    }
    Ok(line)
}

fn decode(
    text: &str,
    prefix: &str,
    other_prefix: &str,
    wrong_kind: &'static str,
) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    let line = key_line(text)?;
    if line.starts_with(other_prefix) {
        return Err(Error::InvalidKey(wrong_kind));
    }
    let digits = line.strip_prefix(prefix).ok_or(match prefix {
        SECRET_PREFIX => Error::InvalidKey("missing the prefix `lwsec-secret-v1:`"),
        _ => Error::InvalidKey("missing the prefix `lwsec-public-v1:`"),
    })?;
    let digits = digits.as_bytes();
    if digits.len() != 2 * KEY_LEN {
        return Err(Error::InvalidKey(
            "a key has exactly 64 hex digits after the prefix",
        ));
    }
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (Some(hi), Some(lo)) = (
            pair.first().copied().and_then(hex_value),
            pair.get(1).copied().and_then(hex_value),
        ) else {
            return Err(Error::InvalidKey(
                "a key may only contain hex digits 0-9 and a-f after the prefix",
            ));
        };
        *byte = (hi << 4) | lo;
    }
    Ok(out)
}

impl StaticKeyPair {
    /// The private key in the text format (`lwsec-secret-v1:...`). Keep it secret.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(encode(SECRET_PREFIX, &self.private_bytes()))
    }

    /// Loads a key pair from the text format.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let bytes = decode(
            text,
            SECRET_PREFIX,
            PUBLIC_PREFIX,
            "this is a public key; a secret key (`lwsec-secret-v1:`) is needed",
        )?;
        Ok(Self::from_private_bytes(*bytes))
    }
}

impl PublicKey {
    /// The public key in the text format (`lwsec-public-v1:...`).
    pub fn to_text(&self) -> String {
        encode(PUBLIC_PREFIX, self.as_bytes())
    }

    /// Loads a public key (for pinning) from the text format.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let bytes = decode(
            text,
            PUBLIC_PREFIX,
            SECRET_PREFIX,
            "this is a secret key; pin the public key (`lwsec-public-v1:`) instead",
        )?;
        Ok(Self::from_bytes(*bytes))
    }
}

/// Parses a list of pinned server public keys: one `lwsec-public-v1:` line
/// per key; blank lines and `#` comments are ignored. At least one key is
/// required.
///
/// The keys are in order: a client connects with the first
/// ([`ClientConfig::set_pinned_keys`](crate::ClientConfig::set_pinned_keys))
/// and never falls back to another because a handshake failed (that failure
/// is unauthenticated); pins change when the server announces new keys
/// inside the handshake ([`Event::ServerKeysAnnounced`](crate::Event::ServerKeysAnnounced)).
pub fn load_pinned_keys(text: &str) -> Result<Vec<PublicKey>, Error> {
    let keys = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(PublicKey::from_text)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(Error::InvalidKey(
            "no key found (empty text or only comments)",
        ));
    }
    Ok(keys)
}

/// Reads a file of pinned server public keys (see [`load_pinned_keys`]).
pub fn load_pinned_keys_file(path: impl AsRef<Path>) -> io::Result<Vec<PublicKey>> {
    Ok(load_pinned_keys(&std::fs::read_to_string(path)?)?)
}

impl StaticKeyPair {
    /// Reads a key pair saved by [`save`](Self::save) (or any file holding
    /// one `lwsec-secret-v1:` line).
    pub fn load(path: impl AsRef<Path>) -> io::Result<Self> {
        let text = Zeroizing::new(std::fs::read_to_string(path)?);
        Ok(Self::from_text(&text)?)
    }

    /// Writes the key pair to `path` (replacing it), readable by the owner
    /// only (mode 0600) on Unix. A comment line records the public key.
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path)?;
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        let text = Zeroizing::new(format!(
            "# lwsec static key pair: keep this file secret\n# public: {}\n{}\n",
            self.public_key().to_text(),
            self.to_text().as_str()
        ));
        file.write_all(text.as_bytes())?;
        file.sync_all()
    }
}

impl PublicKey {
    /// Reads a public key file (one `lwsec-public-v1:` line).
    pub fn load(path: impl AsRef<Path>) -> io::Result<Self> {
        Ok(Self::from_text(&std::fs::read_to_string(path)?)?)
    }

    /// Writes the public key to `path` (replacing it).
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        std::fs::write(path, format!("{}\n", self.to_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_round_trips_and_errors_are_specific() {
        let pair = StaticKeyPair::from_private_bytes([7; 32]);
        let text = format!("# my server key\n\n  {}  \n", pair.to_text().as_str());
        assert_eq!(
            StaticKeyPair::from_text(&text).unwrap().public_key(),
            pair.public_key()
        );
        let public = pair.public_key().to_text();
        assert_eq!(
            PublicKey::from_text(
                &public
                    .to_uppercase()
                    .replace("LWSEC-PUBLIC-V1:", PUBLIC_PREFIX)
            )
            .unwrap(),
            pair.public_key()
        );
        assert!(
            matches!(StaticKeyPair::from_text(&public), Err(Error::InvalidKey(m)) if m.contains("public key"))
        );
        assert!(
            matches!(PublicKey::from_text(&pair.to_text()), Err(Error::InvalidKey(m)) if m.contains("secret key"))
        );
        assert!(
            matches!(PublicKey::from_text(""), Err(Error::InvalidKey(m)) if m.contains("no key"))
        );
        assert!(
            matches!(PublicKey::from_text("lwsec-public-v1:abcd"), Err(Error::InvalidKey(m)) if m.contains("64 hex"))
        );
        let bad = format!("{PUBLIC_PREFIX}{}", "zz".repeat(32));
        assert!(
            matches!(PublicKey::from_text(&bad), Err(Error::InvalidKey(m)) if m.contains("hex digits"))
        );
        assert!(
            matches!(PublicKey::from_text("ssh-ed25519 AAAA"), Err(Error::InvalidKey(m)) if m.contains("prefix"))
        );
        assert!(
            matches!(PublicKey::from_text(&format!("{public}\n{public}")), Err(Error::InvalidKey(m)) if m.contains("more than one"))
        );
    }
    #[test]
    fn pinned_key_lists_and_files() {
        let a = StaticKeyPair::from_private_bytes([1; 32]);
        let b = StaticKeyPair::from_private_bytes([2; 32]);
        let text = format!(
            "# current\n{}\n\n# next\n  {}\n",
            a.public_key().to_text(),
            b.public_key().to_text()
        );
        assert_eq!(
            load_pinned_keys(&text).unwrap(),
            vec![a.public_key(), b.public_key()]
        );
        assert!(matches!(
            load_pinned_keys("# none\n"),
            Err(Error::InvalidKey(_))
        ));
        let bad = format!("{text}{}\n", a.to_text().as_str());
        assert!(
            matches!(load_pinned_keys(&bad), Err(Error::InvalidKey(m)) if m.contains("secret key"))
        );

        let dir = std::env::temp_dir().join(format!("lwsec-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (secret, public) = (dir.join("k.key"), dir.join("k.pub"));
        a.save(&secret).unwrap();
        a.public_key().save(&public).unwrap();
        assert_eq!(
            StaticKeyPair::load(&secret).unwrap().public_key(),
            a.public_key()
        );
        assert_eq!(PublicKey::load(&public).unwrap(), a.public_key());
        assert_eq!(
            load_pinned_keys_file(&public).unwrap(),
            vec![a.public_key()]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = PublicKey::load(&secret).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
