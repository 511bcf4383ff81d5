//! An echo server: every message a client sends comes back to it. Serves
//! many clients at once, NK and IK.
//!
//! ```text
//! cargo run --example keygen -- --out server
//! cargo run --example echo_server -- --listen 127.0.0.1:7878 --key server.key
//! ```
//!
//! Rotating the server key: give the new key first and keep the old one
//! while clients update their pins: `--key new.key --key server.key`.
//!
//! `--tickets` gives every client a resumption ticket after its handshake
//! (sealed with a random ticket key: tickets are good for 24 hours, and
//! only while this process runs); `echo_client --ticket FILE` resumes with
//! it.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use futures::{SinkExt, StreamExt};
use lwsec::rng::OsRandom;
use lwsec::{ServerConfig, StaticKeyPair, TicketKeyring, TicketKeys};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(about = "lwsec echo server")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: String,
    /// Static key pair file(s) from `keygen`; repeat for key rotation.
    #[arg(long = "key", default_value = "server.key")]
    keys: Vec<PathBuf>,
    /// Issue resumption tickets (a random ticket key for this process).
    #[arg(long)]
    tickets: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let mut keys = args.keys.iter().map(StaticKeyPair::load);
    let mut config = ServerConfig::new(keys.next().expect("at least one --key")?);
    for key in keys {
        config.add_key(key?);
    }
    if args.tickets {
        let keys = TicketKeys::generate(&OsRandom).map_err(std::io::Error::other)?;
        config.enable_resumption(Arc::new(TicketKeyring::new(keys)));
    }
    let config = Arc::new(config);
    let listener = TcpListener::bind(&args.listen).await?;
    println!("echo server on {}", listener.local_addr()?);
    for key in config.public_keys() {
        println!("  key {}", key.to_text());
    }
    loop {
        let (tcp, peer) = listener.accept().await?;
        // Only the handshake future (one pointer, owning what it needs) and
        // the address go into the task: a tokio task is allocated at the
        // size of its largest state, and this keeps that the idle stream
        // rather than the handshake with the configuration and socket
        // beside it.
        let handshake = lwsec::tokio::accept(config.clone(), tcp);
        tokio::spawn(async move {
            let stream = match handshake.await {
                Ok(stream) => stream,
                Err(e) => return eprintln!("{peer}: handshake failed: {e}"),
            };
            let who = match stream.conn().peer_static_key() {
                Some(key) => format!("{peer} (device {})", &key.to_text()[16..32]),
                None => format!("{peer} (anonymous)"),
            };
            println!("{who}: connected, {:?}", stream.conn().suite().unwrap());
            let mut messages = stream.into_messages();
            let mut count = 0u64;
            while let Some(message) = messages.next().await {
                let result = match message {
                    Ok(message) => messages.send(message).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    return eprintln!("{who}: {e}");
                }
                count += 1;
            }
            let _ = messages.close().await;
            println!("{who}: closed after {count} messages");
        });
    }
}
