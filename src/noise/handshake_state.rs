//! `HandshakeState` (Noise spec section 5.3).

use zeroize::Zeroizing;

use crate::crypto::aead::TAG_LEN;
use crate::crypto::dh::{KEY_LEN, PublicKey, StaticKeyPair};
use crate::crypto::hash::HASH_LEN;
use crate::crypto::rng::SecureRandom;
use crate::crypto::{AgreementKey, CryptoProvider};
use crate::error::Error;
use crate::error::{DecodeReason, UnexpectedReason};
use crate::noise::patterns::{NoisePattern, Token, message_patterns};
use crate::noise::symmetric_state::SymmetricState;
use crate::suite::Suite;

/// `Split()` output: the initiator-to-responder key, the responder-to-initiator
/// key and the final handshake hash.
pub(crate) type SplitOutput = (
    Zeroizing<[u8; HASH_LEN]>,
    Zeroizing<[u8; HASH_LEN]>,
    [u8; HASH_LEN],
);

/// The state of one side of a Noise handshake.
///
/// Unlike the spec's `WriteMessage`, the local ephemeral key pair is given by
/// the caller (generated from its injected RNG), which keeps this type free
/// of randomness: the initiator passes it to [`HandshakeState::initialize`];
/// the responder passes it to [`HandshakeState::set_ephemeral`] only when it
/// is about to write, so a first message that fails to decrypt costs it no
/// key generation.
pub(crate) struct HandshakeState {
    provider: &'static CryptoProvider,
    symmetric: SymmetricState,
    pattern: NoisePattern,
    initiator: bool,
    /// The pre-shared key of a `psk` pattern (resumption).
    psk: Option<Zeroizing<[u8; HASH_LEN]>>,
    s: Option<StaticKeyPair>,
    e: Option<LocalKey>,
    rs: Option<PublicKey>,
    re: Option<PublicKey>,
    /// Index of the next message pattern to write or read.
    next_message: usize,
}

/// A local key pair for Diffie-Hellman: a static key pair (which keeps
/// its parsed key for every provider), or an ephemeral key parsed once by
/// the handshake's provider (one allocation, no cache).
pub(crate) enum LocalKey {
    /// A key pair given by the caller (test vectors).
    #[cfg(test)]
    Pair(StaticKeyPair),
    /// A fresh ephemeral key, as the provider parsed it.
    Parsed {
        key: Box<dyn AgreementKey>,
        public: PublicKey,
    },
}

impl LocalKey {
    /// A fresh ephemeral key from `rng`: the same 32 random bytes
    /// [`StaticKeyPair::generate_with`] would draw, so the same key.
    pub(crate) fn generate(
        provider: &'static CryptoProvider,
        rng: &dyn SecureRandom,
    ) -> Result<Self, Error> {
        let mut private = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill(private.as_mut())?;
        let key = provider.kx.private_key(&private)?;
        let public = PublicKey::from_bytes(key.public_key());
        Ok(Self::Parsed { key, public })
    }

    fn public_key(&self) -> PublicKey {
        match self {
            #[cfg(test)]
            Self::Pair(pair) => pair.public_key(),
            Self::Parsed { public, .. } => *public,
        }
    }

    fn dh(
        &self,
        provider: &'static CryptoProvider,
        remote: &PublicKey,
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
        match self {
            #[cfg(test)]
            Self::Pair(pair) => pair.dh(provider, remote),
            Self::Parsed { key, .. } => {
                // Parsed by the handshake's provider already.
                let _ = provider;
                key.agree(remote.as_bytes())
            }
        }
    }
}

/// The Noise protocol name of `pattern` and `suite`, as a constant (equal
/// to `noise_protocol_name`, which formats it, feature `dangerous`).
fn protocol_name(pattern: NoisePattern, suite: Suite) -> &'static str {
    match (pattern, suite) {
        (NoisePattern::Nk, Suite::Aes256Gcm) => "Noise_NK_25519_AESGCM_SHA256",
        (NoisePattern::Nk, Suite::ChaCha20Poly1305) => "Noise_NK_25519_ChaChaPoly_SHA256",
        (NoisePattern::Ik, Suite::Aes256Gcm) => "Noise_IK_25519_AESGCM_SHA256",
        (NoisePattern::Ik, Suite::ChaCha20Poly1305) => "Noise_IK_25519_ChaChaPoly_SHA256",
        (NoisePattern::NNpsk0, Suite::Aes256Gcm) => "Noise_NNpsk0_25519_AESGCM_SHA256",
        (NoisePattern::NNpsk0, Suite::ChaCha20Poly1305) => "Noise_NNpsk0_25519_ChaChaPoly_SHA256",
    }
}

