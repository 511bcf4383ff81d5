//! Server memory per idle connection: plain TCP, lwsec's tokio adapter
//! (NK and IK) and tokio-rustls, measured in the same run.
//!
//! ```text
//! cargo run --release -p lwsec-bench --bin idle-connections -- --connections 10000
//! cargo run --release -p lwsec-bench --bin idle-connections -- --connections 2000 --json
//! ```
//!
//! For each kind of server, this program starts itself again as the server
//! (`--serve KIND`, a separate process, so the clients' memory is not
//! counted), opens a few warm-up connections and closes them (one-time
//! initialisation is then not charged to the connections), reads the
//! server's baseline, opens `--connections` clients that each send 1 KiB
//! and read it back and then stay open and silent, waits `--settle-ms` (the
//! lwsec adapter releases an idle connection's buffers and expanded keys
//! when a read would block), and reads the server's memory again. The
//! figures are the differences divided by the number of connections:
//!
//! * **RSS**, from `/proc/self/statm` (what the operating system charges);
//! * **heap**, from glibc's `mallinfo2` (bytes in use in malloc, Rust and C
//!   allocations alike, so aws-lc's key schedules are counted).
//!
//! Every server is a tokio multi-thread runtime spawning one task per
//! connection, with the same echo loop: plain TCP is the floor (a tokio
//! task and a registered socket, no buffer kept while idle); tokio-rustls
//! runs TLS 1.3 with X25519 and AES-256-GCM on aws-lc-rs (self-signed ECDSA
//! P-256 certificate from rcgen, no tickets); lwsec runs the `Acceptor`
//! (aws-lc provider, AES-256-GCM; per-address rate limit off, since every
//! client comes from 127.0.0.1) in the shape the README recommends.

// mallinfo2 and setrlimit are C calls through `libc`.
#![allow(unsafe_code)]

use std::future::{Future, poll_fn};
use std::io::{BufRead, BufReader, Write};
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lwsec::crypto::CryptoProvider;
use lwsec::{ClientConfig, ServerConfig, StaticKeyPair, Suite};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The server's static key (the clients pin its public key).
const SERVER_SECRET: [u8; 32] = [0x11; 32];
/// The IK clients' device key (one for all: no authorizer looks at it).
const CLIENT_SECRET: [u8; 32] = [0x22; 32];
/// What each client echoes once before going idle.
const ECHO_LEN: usize = 1024;
/// Connections opened and closed before the baseline.
const WARM_UP: usize = 32;
/// Client handshakes in flight at once.
const CONNECTING: usize = 128;

/// The servers compared.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Tcp,
    LwsecNk,
    LwsecIk,
    Rustls,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Tcp, Kind::LwsecNk, Kind::LwsecIk, Kind::Rustls];

    fn name(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::LwsecNk => "lwsec-nk",
            Kind::LwsecIk => "lwsec-ik",
            Kind::Rustls => "tokio-rustls",
        }
    }

    fn parse(s: &str) -> Result<Kind, BoxError> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!("unknown kind {s:?} (tcp, lwsec-nk, lwsec-ik, tokio-rustls)").into()
            })
    }
}

struct Args {
    connections: usize,
    kinds: Vec<Kind>,
    json: bool,
    settle: Duration,
    provider: &'static CryptoProvider,
    /// Internal: run as the server of this kind.
    serve: Option<Kind>,
    /// Internal: the rustls certificate and key (hex DER), for `--serve`.
    cert: Option<String>,
    key: Option<String>,
}

fn usage() -> &'static str {
    "idle-connections [--connections N] [--kinds tcp,lwsec-nk,lwsec-ik,tokio-rustls] \
     [--settle-ms MS] [--provider aws-lc|rust-crypto] [--json]"
}

