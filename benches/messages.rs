//! 64-byte messages over many connections (issue 16, item 3): messages per
//! second per core of server CPU, p99 latency and server syscalls per
//! message, lwsec's tokio adapter against tokio-rustls on aws-lc-rs, in the
//! same run.
//!
//! ```text
//! cargo run --release -p lwsec-bench --bin messages               # 1,000 connections, 10 s per mode
//! cargo run --release -p lwsec-bench --bin messages -- --connections 100 --seconds 2 --json
//! ```
//!
//! For each kind of server this program starts itself again as the server
//! (`--serve KIND`, a separate process), opens `--connections` clients and
//! runs two modes on them, each for `--seconds` after a warm-up second:
//!
//! * **one in flight**: each connection sends a message, waits for its
//!   echo, sends the next;
//! * **pipelined**: each connection keeps `--depth` (16) messages
//!   outstanding, sending as many new ones as echoes arrive.
//!
//! The servers echo every message. Both echo what one read delivered with
//! one write: lwsec queues each received message as its own record
//! (`Connection::send_message` through `Stream::conn_mut`) and flushes
//! once, and the adapter writes all queued records in one `write`;
//! tokio-rustls gets the received length-prefixed frames in one
//! `write_all` (one TLS record) and a flush. `lwsec-per-message` is the
//! README's simplest loop (`recv_message`, then `send_message`, which
//! flushes each message), to show what coalescing saves.
//!
//! Framing: lwsec carries each 64-byte message as one record of its own;
//! TLS carries a 2-byte length prefix and 64 bytes per message in the
//! stream. Reported per mode, from the server process: messages per second
//! (wall), server CPU per message and its inverse per core
//! (`CLOCK_PROCESS_CPUTIME_ID`), socket reads and writes per message that
//! returned data (each one `recv`/`send`/`writev`; counted by wrapping the
//! server's sockets, see `net::Counted`), socket polls that found the
//! socket not ready (at most one failed `EAGAIN` call each; `epoll_wait`
//! is not counted), and the clients' p50/p99 latency from sending a
//! message to receiving its echo.

mod net;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use net::{BoxError, COUNT, CertKey, Counted, Server, Snapshot};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

const MESSAGE_LEN: usize = 64;
/// TLS framing: a 2-byte big-endian length, then the message.
const FRAME_LEN: usize = 2 + MESSAGE_LEN;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Lwsec,
    LwsecPerMessage,
    Rustls,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Lwsec, Kind::LwsecPerMessage, Kind::Rustls];

    fn name(self) -> &'static str {
        match self {
            Kind::Lwsec => "lwsec",
            Kind::LwsecPerMessage => "lwsec-per-message",
            Kind::Rustls => "tokio-rustls",
        }
    }

    fn parse(s: &str) -> Result<Kind, BoxError> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!("unknown kind {s:?} (lwsec, lwsec-per-message, tokio-rustls)").into()
            })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    OneInFlight,
    Pipelined,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::OneInFlight => "one in flight",
            Mode::Pipelined => "pipelined",
        }
    }
}

struct Args {
    connections: usize,
    seconds: f64,
    depth: usize,
    kinds: Vec<Kind>,
    json: bool,
    provider: &'static lwsec::crypto::CryptoProvider,
    serve: Option<Kind>,
    server_cert: Option<String>,
    server_key: Option<String>,
    client_cert: Option<String>,
}

