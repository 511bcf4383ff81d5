//! Writes lwsec's own known-answer vectors to `test-vectors/*.json`.
//!
//! ```text
//! cargo run --example gen_vectors            # write into ./test-vectors
//! cargo run --example gen_vectors -- DIR     # write into DIR
//! ```
//!
//! The output is deterministic: every key comes from a named seed and time
//! is fixed, so running this twice writes the same bytes. `tests/vectors.rs`
//! fails when the committed files differ from what this writes. The format
//! is described in `spec/VECTORS.md`; the generators are in
//! `test-support/src/vectors/`.

use std::path::PathBuf;

use lwsec_test_support::vectors;

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-vectors"));
    std::fs::create_dir_all(&dir)?;
    let files = vectors::generate_all();
    let rendered = files.render();
    for (name, contents) in &rendered {
        let path = dir.join(name);
        std::fs::write(&path, contents.as_bytes())?;
        println!("wrote {} ({} bytes)", path.display(), contents.len());
    }
    let written = rendered.map(|(_, contents)| contents);
    assert_eq!(
        vectors::model::VectorFiles::parse(&written),
        files,
        "files do not parse back"
    );
    println!(
        "{} handshakes, {} retry flows, {} early-data flows, {} resumption flows, \
         {} record streams ({} records), {} negative cases",
        files.handshake.vectors.len(),
        files.retry.vectors.len(),
        files.early_data.vectors.len(),
        files.resumption.vectors.len(),
        files.records.streams.len(),
        files
            .records
            .streams
            .iter()
            .flat_map(|s| &s.steps)
            .map(|s| s.records.len())
            .sum::<usize>(),
        files.negative.cases.len()
    );
    Ok(())
}
