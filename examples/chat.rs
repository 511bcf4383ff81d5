//! A chat relay: every line a client types is sent to all other clients.
//! Clients authenticate with a device key (IK) and are identified by it.
//!
//! ```text
//! cargo run --example keygen -- --out chat-server
//! cargo run --example keygen -- --out alice
//! cargo run --example chat -- server --listen 127.0.0.1:7879 --key chat-server.key
//! # in another terminal (and more, with other device keys):
//! cargo run --example chat -- client --connect 127.0.0.1:7879 --server-key chat-server.pub --device-key alice.key
//! ```
//!
//! The server accepts any device key unless `--allow FILE` lists the
//! allowed public keys (one `lwsec-public-v1:` line each). Each client is
//! decided on by an asynchronous authorizer that looks its device up in a
//! table (a database in a real deployment) and names it; a client counts
//! as joined only once it has confirmed the handshake, so a replayed first
//! flight never joins.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use clap::{Parser, Subcommand};
use futures::{SinkExt, StreamExt};
use lwsec::{
    ClientConfig, ClientHello, Identity, Pattern, PublicKey, Rejection, ServerConfig, StaticKeyPair,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

#[derive(Parser)]
#[command(about = "lwsec chat relay")]
struct Args {
    #[command(subcommand)]
    role: Role,
}

#[derive(Subcommand)]
enum Role {
    /// Relay messages between clients.
    Server {
        #[arg(long, default_value = "127.0.0.1:7879")]
        listen: String,
        /// The server's key pair file.
        #[arg(long, default_value = "chat-server.key")]
        key: PathBuf,
        /// Only accept the device keys listed in this file.
        #[arg(long)]
        allow: Option<PathBuf>,
    },
    /// Send stdin lines, print what others say.
    Client {
        #[arg(long, default_value = "127.0.0.1:7879")]
        connect: String,
        /// The server's public key file.
        #[arg(long, default_value = "chat-server.pub")]
        server_key: PathBuf,
        /// This device's key pair file.
        #[arg(long)]
        device_key: PathBuf,
    },
}

/// A short name for a device: 12 hex digits of its public key.
fn short_id(key: &PublicKey) -> String {
    key.to_text()["lwsec-public-v1:".len()..][..12].to_string()
}

/// The device table: who may join, and under which name. `None` admits
/// every device under its short id.
type Devices = Option<HashMap<PublicKey, String>>;

/// Looks the claimed device up in the table (a database would be awaited
/// here the same way; the acceptor bounds the wait and fails closed).
async fn lookup(devices: Arc<Devices>, hello: ClientHello) -> Result<Option<Identity>, Rejection> {
    let key = hello.claimed_client_key().ok_or(Rejection::NotAuthorized)?;
    let name = match devices.as_ref() {
        None => short_id(&key),
        Some(table) => table.get(&key).cloned().ok_or(Rejection::NotAuthorized)?,
    };
    Identity::new(name.into_bytes())
        .map(Some)
        .map_err(|_| Rejection::NotAuthorized)
}

async fn server(listen: String, key: PathBuf, allow: Option<PathBuf>) -> std::io::Result<()> {
    let mut config = ServerConfig::new(StaticKeyPair::load(&key)?);
    config.patterns = vec![Pattern::Ik];
    let devices: Arc<Devices> = Arc::new(match allow {
        None => None,
        Some(allow) => Some(
            lwsec::keys::load_pinned_keys_file(allow)?
                .into_iter()
                .map(|k| (k, short_id(&k)))
                .collect(),
        ),
    });
    let acceptor = lwsec::tokio::Acceptor::new(Arc::new(config))
        .with_authorizer(move |hello| lookup(devices.clone(), hello));
    let (relay, _) = broadcast::channel::<(PublicKey, Bytes)>(1024);
    let listener = TcpListener::bind(&listen).await?;
    println!("chat server on {}", listener.local_addr()?);
    loop {
        let (tcp, addr) = listener.accept().await?;
        let (acceptor, relay) = (acceptor.clone(), relay.clone());
        // The connection's task holds only what it needs once accepted:
        // the handshake runs in its own (boxed) future inside `accept`.
        tokio::spawn(async move {
            let stream = match acceptor.accept(tcp, addr).await {
                Ok(stream) => stream,
                Err(e) => return eprintln!("{addr}: handshake failed: {e}"),
            };
            // Both are known only once the client confirmed the handshake.
            let (Some(me), Some(identity)) = (
                stream.conn().peer_static_key(),
                stream.conn().peer_identity(),
            ) else {
                return eprintln!("{addr}: no confirmed device identity");
            };
            let name = String::from_utf8_lossy(identity.as_bytes()).into_owned();
            println!("{name} joined from {addr}");
            let mut inbox = relay.subscribe();
            let _ = relay.send((me, Bytes::from(format!("* {name} joined"))));
            let (mut to_client, mut from_client) = stream.into_messages().split();
            loop {
                tokio::select! {
                    message = from_client.next() => match message {
                        Some(Ok(text)) => {
                            let line = format!("{name}: {}", String::from_utf8_lossy(&text));
                            let _ = relay.send((me, Bytes::from(line)));
                        }
                        Some(Err(e)) => { eprintln!("{name}: {e}"); break; }
                        None => break,
                    },
                    relayed = inbox.recv() => match relayed {
                        Ok((from, line)) if from != me => {
                            if to_client.send(line).await.is_err() { break; }
                        }
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(n)) => eprintln!("{name}: dropped {n} lines"),
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                }
            }
            let _ = to_client.close().await;
            let _ = relay.send((me, Bytes::from(format!("* {name} left"))));
            println!("{name} left");
        });
    }
}

async fn client(connect: String, server_key: PathBuf, device_key: PathBuf) -> std::io::Result<()> {
    let device = StaticKeyPair::load(&device_key)?;
    println!("you are {}", short_id(&device.public_key()));
    let config = Arc::new(ClientConfig::ik(PublicKey::load(&server_key)?, device));
    let stream = lwsec::tokio::connect(config, TcpStream::connect(&connect).await?).await?;
    let (mut to_server, mut from_server) = stream.into_messages().split();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => match line? {
                Some(line) => to_server.send(Bytes::from(line)).await?,
                None => break, // end of input: leave
            },
            message = from_server.next() => match message {
                Some(message) => println!("{}", String::from_utf8_lossy(&message?)),
                None => { println!("server closed"); return Ok(()); }
            },
        }
    }
    to_server.close().await?;
    // Print what was relayed until the server acknowledges the close.
    while let Some(message) = from_server.next().await {
        println!("{}", String::from_utf8_lossy(&message?));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    match Args::parse().role {
        Role::Server { listen, key, allow } => server(listen, key, allow).await,
        Role::Client {
            connect,
            server_key,
            device_key,
        } => client(connect, server_key, device_key).await,
    }
}
