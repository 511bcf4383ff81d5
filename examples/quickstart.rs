//! End-to-end check and tour: a tokio echo server on 127.0.0.1, and clients
//! over real TCP for NK and IK with both suites. Each client sends messages
//! from 1 byte to 1 MiB (every echoed byte is checked), updates its keys
//! half way, and closes cleanly. Prints a table; exits non-zero on failure.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use lwsec::rng::OsRandom;
use lwsec::{ClientConfig, Pattern, ServerConfig, StaticKeyPair, Suite};
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Message sizes sent by each client: 1 B up to 1 MiB, plus bulk 1 MiB
/// messages for a throughput figure.
fn sizes() -> Vec<usize> {
    let mut sizes = vec![
        1,
        2,
        100,
        1000,
        16_383,
        16_384,
        16_385,
        65_536,
        262_144,
        1 << 20,
    ];
    sizes.extend(std::iter::repeat_n(1 << 20, 16));
    sizes
}

fn fill(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(7).wrapping_add(seed * 13) % 251) as u8)
        .collect()
}

/// An echo server that checks IK clients present the expected device key.
async fn start_server(
    key: StaticKeyPair,
    device: lwsec::PublicKey,
) -> Result<std::net::SocketAddr, BoxError> {
    let acceptor = lwsec::tokio::Acceptor::new(Arc::new(ServerConfig::new(key))).with_authorizer(
        move |hello: lwsec::ClientHello| async move {
            // NK clients are anonymous; IK clients must hold the expected device key.
            match hello.claimed_client_key() {
                Some(k) if k != device => Err(lwsec::Rejection::NotAuthorized),
                _ => Ok(None),
            }
        },
    );
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((tcp, peer)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp, peer).await else {
                    return;
                };
                let mut messages = stream.into_messages();
                while let Some(Ok(message)) = messages.next().await {
                    if messages.send(message).await.is_err() {
                        return;
                    }
                }
                let _ = messages.close().await;
            });
        }
    });
    Ok(addr)
}

struct Row {
    pattern: Pattern,
    suite: Suite,
    handshake: Duration,
    messages: usize,
    bytes: usize,
    echo_time: Duration,
}

async fn run_client(addr: std::net::SocketAddr, config: ClientConfig) -> Result<Row, BoxError> {
    let pattern = config.pattern();
    let suite = config.suites[0];
    let server_key = config.server_key();
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let started = Instant::now();
    let mut stream = lwsec::tokio::connect(Arc::new(config), tcp).await?;
    let handshake = started.elapsed();
    if stream.conn().suite() != Some(suite) || stream.conn().peer_static_key() != Some(server_key) {
        return Err("negotiated parameters differ from the configuration".into());
    }
    let sizes = sizes();
    let (mut messages, mut bytes) = (0, 0);
    let started = Instant::now();
    for (i, &len) in sizes.iter().enumerate() {
        if i == sizes.len() / 2 {
            stream.conn_mut().update_keys(true)?;
        }
        let sent = fill(len, i);
        stream.send_message(&sent).await?;
        let echo = stream.recv_message().await?.ok_or("server closed early")?;
        if echo[..] != sent[..] {
            return Err(format!("message {i} ({len} bytes) came back different").into());
        }
        messages += 1;
        bytes += len;
    }
    let echo_time = started.elapsed();
    stream.close().await?;
    if stream.recv_message().await?.is_some() {
        return Err("data after close".into());
    }
    Ok(Row {
        pattern,
        suite,
        handshake,
        messages,
        bytes,
        echo_time,
    })
}

async fn run() -> Result<(), BoxError> {
    let server_key = StaticKeyPair::generate(&OsRandom)?;
    let device = StaticKeyPair::generate(&OsRandom)?;
    let addr = start_server(server_key.clone(), device.public_key()).await?;
    println!("lwsec quickstart: echo server on {addr}\n");
    println!(
        "{:<7} {:<18} {:>12} {:>9} {:>12} {:>9}",
        "pattern", "suite", "handshake", "messages", "bytes", "MB/s"
    );
    for pattern in [Pattern::Nk, Pattern::Ik] {
        for suite in Suite::ALL {
            let mut config = match pattern {
                Pattern::Nk => ClientConfig::nk(server_key.public_key()),
                _ => ClientConfig::ik(server_key.public_key(), device.clone()),
            };
            config.suites = vec![suite];
            let row = run_client(addr, config).await?;
            // Echo throughput: payload bytes through the connection in both
            // directions (each byte is encrypted and decrypted twice).
            let mbps = (2 * row.bytes) as f64 / row.echo_time.as_secs_f64() / 1e6;
            println!(
                "{:<7} {:<18} {:>9.2} ms {:>9} {:>12} {:>9.1}",
                format!("{:?}", row.pattern),
                format!("{:?}", row.suite),
                row.handshake.as_secs_f64() * 1e3,
                row.messages,
                row.bytes,
                mbps
            );
        }
    }
    println!("\nall checks passed");
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("quickstart FAILED: {e}");
        std::process::exit(1);
    }
}
