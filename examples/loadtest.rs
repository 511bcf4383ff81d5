//! Load test on 127.0.0.1: N concurrent connections (default 10,000) to a
//! tokio echo server in the same process, each doing a handshake and then
//! echoing messages of varied sizes for a bounded time, with every echoed
//! byte checked. Prints handshakes/s, messages/s, errors and peak RSS; exits
//! non-zero on any error, lost or corrupted byte.
//!
//! ```text
//! cargo run --release --example loadtest -- --connections 10000 --seconds 20
//! ```
//!
//! Each connection needs two file descriptors (client and server side); the
//! example raises its soft limit up to the hard limit and lowers N if it
//! still does not fit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use lwsec::rng::OsRandom;
use lwsec::{ClientConfig, ServerConfig, StaticKeyPair};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

#[derive(Parser)]
#[command(about = "lwsec load test on 127.0.0.1")]
struct Args {
    /// Concurrent connections.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// How long each connection keeps echoing, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Largest message size in bytes.
    #[arg(long, default_value_t = 4096)]
    max_message: usize,
}

#[derive(Default)]
struct Stats {
    handshakes: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    corrupted: AtomicU64,
    /// Milliseconds from the start until the latest handshake completed.
    last_handshake_ms: AtomicU64,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Peak resident set size of this process in KiB (Linux), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Raises the open-file limit as far as allowed; returns the soft limit.
fn raise_fd_limit(wanted: u64) -> u64 {
    match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) => limit,
        Err(_) => rlimit::getrlimit(rlimit::Resource::NOFILE)
            .map(|(soft, _)| soft)
            .unwrap_or(1024),
    }
}

fn message(seed: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seed.wrapping_mul(31).wrapping_add(i as u64 * 7) % 251) as u8)
        .collect()
}

async fn server(config: Arc<ServerConfig>, listener: TcpListener, stats: Arc<Stats>) {
    while let Ok((tcp, _)) = listener.accept().await {
        // Only the handshake future (one pointer, owning what it needs) and
        // a counter handle go into the task, so it is sized for the stream.
        let handshake = lwsec::tokio::accept(config.clone(), tcp);
        let stats = stats.clone();
        tokio::spawn(async move {
            let result: Result<(), BoxError> = async {
                let mut stream = handshake.await?;
                while let Some(m) = stream.recv_message().await? {
                    stream.send_message(&m).await?;
                }
                stream.close().await?;
                Ok(())
            }
            .await;
            if result.is_err() {
                stats.errors.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
}

#[allow(clippy::too_many_arguments)]
async fn client(
    id: u64,
    start: Instant,
    permit: tokio::sync::OwnedSemaphorePermit,
    addr: std::net::SocketAddr,
    config: Arc<ClientConfig>,
    deadline: Instant,
    max_message: usize,
    stats: Arc<Stats>,
) -> Result<(), BoxError> {
    let tcp = TcpStream::connect(addr).await?;
    let mut stream = lwsec::tokio::connect(config, tcp).await?;
    drop(permit);
    stats.handshakes.fetch_add(1, Ordering::Relaxed);
    let ms = start.elapsed().as_millis() as u64;
    stats.last_handshake_ms.fetch_max(ms, Ordering::Relaxed);
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let len = ((id.wrapping_mul(7919) ^ n.wrapping_mul(104_729)) as usize) % (max_message + 1);
        let sent = message(id ^ n, len);
        stream.send_message(&sent).await?;
        let echoed = stream.recv_message().await?.ok_or("server closed early")?;
        if echoed[..] != sent[..] {
            stats.corrupted.fetch_add(1, Ordering::Relaxed);
            return Err("echo differs from what was sent".into());
        }
        stats.messages.fetch_add(1, Ordering::Relaxed);
        stats.bytes.fetch_add(len as u64, Ordering::Relaxed);
        // Mostly idle connections, like an IM server's: pause between messages.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stream.close().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let limit = raise_fd_limit(args.connections as u64 * 2 + 256);
    let connections = args
        .connections
        .min((limit.saturating_sub(256) / 2) as usize);
    if connections < args.connections {
        println!(
            "file-descriptor limit {limit}: running {connections} connections instead of {}",
            args.connections
        );
    }
    let key = StaticKeyPair::generate(&OsRandom)?;
    let server_config = Arc::new(ServerConfig::new(key.clone()));
    let client_config = Arc::new(ClientConfig::nk(key.public_key()));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(Stats::default());
    tokio::spawn(server(server_config, listener, stats.clone()));

    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    // At most 256 handshakes in flight at once, as in a reconnect storm,
    // without overflowing the listen backlog.
    let connecting = Arc::new(Semaphore::new(256));
    let mut tasks = Vec::with_capacity(connections);
    for id in 0..connections as u64 {
        let permit = connecting.clone().acquire_owned().await?;
        let (config, stats) = (client_config.clone(), stats.clone());
        let max = args.max_message;
        tasks.push(tokio::spawn(client(
            id, start, permit, addr, config, deadline, max, stats,
        )));
    }
    let mut failed = 0usize;
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failed += 1;
                if failed <= 5 {
                    eprintln!("client error: {e}");
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("client task failed: {e}");
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    // Let server tasks see the closes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let handshakes = stats.handshakes.load(Ordering::Relaxed);
    let messages = stats.messages.load(Ordering::Relaxed);
    let errors = stats.errors.load(Ordering::Relaxed) + failed as u64;
    let corrupted = stats.corrupted.load(Ordering::Relaxed);
    println!("connections        {connections}");
    let handshake_secs = stats.last_handshake_ms.load(Ordering::Relaxed).max(1) as f64 / 1000.0;
    println!(
        "handshakes         {handshakes} ({:.0}/s, client and server in one process)",
        handshakes as f64 / handshake_secs
    );
    println!(
        "messages echoed    {messages} ({:.0}/s)",
        messages as f64 / elapsed
    );
    println!("bytes echoed       {}", stats.bytes.load(Ordering::Relaxed));
    println!("errors             {errors}");
    println!("corrupted echoes   {corrupted}");
    match peak_rss_kib() {
        Some(kib) => println!(
            "peak RSS           {:.1} MiB ({:.1} KiB per connection pair)",
            kib as f64 / 1024.0,
            kib as f64 / connections.max(1) as f64
        ),
        None => println!("peak RSS           unknown"),
    }
    if errors > 0 || corrupted > 0 || handshakes != connections as u64 {
        return Err(format!(
            "{errors} errors, {corrupted} corrupted echoes, {handshakes}/{connections} handshakes"
        )
        .into());
    }
    Ok(())
}
