//! `lwsec keygen` and `lwsec pubkey`.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use clap::Args;
use lwsec::StaticKeyPair;
use lwsec::rng::OsRandom;

use crate::common::{CliError, load_key_pair, print_stdout};

#[derive(Args)]
pub(crate) struct KeygenArgs {
    /// Name of the files to write: NAME.key (the secret key, mode 0600) and
    /// NAME.pub (the public key, to pin in clients or allow on a server).
    /// The suffixes are appended as they are: `--out prod.server` writes
    /// prod.server.key and prod.server.pub.
    #[arg(long, value_name = "NAME", default_value = "server")]
    out: PathBuf,
    /// Replace NAME.key and NAME.pub if they exist (the old secret key is lost).
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub(crate) struct PubkeyArgs {
    /// A secret key file (from `lwsec keygen`).
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// `NAME` + `suffix`, verbatim (no extension is replaced).
fn with_suffix(name: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(name.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

pub(crate) fn keygen(args: KeygenArgs) -> Result<(), CliError> {
    let name = args.out;
    let shown = name.display().to_string();
    if shown.is_empty() || shown.ends_with('/') {
        return Err(CliError::usage(format!(
            "--out `{shown}`: give a file name such as `server`"
        )));
    }
    for suffix in [".key", ".pub"] {
        if let Some(stem) = shown.strip_suffix(suffix) {
            return Err(CliError::usage(format!(
                "--out names both files without a suffix: `--out {stem}` writes {stem}.key and {stem}.pub"
            )));
        }
    }
    let secret = with_suffix(&name, ".key");
    let public = with_suffix(&name, ".pub");
    if !args.force {
        for path in [&secret, &public] {
            if path.exists() {
                return Err(exists_error(path));
            }
        }
    }
    let pair = StaticKeyPair::generate(&OsRandom)
        .map_err(|e| CliError::runtime(format!("cannot generate a key: {e}")))?;
    // Atomic either way; without --force, a file that appeared since the
    // check above is still never replaced.
    let saved = if args.force {
        pair.save(&secret)
    } else {
        pair.save_new(&secret)
    };
    saved.map_err(|e| write_error(&secret, &e))?;
    let saved = if args.force {
        pair.public_key().save(&public)
    } else {
        pair.public_key().save_new(&public)
    };
    saved.map_err(|e| write_error(&public, &e))?;
    eprintln!(
        "lwsec keygen: wrote {} (secret key, mode 0600) and {} (public key)",
        secret.display(),
        public.display()
    );
    print_stdout(&format!("{}\n", pair.public_key()));
    Ok(())
}

fn exists_error(path: &Path) -> CliError {
    CliError::file(format!(
        "{} already exists; keep it, choose another --out, or pass --force to replace it",
        path.display()
    ))
}

fn write_error(path: &Path, err: &io::Error) -> CliError {
    match err.kind() {
        io::ErrorKind::AlreadyExists => exists_error(path),
        io::ErrorKind::NotFound => CliError::file(format!(
            "cannot write {}: its directory does not exist",
            path.display()
        )),
        io::ErrorKind::PermissionDenied => CliError::file(format!(
            "cannot write {}: permission denied (choose a directory you can write to)",
            path.display()
        )),
        _ => CliError::file(format!("cannot write {}: {err}", path.display())),
    }
}

pub(crate) fn pubkey(args: PubkeyArgs) -> Result<(), CliError> {
    let pair = load_key_pair(&args.file)?;
    print_stdout(&format!("{}\n", pair.public_key()));
    Ok(())
}
