//! `lwsec-conformance`: checks an implementation of the lwsec protocol
//! (`spec/PROTOCOL.md`) over TCP, section by section, as a client against
//! a server under test ([`server_mode`]) or as a server against a client
//! under test ([`client_mode`]). Every expectation comes from the spec;
//! every byte the tester sends is built by its own codec ([`wire`]), with
//! Noise from `snow`.

pub mod client_mode;
pub mod net;
pub mod report;
pub mod scenario;
pub mod server_mode;
pub mod wire;

pub use report::Outcome;
pub use scenario::{Mode, Verdict};

/// Runs the server-mode scenarios matching `only` (all when empty).
pub fn run_server(target: &mut server_mode::Target, only: &[String]) -> Vec<Outcome> {
    report::run(
        Mode::Server,
        target,
        &server_mode::scenarios(),
        only,
        |_| {},
        |_| {},
    )
}

/// Runs the client-mode scenarios matching `only` (all when empty).
pub fn run_client(target: &mut client_mode::Target, only: &[String]) -> Vec<Outcome> {
    report::run(
        Mode::Client,
        target,
        &client_mode::scenarios(),
        only,
        |t| t.finish(),
        |_| {},
    )
}
