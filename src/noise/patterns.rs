//! Handshake patterns as data (Noise spec sections 7 and 9).

use crate::suite::Pattern;

/// A token of a message pattern (Noise spec sections 7.1 and 9.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token {
    E,
    S,
    Ee,
    Es,
    Se,
    Ss,
    Psk,
}

/// The Noise patterns lwsec runs: `NK` and `IK` for full handshakes,
/// `NNpsk0` for resumption (`spec/PROTOCOL.md` section 4.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoisePattern {
    Nk,
    Ik,
    /// `NNpsk0`: `-> psk, e  <- e, ee`. No static keys: the pre-shared key
    /// (from a resumption ticket) authenticates both sides, `ee` gives
    /// forward secrecy.
    NNpsk0,
}

impl From<Pattern> for NoisePattern {
    fn from(pattern: Pattern) -> Self {
        match pattern {
            Pattern::Nk => Self::Nk,
            Pattern::Ik => Self::Ik,
        }
    }
}

impl NoisePattern {
    /// Whether the pattern has a `psk` token (Noise spec section 9: then
    /// every `e` token also calls `MixKey(e.public_key)`).
    pub(super) fn has_psk(self) -> bool {
        self == Self::NNpsk0
    }

    /// Whether the responder's static key is a pre-message (`<- s`).
    pub(super) fn responder_static_premessage(self) -> bool {
        self != Self::NNpsk0
    }
}

/// `NK`: `<- s ... -> e, es  <- e, ee`.
const NK: &[&[Token]] = &[&[Token::E, Token::Es], &[Token::E, Token::Ee]];

/// `IK`: `<- s ... -> e, es, s, ss  <- e, ee, se`.
const IK: &[&[Token]] = &[
    &[Token::E, Token::Es, Token::S, Token::Ss],
    &[Token::E, Token::Ee, Token::Se],
];

/// `NNpsk0`: `-> psk, e  <- e, ee`.
const NN_PSK0: &[&[Token]] = &[&[Token::Psk, Token::E], &[Token::E, Token::Ee]];

/// The message patterns of `pattern`.
pub(super) fn message_patterns(pattern: NoisePattern) -> &'static [&'static [Token]] {
    match pattern {
        NoisePattern::Nk => NK,
        NoisePattern::Ik => IK,
        NoisePattern::NNpsk0 => NN_PSK0,
    }
}
