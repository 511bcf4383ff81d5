//! Reading the third-party vector files in `test-vectors/third_party/`
//! (test builds only).

use serde_json::Value;

/// Parses `test-vectors/third_party/<path>`.
pub(crate) fn load(path: &str) -> Value {
    let path = format!(
        "{}/test-vectors/third_party/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// A hex field of a vector.
pub(crate) fn bytes(v: &Value, field: &str) -> Vec<u8> {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("missing field {field}"));
    hex::decode(s).unwrap()
}

/// A hex field of a known length.
pub(crate) fn array<const N: usize>(v: &Value, field: &str) -> [u8; N] {
    bytes(v, field).try_into().unwrap()
}
