//! What the loopback benchmarks (`storm`, `messages`) share: the server
//! process and its command pipe, the server's own measurements (process
//! CPU time, socket reads and writes counted by [`Counted`]),
//! tokio-rustls configurations on aws-lc-rs with client certificates, and
//! percentiles.
//!
//! Each benchmark starts itself again as the server (`--serve KIND`, a
//! separate process, as `idle_connections.rs` does), so the server's CPU
//! time and syscalls are its own and not the clients'. The driving
//! process writes commands to the server's stdin: `start` and `stop`
//! answer with a snapshot line, `quit` ends it.

// setrlimit is a C call through `libc`.
#![allow(unsafe_code)]
// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The server's static key (the clients pin its public key).
pub(crate) const SERVER_SECRET: [u8; 32] = [0x11; 32];
/// The IK devices' key (one for all: no authorizer looks at it).
pub(crate) const CLIENT_SECRET: [u8; 32] = [0x22; 32];

// ----- the server's measurements -----

/// CPU time of this whole process (every thread), in nanoseconds
/// (`CLOCK_PROCESS_CPUTIME_ID`).
pub(crate) fn process_cpu_ns() -> u64 {
    u64::try_from(cpu_time::ProcessTime::now().as_duration().as_nanos()).unwrap_or(u64::MAX)
}

/// Socket reads and writes that reached the kernel and returned data (or
/// the end of the stream), and polls that found the socket not ready.
static READS: AtomicU64 = AtomicU64::new(0);
static WRITES: AtomicU64 = AtomicU64::new(0);
static WOULD_BLOCK: AtomicU64 = AtomicU64::new(0);

/// A server socket that counts its I/O calls. `/proc/self/io` cannot be
/// used for this: its `syscr`/`syscw` count `read`/`write`/`writev` but
/// not `recv`/`send`, which is what std (and so tokio) uses on sockets.
/// A tokio socket makes a system call only when its readiness is set, so
/// every `Ready` result here is one `recv`/`send`/`writev` that succeeded;
/// a `Pending` one is either no call or one call that failed with
/// `EAGAIN` (counted apart, as an upper bound).
pub(crate) struct Counted<IO>(pub(crate) IO);

fn tally<T>(poll: &Poll<T>, counter: &AtomicU64) {
    let which = if poll.is_ready() {
        counter
    } else {
        &WOULD_BLOCK
    };
    which.fetch_add(1, Ordering::Relaxed);
}

impl<IO: AsyncRead + Unpin> AsyncRead for Counted<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.0).poll_read(cx, buf);
        tally(&poll, &READS);
        poll
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Counted<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.0).poll_write(cx, buf);
        tally(&poll, &WRITES);
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.0).poll_write_vectored(cx, bufs);
        tally(&poll, &WRITES);
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// What the server counts (handshakes or messages, as the benchmark defines).
pub(crate) static COUNT: AtomicU64 = AtomicU64::new(0);

/// One snapshot of the server process.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) cpu_ns: u64,
    /// Socket reads and writes that returned data ([`Counted`]).
    pub(crate) reads: u64,
    pub(crate) writes: u64,
    /// Socket polls that found it not ready.
    pub(crate) would_block: u64,
    pub(crate) count: u64,
}

impl Snapshot {
    pub(crate) fn now() -> Self {
        Self {
            cpu_ns: process_cpu_ns(),
            reads: READS.load(Ordering::SeqCst),
            writes: WRITES.load(Ordering::SeqCst),
            would_block: WOULD_BLOCK.load(Ordering::SeqCst),
            count: COUNT.load(Ordering::SeqCst),
        }
    }

    /// What happened between `self` and `later`.
    pub(crate) fn delta(&self, later: &Snapshot) -> Snapshot {
        Snapshot {
            cpu_ns: later.cpu_ns.saturating_sub(self.cpu_ns),
            reads: later.reads.saturating_sub(self.reads),
            writes: later.writes.saturating_sub(self.writes),
            would_block: later.would_block.saturating_sub(self.would_block),
            count: later.count.saturating_sub(self.count),
        }
    }
}

