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

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use lwsec::{ClientConfig, StaticKeyPair};
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
    let tcp = TcpStream::connect(&args.connect).await?;
    let mut stream = lwsec::tokio::connect(Arc::new(config), tcp).await?;
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
    stream.close().await?;
    Ok(())
}