/// Splits the first `len` bytes off the front of `input`.
fn take<'a>(
    input: &mut &'a mut [u8],
    len: usize,
    what: DecodeReason,
) -> Result<&'a mut [u8], Error> {
    if input.len() < len {
        return Err(Error::Decode(what));
    }
    let (head, tail) = std::mem::take(input).split_at_mut(len);
    *input = tail;
    Ok(head)
}

fn public_key(bytes: &[u8]) -> Result<PublicKey, Error> {
    let arr: [u8; KEY_LEN] = bytes
        .try_into()
        .map_err(|_| Error::Decode(DecodeReason::PublicKeyLength))?;
    Ok(PublicKey::from_bytes(arr))
}

/// The inputs of the spec's `Initialize`, plus the provider: see
/// [`HandshakeState::initialize`].
pub(crate) struct Initialize<'a> {
    pub(crate) provider: &'static CryptoProvider,
    pub(crate) pattern: NoisePattern,
    pub(crate) suite: Suite,
    pub(crate) initiator: bool,
    /// Hashed part by part, without being copied together.
    pub(crate) prologue: &'a [&'a [u8]],
    pub(crate) s: Option<StaticKeyPair>,
    pub(crate) e: Option<LocalKey>,
    pub(crate) rs: Option<PublicKey>,
    /// The pre-shared key, for `NNpsk0`.
    pub(crate) psk: Option<Zeroizing<[u8; HASH_LEN]>>,
}

impl HandshakeState {
    /// `Initialize(handshake_pattern, initiator, prologue, s, e, rs, re)` for
    /// NK and IK, whose only pre-message is the responder's static key, and
    /// for NNpsk0 (no pre-message; the psk is given here).
    /// The prologue is the concatenation of `prologue` (at most three
    /// parts, hashed without being copied together).
    ///
    /// The initiator passes the responder's key as `rs`; the responder passes
    /// its own static key as `s` (and, for IK, the initiator's `s` is learnt
    /// from message 1).
    pub(crate) fn initialize(init: Initialize<'_>) -> Result<Self, Error> {
        let Initialize {
            provider,
            pattern,
            suite,
            initiator,
            prologue,
            s,
            e,
            rs,
            psk,
        } = init;
        let mut symmetric =
            SymmetricState::initialize_symmetric(provider, protocol_name(pattern, suite), suite);
        symmetric.mix_hash_parts(prologue)?;
        if pattern.has_psk() != psk.is_some() {
            return Err(Error::Internal("a psk exactly for psk patterns"));
        }
        if !pattern.responder_static_premessage() {
            return Ok(Self {
                provider,
                symmetric,
                pattern,
                initiator,
                psk,
                s: None,
                e,
                rs: None,
                re: None,
                next_message: 0,
            });
        }
        // Pre-message `<- s`: the responder's static public key.
        let responder_static = if initiator {
            rs.ok_or(Error::InvalidConfig(
                "the server's static public key is required",
            ))?
        } else {
            s.as_ref()
                .map(StaticKeyPair::public_key)
                .ok_or(Error::InvalidConfig(
                    "the server's static key pair is required",
                ))?
        };
        if initiator && pattern == NoisePattern::Ik && s.is_none() {
            return Err(Error::InvalidConfig(
                "IK needs the client's static key pair",
            ));
        }
        symmetric.mix_hash(responder_static.as_bytes());
        Ok(Self {
            provider,
            symmetric,
            pattern,
            initiator,
            psk: None,
            s,
            e,
            rs,
            re: None,
            next_message: 0,
        })
    }

    /// Sets the local ephemeral key pair (the responder, before it writes).
    pub(crate) fn set_ephemeral(&mut self, e: LocalKey) {
        self.e = Some(e);
    }

