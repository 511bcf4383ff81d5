//! `HandshakeState` (Noise spec section 5.3).

use zeroize::Zeroizing;

use crate::crypto::CryptoProvider;
use crate::crypto::aead::TAG_LEN;
use crate::crypto::dh::{KEY_LEN, PublicKey, StaticKeyPair};
use crate::crypto::hash::HASH_LEN;
use crate::error::Error;
use crate::noise::patterns::{Token, message_patterns};
use crate::noise::symmetric_state::SymmetricState;
use crate::suite::{Pattern, Suite, noise_protocol_name};

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
    pattern: Pattern,
    initiator: bool,
    s: Option<StaticKeyPair>,
    e: Option<StaticKeyPair>,
    rs: Option<PublicKey>,
    re: Option<PublicKey>,
    /// Index of the next message pattern to write or read.
    next_message: usize,
}

/// Reads exactly `len` bytes from the front of `input`.
fn take<'a>(input: &mut &'a [u8], len: usize, what: &'static str) -> Result<&'a [u8], Error> {
    if input.len() < len {
        return Err(Error::Decode(what));
    }
    let (head, tail) = input.split_at(len);
    *input = tail;
    Ok(head)
}

fn public_key(bytes: &[u8]) -> Result<PublicKey, Error> {
    let arr: [u8; KEY_LEN] = bytes
        .try_into()
        .map_err(|_| Error::Decode("public key length"))?;
    Ok(PublicKey::from_bytes(arr))
}

impl HandshakeState {
    /// `Initialize(handshake_pattern, initiator, prologue, s, e, rs, re)` for
    /// NK and IK, whose only pre-message is the responder's static key.
    ///
    /// The initiator passes the responder's key as `rs`; the responder passes
    /// its own static key as `s` (and, for IK, the initiator's `s` is learnt
    /// from message 1).
    // The spec's Initialize takes this many inputs, plus the provider.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn initialize(
        provider: &'static CryptoProvider,
        pattern: Pattern,
        suite: Suite,
        initiator: bool,
        prologue: &[u8],
        s: Option<StaticKeyPair>,
        e: Option<StaticKeyPair>,
        rs: Option<PublicKey>,
    ) -> Result<Self, Error> {
        let mut symmetric = SymmetricState::initialize_symmetric(
            provider,
            &noise_protocol_name(pattern, suite),
            suite,
        );
        symmetric.mix_hash(prologue);
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
        if initiator && pattern == Pattern::Ik && s.is_none() {
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
            s,
            e,
            rs,
            re: None,
            next_message: 0,
        })
    }

    /// Sets the local ephemeral key pair (the responder, before it writes).
    pub(crate) fn set_ephemeral(&mut self, e: StaticKeyPair) {
        self.e = Some(e);
    }

    fn tokens(&self) -> Result<&'static [Token], Error> {
        message_patterns(self.pattern)
            .get(self.next_message)
            .copied()
            .ok_or(Error::UnexpectedMessage("Noise handshake already finished"))
    }

    /// Whether it is this side's turn to write.
    fn my_turn(&self) -> bool {
        (self.next_message % 2 == 0) == self.initiator
    }

    /// The DH a token asks for, from this side's point of view.
    fn dh_token(&mut self, token: Token) -> Result<(), Error> {
        let missing = Error::UnexpectedMessage("key missing for DH");
        let (local, remote) = match (token, self.initiator) {
            (Token::Ee, _) => (self.e.as_ref(), self.re),
            (Token::Es, true) | (Token::Se, false) => (self.e.as_ref(), self.rs),
            (Token::Es, false) | (Token::Se, true) => (self.s.as_ref(), self.re),
            (Token::Ss, _) => (self.s.as_ref(), self.rs),
            (Token::E | Token::S, _) => return Err(missing),
        };
        let (Some(local), Some(remote)) = (local, remote) else {
            return Err(missing);
        };
        let shared = local.dh(self.provider, &remote)?;
        self.symmetric.mix_key(shared.as_ref())
    }

    /// `WriteMessage(payload, message_buffer)`: appends the message to `out`.
    /// On failure `out` is truncated back to its original length.
    pub(crate) fn write_message(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let original_len = out.len();
        let result = self.write_message_inner(payload, out);
        if result.is_err() {
            out.truncate(original_len);
        }
        result
    }

    fn write_message_inner(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if !self.my_turn() {
            return Err(Error::UnexpectedMessage("not this side's turn to write"));
        }
        for &token in self.tokens()? {
            match token {
                Token::E => {
                    let e_pub = self
                        .e
                        .as_ref()
                        .map(StaticKeyPair::public_key)
                        .ok_or(Error::Internal("no local ephemeral key to write"))?;
                    out.extend_from_slice(e_pub.as_bytes());
                    self.symmetric.mix_hash(e_pub.as_bytes());
                }
                Token::S => {
                    let s_pub = self.s.as_ref().map(StaticKeyPair::public_key).ok_or(
                        Error::InvalidConfig("IK needs the client's static key pair"),
                    )?;
                    let start = out.len();
                    out.extend_from_slice(s_pub.as_bytes());
                    self.symmetric.encrypt_and_hash(out, start)?;
                }
                dh => self.dh_token(dh)?,
            }
        }
        let start = out.len();
        out.extend_from_slice(payload);
        self.symmetric.encrypt_and_hash(out, start)?;
        self.next_message = self.next_message.saturating_add(1);
        Ok(())
    }

    /// `ReadMessage(message, payload_buffer)`: returns the decrypted payload.
    pub(crate) fn read_message(&mut self, message: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if self.my_turn() {
            return Err(Error::UnexpectedMessage("not this side's turn to read"));
        }
        // Checked before any Diffie-Hellman, so a short message is a
        // `decode_error` whatever else is wrong with it (spec 4.3, 4.6).
        if message.len() < self.min_message_len()? {
            return Err(Error::Decode(
                "handshake message too short for its keys and tag",
            ));
        }
        let mut rest = message;
        for &token in self.tokens()? {
            match token {
                Token::E => {
                    let re = public_key(take(&mut rest, KEY_LEN, "truncated ephemeral key")?)?;
                    self.symmetric.mix_hash(re.as_bytes());
                    self.re = Some(re);
                }
                Token::S => {
                    let len = if self.symmetric.has_key() {
                        KEY_LEN + TAG_LEN
                    } else {
                        KEY_LEN
                    };
                    let sealed = take(&mut rest, len, "truncated static key")?;
                    let plain = self.symmetric.decrypt_and_hash(sealed)?;
                    self.rs = Some(public_key(&plain)?);
                }
                dh => self.dh_token(dh)?,
            }
        }
        let payload = self.symmetric.decrypt_and_hash(rest)?;
        self.next_message = self.next_message.saturating_add(1);
        Ok(payload)
    }

    /// The shortest next message: its public keys, the encrypted static
    /// key's tag once a key is mixed in, and the payload's tag.
    fn min_message_len(&self) -> Result<usize, Error> {
        let mut has_key = self.symmetric.has_key();
        let mut len = 0usize;
        for &token in self.tokens()? {
            match token {
                Token::E => len = len.saturating_add(KEY_LEN),
                Token::S => {
                    len = len.saturating_add(KEY_LEN);
                    if has_key {
                        len = len.saturating_add(TAG_LEN);
                    }
                }
                Token::Ee | Token::Es | Token::Se | Token::Ss => has_key = true,
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
