//! `lwsec`, the lwsec operator tool: key files (`keygen`, `pubkey`,
//! `ticketkeys` for the resumption ticket keys a fleet shares), a
//! server (`serve`: echo or relay, policies, graceful shutdown), a client
//! (`connect`) and a cipher-suite benchmark for this machine (`bench`).
//!
//! Install it with `cargo install --path cli`. Exit codes are listed in
//! [`EXIT_CODES`] (and by `lwsec --help`).

mod bench;
mod common;
mod connect;
mod keygen;
mod serve;
mod ticketkeys;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use common::CliError;

/// The exit codes, as `lwsec --help` prints them.
const EXIT_CODES: &str = "\
Exit codes:
  0  success (for serve: stopped by SIGTERM or Ctrl-C after a graceful shutdown)
  1  connection or protocol error (handshake failed, peer error, unclean close)
  2  usage error (unknown flag, bad value, conflicting options)
  3  key or file error (missing, unreadable or invalid key file, file exists)
  4  network error (cannot resolve, connect to or listen on an address)";

#[derive(Parser)]
#[command(
    name = "lwsec",
    version,
    about = "lwsec: keys, an echo/relay server, a client and a cipher-suite benchmark",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a static key pair: NAME.key (secret, mode 0600) and NAME.pub.
    Keygen(keygen::KeygenArgs),
    /// Print the public key of a secret key file.
    Pubkey(keygen::PubkeyArgs),
    /// Write or rotate a file of resumption ticket keys shared by a fleet of servers.
    Ticketkeys(ticketkeys::TicketKeysArgs),
    /// Run a server: echo every message back, or relay it to all other clients.
    Serve(serve::ServeArgs),
    /// Connect to a server: stdin lines become messages, messages go to stdout.
    Connect(connect::ConnectArgs),
    /// Measure the cipher suites, providers and handshakes on this machine.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => keygen::keygen(args),
        Command::Pubkey(args) => keygen::pubkey(args),
        Command::Ticketkeys(args) => ticketkeys::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Connect(args) => connect::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError { status, message }) => {
            eprintln!("lwsec: error: {message}");
            ExitCode::from(status as u8)
        }
    }
}
