//! Helpers of the C API tests: header generation, building the library and
//! the C examples.

use std::path::Path;

/// The header cbindgen generates from `src/ffi/` with the committed
/// `cbindgen.toml`.
pub(crate) fn generate_header(root: &Path) -> String {
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).unwrap();
    let mut builder = cbindgen::Builder::new().with_config(config);
    for file in ["error.rs", "keys.rs", "config.rs", "conn.rs"] {
        builder = builder.with_src(root.join("src/ffi").join(file));
    }
    let mut out = Vec::new();
    builder.generate().unwrap().write(&mut out);
    String::from_utf8(out).unwrap()
}
