//! `lwsec connect`: a client. Lines of stdin become messages; received
//! messages are printed on stdout, one per line; what happens to the
//! connection is reported on stderr.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use clap::Args;
use lwsec::DEFAULT_HANDSHAKE_TIMEOUT;
use lwsec::tokio::Stream;
use lwsec::{ClientConfig, Connection, Event, ResumptionTicket, Time};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};

use crate::common::{
    CliError, ProviderArg, SuiteArg, load_key_pair, load_pinned_keys, provider, short_id,
};

#[derive(Args)]
pub(crate) struct ConnectArgs {
    /// The server's address, HOST:PORT.
    #[arg(value_name = "ADDR")]
    addr: String,
    /// The pinned server public key file (from the server's `lwsec keygen`);
    /// it may list several keys, the first is used. Rewritten atomically
    /// when the server announces new keys (key rotation).
    #[arg(long, value_name = "FILE", default_value = "server.pub")]
    server_key: PathBuf,
    /// This device's secret key file: the client proves it (IK). Without
    /// it the client is anonymous (NK).
    #[arg(long, value_name = "FILE")]
    device_key: Option<PathBuf>,
    /// Offer only this cipher suite (default: both, AES-256-GCM first).
    #[arg(long, value_enum)]
    suite: Option<SuiteArg>,
    /// Send a keep-alive ping after the handshake and print the round trip.
    #[arg(long)]
    ping: bool,
    /// Update the keys after the handshake, and ask the server to update its own.
    #[arg(long)]
    key_update: bool,
    /// Send TEXT as early data (0-RTT) in the first flight. It is
    /// REPLAYABLE and not forward secret: only for requests safe to repeat.
    /// Sent again as a normal message if the server does not accept it.
    #[arg(long, value_name = "TEXT")]
    early_data: Option<String>,
    /// Resume with the ticket stored in FILE, if there is one (a server
    /// that refuses it runs a full handshake on the same connection), and
    /// store the ticket the server sends in FILE (secret: mode 0600,
    /// replaced atomically). A ticket is used once: FILE is removed after
    /// the handshake until a new ticket arrives.
    #[arg(long, value_name = "FILE")]
    ticket: Option<PathBuf>,
    /// Crypto provider (default aws-lc when built in).
    #[arg(long, value_enum)]
    provider: Option<ProviderArg>,
}

pub(crate) fn run(args: ConnectArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(connect(args))
}

/// The transport, watched: a notification whenever bytes arrive, so that
/// events (a pong, the peer's key update) are reported as they happen.
struct Watched {
    io: TcpStream,
    notify: Arc<Notify>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.notify.notify_one();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Lines of stdin, read on a thread of their own (a blocking read cannot
/// be cancelled; the thread ends with the process). `None`: end of input.
fn stdin_lines() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        loop {
            let mut line = Vec::new();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                    }
                    if tx.blocking_send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Prints a received message on stdout.
fn print_message(message: &[u8]) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(message);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// What the client is waiting for, to report events.
struct Pending<'a> {
    ping_sent: Option<Instant>,
    /// Where to store a resumption ticket (`--ticket`).
    ticket_file: Option<&'a Path>,
}

/// The ticket stored in `path`, if any: a missing file means none yet; a
/// file that cannot be read or is no ticket is reported and ignored (a
/// full handshake follows, and a new ticket replaces it).
fn stored_ticket(path: &Path) -> Option<ResumptionTicket> {
    match ResumptionTicket::load(path) {
        Ok(ticket) if ticket.is_expired(Time::now()) => {
            eprintln!(
                "lwsec connect: the ticket in {} has expired: full handshake",
                path.display()
            );
            None
        }
        Ok(ticket) => Some(ticket),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            eprintln!("lwsec connect: ignoring the ticket: {e}");
            None
        }
    }
}

/// Stores a ticket the server sent, atomically (mode 0600).
fn store_ticket(ticket: &ResumptionTicket, path: &Path) {
    match ticket.save(path) {
        Ok(()) => eprintln!(
            "lwsec connect: stored a resumption ticket in {} (valid {} s)",
            path.display(),
            ticket
                .expires()
                .as_millis()
                .saturating_sub(Time::now().as_millis())
                / 1000
        ),
        Err(e) => eprintln!("lwsec connect: cannot store the resumption ticket: {e}"),
    }
}

