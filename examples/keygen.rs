//! Generates a static X25519 key pair and writes two files: `<out>.key`
//! (the secret, mode 0600 on Unix) and `<out>.pub` (the public key, to pin in
//! clients or to allow on a server).
//!
//! ```text
//! cargo run --example keygen -- --out server
//! ```

use std::path::PathBuf;

use clap::Parser;
use lwsec::StaticKeyPair;
use lwsec::rng::OsRandom;

#[derive(Parser)]
#[command(about = "Generate an lwsec static key pair")]
struct Args {
    /// Path prefix of the files to write: <OUT>.key and <OUT>.pub.
    #[arg(long, default_value = "server")]
    out: PathBuf,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let pair = StaticKeyPair::generate(&OsRandom)?;
    let secret = args.out.with_extension("key");
    let public = args.out.with_extension("pub");
    pair.save(&secret)?;
    pair.public_key().save(&public)?;
    println!(
        "wrote {} (secret) and {}:",
        secret.display(),
        public.display()
    );
    println!("{}", pair.public_key().to_text());
    Ok(())
}