/// The server side of the command pipe: prints `ready ADDR`, then answers
/// `start` and `stop` with a snapshot until `quit` or the end of stdin.
pub(crate) fn serve_commands(addr: SocketAddr) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {addr}")?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        match line?.trim() {
            "start" | "stop" => {
                let s = Snapshot::now();
                writeln!(
                    out,
                    "snapshot {} {} {} {} {}",
                    s.cpu_ns, s.reads, s.writes, s.would_block, s.count
                )?;
                out.flush()?;
            }
            _ => break,
        }
    }
    Ok(())
}

/// A server process and its command pipe.
pub(crate) struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Starts this program again with `args` (which include `--serve KIND`).
    pub(crate) fn start(args: &[String]) -> Result<Self, BoxError> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
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

    /// Sends `start` or `stop` and reads the snapshot.
    pub(crate) fn snapshot(&mut self, command: &str) -> Result<Snapshot, BoxError> {
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
            [cpu_ns, reads, writes, would_block, count] => Ok(Snapshot {
                cpu_ns,
                reads,
                writes,
                would_block,
                count,
            }),
            _ => Err(format!("server said {line:?}").into()),
        }
    }

    pub(crate) fn stop(mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

/// Raises the soft limit on open files to the hard limit; returns the limit.
pub(crate) fn raise_fd_limit() -> u64 {
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
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}

/// The `q`-quantile (0..=1) of `sorted`, nearest rank; 0 when empty.
pub(crate) fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// ----- lwsec configurations -----

/// The default provider: aws-lc when compiled in.
pub(crate) fn default_provider() -> &'static lwsec::crypto::CryptoProvider {
    lwsec::crypto::providers()
        .iter()
        .copied()
        .find(|p| p.name == "aws-lc")
        .unwrap_or(&lwsec::crypto::RUST_CRYPTO)
}

pub(crate) fn provider_named(
    name: &str,
) -> Result<&'static lwsec::crypto::CryptoProvider, BoxError> {
    lwsec::crypto::providers()
        .iter()
        .copied()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("provider {name:?} not compiled in").into())
}

pub(crate) fn lwsec_server_config(
    provider: &'static lwsec::crypto::CryptoProvider,
) -> Arc<lwsec::ServerConfig> {
    let mut config =
        lwsec::ServerConfig::new(lwsec::StaticKeyPair::from_private_bytes(SERVER_SECRET));
    config.provider = provider;
    config.suites = vec![lwsec::Suite::Aes256Gcm];
    Arc::new(config)
}

/// An IK client (the device key pinned server key), AES-256-GCM.
pub(crate) fn lwsec_ik_client_config(
    provider: &'static lwsec::crypto::CryptoProvider,
) -> Arc<lwsec::ClientConfig> {
    let server = lwsec::StaticKeyPair::from_private_bytes(SERVER_SECRET);
    let mut config = lwsec::ClientConfig::ik(
        server.public_key(),
        lwsec::StaticKeyPair::from_private_bytes(CLIENT_SECRET),
    );
    config.suites = vec![lwsec::Suite::Aes256Gcm];
    config.provider = provider;
    Arc::new(config)
}

/// The Acceptor in the README's shape; no per-address rate limit (every
/// client comes from 127.0.0.1).
pub(crate) fn lwsec_acceptor(
    provider: &'static lwsec::crypto::CryptoProvider,
) -> lwsec::tokio::Acceptor {
    lwsec::tokio::Acceptor::new(lwsec_server_config(provider)).without_handshake_rate_limit()
}

/// [`lwsec_acceptor`] with resumption on: tickets sealed with a fixed
/// ticket key (one server process), default lifetime.
pub(crate) fn lwsec_resumption_acceptor(
    provider: &'static lwsec::crypto::CryptoProvider,
) -> lwsec::tokio::Acceptor {
    let mut config = (*lwsec_server_config(provider)).clone();
    config.enable_resumption(Arc::new(lwsec::TicketKeyring::new(lwsec::TicketKeys::new(
        [0x33; 32],
    ))));
    lwsec::tokio::Acceptor::new(Arc::new(config)).without_handshake_rate_limit()
}