/// Reports the connection's events on stderr.
fn report_events(stream: &mut Stream<Watched>, addr: &str, pending: &mut Pending<'_>) {
    while let Some(event) = stream.poll_event() {
        match event {
            Event::ResumptionTicket(ticket) => match pending.ticket_file {
                Some(path) => store_ticket(&ticket, path),
                None => eprintln!(
                    "lwsec connect: the server sent a resumption ticket (use --ticket FILE to keep it)"
                ),
            },
            Event::Pong(_) => {
                if let Some(sent) = pending.ping_sent.take() {
                    let ms = sent.elapsed().as_secs_f64() * 1000.0;
                    eprintln!("lwsec connect: pong from {addr} in {ms:.3} ms");
                }
            }
            Event::KeyUpdated => eprintln!("lwsec connect: the server updated its keys"),
            _ => {}
        }
    }
}

async fn connect(args: ConnectArgs) -> Result<(), CliError> {
    let addr = args.addr.as_str();
    let pinned = load_pinned_keys(&args.server_key)?;
    let device = args.device_key.as_deref().map(load_key_pair).transpose()?;
    let whom = match &device {
        Some(device) => format!("as device {}", short_id(&device.public_key())),
        None => "anonymously".to_owned(),
    };
    let first = pinned
        .first()
        .copied()
        .ok_or_else(|| CliError::file(format!("{}: no key", args.server_key.display())))?;
    let mut config = match device {
        Some(device) => ClientConfig::ik(first, device),
        None => ClientConfig::nk(first),
    };
    config
        .set_pinned_keys(pinned)
        .map_err(|e| CliError::file(format!("{}: {e}", args.server_key.display())))?;
    if let Some(suite) = args.suite {
        config.suites = vec![suite.suite()];
    }
    config.provider = provider(args.provider)?;
    let config = Arc::new(config);

    let tcp = TcpStream::connect(addr).await.map_err(|e| {
        let hint = match e.kind() {
            io::ErrorKind::ConnectionRefused => " (is `lwsec serve` running there?)",
            _ => "",
        };
        CliError::network(format!("cannot connect to {addr}: {e}{hint}"))
    })?;
    let _ = tcp.set_nodelay(true);
    let notify = Arc::new(Notify::new());
    let io = Watched {
        io: tcp,
        notify: notify.clone(),
    };
    let ticket = args.ticket.as_deref().and_then(stored_ticket);
    let offered = ticket.is_some();
    let early = args.early_data.as_deref().map(str::as_bytes);
    let conn = match (ticket, early) {
        (Some(t), Some(e)) => {
            Connection::resume_with_replayable_early_data(config, t, Time::now(), e)
        }
        (Some(t), None) => Connection::resume(config, t, Time::now()),
        (None, Some(e)) => Connection::client_with_replayable_early_data(config, Time::now(), e),
        (None, None) => Connection::client(config, Time::now()),
    }
    .map_err(|e| CliError::usage(format!("cannot start the connection: {e}")))?;
    let mut stream = lwsec::tokio::handshake(conn, io, DEFAULT_HANDSHAKE_TIMEOUT)
        .await
        .map_err(|e| handshake_error(addr, &args, &e))?;
    if let Some(path) = &args.ticket {
        // Spent: a ticket is for one connection.
        if let Err(e) = std::fs::remove_file(path) {
            if e.kind() != io::ErrorKind::NotFound {
                eprintln!(
                    "lwsec connect: cannot remove the used ticket {}: {e}",
                    path.display()
                );
            }
        }
    }

    let conn = stream.conn();
    let pattern = conn.pattern().map_or("?".to_owned(), |p| p.to_string());
    let suite = conn.suite().map_or("?".to_owned(), |s| s.to_string());
    if conn.is_resumed() {
        eprintln!("lwsec connect: connected to {addr}: resumed ({pattern}) {suite}, {whom}");
    } else {
        eprintln!(
            "lwsec connect: connected to {addr}: {pattern} {suite}, {whom}, server key {first}"
        );
        if offered {
            eprintln!("lwsec connect: the server refused the ticket: full handshake");
        }
    }
    if let Some(keys) = stream.take_announced_server_keys() {
        lwsec::keys::save_pinned_keys(&args.server_key, &keys).map_err(|e| {
            CliError::file(format!(
                "cannot update the pins in {}: {e}",
                args.server_key.display()
            ))
        })?;
        eprintln!(
            "lwsec connect: the server announced {} key(s); pins updated in {}",
            keys.len(),
            args.server_key.display()
        );
    }
    let peer_error = |e: io::Error| CliError::runtime(format!("{addr}: {e}"));
    match (&args.early_data, stream.early_data_accepted()) {
        (Some(text), Some(true)) => {
            eprintln!("lwsec connect: early data accepted ({} bytes)", text.len());
        }
        (Some(text), _) => {
            eprintln!("lwsec connect: early data not accepted; sending it as a normal message");
            stream
                .send_message(text.as_bytes())
                .await
                .map_err(peer_error)?;
        }
        (None, _) => {}
    }
    let mut pending = Pending {
        ping_sent: None,
        ticket_file: args.ticket.as_deref(),
    };
    if args.key_update {
        stream
            .conn_mut()
            .update_keys(true)
            .map_err(|e| CliError::runtime(format!("{addr}: key update: {e}")))?;
        stream.flush().await.map_err(peer_error)?;
        eprintln!("lwsec connect: sent a key update, asking the server to update its keys too");
    }
    if args.ping {
        stream
            .conn_mut()
            .ping(b"lwsec")
            .map_err(|e| CliError::runtime(format!("{addr}: ping: {e}")))?;
        pending.ping_sent = Some(Instant::now());
        stream.flush().await.map_err(peer_error)?;
    }

    if io::stdin().is_terminal() {
        eprintln!("lwsec connect: type lines to send them; Ctrl-D closes the connection");
    }
    let mut lines = stdin_lines();
    let mut closing = false;
    let result = loop {
        tokio::select! {
            line = lines.recv(), if !closing => match line {
                Some(line) => {
                    if let Err(e) = stream.send_message(&line).await {
                        break Err(peer_error(e));
                    }
                }
                None => {
                    // End of input: close gracefully, then read until the
                    // server acknowledges.
                    closing = true;
                    if let Err(e) = stream.close().await {
                        break Err(peer_error(e));
                    }
                }
            },
            message = stream.recv_message() => match message {
                Ok(Some(message)) => print_message(&message),
                Ok(None) => {
                    if !closing {
                        eprintln!("lwsec connect: the server closed the connection");
                        if let Err(e) = stream.close().await {
                            break Err(peer_error(e));
                        }
                    } else {
                        eprintln!("lwsec connect: closed cleanly");
                    }
                    break Ok(());
                }
                Err(e) => break Err(peer_error(e)),
            },
            () = notify.notified() => report_events(&mut stream, addr, &mut pending),
        }
    };
    report_events(&mut stream, addr, &mut pending);
    if pending.ping_sent.is_some() && result.is_ok() {
        eprintln!("lwsec connect: no pong from {addr} before the connection closed");
    }
    result
}