fn usage() -> &'static str {
    "messages [--connections N] [--seconds S] [--depth D] \
     [--kinds lwsec,lwsec-per-message,tokio-rustls] [--provider aws-lc|rust-crypto] [--json]"
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        connections: 1000,
        seconds: 10.0,
        depth: 16,
        kinds: Kind::ALL.to_vec(),
        json: false,
        provider: net::default_provider(),
        serve: None,
        server_cert: None,
        server_key: None,
        client_cert: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--connections" => args.connections = value()?.parse::<usize>()?.max(1),
            "--seconds" => args.seconds = value()?.parse()?,
            "--depth" => args.depth = value()?.parse::<usize>()?.max(1),
            "--kinds" => {
                args.kinds = value()?
                    .split(',')
                    .map(Kind::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--provider" => args.provider = net::provider_named(&value()?)?,
            "--json" => args.json = true,
            "--serve" => args.serve = Some(Kind::parse(&value()?)?),
            "--server-cert" => args.server_cert = Some(value()?),
            "--server-key" => args.server_key = Some(value()?),
            "--client-cert" => args.client_cert = Some(value()?),
            "--help" | "-h" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}\n{}", usage()).into()),
        }
    }
    Ok(args)
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    net::raise_fd_limit();
    match args.serve {
        Some(kind) => serve(kind, &args),
        None => drive(&args),
    }
}

// ----- the server process -----

fn count(n: usize) {
    COUNT.fetch_add(n as u64, Ordering::Relaxed);
}

/// lwsec: every message one read delivered is queued, then one flush.
async fn echo_lwsec_batched(
    mut stream: lwsec::tokio::Stream<Counted<TcpStream>>,
) -> std::io::Result<()> {
    while let Some(first) = stream.recv_message().await? {
        let conn = stream.conn_mut();
        conn.send_message(&first)?;
        let mut n = 1;
        while let Some(message) = conn.recv_message() {
            conn.send_message(&message)?;
            n += 1;
        }
        stream.flush().await?;
        count(n);
    }
    stream.close().await
}

/// lwsec, the README's loop: each message sent (and flushed) on its own.
async fn echo_lwsec_per_message(
    mut stream: lwsec::tokio::Stream<Counted<TcpStream>>,
) -> std::io::Result<()> {
    while let Some(message) = stream.recv_message().await? {
        stream.send_message(&message).await?;
        count(1);
    }
    stream.close().await
}

/// Length-prefixed frames: echoes every complete frame one read delivered
/// with one write.
async fn echo_frames<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut have = 0;
    loop {
        let n = io.read(&mut buf[have..]).await?;
        if n == 0 {
            break;
        }
        have += n;
        let (complete, frames) = complete_frames(&buf[..have]);
        if frames > 0 {
            io.write_all(&buf[..complete]).await?;
            io.flush().await?;
            buf.copy_within(complete..have, 0);
            have -= complete;
            count(frames);
        }
    }
    io.shutdown().await
}

/// The length of the complete frames at the start of `data`, and how many.
fn complete_frames(data: &[u8]) -> (usize, usize) {
    let (mut at, mut frames) = (0, 0);
    while let Some(&[hi, lo]) = data.get(at..at + 2) {
        let end = at + 2 + usize::from(u16::from_be_bytes([hi, lo]));
        if end > data.len() {
            break;
        }
        at = end;
        frames += 1;
    }
    (at, frames)
}

fn serve(kind: Kind, args: &Args) -> Result<(), BoxError> {
    let runtime = net::runtime()?;
    let acceptor = net::lwsec_acceptor(args.provider);
    let tls = if kind == Kind::Rustls {
        let server = CertKey::from_hex(
            args.server_cert.as_deref().ok_or("--server-cert")?,
            args.server_key.as_deref().ok_or("--server-key")?,
        )?;
        let client_ca = net::hex_decode(args.client_cert.as_deref().ok_or("--client-cert")?)?;
        Some(tokio_rustls::TlsAcceptor::from(net::rustls_server_config(
            &server, &client_ca, false,
        )?))
    } else {
        None
    };
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    runtime.spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let tcp = Counted(tcp);
            match (&tls, kind) {
                (Some(tls), _) => {
                    let handshake = tls.accept(tcp);
                    tokio::spawn(async move { echo_frames(handshake.await?).await });
                }
                (None, Kind::LwsecPerMessage) => {
                    let handshake = acceptor.accept(tcp, peer);
                    tokio::spawn(async move { echo_lwsec_per_message(handshake.await?).await });
                }
                (None, _) => {
                    let handshake = acceptor.accept(tcp, peer);
                    tokio::spawn(async move { echo_lwsec_batched(handshake.await?).await });
                }
            }
        }
    });
    net::serve_commands(addr)?;
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}

