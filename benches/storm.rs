//! A reconnect storm (issue 16, item 2): N devices reconnect through the
//! server over loopback TCP, each with a full handshake, and the server's
//! CPU per handshake is measured, with lwsec's tokio `Acceptor` (IK) and
//! tokio-rustls on aws-lc-rs (TLS 1.3 with client certificates: full
//! handshakes, and resumed ones) in the same run.
//!
//! ```text
//! cargo run --release -p lwsec-bench --bin storm                  # 10,000 devices
//! cargo run --release -p lwsec-bench --bin storm -- --devices 1000 --json
//! ```
//!
//! For each kind of server, this program starts itself again as the server
//! (`--serve KIND`, a separate process: its CPU time is its own). A device
//! connects (TCP, `TCP_NODELAY`), runs the handshake, sends one 64-byte
//! message and reads its echo (so the server has finished its side: the
//! lwsec client's key confirmation, the TLS client's Finished and
//! certificate verification), and closes. `--concurrency` devices are in
//! flight at once. Reported:
//!
//! * **server CPU per handshake**: the server process's CPU time
//!   (`CLOCK_PROCESS_CPUTIME_ID`, every thread: accept, handshake, the echo,
//!   teardown) over the storm, divided by the handshakes it completed;
//! * **handshakes per second per core**: the inverse (what one core of
//!   server CPU sustains);
//! * **latency**: p50 and p99 of what each device observed from the start
//!   of its TCP connect to the end of its handshake (client side), and the
//!   p50 of its whole visit (until its close). The clients run on the same
//!   cores as the server, so latencies include waiting for CPU.
//!
//! lwsec runs IK (a device key, the server's key pinned) with AES-256-GCM
//! on the chosen provider (aws-lc by default). tokio-rustls runs TLS 1.3,
//! X25519, AES-256-GCM, ECDSA P-256 certificates from rcgen on both sides
//! (the server requires and verifies the client's). `rustls-resume`
//! primes every device with a full handshake (not measured), then
//! measures the storm of resumed handshakes (stateful: the server keeps
//! sessions in memory and sends one ticket per connection; PSK with
//! X25519, no certificates). `lwsec-resume` likewise primes every device
//! with a full IK handshake (not measured), then each device resumes with
//! the ticket its previous connection received (`spec/PROTOCOL.md`
//! section 4.11: `NNpsk0`, one key generation and one DH on the server,
//! plus opening the ticket and sealing the next one) and keeps the new
//! ticket; the devices that fell back to a full handshake are counted.
//!
//! The table ends with the ratios issue 16 asks for: lwsec resumed server
//! CPU per handshake against lwsec full IK (target at most 0.35x), and
//! lwsec resumed handshakes per second per core against tokio-rustls
//! resumption (target at least 1.25x).

mod net;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use net::{BoxError, COUNT, CertKey, Server, Snapshot};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// The message each device echoes once.
const MESSAGE_LEN: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    LwsecIk,
    LwsecResume,
    RustlsFull,
    RustlsResume,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::LwsecIk,
        Kind::LwsecResume,
        Kind::RustlsFull,
        Kind::RustlsResume,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::LwsecIk => "lwsec-ik",
            Kind::LwsecResume => "lwsec-resume",
            Kind::RustlsFull => "rustls-full",
            Kind::RustlsResume => "rustls-resume",
        }
    }

    /// Whether every device is primed with a full handshake first and
    /// resumes in the storm.
    fn resumes(self) -> bool {
        matches!(self, Kind::LwsecResume | Kind::RustlsResume)
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::LwsecIk => "lwsec IK, full handshake",
            Kind::LwsecResume => "lwsec IK, resumed (ticket)",
            Kind::RustlsFull => "tokio-rustls TLS 1.3, full, client cert",
            Kind::RustlsResume => "tokio-rustls TLS 1.3, resumed (client cert)",
        }
    }

    fn parse(s: &str) -> Result<Kind, BoxError> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!("unknown kind {s:?} (lwsec-ik, lwsec-resume, rustls-full, rustls-resume)")
                    .into()
            })
    }
}

struct Args {
    devices: usize,
    concurrency: usize,
    kinds: Vec<Kind>,
    json: bool,
    provider: &'static lwsec::crypto::CryptoProvider,
    serve: Option<Kind>,
    server_cert: Option<String>,
    server_key: Option<String>,
    client_cert: Option<String>,
}

fn usage() -> &'static str {
    "storm [--devices N] [--concurrency C] \
     [--kinds lwsec-ik,lwsec-resume,rustls-full,rustls-resume] \
     [--provider aws-lc|rust-crypto] [--json]"
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        devices: 10_000,
        concurrency: 64,
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
            "--devices" => args.devices = value()?.parse()?,
            "--concurrency" => args.concurrency = value()?.parse::<usize>()?.max(1),
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