/// The error for a failed handshake, with what to check.
fn handshake_error(addr: &str, args: &ConnectArgs, err: &io::Error) -> CliError {
    use lwsec::{AlertCode, Error};
    let lwsec_error = err.get_ref().and_then(|e| e.downcast_ref::<Error>());
    let pins = args.server_key.display();
    let hint = match lwsec_error {
        Some(Error::PeerAlert { code, .. }) => match code {
            AlertCode::ClientRejected => {
                " (the server refused this client: is the device key in its --allow file?)"
                    .to_owned()
            }
            AlertCode::HandshakeFailure => " (no pattern or suite in common: the server may \
                 accept only IK (give --device-key) or only NK, or not this --suite)"
                .to_owned(),
            AlertCode::UnknownServerKey => format!(
                " (the server does not hold the key pinned in {pins}: get its current .pub file)"
            ),
            _ => String::new(),
        },
        Some(Error::HandshakeDecrypt) => {
            format!(" (is the key in {pins} this server's public key?)")
        }
        _ => String::new(),
    };
    let text = err.to_string();
    if text.starts_with("handshake") {
        CliError::runtime(format!("{addr}: {text}{hint}"))
    } else {
        CliError::runtime(format!("{addr}: handshake failed: {text}{hint}"))
    }
}