// ----- the clients -----

/// Whether clients record latencies, and whether they should stop.
struct Flags {
    measuring: AtomicBool,
    stop: AtomicBool,
}

/// A connected client.
enum Client {
    Lwsec(Box<lwsec::tokio::Stream<TcpStream>>),
    Rustls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Client {
    /// Sends `n` messages with one flush.
    async fn send(&mut self, n: usize) -> Result<(), BoxError> {
        let message = [0x5a; MESSAGE_LEN];
        match self {
            Client::Lwsec(stream) => {
                for _ in 0..n {
                    stream.conn_mut().send_message(&message)?;
                }
                stream.flush().await?;
            }
            Client::Rustls(tls) => {
                let mut frames = Vec::with_capacity(n * FRAME_LEN);
                for _ in 0..n {
                    frames.extend_from_slice(&(MESSAGE_LEN as u16).to_be_bytes());
                    frames.extend_from_slice(&message);
                }
                tls.write_all(&frames).await?;
                tls.flush().await?;
            }
        }
        Ok(())
    }

    /// Waits for at least one echo; returns how many arrived. `buf` keeps
    /// a partial frame (TLS) between calls.
    async fn receive(&mut self, buf: &mut Vec<u8>) -> Result<usize, BoxError> {
        match self {
            Client::Lwsec(stream) => {
                let first = stream.recv_message().await?.ok_or("closed")?;
                if first.len() != MESSAGE_LEN {
                    return Err("echo of the wrong length".into());
                }
                let mut n = 1;
                while stream.conn_mut().recv_message().is_some() {
                    n += 1;
                }
                Ok(n)
            }
            Client::Rustls(tls) => loop {
                let (complete, frames) = complete_frames(buf);
                if frames > 0 {
                    buf.drain(..complete);
                    return Ok(frames);
                }
                let mut chunk = [0u8; 16 * 1024];
                let n = tls.read(&mut chunk).await?;
                if n == 0 {
                    return Err("closed".into());
                }
                buf.extend_from_slice(&chunk[..n]);
            },
        }
    }

    async fn close(self) -> Result<(), BoxError> {
        match self {
            Client::Lwsec(mut stream) => stream.close().await?,
            Client::Rustls(mut tls) => tls.shutdown().await?,
        }
        Ok(())
    }
}

async fn connect(
    kind: Kind,
    addr: SocketAddr,
    lwsec_config: Arc<lwsec::ClientConfig>,
    tls: tokio_rustls::TlsConnector,
) -> Result<Client, BoxError> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Ok(match kind {
        Kind::Lwsec | Kind::LwsecPerMessage => {
            Client::Lwsec(Box::new(lwsec::tokio::connect(lwsec_config, tcp).await?))
        }
        Kind::Rustls => {
            let name = rustls::pki_types::ServerName::try_from("localhost")?;
            Client::Rustls(Box::new(tls.connect(name, tcp).await?))
        }
    })
}