    fn tokens(&self) -> Result<&'static [Token], Error> {
        message_patterns(self.pattern)
            .get(self.next_message)
            .copied()
            .ok_or(Error::UnexpectedMessage(UnexpectedReason::NoiseFinished))
    }

    /// Whether it is this side's turn to write.
    fn my_turn(&self) -> bool {
        (self.next_message % 2 == 0) == self.initiator
    }

    /// The DH a token asks for, from this side's point of view.
    fn dh_token(&mut self, token: Token) -> Result<(), Error> {
        let missing = Error::UnexpectedMessage(UnexpectedReason::KeyMissingForDh);
        let shared = match (token, self.initiator) {
            (Token::Ee, _) => self.dh_e(self.re),
            (Token::Es, true) | (Token::Se, false) => self.dh_e(self.rs),
            (Token::Es, false) | (Token::Se, true) => self.dh_s(self.re),
            (Token::Ss, _) => self.dh_s(self.rs),
            (Token::E | Token::S | Token::Psk, _) => None,
        }
        .ok_or(missing)??;
        self.symmetric.mix_key(shared.as_ref())
    }

    /// `DH(e, remote)`, or `None` when a key is missing.
    fn dh_e(&self, remote: Option<PublicKey>) -> Option<Result<Zeroizing<[u8; KEY_LEN]>, Error>> {
        Some(self.e.as_ref()?.dh(self.provider, &remote?))
    }

    /// `DH(s, remote)`, or `None` when a key is missing.
    fn dh_s(&self, remote: Option<PublicKey>) -> Option<Result<Zeroizing<[u8; KEY_LEN]>, Error>> {
        Some(self.s.as_ref()?.dh(self.provider, &remote?))
    }

    /// An `e` token's hashing: `MixHash(e)`, and in a psk pattern also
    /// `MixKey(e)` (Noise spec section 9.2).
    fn mix_e(&mut self, e: &[u8; KEY_LEN]) -> Result<(), Error> {
        self.symmetric.mix_hash(e);
        if self.pattern.has_psk() {
            self.symmetric.mix_key(e)?;
        }
        Ok(())
    }

    /// The `psk` token: `MixKeyAndHash(psk)`.
    fn mix_psk(&mut self) -> Result<(), Error> {
        let psk = self
            .psk
            .take()
            .ok_or(Error::Internal("psk token without a psk"))?;
        self.symmetric.mix_key_and_hash(psk.as_ref())
    }

    /// The length of the next message this side writes with a payload of
    /// `payload_len` bytes.
    pub(crate) fn message_len(&self, payload_len: usize) -> Result<usize, Error> {
        Ok(self.min_message_len()?.saturating_add(payload_len))
    }

    /// `WriteMessage(payload, message_buffer)`: appends the message to `out`.
    /// On failure `out` is truncated back to its original length.
    pub(crate) fn write_message(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let original_len = out.len();
        let len = self.message_len(payload.len())?;
        out.resize(original_len.saturating_add(len), 0);
        let result = match out.get_mut(original_len..) {
            Some(slot) => self.write_message_to(payload, slot),
            None => Err(Error::Internal("write_message: buffer")),
        };
        match result {
            Ok(written) => {
                out.truncate(original_len.saturating_add(written));
                Ok(())
            }
            Err(e) => {
                out.truncate(original_len);
                Err(e)
            }
        }
    }

    /// `WriteMessage(payload, message_buffer)` into `out`, which must hold
    /// at least [`message_len`](Self::message_len) bytes (the message is
    /// built in place, e.g. in the send buffer); returns the length written.
    pub(crate) fn write_message_to(
        &mut self,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        if !self.my_turn() {
            return Err(Error::UnexpectedMessage(
                UnexpectedReason::NotOurTurnToWrite,
            ));
        }
        let short = Error::Internal("write_message: buffer shorter than the message");
        let mut pos = 0usize;
        for &token in self.tokens()? {
            match token {
                Token::E => {
                    let e_pub = self
                        .e
                        .as_ref()
                        .map(LocalKey::public_key)
                        .ok_or(Error::Internal("no local ephemeral key to write"))?;
                    let end = pos.saturating_add(KEY_LEN);
                    out.get_mut(pos..end)
                        .ok_or(short.clone())?
                        .copy_from_slice(e_pub.as_bytes());
                    self.mix_e(e_pub.as_bytes())?;
                    pos = end;
                }
                Token::S => {
                    let s_pub = self.s.as_ref().map(StaticKeyPair::public_key).ok_or(
                        Error::InvalidConfig("IK needs the client's static key pair"),
                    )?;
                    let slot = out.get_mut(pos..).ok_or(short.clone())?;
                    slot.get_mut(..KEY_LEN)
                        .ok_or(short.clone())?
                        .copy_from_slice(s_pub.as_bytes());
                    let n = self.symmetric.encrypt_and_hash_in_place(slot, KEY_LEN)?;
                    pos = pos.saturating_add(n);
                }
                Token::Psk => self.mix_psk()?,
                dh => self.dh_token(dh)?,
            }
        }
        let slot = out.get_mut(pos..).ok_or(short.clone())?;
        slot.get_mut(..payload.len())
            .ok_or(short)?
            .copy_from_slice(payload);
        let n = self
            .symmetric
            .encrypt_and_hash_in_place(slot, payload.len())?;
        self.next_message = self.next_message.saturating_add(1);
        Ok(pos.saturating_add(n))
    }

    /// `ReadMessage(message, payload_buffer)`, decrypting in place:
    /// `message` is overwritten and the decrypted payload, a part of it,
    /// returned.
    pub(crate) fn read_message<'m>(&mut self, message: &'m mut [u8]) -> Result<&'m [u8], Error> {
        if self.my_turn() {
            return Err(Error::UnexpectedMessage(UnexpectedReason::NotOurTurnToRead));
        }
        // Checked before any Diffie-Hellman, so a short message is a
        // `decode_error` whatever else is wrong with it (spec 4.3, 4.6).
        if message.len() < self.min_message_len()? {
            return Err(Error::Decode(DecodeReason::HandshakeMessageTooShort));
        }
        let mut rest = message;
        for &token in self.tokens()? {
            match token {
                Token::E => {
                    let re = public_key(take(
                        &mut rest,
                        KEY_LEN,
                        DecodeReason::TruncatedEphemeralKey,
                    )?)?;
                    self.mix_e(re.as_bytes())?;
                    self.re = Some(re);
                }
                Token::S => {
                    let len = if self.symmetric.has_key() {
                        KEY_LEN + TAG_LEN
                    } else {
                        KEY_LEN
                    };
                    let sealed = take(&mut rest, len, DecodeReason::TruncatedStaticKey)?;
                    let n = self.symmetric.decrypt_and_hash_in_place(sealed)?;
                    let plain = sealed
                        .get(..n)
                        .ok_or(Error::Decode(DecodeReason::StaticKey))?;
                    self.rs = Some(public_key(plain)?);
                }
                Token::Psk => self.mix_psk()?,
                dh => self.dh_token(dh)?,
            }
        }
        let n = self.symmetric.decrypt_and_hash_in_place(rest)?;
        self.next_message = self.next_message.saturating_add(1);
        let payload: &'m [u8] = rest;
        payload
            .get(..n)
            .ok_or(Error::Decode(DecodeReason::HandshakePayload))
    }

    /// The shortest next message: its public keys, the encrypted static
    /// key's tag once a key is mixed in, and the payload's tag.
    fn min_message_len(&self) -> Result<usize, Error> {
        let mut has_key = self.symmetric.has_key();
        let mut len = 0usize;
        for &token in self.tokens()? {
            match token {
                Token::E => {
                    len = len.saturating_add(KEY_LEN);
                    has_key |= self.pattern.has_psk();
                }
                Token::S => {
                    len = len.saturating_add(KEY_LEN);
                    if has_key {
                        len = len.saturating_add(TAG_LEN);
                    }
                }
                Token::Ee | Token::Es | Token::Se | Token::Ss | Token::Psk => has_key = true,
            }
        }
        Ok(if has_key {
            len.saturating_add(TAG_LEN)
        } else {
            len
        })
    }

    /// Whether every message of the pattern has been written or read.
    pub(crate) fn is_finished(&self) -> bool {
        self.next_message >= message_patterns(self.pattern).len()
    }

    /// The remote static key, once known (the responder learns it in IK message 1).
    pub(crate) fn remote_static(&self) -> Option<PublicKey> {
        self.rs
    }

    /// The remote ephemeral key, once read.
    pub(crate) fn remote_ephemeral(&self) -> Option<PublicKey> {
        self.re
    }

    /// `Split()` and the final handshake hash; only valid once finished.
    pub(crate) fn split(&self) -> Result<SplitOutput, Error> {
        if !self.is_finished() {
            return Err(Error::HandshakeNotComplete);
        }
        let (k1, k2) = self.symmetric.split()?;
        Ok((k1, k2, self.symmetric.handshake_hash()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_protocol_names_match_the_formatted_ones() {
        for pattern in [crate::suite::Pattern::Nk, crate::suite::Pattern::Ik] {
            for suite in Suite::ALL {
                assert_eq!(
                    protocol_name(pattern.into(), suite),
                    crate::suite::noise_protocol_name(pattern, suite)
                );
            }
        }
    }
}
