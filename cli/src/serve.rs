//! `lwsec serve`: an echo or relay server on the tokio `Acceptor`, with
//! the server policies on flags, session resumption with a ticket-key file
//! (reloaded on SIGHUP), and a graceful shutdown on SIGTERM/Ctrl-C.

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use clap::{Args, ValueEnum};
use lwsec::early_data::{DEFAULT_EARLY_DATA_WINDOW, StrikeRegister};
use lwsec::tokio::{Acceptor, DEFAULT_COOKIE_THRESHOLD, Stream};
use lwsec::{
    ClientHello, Identity, Pattern, PublicKey, Rejection, ServerConfig, TicketKeyring, TicketKeys,
    Time,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::common::{
    CliError, PatternArg, ProviderArg, SuiteArg, list, load_key_pair, load_pinned_keys,
    parse_seconds, provider, short_id,
};
use crate::ticketkeys::id_hex;

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0: any free port; the line
    /// "listening on ADDR" on stderr gives it).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    listen: String,
    /// The server's secret key file (from `lwsec keygen`). Repeat it to hold
    /// several keys during a rotation (the new one first).
    #[arg(long = "key", value_name = "FILE", default_value = "server.key")]
    keys: Vec<PathBuf>,
    /// echo: every message comes back to its sender; relay: every message
    /// goes to all other clients (a chat room).
    #[arg(long, value_enum, default_value = "echo")]
    mode: Mode,
    /// Handshake patterns accepted (default nk,ik; ik only with --allow).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PATTERNS")]
    patterns: Option<Vec<PatternArg>>,
    /// Cipher suites accepted, in the server's order of preference.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "SUITES",
        default_value = "aes,chacha"
    )]
    suites: Vec<SuiteArg>,
    /// Admit only the IK devices whose public keys this file lists (one
    /// `lwsec-public-v1:` line each); implies --patterns ik.
    #[arg(long, value_name = "FILE")]
    allow: Option<PathBuf>,
    /// Accept early data (0-RTT, replayable) that an in-memory strike
    /// register judges fresh. The register refuses flights from its first
    /// 10 seconds (it cannot know what a previous run saw).
    #[arg(long)]
    early_data: bool,
    /// Enable session resumption with the ticket keys in FILE (from
    /// `lwsec ticketkeys --out FILE`): clients get a ticket after each
    /// handshake and resume with it (`lwsec connect --ticket`). Servers
    /// sharing the file accept each other's tickets. SIGHUP reloads the
    /// file (after `lwsec ticketkeys --rotate FILE`); an unreadable file
    /// keeps the keys in use.
    #[arg(long, value_name = "FILE")]
    ticket_keys: Option<PathBuf>,
    /// Demand a Retry cookie while more than N handshakes are in progress
    /// (0: always).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_COOKIE_THRESHOLD)]
    cookie_threshold: usize,
    /// Announce these public keys to clients, inside the handshake, as the
    /// keys to pin from now on (key rotation); a file may list several.
    #[arg(long = "announce", value_name = "FILE")]
    announce: Vec<PathBuf>,
    /// On SIGTERM or Ctrl-C: how long connections get to close gracefully
    /// before they are cut, in seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, default_value = "10")]
    shutdown_timeout: Duration,
    /// Crypto provider (default aws-lc when built in).
    #[arg(long, value_enum)]
    provider: Option<ProviderArg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    Echo,
    Relay,
}

/// What every connection task shares.
struct Shared {
    mode: Mode,
    acceptor: Acceptor,
    shutdown: CancellationToken,
    relay: broadcast::Sender<(u64, Bytes)>,
    closed_cleanly: AtomicUsize,
}

pub(crate) fn run(args: ServeArgs) -> Result<(), CliError> {
    let (config, acceptor_policies) = configure(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(args, config, acceptor_policies))
}

/// The acceptor's policies decided from the flags.
struct Policies {
    allowed: Option<HashSet<PublicKey>>,
    early_data: bool,
    /// The ticket-key file and the keyring it fills (reloaded on SIGHUP).
    ticket_keys: Option<(PathBuf, Arc<TicketKeyring>)>,
}

