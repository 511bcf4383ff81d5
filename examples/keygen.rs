//! Generates a static X25519 key pair and writes two files: `<NAME>.key`
//! (the secret, mode 0600 on Unix) and `<NAME>.pub` (the public key, to pin
//! in clients or to allow on a server). The suffixes are appended as they
//! are: `--out prod.server` writes `prod.server.key` and `prod.server.pub`.
//! Existing files are kept unless `--force` is given.
//!
//! ```text
//! cargo run --example keygen -- --out server
//! ```
//!
//! The `lwsec` command-line tool does the same: `lwsec keygen --out server`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;
use lwsec::StaticKeyPair;
use lwsec::rng::OsRandom;

#[derive(Parser)]
#[command(about = "Generate an lwsec static key pair")]
struct Args {
    /// Name of the files to write: <NAME>.key and <NAME>.pub.
    #[arg(long, value_name = "NAME", default_value = "server")]
    out: PathBuf,
    /// Replace the files if they exist.
    #[arg(long)]
    force: bool,
}

/// `name` with `suffix` appended (no extension is replaced).
fn with_suffix(name: &PathBuf, suffix: &str) -> PathBuf {
    let mut path = OsString::from(name);
    path.push(suffix);
    path.into()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let secret = with_suffix(&args.out, ".key");
    let public = with_suffix(&args.out, ".pub");
    for path in [&secret, &public] {
        if path.exists() && !args.force {
            return Err(format!(
                "{} already exists; pass --force to replace it, or choose another --out",
                path.display()
            )
            .into());
        }
    }
    let pair = StaticKeyPair::generate(&OsRandom)?;
    // Both saves are atomic: a temporary file renamed into place.
    pair.save(&secret)?;
    pair.public_key().save(&public)?;
    println!(
        "wrote {} (secret) and {}:",
        secret.display(),
        public.display()
    );
    println!("{}", pair.public_key());
    Ok(())
}