fn parse_args() -> Result<Args, BoxError> {
    let default_provider = lwsec::crypto::providers()
        .iter()
        .copied()
        .find(|p| p.name == "aws-lc")
        .unwrap_or(&lwsec::crypto::RUST_CRYPTO);
    let mut args = Args {
        connections: 10_000,
        kinds: Kind::ALL.to_vec(),
        json: false,
        settle: Duration::from_millis(1000),
        provider: default_provider,
        serve: None,
        cert: None,
        key: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--connections" => args.connections = value()?.parse()?,
            "--kinds" => {
                args.kinds = value()?
                    .split(',')
                    .map(Kind::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--settle-ms" => args.settle = Duration::from_millis(value()?.parse()?),
            "--provider" => {
                let name = value()?;
                args.provider = lwsec::crypto::providers()
                    .iter()
                    .copied()
                    .find(|p| p.name == name)
                    .ok_or_else(|| format!("provider {name:?} not compiled in"))?;
            }
            "--json" => args.json = true,
            "--serve" => args.serve = Some(Kind::parse(&value()?)?),
            "--cert" => args.cert = Some(value()?),
            "--key" => args.key = Some(value()?),
            "--help" | "-h" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            // `cargo bench` passes --bench to every target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}\n{}", usage()).into()),
        }
    }
    Ok(args)
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    raise_fd_limit();
    match args.serve {
        Some(kind) => serve(kind, &args),
        None => drive(&args),
    }
}

// ----- measurements -----

/// Resident set size of this process, in bytes.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// Bytes in use in glibc's malloc, every arena, small chunks and mmapped
/// ones: Rust's and C's allocations alike.
fn heap_bytes() -> u64 {
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let info = unsafe { libc::mallinfo2() };
    (info.uordblks + info.hblkhd) as u64
}

/// Raises the soft limit on open files to the hard limit.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we pass.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    limit.rlim_cur
}

// ----- the server process -----

/// Connection tasks alive now, and connections that echoed their first
/// message (statics: a counter handle in every task would add to its size).
static LIVE: AtomicUsize = AtomicUsize::new(0);
static ECHOED: AtomicUsize = AtomicUsize::new(0);
/// Size of one connection task's future, recorded by the first spawn.
static FUTURE_BYTES: AtomicUsize = AtomicUsize::new(0);

struct Live;

impl Live {
    fn new() -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

fn spawn_connection<F>(future: F)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let _ = FUTURE_BYTES.compare_exchange(
        0,
        std::mem::size_of_val(&future),
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    tokio::spawn(future);
}

fn lwsec_server_config(provider: &'static CryptoProvider) -> Arc<ServerConfig> {
    let mut config = ServerConfig::new(StaticKeyPair::from_private_bytes(SERVER_SECRET));
    config.provider = provider;
    Arc::new(config)
}

fn serve(kind: Kind, args: &Args) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Everything a connection does not own is built before listening.
    let acceptor = lwsec::tokio::Acceptor::new(lwsec_server_config(args.provider))
        .without_handshake_rate_limit();
    let tls = match kind {
        Kind::Rustls => {
            let cert = hex_decode(args.cert.as_deref().ok_or("--cert")?)?;
            let key = hex_decode(args.key.as_deref().ok_or("--key")?)?;
            Some(tokio_rustls::TlsAcceptor::from(rustls_server_config(
                cert, key,
            )?))
        }
        _ => None,
    };
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    runtime.spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                continue;
            };
            match kind {
                Kind::Tcp => spawn_connection(echo_tcp(tcp)),
                Kind::LwsecNk | Kind::LwsecIk => spawn_lwsec(&acceptor, tcp, peer),
                Kind::Rustls => {
                    if let Some(tls) = &tls {
                        spawn_connection(echo_rustls(tls.clone(), tcp));
                    }
                }
            }
        }
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {addr}")?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        match line.trim() {
            "baseline" => {
                // The warm-up connections are gone and their memory freed.
                let start = Instant::now();
                while LIVE.load(Ordering::SeqCst) > 0 && start.elapsed() < Duration::from_secs(10) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                std::thread::sleep(args.settle);
                ECHOED.store(0, Ordering::SeqCst);
                report(&mut out, "baseline")?;
            }
            "measure" => {
                std::thread::sleep(args.settle);
                report(&mut out, "idle")?;
            }
            _ => break,
        }
    }
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}

fn report(out: &mut impl Write, what: &str) -> std::io::Result<()> {
    writeln!(
        out,
        "{what} {} {} {} {} {}",
        rss_bytes(),
        heap_bytes(),
        LIVE.load(Ordering::SeqCst),
        ECHOED.load(Ordering::SeqCst),
        FUTURE_BYTES.load(Ordering::SeqCst),
    )?;
    out.flush()
}