fn configure(args: &ServeArgs) -> Result<(ServerConfig, Policies), CliError> {
    let patterns: Vec<Pattern> = match (&args.patterns, &args.allow) {
        (Some(p), Some(_)) if p.contains(&PatternArg::Nk) => {
            return Err(CliError::usage(
                "--allow admits IK devices only, so NK clients would all be refused: \
                 drop nk from --patterns",
            ));
        }
        (Some(p), _) => p.iter().map(|p| p.pattern()).collect(),
        (None, Some(_)) => vec![Pattern::Ik],
        (None, None) => vec![Pattern::Nk, Pattern::Ik],
    };
    let mut keys = args.keys.iter();
    let first = keys
        .next()
        .ok_or_else(|| CliError::usage("give the server's secret key with --key FILE"))?;
    let mut config = ServerConfig::new(load_key_pair(first)?);
    for path in keys {
        config.add_key(load_key_pair(path)?);
    }
    config.patterns = patterns;
    config.suites = args.suites.iter().map(|s| s.suite()).collect();
    config.provider = provider(args.provider)?;
    let mut announced = Vec::new();
    for path in &args.announce {
        announced.extend(load_pinned_keys(path)?);
    }
    if !announced.is_empty() {
        config
            .announce_server_keys(announced)
            .map_err(|e| CliError::usage(format!("--announce: {e}")))?;
    }
    if args.early_data {
        config.enable_replayable_early_data(DEFAULT_EARLY_DATA_WINDOW);
    }
    let allowed = match &args.allow {
        Some(path) => Some(load_pinned_keys(path)?.into_iter().collect()),
        None => None,
    };
    let ticket_keys = match &args.ticket_keys {
        Some(path) => {
            let keys = TicketKeys::load(path).map_err(|e| CliError::file(e.to_string()))?;
            let ring = Arc::new(TicketKeyring::new(keys));
            config.enable_resumption(ring.clone());
            Some((path.clone(), ring))
        }
        None => None,
    };
    Ok((
        config,
        Policies {
            allowed,
            early_data: args.early_data,
            ticket_keys,
        },
    ))
}

/// The authorizer: IK devices are named by their short id; with an allow
/// list, only listed devices get in.
async fn authorize(
    allowed: Arc<Option<HashSet<PublicKey>>>,
    hello: ClientHello,
) -> Result<Option<Identity>, Rejection> {
    let Some(key) = hello.claimed_client_key() else {
        return match allowed.as_ref() {
            Some(_) => Err(Rejection::NotAuthorized),
            None => Ok(None),
        };
    };
    if allowed.as_ref().as_ref().is_some_and(|a| !a.contains(&key)) {
        return Err(Rejection::NotAuthorized);
    }
    Identity::new(short_id(&key).into_bytes())
        .map(Some)
        .map_err(|_| Rejection::NotAuthorized)
}

/// Waits for SIGTERM or Ctrl-C (registered before the server starts
/// listening, so a signal is never missed).
fn shutdown_signal() -> Result<impl Future<Output = &'static str>, CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())
            .map_err(|e| CliError::runtime(format!("cannot handle SIGTERM: {e}")))?;
        let mut int = signal(SignalKind::interrupt())
            .map_err(|e| CliError::runtime(format!("cannot handle SIGINT: {e}")))?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "Ctrl-C",
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}

/// Reloads the ticket-key file into the keyring on every SIGHUP (Unix;
/// registered before the server starts listening). A file that cannot be
/// read keeps the keys in use.
fn reload_on_sighup(path: PathBuf, ring: Arc<TicketKeyring>) -> Result<(), CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup())
            .map_err(|e| CliError::runtime(format!("cannot handle SIGHUP: {e}")))?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                match TicketKeys::load(&path) {
                    Ok(keys) => {
                        let ids: Vec<String> = keys.ids().into_iter().map(id_hex).collect();
                        ring.replace(keys);
                        eprintln!(
                            "lwsec serve: SIGHUP: ticket keys reloaded from {} (current {}, {} key(s))",
                            path.display(),
                            ids.first().map_or("?", String::as_str),
                            ids.len()
                        );
                    }
                    Err(e) => eprintln!("lwsec serve: SIGHUP: keeping the ticket keys in use: {e}"),
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = (path, ring);
    Ok(())
}

