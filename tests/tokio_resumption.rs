//! Session resumption over real loopback sockets with the tokio adapter
//! (and one blocking client): two servers sharing a ticket-key file accept
//! each other's tickets, a server with other keys falls back to a full
//! handshake on the same TCP connection, and early data on a resumed
//! flight is accepted once while a replay of that flight is refused.
#![cfg(feature = "tokio")]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use lwsec::early_data::StrikeRegister;
use lwsec::rng::OsRandom;
use lwsec::tokio::{Acceptor, Connector};
use lwsec::{
    ClientConfig, ClientHello, Event, Identity, Rejection, ServerConfig, StaticKeyPair,
    TicketKeyring, TicketKeys, Time,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

fn server_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x31; 32])
}

fn device_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x32; 32])
}

fn ik_client() -> Arc<ClientConfig> {
    Arc::new(ClientConfig::ik(server_key().public_key(), device_key()))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lwsec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What a server saw of one connection.
#[derive(Debug)]
struct Seen {
    resumed: bool,
    identity: Option<Vec<u8>>,
    device: Option<lwsec::PublicKey>,
    early_data: Option<Vec<u8>>,
}

/// The identity the authorizer saw in a resumed ClientHello (`None`: a
/// full handshake), per decision.
type Decisions = Arc<Mutex<Vec<Option<Option<Vec<u8>>>>>>;

/// A server on a loopback port: the acceptor (its authorizer names a full
/// IK client "alice" and keeps a resumed client's identity), the TCP
/// connections it accepted, what it saw of each established connection,
/// and what its authorizer saw.
struct TestServer {
    addr: SocketAddr,
    acceptor: Acceptor,
    tcp_accepted: Arc<AtomicUsize>,
    seen: mpsc::UnboundedReceiver<Seen>,
    decisions: Decisions,
}

async fn authorize(
    decisions: Decisions,
    hello: ClientHello,
) -> Result<Option<Identity>, Rejection> {
    let resumed = hello
        .resumption()
        .map(|r| r.identity().map(|i| i.as_bytes().to_vec()));
    let full = resumed.is_none();
    decisions.lock().unwrap().push(resumed);
    if full && hello.claimed_client_key().is_some() {
        return Ok(Some(Identity::new(b"alice".to_vec()).unwrap()));
    }
    // A resumed client keeps the identity its ticket carries.
    Ok(None)
}

async fn start(config: Arc<ServerConfig>, tune: impl FnOnce(Acceptor) -> Acceptor) -> TestServer {
    let decisions: Decisions = Arc::default();
    let d = decisions.clone();
    let acceptor = tune(
        Acceptor::new(config)
            .with_handshake_timeout(Duration::from_secs(3))
            .with_authorizer(move |hello| authorize(d.clone(), hello)),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tcp_accepted = Arc::new(AtomicUsize::new(0));
    let (tx, seen) = mpsc::unbounded_channel();
    let (a, count) = (acceptor.clone(), tcp_accepted.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let handshake = a.accept(tcp, peer);
            let tx = tx.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = handshake.await else {
                    return;
                };
                let conn = stream.conn();
                let mut seen = Seen {
                    resumed: conn.is_resumed(),
                    identity: conn.peer_identity().map(|i| i.as_bytes().to_vec()),
                    device: conn.peer_static_key(),
                    early_data: None,
                };
                seen.early_data = stream.take_early_data().map(|d| d.to_vec());
                let _ = tx.send(seen);
                while let Ok(Some(m)) = stream.recv_message().await {
                    if stream.send_message(&m).await.is_err() {
                        return;
                    }
                }
                let _ = stream.close().await;
            });
        }
    });
    TestServer {
        addr,
        acceptor,
        tcp_accepted,
        seen,
        decisions,
    }
}

fn resumption_config(ring: Arc<TicketKeyring>) -> Arc<ServerConfig> {
    let mut config = ServerConfig::new(server_key());
    config.enable_resumption(ring);
    Arc::new(config)
}

