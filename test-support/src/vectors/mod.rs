//! lwsec's own known-answer vectors (`test-vectors/*.json`, format in
//! `spec/VECTORS.md`): the data model and the deterministic generator.
//!
//! `examples/gen_vectors.rs` writes the files with [`generate_all`]
//! (`cargo run --example gen_vectors`), and `tests/vectors.rs` checks the
//! implementation against the committed files. Nothing here reads a clock
//! or the operating system's RNG: every key comes from
//! `lwsec::rng::DeterministicRandom` with a named seed ([`keys::seeded`]),
//! every ephemeral key is fed to the connection through
//! [`ReplayRandom`](crate::replay_random::ReplayRandom), and the time is
//! [`FIXED_TIME`].
//!
//! Every `compute_*` function takes a vector's *inputs* (keys, commands,
//! tampered bytes) and runs the implementation on them, returning the whole
//! vector with every output filled in. The generators call them on inputs
//! derived from seeds; the test calls them on the committed vectors and
//! requires the outputs to be identical.
//!
//! | module | holds |
//! | --- | --- |
//! | [`model`] | the files' serde structs ([`VectorFiles`] and one struct per file) |
//! | [`encoding`] | how values are written: bytes as hex, suites, patterns and errors by name |
//! | [`keys`] | named seeds, public keys, traffic keys, the parties' outputs |
//! | [`frames`] | frames and the ClientHello header, read and built by hand |
//! | [`record_aead`] | records sealed and opened with the AEAD crates directly |
//! | `connections` | the vector connections' configurations and the steps every flow shares |
//! | `handshake`, `retry`, `early_data`, `records`, `resumption`, `negative` | one generator per file: its `compute_*` function and its vector inputs |

use lwsec::Time;

pub mod encoding;
pub mod frames;
pub mod keys;
pub mod model;
pub mod record_aead;

mod connections;
mod early_data;
mod handshake;
mod negative;
mod records;
mod resumption;
mod retry;

pub use early_data::compute_early_data;
pub use handshake::compute_handshake;
pub use negative::compute_negative;
pub use records::compute_stream;
pub use resumption::compute_resumption;
pub use retry::compute_retry;

use model::VectorFiles;

/// The time every vector connection is created and driven at.
pub const FIXED_TIME: Time = Time::from_millis(1_767_225_600_000);

/// The vector files, in `test-vectors/`, in the order of
/// [`VectorFiles::render`] and [`VectorFiles::parse`].
pub const FILES: [&str; 6] = [
    "handshake.json",
    "records.json",
    "retry.json",
    "early_data.json",
    "resumption.json",
    "negative.json",
];

/// The peer address every cookie-demanding vector server sees.
const PEER_ADDRESS: &[u8] = b"203.0.113.7:50412";

/// The early data every early-data vector client sends.
const EARLY_DATA: &[u8] = b"lwsec early data: fetch new messages since 1767225590000";

/// The anti-replay window of the early-data vector servers (milliseconds).
const EARLY_DATA_WINDOW_MS: u64 = 10_000;

/// Generates every vector file from the named seeds.
pub fn generate_all() -> VectorFiles {
    let mut files = VectorFiles {
        handshake: handshake::generate(),
        records: records::generate(),
        retry: retry::generate(),
        early_data: early_data::generate(),
        resumption: resumption::generate(),
        negative: model::NegativeFile {
            description: String::new(),
            cases: Vec::new(),
        },
    };
    files.negative = negative::generate(&files);
    files
}
