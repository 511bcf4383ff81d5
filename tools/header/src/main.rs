//! Regenerates `include/lwsec.h` from `src/ffi/` (`cargo run -p lwsec-header`).
//! With `--check`, writes nothing and exits with status 1 when the committed
//! header is stale.

use std::process::ExitCode;

fn main() -> ExitCode {
    let root = lwsec_header::repository_root();
    let path = lwsec_header::header_path(&root);
    let generated = lwsec_header::generate(&root);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let check = std::env::args().skip(1).any(|a| a == "--check");
    if committed == generated {
        println!("include/lwsec.h is up to date");
    } else if check {
        eprintln!(
            "include/lwsec.h is out of date with src/ffi/; regenerate it with:\n    {}",
            lwsec_header::REGENERATE
        );
        return ExitCode::FAILURE;
    } else {
        if let Err(e) = std::fs::write(&path, &generated) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote include/lwsec.h");
    }
    ExitCode::SUCCESS
}