/// Sends a message, reads its echo, and returns the ticket that came in
/// meanwhile (the server sends it once the key confirmation arrived, so
/// it precedes the echo).
async fn echo_and_ticket<IO>(stream: &mut lwsec::tokio::Stream<IO>) -> lwsec::ResumptionTicket
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    stream.send_message(b"ping").await.unwrap();
    let echo = stream.recv_message().await.unwrap().unwrap();
    assert_eq!(&echo[..], b"ping");
    let ticket = stream
        .take_resumption_ticket()
        .expect("the ticket arrives before the echo");
    assert!(
        stream.take_resumption_ticket().is_none(),
        "a ticket is handed out once"
    );
    assert!(
        std::iter::from_fn(|| stream.poll_event())
            .all(|e| !matches!(e, Event::ResumptionTicket(_))),
        "taking the ticket removes its event"
    );
    ticket
}

#[tokio::test]
async fn two_servers_sharing_a_ticket_key_file_accept_each_others_tickets() {
    let dir = scratch("tokio-resume-shared");
    let path = dir.join("fleet.ticketkeys");
    TicketKeys::generate(&OsRandom)
        .unwrap()
        .save_new(&path)
        .unwrap();
    // Two servers, each loading the fleet's file.
    let ring = |path: &PathBuf| Arc::new(TicketKeyring::new(TicketKeys::load(path).unwrap()));
    let mut a = start(resumption_config(ring(&path)), |a| a).await;
    let mut b = start(resumption_config(ring(&path)), |a| a).await;
    let connector = Connector::new(ik_client());

    // A full handshake on A gives a ticket (not there yet right after the
    // handshake: it comes one round trip later).
    let mut stream = connector
        .connect(TcpStream::connect(a.addr).await.unwrap())
        .await
        .unwrap();
    assert!(!stream.conn().is_resumed());
    assert!(stream.take_resumption_ticket().is_none());
    let ticket = echo_and_ticket(&mut stream).await;
    stream.close().await.unwrap();
    let seen = a.seen.recv().await.unwrap();
    assert!(!seen.resumed);
    assert_eq!(seen.identity.as_deref(), Some(&b"alice"[..]));

    // Resumed on B: B's authorizer sees the identity A gave, and B's
    // connection carries it (and the device key) over.
    let mut stream = connector
        .resume(ticket, TcpStream::connect(b.addr).await.unwrap())
        .await
        .unwrap();
    assert!(stream.conn().is_resumed(), "the client resumed");
    assert_eq!(stream.conn().peer_static_key(), None);
    let next = echo_and_ticket(&mut stream).await;
    stream.close().await.unwrap();
    let seen = b.seen.recv().await.unwrap();
    assert!(seen.resumed, "the server resumed");
    assert_eq!(seen.identity.as_deref(), Some(&b"alice"[..]));
    assert_eq!(seen.device, Some(device_key().public_key()));
    assert_eq!(
        b.decisions.lock().unwrap().as_slice(),
        &[Some(Some(b"alice".to_vec()))]
    );

    // The ticket B issued resumes on A (chained, still "alice").
    let mut stream =
        lwsec::tokio::resume(ik_client(), next, TcpStream::connect(a.addr).await.unwrap())
            .await
            .unwrap();
    assert!(stream.conn().is_resumed());
    let _ = echo_and_ticket(&mut stream).await;
    stream.close().await.unwrap();
    let seen = a.seen.recv().await.unwrap();
    assert!(seen.resumed);
    assert_eq!(seen.identity.as_deref(), Some(&b"alice"[..]));

    let (ma, mb) = (a.acceptor.metrics(), b.acceptor.metrics());
    assert_eq!(
        (ma.handshakes_completed, ma.handshakes_resumed),
        (2, 1),
        "{ma:?}"
    );
    assert_eq!(
        (mb.handshakes_completed, mb.handshakes_resumed),
        (1, 1),
        "{mb:?}"
    );
    assert_eq!(ma.handshakes_failed + mb.handshakes_failed, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_server_with_other_ticket_keys_runs_a_full_handshake_on_the_same_connection() {
    let fleet = Arc::new(TicketKeyring::new(TicketKeys::new([1; 32])));
    let mut a = start(resumption_config(fleet), |a| a).await;
    let other = Arc::new(TicketKeyring::new(TicketKeys::new([2; 32])));
    let mut c = start(resumption_config(other), |a| a).await;
    let connector = Connector::new(ik_client());

    let mut stream = connector
        .connect(TcpStream::connect(a.addr).await.unwrap())
        .await
        .unwrap();
    let ticket = echo_and_ticket(&mut stream).await;
    stream.close().await.unwrap();
    assert!(!a.seen.recv().await.unwrap().resumed);

    // C cannot open A's ticket: ResumeRefused, then a full IK handshake
    // on the same TCP connection.
    let mut stream = connector
        .resume(ticket, TcpStream::connect(c.addr).await.unwrap())
        .await
        .unwrap();
    assert!(!stream.conn().is_resumed());
    assert_eq!(
        stream.conn().peer_static_key(),
        Some(server_key().public_key()),
        "a full handshake authenticated the server's static key"
    );
    // C's own ticket works on C.
    let own = echo_and_ticket(&mut stream).await;
    stream.close().await.unwrap();
    let seen = c.seen.recv().await.unwrap();
    assert!(!seen.resumed);
    assert_eq!(seen.identity.as_deref(), Some(&b"alice"[..]));
    assert_eq!(
        c.tcp_accepted.load(Ordering::SeqCst),
        1,
        "one TCP connection"
    );
    let m = c.acceptor.metrics();
    assert_eq!(
        (
            m.handshakes_started,
            m.handshakes_completed,
            m.handshakes_resumed,
            m.handshakes_failed
        ),
        (1, 1, 0, 0),
        "{m:?}"
    );
    // The authorizer decided once, on the full ClientHello.
    assert_eq!(c.decisions.lock().unwrap().as_slice(), &[None]);

    let mut stream = connector
        .resume(own, TcpStream::connect(c.addr).await.unwrap())
        .await
        .unwrap();
    assert!(stream.conn().is_resumed());
    stream.close().await.unwrap();
    assert!(c.seen.recv().await.unwrap().resumed);
}

/// A transport that records what the client writes (to replay its first
/// flight).
struct Recorder {
    io: TcpStream,
    written: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Recorder {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = result {
            self.written.lock().unwrap().extend_from_slice(&buf[..n]);
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The first frame of `bytes` (3-byte header: type, length).
fn first_frame(bytes: &[u8]) -> Vec<u8> {
    let len = usize::from(u16::from_be_bytes([bytes[1], bytes[2]]));
    bytes[..3 + len].to_vec()
}

#[tokio::test]
async fn early_data_on_a_resumed_flight_is_accepted_once_and_a_replay_is_refused() {
    let window = Duration::from_secs(10);
    let mut config = ServerConfig::new(server_key());
    config.enable_resumption(Arc::new(TicketKeyring::new(TicketKeys::new([3; 32]))));
    config.enable_replayable_early_data(window);
    // The guard started a minute ago, so its start rule (no flight from
    // its first window) does not apply.
    let started = Time::from_millis(Time::now().as_millis() - 60_000);
    let guard = Arc::new(StrikeRegister::new(1000, started));
    let mut s = start(Arc::new(config), |a| {
        a.with_replay_guard(guard)
            .with_handshake_timeout(Duration::from_secs(2))
    })
    .await;
    let connector = Connector::new(ik_client());

    let mut stream = connector
        .connect(TcpStream::connect(s.addr).await.unwrap())
        .await
        .unwrap();
    let ticket = echo_and_ticket(&mut stream).await;
    stream.close().await.unwrap();
    assert!(!s.seen.recv().await.unwrap().resumed);

    // Resumed with early data: accepted, delivered once.
    let written = Arc::new(Mutex::new(Vec::new()));
    let io = Recorder {
        io: TcpStream::connect(s.addr).await.unwrap(),
        written: written.clone(),
    };
    let mut stream = connector
        .resume_with_replayable_early_data(ticket, io, b"fetch new messages")
        .await
        .unwrap();
    assert!(stream.conn().is_resumed());
    assert_eq!(stream.early_data_accepted(), Some(true));
    let _ = echo_and_ticket(&mut stream).await;
    stream.close().await.unwrap();
    let seen = s.seen.recv().await.unwrap();
    assert!(seen.resumed);
    assert_eq!(seen.early_data.as_deref(), Some(&b"fetch new messages"[..]));
    assert_eq!(seen.identity.as_deref(), Some(&b"alice"[..]));

    // The same first flight, replayed on a new connection: the ticket
    // still opens, but the guard has seen the flight, so the early data is
    // refused; the replayer cannot confirm the handshake, which fails.
    let flight = first_frame(&written.lock().unwrap());
    let mut replay = TcpStream::connect(s.addr).await.unwrap();
    replay.write_all(&flight).await.unwrap();
    let mut answer = [0u8; 3];
    replay.read_exact(&mut answer).await.unwrap();
    assert_eq!(answer[0], 0x02, "a ServerHello");
    drop(replay);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let m = loop {
        let m = s.acceptor.metrics();
        if m.handshakes_failed == 1 || tokio::time::Instant::now() > deadline {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(
        (m.early_data_accepted, m.early_data_rejected),
        (1, 1),
        "{m:?}"
    );
    assert_eq!(
        (
            m.handshakes_completed,
            m.handshakes_resumed,
            m.handshakes_failed
        ),
        (2, 1, 1),
        "{m:?}"
    );
    assert!(s.seen.try_recv().is_err(), "the replay never got a stream");
}

#[tokio::test]
async fn a_blocking_client_takes_its_ticket_and_resumes() {
    let ring = Arc::new(TicketKeyring::new(TicketKeys::new([4; 32])));
    let mut s = start(resumption_config(ring), |a| a).await;
    let addr = s.addr;
    let resumed = tokio::task::spawn_blocking(move || {
        let tcp = std::net::TcpStream::connect(addr).unwrap();
        let mut stream = lwsec::blocking::connect(ik_client(), tcp).unwrap();
        stream.send_message(b"ping").unwrap();
        assert_eq!(&stream.recv_message().unwrap().unwrap()[..], b"ping");
        let ticket = stream.take_resumption_ticket().expect("a ticket");
        stream.close().unwrap();
        let tcp = std::net::TcpStream::connect(addr).unwrap();
        let mut stream = lwsec::blocking::resume(ik_client(), ticket, tcp).unwrap();
        let resumed = stream.conn().is_resumed();
        stream.send_message(b"ping").unwrap();
        assert_eq!(&stream.recv_message().unwrap().unwrap()[..], b"ping");
        assert!(stream.take_resumption_ticket().is_some());
        stream.close().unwrap();
        resumed
    })
    .await
    .unwrap();
    assert!(resumed);
    assert!(!s.seen.recv().await.unwrap().resumed);
    assert!(s.seen.recv().await.unwrap().resumed);
}

#[tokio::test]
async fn a_blocking_acceptor_counts_resumed_handshakes() {
    let ring = Arc::new(TicketKeyring::new(TicketKeys::new([5; 32])));
    let acceptor = lwsec::blocking::Acceptor::new(resumption_config(ring));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let a = acceptor.clone();
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (tcp, peer) = listener.accept().unwrap();
            let mut stream = a.accept(tcp, peer).unwrap();
            while let Some(m) = stream.recv_message().unwrap() {
                stream.send_message(&m).unwrap();
            }
            stream.close().unwrap();
        }
    });
    let connector = Connector::new(ik_client());
    let mut stream = connector
        .connect(TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    let ticket = echo_and_ticket(&mut stream).await;
    stream.close().await.unwrap();
    assert_eq!(stream.recv_message().await.unwrap(), None);
    let mut stream = connector
        .resume(ticket, TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    assert!(stream.conn().is_resumed());
    let _ = echo_and_ticket(&mut stream).await;
    stream.close().await.unwrap();
    assert_eq!(stream.recv_message().await.unwrap(), None);
    tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    let m = acceptor.metrics();
    assert_eq!(
        (
            m.handshakes_completed,
            m.handshakes_resumed,
            m.handshakes_failed
        ),
        (2, 1, 0),
        "{m:?}"
    );
}