/// One read into a buffer on the poll's stack: nothing is kept in the task
/// between reads (as lwsec's adapter does). An empty vector is the end.
async fn read_some<S: AsyncRead + Unpin>(io: &mut S) -> std::io::Result<Vec<u8>> {
    poll_fn(|cx| {
        let mut storage = [MaybeUninit::<u8>::uninit(); 4096];
        let mut buf = ReadBuf::uninit(&mut storage);
        std::task::ready!(Pin::new(&mut *io).poll_read(cx, &mut buf))?;
        std::task::Poll::Ready(Ok(buf.filled().to_vec()))
    })
    .await
}

/// Echoes every byte until the peer closes; counts the connection once it
/// echoed its first `ECHO_LEN` bytes.
async fn echo_bytes<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) -> std::io::Result<()> {
    let mut echoed = 0usize;
    loop {
        let data = read_some(&mut io).await?;
        if data.is_empty() {
            return Ok(());
        }
        io.write_all(&data).await?;
        io.flush().await?;
        if echoed < ECHO_LEN {
            echoed += data.len();
            if echoed >= ECHO_LEN {
                ECHOED.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// The floor: a tokio task and a registered socket.
async fn echo_tcp(tcp: TcpStream) {
    let _live = Live::new();
    let _ = echo_bytes(tcp).await;
}

/// tokio-rustls: the handshake, then the same echo loop.
async fn echo_rustls(acceptor: tokio_rustls::TlsAcceptor, tcp: TcpStream) {
    let _live = Live::new();
    if let Ok(tls) = acceptor.accept(tcp).await {
        let _ = echo_bytes(tls).await;
    }
}

/// lwsec: the README's server loop. The handshake future is created in
/// the accept loop and only it is moved into the task (it owns what it
/// needs and is one pointer), so the task is sized for the idle stream.
fn spawn_lwsec(acceptor: &lwsec::tokio::Acceptor, tcp: TcpStream, peer: SocketAddr) {
    let handshake = acceptor.accept(tcp, peer);
    spawn_connection(async move {
        let _live = Live::new();
        let mut stream = handshake.await?;
        let mut first = true;
        while let Some(message) = stream.recv_message().await? {
            stream.send_message(&message).await?;
            if std::mem::take(&mut first) {
                ECHOED.fetch_add(1, Ordering::SeqCst);
            }
        }
        stream.close().await
    });
}

fn rustls_provider() -> Arc<rustls::crypto::CryptoProvider> {
    let mut p = rustls::crypto::aws_lc_rs::default_provider();
    p.cipher_suites
        .retain(|s| s.suite() == rustls::CipherSuite::TLS13_AES_256_GCM_SHA384);
    p.kx_groups
        .retain(|g| g.name() == rustls::NamedGroup::X25519);
    Arc::new(p)
}

fn rustls_server_config(
    cert: Vec<u8>,
    key: Vec<u8>,
) -> Result<Arc<rustls::ServerConfig>, BoxError> {
    let mut config = rustls::ServerConfig::builder_with_provider(rustls_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(cert)],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
        )?;
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    Ok(Arc::new(config))
}

fn rustls_client_config(cert: Vec<u8>) -> Result<Arc<rustls::ClientConfig>, BoxError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(cert))?;
    let mut config = rustls::ClientConfig::builder_with_provider(rustls_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Result<Vec<u8>, BoxError> {
    (0..s.len())
        .step_by(2)
        .map(|i| Ok(u8::from_str_radix(s.get(i..i + 2).ok_or("odd hex")?, 16)?))
        .collect()
}

// ----- the driving process (clients) -----

/// One server process and its command pipe.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    addr: SocketAddr,
}

/// What the server reported at one point.
#[derive(Clone, Copy, Debug, Default)]
struct Snapshot {
    rss: u64,
    heap: u64,
    live: u64,
    echoed: u64,
    future_bytes: u64,
}

impl Server {
    fn start(kind: Kind, args: &Args, cert: &[u8], key: &[u8]) -> Result<Self, BoxError> {
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["--serve", kind.name()])
            .args(["--settle-ms", &args.settle.as_millis().to_string()])
            .args(["--provider", args.provider.name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if kind == Kind::Rustls {
            command
                .args(["--cert", &hex_encode(cert)])
                .args(["--key", &hex_encode(key)]);
        }
        let mut child = command.spawn()?;
        let stdin = child.stdin.take().ok_or("server stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("server stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let addr = line
            .strip_prefix("ready ")
            .ok_or_else(|| format!("server said {line:?}"))?
            .trim()
            .parse()?;
        Ok(Self {
            child,
            stdin,
            stdout,
            addr,
        })
    }

    fn ask(&mut self, command: &str) -> Result<Snapshot, BoxError> {
        writeln!(self.stdin, "{command}")?;
        self.stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        let fields: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("server said {line:?}"))?;
        match fields[..] {
            [rss, heap, live, echoed, future_bytes] => Ok(Snapshot {
                rss,
                heap,
                live,
                echoed,
                future_bytes,
            }),
            _ => Err(format!("server said {line:?}").into()),
        }
    }

    fn stop(mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

/// Clients' configurations, shared by all connections of a kind.
struct Clients {
    nk: Arc<ClientConfig>,
    ik: Arc<ClientConfig>,
    tls: tokio_rustls::TlsConnector,
}

/// A connected client kept open (and silent) while the server is measured.
enum Open {
    Tcp(#[allow(dead_code)] TcpStream),
    Lwsec(#[allow(dead_code)] Box<lwsec::tokio::Stream<TcpStream>>),
    Rustls(#[allow(dead_code)] Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

async fn connect_one(kind: Kind, addr: SocketAddr, clients: &Clients) -> Result<Open, BoxError> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let message = [0x5a; ECHO_LEN];
    let mut back = [0u8; ECHO_LEN];
    match kind {
        Kind::Tcp => {
            let mut tcp = tcp;
            tcp.write_all(&message).await?;
            tcp.read_exact(&mut back).await?;
            Ok(Open::Tcp(tcp))
        }
        Kind::LwsecNk | Kind::LwsecIk => {
            let config = if kind == Kind::LwsecNk {
                &clients.nk
            } else {
                &clients.ik
            };
            let mut stream = lwsec::tokio::connect(config.clone(), tcp).await?;
            stream.send_message(&message).await?;
            let reply = stream.recv_message().await?.ok_or("closed")?;
            if reply.len() != ECHO_LEN {
                return Err("short echo".into());
            }
            Ok(Open::Lwsec(Box::new(stream)))
        }
        Kind::Rustls => {
            let name = rustls::pki_types::ServerName::try_from("localhost")?;
            let mut tls = clients.tls.connect(name, tcp).await?;
            tls.write_all(&message).await?;
            tls.flush().await?;
            tls.read_exact(&mut back).await?;
            Ok(Open::Rustls(Box::new(tls)))
        }
    }
}

/// Opens `n` connections that each echo 1 KiB, at most `CONNECTING` at once.
async fn open_many(
    kind: Kind,
    addr: SocketAddr,
    clients: Arc<Clients>,
    n: usize,
) -> Result<Vec<Open>, BoxError> {
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let permit = gate.clone().acquire_owned().await?;
        let clients = clients.clone();
        tasks.push(tokio::spawn(async move {
            let open = connect_one(kind, addr, &clients).await;
            drop(permit);
            open
        }));
    }
    let mut open = Vec::with_capacity(n);
    for task in tasks {
        open.push(task.await??);
    }
    Ok(open)
}

/// One kind's result.
struct Row {
    kind: Kind,
    connections: usize,
    baseline: Snapshot,
    idle: Snapshot,
    connect_secs: f64,
}

impl Row {
    fn rss_per_conn(&self) -> f64 {
        (self.idle.rss as f64 - self.baseline.rss as f64) / self.connections as f64
    }

    fn heap_per_conn(&self) -> f64 {
        (self.idle.heap as f64 - self.baseline.heap as f64) / self.connections as f64
    }
}

fn drive(args: &Args) -> Result<(), BoxError> {
    let n = args.connections;
    if (n as u64).saturating_add(64) > fd_limit() {
        return Err(format!(
            "{n} connections need more open files than the limit {} (ulimit -n)",
            fd_limit()
        )
        .into());
    }
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let cert = certified.cert.der().to_vec();
    let key = certified.signing_key.serialize_der();
    let server_key = StaticKeyPair::from_private_bytes(SERVER_SECRET);
    let client_config = |mut c: ClientConfig| {
        c.suites = vec![Suite::Aes256Gcm];
        c.provider = args.provider;
        Arc::new(c)
    };
    let clients = Arc::new(Clients {
        nk: client_config(ClientConfig::nk(server_key.public_key())),
        ik: client_config(ClientConfig::ik(
            server_key.public_key(),
            StaticKeyPair::from_private_bytes(CLIENT_SECRET),
        )),
        tls: tokio_rustls::TlsConnector::from(rustls_client_config(cert.clone())?),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    for &kind in &args.kinds {
        let mut server = Server::start(kind, args, &cert, &key)?;
        let addr = server.addr;
        let warm = runtime.block_on(open_many(kind, addr, clients.clone(), WARM_UP))?;
        drop(warm);
        let baseline = server.ask("baseline")?;
        let start = Instant::now();
        let open = runtime.block_on(open_many(kind, addr, clients.clone(), n))?;
        let connect_secs = start.elapsed().as_secs_f64();
        let idle = server.ask("measure")?;
        if idle.echoed < n as u64 {
            eprintln!("{}: only {} of {n} echoed", kind.name(), idle.echoed);
        }
        server.stop();
        runtime.block_on(async move { drop(open) });
        let row = Row {
            kind,
            connections: n,
            baseline,
            idle,
            connect_secs,
        };
        if !args.json {
            eprintln!(
                "{:>13}: {n} connections in {connect_secs:.1} s, {:.0} B RSS per connection",
                kind.name(),
                row.rss_per_conn()
            );
        }
        rows.push(row);
    }
    if args.json {
        print_json(args, &rows);
    } else {
        print_table(args, &rows);
    }
    Ok(())
}

fn find(rows: &[Row], kind: Kind) -> Option<&Row> {
    rows.iter().find(|r| r.kind == kind)
}

fn print_table(args: &Args, rows: &[Row]) {
    let floor = find(rows, Kind::Tcp);
    let rustls = find(rows, Kind::Rustls);
    println!(
        "{} idle connections per server, 1 KiB echoed each way; lwsec provider {}, AES-256-GCM; settle {} ms",
        args.connections,
        args.provider.name,
        args.settle.as_millis()
    );
    println!(
        "| server | RSS B/conn | heap B/conn | RSS above TCP | rustls RSS / this | task future B |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        let above = floor.map_or("-".into(), |f| {
            format!("{:.0}", row.rss_per_conn() - f.rss_per_conn())
        });
        let ratio = rustls.map_or("-".into(), |r| {
            format!("{:.1}x", r.rss_per_conn() / row.rss_per_conn())
        });
        println!(
            "| {} | {:.0} | {:.0} | {above} | {ratio} | {} |",
            row.kind.name(),
            row.rss_per_conn(),
            row.heap_per_conn(),
            row.idle.future_bytes
        );
    }
}

fn print_json(args: &Args, rows: &[Row]) {
    let entries: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{{\"server\":\"{}\",\"rss_per_conn\":{:.1},\"heap_per_conn\":{:.1},\
                 \"rss_before\":{},\"rss_after\":{},\"heap_before\":{},\"heap_after\":{},\
                 \"echoed\":{},\"live\":{},\"task_future_bytes\":{},\"connect_secs\":{:.3}}}",
                r.kind.name(),
                r.rss_per_conn(),
                r.heap_per_conn(),
                r.baseline.rss,
                r.idle.rss,
                r.baseline.heap,
                r.idle.heap,
                r.idle.echoed,
                r.idle.live,
                r.idle.future_bytes,
                r.connect_secs
            )
        })
        .collect();
    println!(
        "{{\"connections\":{},\"provider\":\"{}\",\"settle_ms\":{},\"stream_bytes\":{},\"results\":[{}]}}",
        args.connections,
        args.provider.name,
        args.settle.as_millis(),
        std::mem::size_of::<lwsec::tokio::Stream<TcpStream>>(),
        entries.join(",")
    );
}
