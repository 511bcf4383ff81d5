//! The server's decision point and key confirmation (`spec/PROTOCOL.md`
//! sections 4.3 and 4.10), attacked as in issue 11: a replayed IK first
//! flight, and an authorizer that has to wait for a database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lwsec::rng::OsRandom;
use lwsec::tokio::Acceptor;
use lwsec::{
    Acceptance, ClientConfig, ClientHello, Connection, Event, Identity, Rejection, ServerConfig,
    StaticKeyPair, Time,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const NOW: Time = Time::from_millis(1_700_000_000_000);

fn keys() -> (StaticKeyPair, StaticKeyPair) {
    (
        StaticKeyPair::generate(&OsRandom).unwrap(),
        StaticKeyPair::generate(&OsRandom).unwrap(),
    )
}

/// Sans-IO: a recorded IK ClientHello replayed to fresh servers reaches the
/// decision point each time (the flight is authentic, so the claimed key is
/// the victim's), but no server ever reports the client as authenticated:
/// the replayer cannot produce the key confirmation.
#[test]
fn replayed_ik_client_hello_never_authenticates_the_victim() {
    let (server_key, victim) = keys();
    let config = Arc::new(ServerConfig::new(server_key.clone()));
    let client_cfg = Arc::new(ClientConfig::ik(server_key.public_key(), victim.clone()));
    let recorded = Connection::client(client_cfg, NOW)
        .unwrap()
        .pending_output()
        .to_vec();
    for replay in 0..3 {
        let mut server = Connection::server(config.clone(), NOW).unwrap();
        server.handle_input(&recorded, NOW).unwrap();
        let hello = server.client_hello().unwrap();
        assert_eq!(hello.claimed_client_key(), Some(victim.public_key()));
        server
            .accept_client(
                Acceptance::new().with_identity(Identity::new("victim").unwrap()),
                NOW,
            )
            .unwrap();
        // The best a replayer can send: anything but the confirm record.
        let garbage = [0x17, 0x00, 0x11].iter().copied().chain([0x42; 17]);
        let result = server.handle_input(&garbage.collect::<Vec<_>>(), NOW);
        assert!(result.is_err(), "replay {replay}: garbage accepted");
        assert_eq!(server.peer_static_key(), None, "replay {replay}");
        assert_eq!(server.peer_identity(), None, "replay {replay}");
        let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
        assert_eq!(events, vec![Event::ClientHello], "replay {replay}");
    }
}

/// A chat-like server: announces "joined" only for a stream `accept`
/// returned. Counts authorizer calls, joins and failed handshakes.
#[derive(Default)]
struct Counters {
    authorized: AtomicUsize,
    joined: AtomicUsize,
    failed: AtomicUsize,
}

async fn chat_like_server(acceptor: Acceptor, counters: Arc<Counters>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = listener.accept().await.unwrap();
            let (acceptor, counters) = (acceptor.clone(), counters.clone());
            tokio::spawn(async move {
                match acceptor.accept(tcp, peer).await {
                    Ok(mut stream) => {
                        assert!(stream.conn().is_established());
                        counters.joined.fetch_add(1, Ordering::SeqCst);
                        let _ = stream.send_message(b"welcome").await;
                        let _ = stream.close().await;
                    }
                    Err(_) => {
                        counters.failed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    addr
}

/// Over TCP, with the tokio acceptor (the attack of issue 11): the same IK
/// ClientHello, recorded from a real client and sent three times from a
/// socket that does no cryptography, yields no `accept()` return, no
/// authenticated peer and no "joined". The authorizer does run for each
/// replay: a first flight is replayable, which spec section 12 states.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_ik_client_hello_over_tcp_yields_no_accept() {
    let (server_key, victim) = keys();
    let counters = Arc::new(Counters::default());
    let authorizer_counters = counters.clone();
    let acceptor = Acceptor::new(Arc::new(ServerConfig::new(server_key.clone())))
        .with_handshake_timeout(Duration::from_secs(5))
        .with_authorizer(move |hello: ClientHello| {
            authorizer_counters
                .authorized
                .fetch_add(1, Ordering::SeqCst);
            async move {
                let key = hello.claimed_client_key().ok_or(Rejection::NotAuthorized)?;
                Ok(Some(Identity::new(key.as_bytes().to_vec()).unwrap()))
            }
        });
    let addr = chat_like_server(acceptor, counters.clone()).await;

    // The victim connects once; the attacker records its first flight.
    let client_cfg = Arc::new(ClientConfig::ik(server_key.public_key(), victim));
    let mut recorder = Connection::client(client_cfg.clone(), Time::now()).unwrap();
    let recorded = recorder.pending_output().to_vec();
    recorder.consume_output(recorded.len());
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&recorded).await.unwrap();
    let stream = lwsec::tokio::handshake(recorder, tcp, Duration::from_secs(5))
        .await
        .unwrap();
    drop(stream);
    while counters.joined.load(Ordering::SeqCst) + counters.failed.load(Ordering::SeqCst) < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        counters.joined.load(Ordering::SeqCst),
        1,
        "the victim itself"
    );

    // Three replays from a socket that does no cryptography.
    for _ in 0..3 {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(&recorded).await.unwrap();
        let mut server_hello = [0u8; 3];
        tcp.read_exact(&mut server_hello).await.unwrap();
        assert_eq!(server_hello[0], 0x02, "a ServerHello to the replayer");
        // It cannot confirm; it sends its best guess and leaves.
        tcp.write_all(&[0x17, 0x00, 0x11]).await.unwrap();
        tcp.write_all(&[0x42; 17]).await.unwrap();
        drop(tcp);
    }
    while counters.failed.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        counters.joined.load(Ordering::SeqCst),
        1,
        "no replay joined"
    );
    assert_eq!(counters.authorized.load(Ordering::SeqCst), 4);
}

/// An authorizer that awaits a 20 ms "database" lookup does not hold up
/// other handshakes: 1,000 clients connect at once and every handshake
/// completes; the lookups overlap (old synchronous hooks ran inside the
/// core, one at a time per worker thread).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awaiting_authorizer_does_not_serialize_handshakes() {
    const CLIENTS: usize = 1000;
    let (server_key, _) = keys();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (f, m) = (in_flight.clone(), most.clone());
    let acceptor = Acceptor::new(Arc::new(ServerConfig::new(server_key.clone())))
        .with_cookie_threshold(usize::MAX)
        .without_handshake_rate_limit()
        .with_handshake_timeout(Duration::from_secs(60))
        .with_authorizer_timeout(Duration::from_secs(30))
        .with_authorizer(move |_: ClientHello| {
            let (f, m) = (f.clone(), m.clone());
            async move {
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                f.fetch_sub(1, Ordering::SeqCst);
                Ok(None)
            }
        });
    let counters = Arc::new(Counters::default());
    let addr = chat_like_server(acceptor, counters.clone()).await;
    let client_cfg = Arc::new(ClientConfig::nk(server_key.public_key()));
    let start = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let cfg = client_cfg.clone();
            tokio::spawn(async move {
                let tcp = TcpStream::connect(addr).await.unwrap();
                let mut stream = lwsec::tokio::connect(cfg, tcp).await.unwrap();
                assert_eq!(
                    stream.recv_message().await.unwrap().as_deref(),
                    Some(&b"welcome"[..])
                );
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let elapsed = start.elapsed();
    let most = most.load(Ordering::SeqCst);
    eprintln!(
        "{CLIENTS} handshakes with a 20 ms authorizer: {elapsed:?}, up to {most} lookups at once"
    );
    assert_eq!(counters.joined.load(Ordering::SeqCst), CLIENTS);
    assert!(
        most >= 20,
        "lookups did not overlap: at most {most} at once"
    );
}

/// The decision's deadline fails closed: an authorizer that never answers
/// refuses the client with `internal_error` (PolicyUnavailable) in time.
#[tokio::test]
async fn authorizer_past_its_deadline_refuses_the_client() {
    let (server_key, _) = keys();
    let acceptor = Acceptor::new(Arc::new(ServerConfig::new(server_key.clone())))
        .with_authorizer_timeout(Duration::from_millis(50))
        .with_authorizer(|_: ClientHello| std::future::pending());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, peer) = listener.accept().await.unwrap();
        acceptor.accept(tcp, peer).await.unwrap_err()
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let err = lwsec::tokio::connect(Arc::new(ClientConfig::nk(server_key.public_key())), tcp)
        .await
        .unwrap_err();
    assert_eq!(
        err.get_ref().and_then(|e| e.downcast_ref::<lwsec::Error>()),
        Some(&lwsec::Error::PeerAlert {
            code: lwsec::AlertCode::InternalError,
            authenticated: false
        })
    );
    let server_err = server.await.unwrap();
    assert_eq!(
        server_err
            .get_ref()
            .and_then(|e| e.downcast_ref::<lwsec::Error>()),
        Some(&lwsec::Error::ClientRejected(Rejection::PolicyUnavailable))
    );
}

/// The blocking acceptor runs the same policies synchronously and also
/// reports the client only after its confirmation.
#[test]
fn blocking_acceptor_decides_and_confirms() {
    let (server_key, device) = keys();
    let device_pub = device.public_key();
    let acceptor = lwsec::blocking::Acceptor::new(Arc::new(ServerConfig::new(server_key.clone())))
        .with_authorizer(move |hello: &ClientHello| {
            if hello.claimed_client_key() == Some(device_pub) {
                Ok(Some(Identity::new("alice").unwrap()))
            } else {
                Err(Rejection::NotAuthorized)
            }
        });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let mut results = Vec::new();
        for _ in 0..2 {
            let (tcp, peer) = listener.accept().unwrap();
            results.push(acceptor.accept(tcp, peer).map(|mut s| {
                let who = s.conn().peer_identity().cloned();
                s.send_message(b"hi").unwrap();
                s.close().unwrap();
                who
            }));
        }
        results
    });
    let allowed = Arc::new(ClientConfig::ik(server_key.public_key(), device));
    let mut stream =
        lwsec::blocking::connect(allowed, std::net::TcpStream::connect(addr).unwrap()).unwrap();
    assert_eq!(stream.recv_message().unwrap().as_deref(), Some(&b"hi"[..]));
    let stranger = Arc::new(ClientConfig::ik(
        server_key.public_key(),
        StaticKeyPair::generate(&OsRandom).unwrap(),
    ));
    assert!(
        lwsec::blocking::connect(stranger, std::net::TcpStream::connect(addr).unwrap()).is_err()
    );
    let results = server.join().unwrap();
    assert_eq!(
        results[0].as_ref().unwrap(),
        &Some(Identity::new("alice").unwrap())
    );
    assert!(results[1].is_err());
}
