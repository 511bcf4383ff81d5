//! Sends each word given on the command line to `echo_server` as one
//! message and prints the echoes. Start `echo_server` first.
//!
//! ```text
//! cargo run --example echo_client -- --connect 127.0.0.1:7878 --server-keys server.pub hello world
//! ```
//!
//! `--server-keys` may list several pinned keys, one per line (for example
//! the next server key before a rotation): they are tried in order, moving
//! on when the server answers `unknown_server_key`. With `--device-key`
//! (a key pair from `keygen`) the client authenticates itself (IK).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use lwsec::{ClientConfig, Error, PublicKey, StaticKeyPair};
use tokio::net::TcpStream;

#[derive(Parser)]
#[command(about = "lwsec echo client")]
struct Args {
    /// Server address.
    #[arg(long, default_value = "127.0.0.1:7878")]
    connect: String,
    /// File of pinned server public keys, one `lwsec-public-v1:` line each.
    #[arg(long, default_value = "server.pub")]
    server_keys: PathBuf,
    /// This device's key pair (IK); without it the client is anonymous (NK).
    #[arg(long)]
    device_key: Option<PathBuf>,
    /// Messages to send.
    #[arg(default_values_t = ["hello".to_string(), "lwsec".to_string()])]
    messages: Vec<String>,
}

/// Connects with the first pinned key the server holds.
async fn connect_pinned(
    addr: &str,
    pinned: &[PublicKey],
    device: Option<&StaticKeyPair>,
) -> io::Result<lwsec::tokio::Stream<TcpStream>> {
    let mut last = io::Error::other("no pinned server key");
    for key in pinned {
        let config = match device {
            Some(device) => ClientConfig::ik(*key, device.clone()),
            None => ClientConfig::nk(*key),
        };
        let tcp = TcpStream::connect(addr).await?;
        match lwsec::tokio::connect(Arc::new(config), tcp).await {
            Ok(stream) => return Ok(stream),
            Err(e)
                if e.get_ref().and_then(|e| e.downcast_ref()) == Some(&Error::UnknownServerKey) =>
            {
                eprintln!(
                    "server does not hold {}; trying the next pinned key",
                    key.to_text()
                );
                last = e;
            }
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let args = Args::parse();
    let pinned = lwsec::keys::load_pinned_keys_file(&args.server_keys)?;
    let device = args.device_key.map(StaticKeyPair::load).transpose()?;
    let mut stream = connect_pinned(&args.connect, &pinned, device.as_ref()).await?;
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