/// One connection's loop: `depth` messages outstanding until told to stop;
/// returns the latencies (µs) measured while `measuring`.
async fn run_client(
    mut client: Client,
    depth: usize,
    flags: Arc<Flags>,
) -> Result<Vec<u32>, BoxError> {
    let mut latencies = Vec::new();
    let mut sent: VecDeque<Instant> = VecDeque::with_capacity(depth);
    let mut buf = Vec::new();
    let now = Instant::now();
    sent.extend(std::iter::repeat_n(now, depth));
    client.send(depth).await?;
    loop {
        let n = client.receive(&mut buf).await?;
        let now = Instant::now();
        let measuring = flags.measuring.load(Ordering::Relaxed);
        for _ in 0..n {
            let t = sent.pop_front().ok_or("more echoes than messages")?;
            if measuring {
                latencies
                    .push(u32::try_from(now.duration_since(t).as_micros()).unwrap_or(u32::MAX));
            }
        }
        if flags.stop.load(Ordering::Relaxed) {
            if sent.is_empty() {
                break;
            }
            continue;
        }
        sent.extend(std::iter::repeat_n(Instant::now(), n));
        client.send(n).await?;
    }
    client.close().await?;
    Ok(latencies)
}

struct Row {
    kind: Kind,
    mode: Mode,
    server: Snapshot,
    wall: Duration,
    latencies: Vec<u64>,
}

impl Row {
    fn per_second(&self) -> f64 {
        self.server.count as f64 / self.wall.as_secs_f64()
    }

    fn cpu_us_per_message(&self) -> f64 {
        self.server.cpu_ns as f64 / 1e3 / self.server.count.max(1) as f64
    }

    fn per_core_per_second(&self) -> f64 {
        self.server.count as f64 / (self.server.cpu_ns.max(1) as f64 / 1e9)
    }

    /// Socket reads, writes and not-ready polls per message.
    fn syscalls_per_message(&self) -> (f64, f64, f64) {
        let n = self.server.count.max(1) as f64;
        (
            self.server.reads as f64 / n,
            self.server.writes as f64 / n,
            self.server.would_block as f64 / n,
        )
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_mode(
    kind: Kind,
    mode: Mode,
    args: &Args,
    server: &mut Server,
    lwsec_config: &Arc<lwsec::ClientConfig>,
    tls: &tokio_rustls::TlsConnector,
) -> Result<Row, BoxError> {
    let addr = server.addr;
    let gate = Arc::new(Semaphore::new(64));
    let mut connecting = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let permit = gate.clone().acquire_owned().await?;
        let (c, t) = (lwsec_config.clone(), tls.clone());
        connecting.push(tokio::spawn(async move {
            let client = connect(kind, addr, c, t).await;
            drop(permit);
            client
        }));
    }
    let flags = Arc::new(Flags {
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
    });
    let depth = match mode {
        Mode::OneInFlight => 1,
        Mode::Pipelined => args.depth,
    };
    let mut running = Vec::with_capacity(args.connections);
    for c in connecting {
        let client = c.await??;
        running.push(tokio::spawn(run_client(client, depth, flags.clone())));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = tokio::task::block_in_place(|| server.snapshot("start"))?;
    flags.measuring.store(true, Ordering::SeqCst);
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    let after = tokio::task::block_in_place(|| server.snapshot("stop"))?;
    let wall = start.elapsed();
    flags.measuring.store(false, Ordering::SeqCst);
    flags.stop.store(true, Ordering::SeqCst);
    let mut latencies = Vec::new();
    for task in running {
        latencies.extend(task.await??.into_iter().map(u64::from));
    }
    latencies.sort_unstable();
    Ok(Row {
        kind,
        mode,
        server: before.delta(&after),
        wall,
        latencies,
    })
}

fn drive(args: &Args) -> Result<(), BoxError> {
    let needed = (args.connections as u64)
        .saturating_mul(2)
        .saturating_add(64);
    let limit = net::raise_fd_limit();
    if needed > limit {
        return Err(format!(
            "{} connections need {needed} open files; the limit is {limit} (ulimit -n)",
            args.connections
        )
        .into());
    }
    let server_cert = CertKey::generate("localhost")?;
    let client_cert = CertKey::generate("device")?;
    let runtime = net::runtime()?;
    let lwsec_config = net::lwsec_ik_client_config(args.provider);
    let tls = tokio_rustls::TlsConnector::from(net::rustls_client_config(
        &client_cert,
        &server_cert.cert,
    )?);
    let mut rows = Vec::new();
    for &kind in &args.kinds {
        let mut server_args = vec![
            "--serve".to_string(),
            kind.name().to_string(),
            "--provider".to_string(),
            args.provider.name.to_string(),
        ];
        server_args.extend(server_cert.to_args("server"));
        server_args.push("--client-cert".into());
        server_args.push(net::hex_encode(&client_cert.cert));
        let mut server = Server::start(&server_args)?;
        for mode in [Mode::OneInFlight, Mode::Pipelined] {
            let row =
                runtime.block_on(run_mode(kind, mode, args, &mut server, &lwsec_config, &tls))?;
            if !args.json {
                eprintln!(
                    "{:>17} {:>13}: {:.0} messages/s, {:.2} µs server CPU each, p99 {} µs",
                    kind.name(),
                    mode.name(),
                    row.per_second(),
                    row.cpu_us_per_message(),
                    net::quantile(&row.latencies, 0.99)
                );
            }
            rows.push(row);
        }
        server.stop();
    }
    if args.json {
        print_json(args, &rows);
    } else {
        print_table(args, &rows);
    }
    Ok(())
}

fn print_table(args: &Args, rows: &[Row]) {
    println!(
        "{} connections, 64-byte messages, {} s per mode, pipelined depth {}, loopback TCP, \
         {} cores shared by server and clients; lwsec IK, provider {}, AES-256-GCM; \
         tokio-rustls TLS 1.3 AES-256-GCM on aws-lc-rs",
        args.connections,
        args.seconds,
        args.depth,
        net::cores(),
        args.provider.name
    );
    println!(
        "| server | mode | messages/s (wall) | server CPU µs/msg | messages/s per core | \
         this / lwsec CPU | p50 µs | p99 µs | reads/msg | writes/msg | not ready/msg |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        let lwsec = rows
            .iter()
            .find(|r| r.kind == Kind::Lwsec && r.mode == row.mode);
        let ratio = lwsec.map_or("-".into(), |l| {
            format!("{:.2}x", row.cpu_us_per_message() / l.cpu_us_per_message())
        });
        let (reads, writes, blocked) = row.syscalls_per_message();
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.0} | {ratio} | {} | {} | {reads:.3} | {writes:.3} | {blocked:.3} |",
            row.kind.name(),
            row.mode.name(),
            row.per_second(),
            row.cpu_us_per_message(),
            row.per_core_per_second(),
            net::quantile(&row.latencies, 0.50),
            net::quantile(&row.latencies, 0.99),
        );
    }
}

