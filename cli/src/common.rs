//! What the commands share: errors with exit codes, flag values, key loading.

use std::io;
use std::path::Path;

use clap::ValueEnum;
use lwsec::crypto::CryptoProvider;
use lwsec::{Pattern, PublicKey, StaticKeyPair, Suite};

/// The process exit status of a failure (see `EXIT_CODES` in main.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// A connection or protocol error.
    Runtime = 1,
    /// Bad flags or conflicting options.
    Usage = 2,
    /// A key file or another file could not be read or written.
    File = 3,
    /// An address could not be resolved, connected to or listened on.
    Network = 4,
}

/// A failure: its exit status and a message that names the file or the
/// peer and says what to do.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) status: Status,
    pub(crate) message: String,
}

impl CliError {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn runtime(message: impl Into<String>) -> Self {
        Self::new(Status::Runtime, message)
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Status::Usage, message)
    }

    pub(crate) fn file(message: impl Into<String>) -> Self {
        Self::new(Status::File, message)
    }

    pub(crate) fn network(message: impl Into<String>) -> Self {
        Self::new(Status::Network, message)
    }
}

/// A cipher suite on the command line (`aes`, `chacha`, or the spec names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SuiteArg {
    /// AES-256-GCM.
    #[value(name = "aes", alias = "aes-256-gcm", alias = "AES-256-GCM")]
    Aes,
    /// ChaCha20-Poly1305.
    #[value(
        name = "chacha",
        alias = "chacha20-poly1305",
        alias = "ChaCha20-Poly1305"
    )]
    Chacha,
}

impl SuiteArg {
    pub(crate) fn suite(self) -> Suite {
        match self {
            Self::Aes => Suite::Aes256Gcm,
            Self::Chacha => Suite::ChaCha20Poly1305,
        }
    }
}

/// A handshake pattern on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum PatternArg {
    /// NK: the client pins the server key and stays anonymous.
    #[value(name = "nk", alias = "NK")]
    Nk,
    /// IK: the client also proves a device key.
    #[value(name = "ik", alias = "IK")]
    Ik,
}

impl PatternArg {
    pub(crate) fn pattern(self) -> Pattern {
        match self {
            Self::Nk => Pattern::Nk,
            Self::Ik => Pattern::Ik,
        }
    }
}

/// A crypto provider on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderArg {
    /// The pure-Rust provider.
    RustCrypto,
    /// The aws-lc-rs provider (feature `aws-lc`, on by default).
    AwsLc,
}

/// The provider to use: the one asked for, else aws-lc when built in.
pub(crate) fn provider(arg: Option<ProviderArg>) -> Result<&'static CryptoProvider, CliError> {
    match arg {
        Some(ProviderArg::RustCrypto) => Ok(&lwsec::crypto::RUST_CRYPTO),
        #[cfg(feature = "aws-lc")]
        Some(ProviderArg::AwsLc) | None => Ok(&lwsec::crypto::AWS_LC),
        #[cfg(not(feature = "aws-lc"))]
        Some(ProviderArg::AwsLc) => Err(CliError::usage(
            "--provider aws-lc: this lwsec was built without the `aws-lc` feature; \
             reinstall with `cargo install --path cli` (aws-lc is on by default)",
        )),
        #[cfg(not(feature = "aws-lc"))]
        None => Ok(&lwsec::crypto::RUST_CRYPTO),
    }
}

/// Comma-separated names.
pub(crate) fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A short name for a device key: its first 12 hex digits.
pub(crate) fn short_id(key: &PublicKey) -> String {
    key.as_bytes()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `--out` of `lwsec keygen` that writes `path` (a `.key` file).
fn keygen_hint(path: &Path) -> String {
    let shown = path.display().to_string();
    match shown.strip_suffix(".key") {
        Some(name) if !name.is_empty() => format!("create it with `lwsec keygen --out {name}`"),
        _ => "create a key with `lwsec keygen --out NAME` and pass NAME.key".to_owned(),
    }
}

/// The error for a key file that could not be loaded: the library's
/// message (it names the file), more precise for a missing file.
fn key_file_error(path: &Path, err: &io::Error, secret: bool) -> CliError {
    if err.kind() == io::ErrorKind::NotFound {
        let hint = if secret {
            keygen_hint(path)
        } else {
            "copy the server's .pub file here, or print it on the server with \
             `lwsec pubkey SERVER.key > SERVER.pub`"
                .to_owned()
        };
        return CliError::file(format!("{}: no such file; {hint}", path.display()));
    }
    CliError::file(err.to_string())
}

/// Loads a secret key file (`--key`, `--device-key`).
pub(crate) fn load_key_pair(path: &Path) -> Result<StaticKeyPair, CliError> {
    StaticKeyPair::load(path).map_err(|e| key_file_error(path, &e, true))
}

/// Loads a file of pinned public keys (one or more, in order).
pub(crate) fn load_pinned_keys(path: &Path) -> Result<Vec<PublicKey>, CliError> {
    lwsec::keys::load_pinned_keys_file(path).map_err(|e| key_file_error(path, &e, false))
}

/// Seconds on the command line (`5`, `0.5`), at least 0.
pub(crate) fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("`{text}`: give a number of seconds, 0 or more"))
}

/// Writes `text` to stdout; a closed pipe (`lwsec bench | head`) is not an
/// error worth a panic.
pub(crate) fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