fn serve(kind: Kind, args: &Args) -> Result<(), BoxError> {
    let runtime = net::runtime()?;
    let acceptor = match kind {
        Kind::LwsecResume => net::lwsec_resumption_acceptor(args.provider),
        _ => net::lwsec_acceptor(args.provider),
    };
    let tls = match kind {
        Kind::LwsecIk | Kind::LwsecResume => None,
        Kind::RustlsFull | Kind::RustlsResume => {
            let server = CertKey::from_hex(
                args.server_cert.as_deref().ok_or("--server-cert")?,
                args.server_key.as_deref().ok_or("--server-key")?,
            )?;
            let client_ca = net::hex_decode(args.client_cert.as_deref().ok_or("--client-cert")?)?;
            let config =
                net::rustls_server_config(&server, &client_ca, kind == Kind::RustlsResume)?;
            Some(tokio_rustls::TlsAcceptor::from(config))
        }
    };
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    runtime.spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                continue;
            };
            // Without it, a reply written in two parts (a TLS ticket, then
            // the echo) waits for the client's delayed ACK (Nagle).
            let _ = tcp.set_nodelay(true);
            match &tls {
                None => {
                    let handshake = acceptor.accept(tcp, peer);
                    tokio::spawn(async move {
                        let mut stream = handshake.await?;
                        COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        while let Some(message) = stream.recv_message().await? {
                            stream.send_message(&message).await?;
                        }
                        stream.close().await
                    });
                }
                Some(tls) => {
                    let handshake = tls.accept(tcp);
                    tokio::spawn(async move {
                        let mut stream = handshake.await?;
                        COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let mut buf = [0u8; 4096];
                        loop {
                            let n = stream.read(&mut buf).await?;
                            if n == 0 {
                                break;
                            }
                            stream.write_all(&buf[..n]).await?;
                            stream.flush().await?;
                        }
                        stream.shutdown().await
                    });
                }
            }
        }
    });
    net::serve_commands(addr)?;
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}

// ----- the devices -----

/// What a device connects with.
#[derive(Clone)]
enum DeviceConfig {
    Lwsec(Arc<lwsec::ClientConfig>),
    /// A device that resumes with the ticket of its previous connection
    /// (a full handshake when it has none) and keeps the new one.
    LwsecResume(
        Arc<lwsec::ClientConfig>,
        Arc<Mutex<Option<lwsec::ResumptionTicket>>>,
    ),
    Rustls(tokio_rustls::TlsConnector),
}