async fn serve(args: ServeArgs, config: ServerConfig, policies: Policies) -> Result<(), CliError> {
    let signal = shutdown_signal()?;
    if let Some((path, ring)) = &policies.ticket_keys {
        reload_on_sighup(path.clone(), ring.clone())?;
    }
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| listen_error(&args.listen, &e))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::network(format!("{}: {e}", args.listen)))?;
    let mode = match args.mode {
        Mode::Echo => "echo",
        Mode::Relay => "relay",
    };
    eprintln!(
        "lwsec serve: listening on {local} ({mode}; {}; {}; provider {})",
        list(&config.patterns),
        list(&config.suites),
        config.provider.name
    );
    for key in config.public_keys() {
        eprintln!("lwsec serve: server key {key}");
    }
    for key in config.announced_server_keys() {
        eprintln!("lwsec serve: announcing {key}");
    }
    if let Some(allowed) = &policies.allowed {
        eprintln!("lwsec serve: {} device key(s) allowed", allowed.len());
    }
    if let Some((path, ring)) = &policies.ticket_keys {
        eprintln!(
            "lwsec serve: resumption on: ticket keys from {} (current {}); SIGHUP reloads them",
            path.display(),
            id_hex(ring.keys().current_id())
        );
    }
    let config = Arc::new(config);
    let allowed = Arc::new(policies.allowed);
    let mut acceptor = Acceptor::new(config)
        .with_cookie_threshold(args.cookie_threshold)
        .with_authorizer(move |hello| authorize(allowed.clone(), hello));
    if policies.early_data {
        let window = DEFAULT_EARLY_DATA_WINDOW.as_secs();
        eprintln!(
            "lwsec serve: early data accepted (replayable; an in-memory strike register refuses flights of its first {window} s)"
        );
        acceptor = acceptor.with_replay_guard(Arc::new(StrikeRegister::new(100_000, Time::now())));
    }
    let shared = Arc::new(Shared {
        mode: args.mode,
        acceptor,
        shutdown: CancellationToken::new(),
        relay: broadcast::channel(1024).0,
        closed_cleanly: AtomicUsize::new(0),
    });
    let tracker = TaskTracker::new();
    {
        let token = shared.shutdown.clone();
        let deadline = args.shutdown_timeout;
        tokio::spawn(async move {
            let which = signal.await;
            eprintln!(
                "lwsec serve: {which}: shutting down (no new connections; open ones get \
                 close_notify and {deadline:?} to finish)"
            );
            token.cancel();
        });
    }

    let mut next_id = 0u64;
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    next_id += 1;
                    tracker.spawn(connection(shared.clone(), tcp, peer, next_id));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    eprintln!("lwsec serve: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }

    // Stop accepting, close every connection with close_notify (the tasks
    // see the cancellation), and wait for them up to the deadline.
    drop(listener);
    tracker.close();
    let finished = tokio::time::timeout(args.shutdown_timeout, tracker.wait())
        .await
        .is_ok();
    let clean = shared.closed_cleanly.load(Ordering::SeqCst);
    if finished {
        eprintln!(
            "lwsec serve: shut down cleanly ({clean} connection(s) closed cleanly since start)"
        );
    } else {
        eprintln!(
            "lwsec serve: shut down: {} connection(s) cut at the deadline",
            tracker.len()
        );
    }
    Ok(())
}

fn listen_error(addr: &str, err: &io::Error) -> CliError {
    let hint = match err.kind() {
        io::ErrorKind::AddrInUse => {
            " (another server is listening there: stop it or pick another --listen)"
        }
        io::ErrorKind::PermissionDenied => {
            " (ports below 1024 need privileges: pick another --listen)"
        }
        io::ErrorKind::AddrNotAvailable => " (not an address of this machine: check --listen)",
        _ => "",
    };
    CliError::network(format!("cannot listen on {addr}: {err}{hint}"))
}

