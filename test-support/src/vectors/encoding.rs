//! How the vector files write values: byte strings as lowercase hex,
//! suites and patterns by name or wire code, errors by variant name.

use lwsec::{Error, Pattern, Suite};

/// Lowercase hex.
pub fn hx(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Bytes from hex.
pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

/// 32 bytes (a key or a hash) from hex.
pub fn unhex32(s: &str) -> [u8; 32] {
    unhex(s).try_into().unwrap()
}

/// The suite's name, as in a vector's `suite` field.
pub fn suite_name(suite: Suite) -> String {
    suite.to_string()
}

/// The suite named `name` (see [`suite_name`]).
pub fn parse_suite(name: &str) -> Suite {
    Suite::ALL
        .into_iter()
        .find(|s| s.to_string() == name)
        .unwrap_or_else(|| panic!("unknown suite {name}"))
}

/// The suite in vector names: `aes-256-gcm` or `chacha20-poly1305`.
pub fn suite_slug(suite: Suite) -> &'static str {
    match suite {
        Suite::Aes256Gcm => "aes-256-gcm",
        _ => "chacha20-poly1305",
    }
}

/// The pattern named `name`: `NK` or `IK`.
pub fn parse_pattern(name: &str) -> Pattern {
    match name {
        "NK" => Pattern::Nk,
        "IK" => Pattern::Ik,
        other => panic!("unknown pattern {other}"),
    }
}

/// The suites of a list of wire codes.
pub fn suites_from_codes(codes: &[u8]) -> Vec<Suite> {
    codes.iter().map(|c| Suite::from_u8(*c).unwrap()).collect()
}

/// The `lwsec::Error` variant name of `err` (`Decode("x")` → `Decode`).
pub fn error_name(err: &Error) -> String {
    let debug = format!("{err:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}