fn print_json(args: &Args, rows: &[Row]) {
    let entries: Vec<String> = rows
        .iter()
        .map(|r| {
            let (reads, writes, blocked) = r.syscalls_per_message();
            format!(
                "{{\"server\":\"{}\",\"mode\":\"{}\",\"messages\":{},\"wall_secs\":{:.3},\
                 \"messages_per_sec\":{:.1},\"server_cpu_us_per_message\":{:.3},\
                 \"messages_per_sec_per_core\":{:.1},\"latency_p50_us\":{},\"latency_p99_us\":{},\
                 \"reads_per_message\":{reads:.4},\"writes_per_message\":{writes:.4},\
                 \"not_ready_per_message\":{blocked:.4}}}",
                r.kind.name(),
                r.mode.name(),
                r.server.count,
                r.wall.as_secs_f64(),
                r.per_second(),
                r.cpu_us_per_message(),
                r.per_core_per_second(),
                net::quantile(&r.latencies, 0.50),
                net::quantile(&r.latencies, 0.99),
            )
        })
        .collect();
    println!(
        "{{\"connections\":{},\"seconds\":{},\"depth\":{},\"cores\":{},\"provider\":\"{}\",\"results\":[{}]}}",
        args.connections,
        args.seconds,
        args.depth,
        net::cores(),
        args.provider.name,
        entries.join(",")
    );
}