/// How a connection's message loop ended.
enum End {
    PeerClosed,
    Shutdown,
    Failed(io::Error),
}

async fn connection(shared: Arc<Shared>, tcp: TcpStream, peer: SocketAddr, id: u64) {
    let tag = format!("[#{id} {peer}]");
    let accepted = tokio::select! {
        () = shared.shutdown.cancelled() => return eprintln!("{tag} dropped during the handshake: shutting down"),
        accepted = shared.acceptor.accept(tcp, peer) => accepted,
    };
    let mut stream = match accepted {
        Ok(stream) => stream,
        Err(e) => return eprintln!("{tag} failed: handshake: {e}"),
    };
    let conn = stream.conn();
    let who = match (conn.peer_identity(), conn.peer_static_key()) {
        (Some(identity), _) => {
            format!("device {}", String::from_utf8_lossy(identity.as_bytes()))
        }
        (None, Some(key)) => format!("device {}", short_id(&key)),
        (None, None) => "anonymous".to_owned(),
    };
    let (pattern, suite) = (
        conn.pattern().map_or("?".to_owned(), |p| p.to_string()),
        conn.suite().map_or("?".to_owned(), |s| s.to_string()),
    );
    let resumed = if conn.is_resumed() { ", resumed" } else { "" };
    eprintln!("{tag} accepted: {pattern} {suite}, {who}{resumed}");
    let mut count = 0u64;
    if let Some(early) = stream.take_early_data() {
        eprintln!("{tag} early data: {} bytes (replayable)", early.len());
        count += 1;
        if let Err(e) = deliver(&shared, &mut stream, id, early).await {
            return eprintln!("{tag} failed: {e}");
        }
    }
    let mut inbox = (shared.mode == Mode::Relay).then(|| shared.relay.subscribe());
    let end = loop {
        let relayed = async {
            match inbox.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shared.shutdown.cancelled() => break End::Shutdown,
            message = stream.recv_message() => match message {
                Ok(Some(m)) => {
                    count += 1;
                    if let Err(e) = deliver(&shared, &mut stream, id, m).await {
                        break End::Failed(e);
                    }
                }
                Ok(None) => break End::PeerClosed,
                Err(e) => break End::Failed(e),
            },
            relayed = relayed => match relayed {
                Ok((from, m)) if from != id => {
                    if let Err(e) = stream.send_message(&m).await {
                        break End::Failed(e);
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    eprintln!("{tag} too slow: {n} relayed message(s) dropped");
                }
                Err(broadcast::error::RecvError::Closed) => break End::Shutdown,
            },
        }
    };
    match end {
        End::PeerClosed => match stream.close().await {
            Ok(()) => {
                shared.closed_cleanly.fetch_add(1, Ordering::SeqCst);
                eprintln!("{tag} closed by the peer after {count} message(s)");
            }
            Err(e) => eprintln!("{tag} failed while closing: {e}"),
        },
        End::Shutdown => match close_for_shutdown(&mut stream).await {
            Ok(()) => {
                shared.closed_cleanly.fetch_add(1, Ordering::SeqCst);
                eprintln!("{tag} closed (shutdown) after {count} message(s)");
            }
            Err(e) => eprintln!("{tag} failed while closing (shutdown): {e}"),
        },
        End::Failed(e) => eprintln!("{tag} failed after {count} message(s): {e}"),
    }
}

/// Echoes a message to its sender, or relays it to everyone else.
async fn deliver(
    shared: &Shared,
    stream: &mut Stream<TcpStream>,
    id: u64,
    message: Bytes,
) -> io::Result<()> {
    match shared.mode {
        Mode::Echo => stream.send_message(&message).await,
        Mode::Relay => {
            // No receivers is fine: nobody else is connected.
            let _ = shared.relay.send((id, message));
            Ok(())
        }
    }
}

/// Sends close_notify, then waits for the peer's (messages still in
/// flight are discarded); the shutdown deadline bounds the wait.
async fn close_for_shutdown(stream: &mut Stream<TcpStream>) -> io::Result<()> {
    stream.close().await?;
    while stream.recv_message().await?.is_some() {}
    Ok(())
}
