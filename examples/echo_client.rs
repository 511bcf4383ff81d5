//! Sends each word given on the command line to `echo_server` as one
//! message and prints the echoes. Start `echo_server` first.
//!
//! ```text
//! cargo run --example echo_client -- --connect 127.0.0.1:7878 --server-key server.pub hello world
//! ```
//!
//! `--server-key` is the file of pinned server keys, one per line; the
//! first is used. The client never tries another pinned key because a handshake
//! failed (a cleartext `unknown_server_key` alert is unauthenticated: an
//! attacker holding a retired key could forge it). When the server announces
//! its keys inside the handshake (key rotation), the client rewrites the
//! file atomically (a temporary file, then a rename) with the announced
//! keys. With `--device-key` (a key pair from `keygen`) the client
//! authenticates itself (IK).
//!
//! With `--ticket FILE` the client resumes with the ticket stored in FILE,
//! if there is one (a ticket is used once: the file is removed first), and
//! stores there the ticket the server sends (`echo_server --tickets`), as a
//! secret (mode 0600).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use lwsec::{
    ClientConfig, Connection, DEFAULT_HANDSHAKE_TIMEOUT, Event, ResumptionTicket, StaticKeyPair,
    Time,
};
use tokio::net::TcpStream;

#[derive(Parser)]
#[command(about = "lwsec echo client")]
struct Args {
    /// Server address.
    #[arg(long, default_value = "127.0.0.1:7878")]
    connect: String,
    /// File of pinned server public keys, one `lwsec-public-v1:` line each
    /// (the server's `.pub` file holds one).
    #[arg(long, value_name = "FILE", default_value = "server.pub")]
    server_key: PathBuf,
    /// This device's key pair (IK); without it the client is anonymous (NK).
    #[arg(long)]
    device_key: Option<PathBuf>,
    /// Resumption ticket file: resume with it if it exists, store the new
    /// ticket in it.
    #[arg(long, value_name = "FILE")]
    ticket: Option<PathBuf>,
    /// Messages to send.
    #[arg(default_values_t = ["hello".to_string(), "lwsec".to_string()])]
    messages: Vec<String>,
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let args = Args::parse();
    let pinned = lwsec::keys::load_pinned_keys_file(&args.server_key)?;
    let device = args.device_key.map(StaticKeyPair::load).transpose()?;
    let mut config = match device {
        Some(device) => ClientConfig::ik(pinned[0], device),
        None => ClientConfig::nk(pinned[0]),
    };
    config.set_pinned_keys(pinned)?;
    let config = Arc::new(config);
    // A stored ticket is used once, and not at all once expired.
    let ticket = match args.ticket.as_ref().map(|path| (path, std::fs::read(path))) {
        Some((path, Ok(bytes))) => {
            std::fs::remove_file(path)?;
            Some(ResumptionTicket::from_bytes(&bytes).map_err(io::Error::other)?)
        }
        _ => None,
    };
    let now = Time::now();
    let conn = match ticket {
        Some(ticket) if !ticket.is_expired(now) => Connection::resume(config, ticket, now),
        _ => Connection::client(config, now),
    }
    .map_err(io::Error::other)?;
    let tcp = TcpStream::connect(&args.connect).await?;
    let mut stream = lwsec::tokio::handshake(conn, tcp, DEFAULT_HANDSHAKE_TIMEOUT).await?;
    if let Some(keys) = stream.take_announced_server_keys() {
        lwsec::keys::save_pinned_keys(&args.server_key, &keys)?;
        println!(
            "the server announced {} key(s); pins updated in {}",
            keys.len(),
            args.server_key.display()
        );
    }
    println!(
        "connected: {:?} {:?}",
        stream.conn().pattern().unwrap(),
        stream.conn().suite().unwrap()
    );
    for message in &args.messages {
        stream.send_message(message.as_bytes()).await?;
        let echo = stream
            .recv_message()
            .await?
            .ok_or_else(|| io::Error::other("server closed"))?;
        println!("echo: {}", String::from_utf8_lossy(&echo));
    }
    while let Some(event) = stream.poll_event() {
        if let (Event::ResumptionTicket(ticket), Some(path)) = (event, &args.ticket) {
            let mut file = std::fs::OpenOptions::new();
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
            let mut file = file.write(true).create(true).truncate(true).open(path)?;
            io::Write::write_all(&mut file, &ticket.to_bytes())?;
        }
    }
    stream.close().await?;
    Ok(())
}
