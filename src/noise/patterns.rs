//! Handshake patterns as data (Noise spec section 7).

use crate::suite::Pattern;

/// A token of a message pattern (Noise spec section 7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token {
    E,
    S,
    Ee,
    Es,
    Se,
    Ss,
}

/// `NK`: `<- s ... -> e, es  <- e, ee`.
const NK: &[&[Token]] = &[&[Token::E, Token::Es], &[Token::E, Token::Ee]];

/// `IK`: `<- s ... -> e, es, s, ss  <- e, ee, se`.
const IK: &[&[Token]] = &[
    &[Token::E, Token::Es, Token::S, Token::Ss],
    &[Token::E, Token::Ee, Token::Se],
];

/// The message patterns of `pattern`. Both have the responder's static key
/// as their only pre-message (`<- s`).
pub(super) fn message_patterns(pattern: Pattern) -> &'static [&'static [Token]] {
    match pattern {
        Pattern::Nk => NK,
        Pattern::Ik => IK,
    }
}