// ----- tokio-rustls on aws-lc-rs -----

/// TLS 1.3, X25519, AES-256-GCM, aws-lc-rs.
pub(crate) fn rustls_provider() -> Arc<rustls::crypto::CryptoProvider> {
    let mut p = rustls::crypto::aws_lc_rs::default_provider();
    p.cipher_suites
        .retain(|s| s.suite() == rustls::CipherSuite::TLS13_AES_256_GCM_SHA384);
    p.kx_groups
        .retain(|g| g.name() == rustls::NamedGroup::X25519);
    Arc::new(p)
}

/// A self-signed ECDSA P-256 certificate for `name` and its PKCS#8 key.
pub(crate) struct CertKey {
    pub(crate) cert: Vec<u8>,
    pub(crate) key: Vec<u8>,
}

impl CertKey {
    pub(crate) fn generate(name: &str) -> Result<Self, BoxError> {
        let certified = rcgen::generate_simple_self_signed(vec![name.to_string()])?;
        Ok(Self {
            cert: certified.cert.der().to_vec(),
            key: certified.signing_key.serialize_der(),
        })
    }

    fn chain(&self) -> Vec<rustls::pki_types::CertificateDer<'static>> {
        vec![rustls::pki_types::CertificateDer::from(self.cert.clone())]
    }

    fn private_key(&self) -> rustls::pki_types::PrivateKeyDer<'static> {
        rustls::pki_types::PrivateKeyDer::Pkcs8(self.key.clone().into())
    }

    /// Hex of the certificate and key, to pass to the server process.
    pub(crate) fn to_args(&self, prefix: &str) -> Vec<String> {
        vec![
            format!("--{prefix}-cert"),
            hex_encode(&self.cert),
            format!("--{prefix}-key"),
            hex_encode(&self.key),
        ]
    }

    pub(crate) fn from_hex(cert: &str, key: &str) -> Result<Self, BoxError> {
        Ok(Self {
            cert: hex_decode(cert)?,
            key: hex_decode(key)?,
        })
    }
}

/// A TLS 1.3 server that requires a client certificate issued by (here:
/// equal to) `client_ca`; with `resumption`, stateful resumption (session
/// IDs in one ticket per connection, sessions kept in memory), otherwise
/// no tickets and no session storage.
pub(crate) fn rustls_server_config(
    server: &CertKey,
    client_ca: &[u8],
    resumption: bool,
) -> Result<Arc<rustls::ServerConfig>, BoxError> {
    let provider = rustls_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(client_ca.to_vec()))?;
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(server.chain(), server.private_key())?;
    if resumption {
        config.session_storage = rustls::server::ServerSessionMemoryCache::new(1 << 20);
        config.send_tls13_tickets = 1;
    } else {
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
    }
    Ok(Arc::new(config))
}

/// A TLS 1.3 client presenting `client`'s certificate and trusting
/// `server_ca`; resumption off (each device with resumption gets its own
/// copy with its own session cache, see [`with_own_session_cache`]).
pub(crate) fn rustls_client_config(
    client: &CertKey,
    server_ca: &[u8],
) -> Result<Arc<rustls::ClientConfig>, BoxError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(server_ca.to_vec()))?;
    let mut config = rustls::ClientConfig::builder_with_provider(rustls_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_client_auth_cert(client.chain(), client.private_key())?;
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// A copy of `base` with a session cache of its own (one device's).
pub(crate) fn with_own_session_cache(base: &rustls::ClientConfig) -> Arc<rustls::ClientConfig> {
    let mut config = base.clone();
    config.resumption = rustls::client::Resumption::in_memory_sessions(4);
    Arc::new(config)
}

pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn hex_decode(s: &str) -> Result<Vec<u8>, BoxError> {
    (0..s.len())
        .step_by(2)
        .map(|i| Ok(u8::from_str_radix(s.get(i..i + 2).ok_or("odd hex")?, 16)?))
        .collect()
}

/// A tokio runtime for the server process or the clients (one worker per
/// core, as tokio's default).
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Number of CPUs, for the report.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