/// One device's reconnect: returns its handshake latency and its whole
/// visit (handshake, echo, close), in µs, and whether the handshake was a
/// resumption.
async fn device(addr: SocketAddr, config: DeviceConfig) -> Result<(u64, u64, bool), BoxError> {
    let start = Instant::now();
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let message = [0x5a; MESSAGE_LEN];
    match config {
        DeviceConfig::Lwsec(config) => {
            let mut stream = lwsec::tokio::connect(config, tcp).await?;
            let latency = start.elapsed();
            stream.send_message(&message).await?;
            let echo = stream
                .recv_message()
                .await?
                .ok_or("closed before the echo")?;
            if echo.len() != MESSAGE_LEN {
                return Err("short echo".into());
            }
            stream.close().await?;
            Ok((micros(latency), micros(start.elapsed()), false))
        }
        DeviceConfig::LwsecResume(config, slot) => {
            let ticket = slot.lock().map_err(|_| "poisoned")?.take();
            let connector = lwsec::tokio::Connector::new(config);
            let mut stream = match ticket {
                Some(ticket) => connector.resume(ticket, tcp).await?,
                None => connector.connect(tcp).await?,
            };
            let latency = start.elapsed();
            let resumed = stream.conn().is_resumed();
            stream.send_message(&message).await?;
            let echo = stream
                .recv_message()
                .await?
                .ok_or("closed before the echo")?;
            if echo.len() != MESSAGE_LEN {
                return Err("short echo".into());
            }
            // The ticket came in before the echo.
            *slot.lock().map_err(|_| "poisoned")? = stream.take_resumption_ticket();
            stream.close().await?;
            Ok((micros(latency), micros(start.elapsed()), resumed))
        }
        DeviceConfig::Rustls(connector) => {
            let name = rustls::pki_types::ServerName::try_from("localhost")?;
            let mut tls = connector.connect(name, tcp).await?;
            let latency = start.elapsed();
            let resumed = tls.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
            tls.write_all(&message).await?;
            tls.flush().await?;
            let mut echo = [0u8; MESSAGE_LEN];
            tls.read_exact(&mut echo).await?;
            tls.shutdown().await?;
            Ok((micros(latency), micros(start.elapsed()), resumed))
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Every device once, `concurrency` at a time; returns the handshake
/// latencies and the whole visits (sorted), and how many handshakes were
/// resumptions.
async fn storm(
    addr: SocketAddr,
    configs: Arc<Vec<DeviceConfig>>,
    concurrency: usize,
) -> Result<(Vec<u64>, Vec<u64>, usize), BoxError> {
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(configs.len());
    for i in 0..configs.len() {
        let permit = gate.clone().acquire_owned().await?;
        let configs = configs.clone();
        tasks.push(tokio::spawn(async move {
            let result = device(addr, configs[i].clone()).await;
            drop(permit);
            result
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut visits = Vec::with_capacity(tasks.len());
    let mut resumed = 0;
    for task in tasks {
        let (latency, visit, r) = task.await??;
        latencies.push(latency);
        visits.push(visit);
        resumed += usize::from(r);
    }
    latencies.sort_unstable();
    visits.sort_unstable();
    Ok((latencies, visits, resumed))
}

struct Row {
    kind: Kind,
    server: Snapshot,
    wall: Duration,
    latencies: Vec<u64>,
    visits: Vec<u64>,
    resumed: usize,
}

impl Row {
    fn cpu_us_per_handshake(&self) -> f64 {
        self.server.cpu_ns as f64 / 1e3 / self.server.count.max(1) as f64
    }

    fn per_core_per_second(&self) -> f64 {
        self.server.count as f64 / (self.server.cpu_ns.max(1) as f64 / 1e9)
    }

    fn per_second(&self) -> f64 {
        self.server.count as f64 / self.wall.as_secs_f64()
    }
}

fn drive(args: &Args) -> Result<(), BoxError> {
    let server_cert = CertKey::generate("localhost")?;
    let client_cert = CertKey::generate("device")?;
    let runtime = net::runtime()?;
    let lwsec_client = net::lwsec_ik_client_config(args.provider);
    let rustls_base = net::rustls_client_config(&client_cert, &server_cert.cert)?;
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
        let configs: Vec<DeviceConfig> = (0..args.devices)
            .map(|_| match kind {
                Kind::LwsecIk => DeviceConfig::Lwsec(lwsec_client.clone()),
                Kind::LwsecResume => {
                    DeviceConfig::LwsecResume(lwsec_client.clone(), Arc::default())
                }
                Kind::RustlsFull => {
                    DeviceConfig::Rustls(tokio_rustls::TlsConnector::from(rustls_base.clone()))
                }
                Kind::RustlsResume => DeviceConfig::Rustls(tokio_rustls::TlsConnector::from(
                    net::with_own_session_cache(&rustls_base),
                )),
            })
            .collect();
        let configs = Arc::new(configs);
        // Warm-up (and, for resumption, every device's first session):
        // lazy initialisation is not charged to the storm.
        let warm = if kind.resumes() {
            configs.clone()
        } else {
            Arc::new(configs.iter().take(64).cloned().collect())
        };
        runtime.block_on(storm(server.addr, warm, args.concurrency))?;
        std::thread::sleep(Duration::from_millis(200));
        let before = server.snapshot("start")?;
        let start = Instant::now();
        let (latencies, visits, resumed) =
            runtime.block_on(storm(server.addr, configs, args.concurrency))?;
        let wall = start.elapsed();
        // Let the server finish the last connections' teardown.
        std::thread::sleep(Duration::from_millis(200));
        let after = server.snapshot("stop")?;
        server.stop();
        let row = Row {
            kind,
            server: before.delta(&after),
            wall,
            latencies,
            visits,
            resumed,
        };
        if row.server.count != args.devices as u64 {
            eprintln!(
                "{}: the server completed {} of {} handshakes",
                kind.name(),
                row.server.count,
                args.devices
            );
        }
        if kind.resumes() && row.resumed != args.devices {
            eprintln!(
                "{}: only {} of {} handshakes were resumed ({} fell back to a full handshake)",
                kind.name(),
                row.resumed,
                args.devices,
                args.devices.saturating_sub(row.resumed)
            );
        }
        if !args.json {
            eprintln!(
                "{:>13}: {} handshakes in {:.2} s, {:.0} µs server CPU each",
                kind.name(),
                row.server.count,
                wall.as_secs_f64(),
                row.cpu_us_per_handshake()
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

fn print_table(args: &Args, rows: &[Row]) {
    let lwsec = rows.iter().find(|r| r.kind == Kind::LwsecIk);
    println!(
        "{} devices reconnecting, {} in flight, loopback TCP, {} cores shared by server and clients; \
         lwsec provider {}, AES-256-GCM",
        args.devices,
        args.concurrency,
        net::cores(),
        args.provider.name
    );
    println!(
        "| server | handshakes/s (wall) | server CPU µs/handshake | handshakes/s per core | \
         this / lwsec CPU | handshake p50 ms | handshake p99 ms | visit p50 ms | resumed |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        let ratio = lwsec.map_or("-".into(), |l| {
            format!(
                "{:.2}x",
                row.cpu_us_per_handshake() / l.cpu_us_per_handshake()
            )
        });
        let resumed = if row.kind.resumes() {
            format!("{} / {}", row.resumed, row.latencies.len())
        } else {
            "-".into()
        };
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {ratio} | {:.2} | {:.2} | {:.2} | {resumed} |",
            row.kind.describe(),
            row.per_second(),
            row.cpu_us_per_handshake(),
            row.per_core_per_second(),
            net::quantile(&row.latencies, 0.50) as f64 / 1e3,
            net::quantile(&row.latencies, 0.99) as f64 / 1e3,
            net::quantile(&row.visits, 0.50) as f64 / 1e3,
        );
    }
    let ratios = Ratios::of(rows);
    if let Some(r) = ratios.resumed_cpu_vs_full {
        println!(
            "lwsec resumed / lwsec full IK, server CPU per handshake: {r:.2}x (target <= 0.35x: {})",
            if r <= 0.35 { "met" } else { "MISSED" }
        );
    }
    if let Some(r) = ratios.resumed_per_core_vs_rustls {
        println!(
            "lwsec resumed / tokio-rustls resumed, handshakes/s per core: {r:.2}x (target >= 1.25x: {})",
            if r >= 1.25 { "met" } else { "MISSED" }
        );
    }
    if let Some(r) = ratios.resumed_wall_vs_rustls {
        println!(
            "lwsec resumed / tokio-rustls resumed, handshakes/s (wall, clients on the same cores): {r:.2}x"
        );
    }
}

/// The ratios issue 16 asks for, when the rows they need were measured.
struct Ratios {
    resumed_cpu_vs_full: Option<f64>,
    resumed_per_core_vs_rustls: Option<f64>,
    resumed_wall_vs_rustls: Option<f64>,
}

impl Ratios {
    fn of(rows: &[Row]) -> Self {
        let find = |kind| rows.iter().find(|r| r.kind == kind);
        let (full, resumed, rustls) = (
            find(Kind::LwsecIk),
            find(Kind::LwsecResume),
            find(Kind::RustlsResume),
        );
        Self {
            resumed_cpu_vs_full: resumed
                .zip(full)
                .map(|(r, f)| r.cpu_us_per_handshake() / f.cpu_us_per_handshake()),
            resumed_per_core_vs_rustls: resumed
                .zip(rustls)
                .map(|(r, t)| r.per_core_per_second() / t.per_core_per_second()),
            resumed_wall_vs_rustls: resumed
                .zip(rustls)
                .map(|(r, t)| r.per_second() / t.per_second()),
        }
    }
}

fn print_json(args: &Args, rows: &[Row]) {
    let entries: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{{\"server\":\"{}\",\"handshakes\":{},\"resumed\":{},\"wall_secs\":{:.3},\
                 \"handshakes_per_sec\":{:.1},\"server_cpu_us_per_handshake\":{:.2},\
                 \"handshakes_per_sec_per_core\":{:.1},\"latency_p50_us\":{},\"latency_p99_us\":{},\
                 \"visit_p50_us\":{},\"visit_p99_us\":{}}}",
                r.kind.name(),
                r.server.count,
                r.resumed,
                r.wall.as_secs_f64(),
                r.per_second(),
                r.cpu_us_per_handshake(),
                r.per_core_per_second(),
                net::quantile(&r.latencies, 0.50),
                net::quantile(&r.latencies, 0.99),
                net::quantile(&r.visits, 0.50),
                net::quantile(&r.visits, 0.99),
            )
        })
        .collect();
    let ratios = Ratios::of(rows);
    let num = |r: Option<f64>| r.map_or("null".to_owned(), |r| format!("{r:.3}"));
    println!(
        "{{\"devices\":{},\"concurrency\":{},\"cores\":{},\"provider\":\"{}\",\"results\":[{}],\
         \"ratios\":{{\"lwsec_resumed_cpu_vs_full\":{},\"lwsec_resumed_per_core_vs_rustls_resumed\":{},\
         \"lwsec_resumed_wall_vs_rustls_resumed\":{}}}}}",
        args.devices,
        args.concurrency,
        net::cores(),
        args.provider.name,
        entries.join(","),
        num(ratios.resumed_cpu_vs_full),
        num(ratios.resumed_per_core_vs_rustls),
        num(ratios.resumed_wall_vs_rustls),
    );
}
