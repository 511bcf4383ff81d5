//! The tokio adapter over real TCP loopback connections.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use lwsec::rng::OsRandom;
use lwsec::{ClientConfig, Error, Pattern, ServerConfig, StaticKeyPair, Suite};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn configs(pattern: Pattern, suite: Suite) -> (ClientConfig, ServerConfig) {
    let server_key = StaticKeyPair::generate(&OsRandom).unwrap();
    let mut client = match pattern {
        Pattern::Nk => ClientConfig::nk(server_key.public_key()),
        _ => ClientConfig::ik(
            server_key.public_key(),
            StaticKeyPair::generate(&OsRandom).unwrap(),
        ),
    };
    client.suites = vec![suite];
    (client, ServerConfig::new(server_key))
}

/// Echoes every message of every connection (each in its own task) until
/// the client closes, then closes gracefully.
async fn echo_server(config: ServerConfig) -> SocketAddr {
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let config = config.clone();
            tokio::spawn(async move {
                let stream = lwsec::tokio::accept(config, tcp).await.unwrap();
                let mut messages = stream.into_messages();
                while let Some(message) = messages.next().await {
                    messages.send(message.unwrap()).await.unwrap();
                }
                messages.close().await.unwrap();
            });
        }
    });
    addr
}

/// A small deterministic generator (xorshift64*), to avoid a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let seed = self.next();
        (0..len)
            .map(|i| (seed.wrapping_add(i as u64).wrapping_mul(0x9e37_79b9) >> 24) as u8)
            .collect()
    }
}

#[tokio::test]
async fn every_pattern_and_suite_over_byte_and_message_views() {
    for pattern in [Pattern::Nk, Pattern::Ik] {
        for suite in Suite::ALL {
            let (client_cfg, server_cfg) = configs(pattern, suite);
            let server_public = server_cfg.public_keys()[0];
            let addr = echo_server(server_cfg).await;
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut stream = lwsec::tokio::connect(Arc::new(client_cfg), tcp)
                .await
                .unwrap();
            assert_eq!(stream.conn().suite(), Some(suite));
            assert_eq!(stream.conn().pattern(), Some(pattern));
            assert_eq!(stream.conn().peer_static_key(), Some(server_public));
            let mut rng = Rng(7);
            // Message API.
            for len in [0usize, 1, 16_384, 16_385, 1 << 20] {
                let sent = rng.bytes(len);
                stream.send_message(&sent).await.unwrap();
                assert_eq!(stream.recv_message().await.unwrap().unwrap(), sent);
            }
            // Byte view, with a key update in between.
            stream.conn_mut().update_keys(true).unwrap();
            let sent = rng.bytes(200_000);
            stream.write_all(&sent).await.unwrap();
            stream.flush().await.unwrap();
            let mut back = vec![0; sent.len()];
            stream.read_exact(&mut back).await.unwrap();
            assert_eq!(back, sent, "{pattern:?} {suite:?}");
            // Graceful close: the server echoes it, our read sees a clean end.
            stream.shutdown().await.unwrap();
            assert_eq!(stream.read(&mut [0u8; 16]).await.unwrap(), 0);
            assert_eq!(stream.recv_message().await.unwrap(), None);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_connections_echo_random_messages() {
    // Every byte is checked. Debug builds use messages of up to 128 bytes:
    // unoptimised crypto there runs at a few MB/s, and 1,000 x 100 messages
    // of up to 64 KiB (3.2 GB each way) would take an hour; release builds
    // (`cargo test --release`) use the full 64 KiB. NK keeps the 1,000
    // handshakes cheap; IK is covered by the other tests.
    let max_len: u64 = if cfg!(debug_assertions) {
        128
    } else {
        64 * 1024
    };
    let (client_cfg, server_cfg) = configs(Pattern::Nk, Suite::ChaCha20Poly1305);
    let addr = echo_server(server_cfg).await;
    let client_cfg = Arc::new(client_cfg);
    let mut tasks = Vec::new();
    for id in 0..1000u64 {
        let client_cfg = client_cfg.clone();
        tasks.push(tokio::spawn(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut stream = lwsec::tokio::connect(client_cfg, tcp).await.unwrap();
            let mut rng = Rng(id + 1);
            let mut bytes = 0usize;
            for _ in 0..100 {
                let len = (rng.next() % (max_len + 1)) as usize;
                let sent = rng.bytes(len);
                stream.send_message(&sent).await.unwrap();
                let back = stream.recv_message().await.unwrap().unwrap();
                assert_eq!(back, sent);
                bytes += len;
            }
            stream.close().await.unwrap();
            assert_eq!(stream.recv_message().await.unwrap(), None);
            bytes
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert!(total > 0);
}

#[tokio::test]
async fn split_halves_read_and_write_from_two_tasks() {
    let (client_cfg, server_cfg) = configs(Pattern::Nk, Suite::Aes256Gcm);
    let addr = echo_server(server_cfg).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let stream = lwsec::tokio::connect(Arc::new(client_cfg), tcp)
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let data = Rng(3).bytes(3_000_000);
    let expected = data.clone();
    let write = tokio::spawn(async move {
        for chunk in data.chunks(50_000) {
            writer.write_all(chunk).await.unwrap();
        }
        writer.shutdown().await.unwrap();
    });
    let mut back = Vec::new();
    reader.read_to_end(&mut back).await.unwrap();
    write.await.unwrap();
    assert_eq!(back.len(), expected.len());
    assert!(back == expected);
}

#[tokio::test]
async fn message_stream_sink_round_trip() {
    let (client_cfg, server_cfg) = configs(Pattern::Ik, Suite::ChaCha20Poly1305);
    let addr = echo_server(server_cfg).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let stream = lwsec::tokio::connect(Arc::new(client_cfg), tcp)
        .await
        .unwrap();
    let mut messages = stream.into_messages();
    let sent: Vec<Bytes> = (0..50)
        .map(|i| Bytes::from(vec![i as u8; i * 1000]))
        .collect();
    for m in &sent {
        messages.feed(m.clone()).await.unwrap();
    }
    messages.flush().await.unwrap();
    for m in &sent {
        assert_eq!(&messages.next().await.unwrap().unwrap(), m);
    }
    messages.close().await.unwrap();
    assert!(
        messages.next().await.is_none(),
        "clean end after both closed"
    );
}

#[tokio::test]
async fn abrupt_close_is_truncation_graceful_close_is_not() {
    let (client_cfg, server_cfg) = configs(Pattern::Nk, Suite::Aes256Gcm);
    let server_cfg = Arc::new(server_cfg);
    let client_cfg = Arc::new(client_cfg);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        for graceful in [true, false] {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut stream = lwsec::tokio::accept(server_cfg.clone(), tcp).await.unwrap();
            stream.send_message(b"bye").await.unwrap();
            if graceful {
                stream.shutdown().await.unwrap();
            } else {
                drop(stream.into_inner()); // TCP FIN without close_notify
            }
        }
    });
    for graceful in [true, false] {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut stream = lwsec::tokio::connect(client_cfg.clone(), tcp)
            .await
            .unwrap();
        assert_eq!(
            stream.recv_message().await.unwrap().as_deref(),
            Some(&b"bye"[..])
        );
        let end = stream.recv_message().await;
        if graceful {
            assert_eq!(end.unwrap(), None);
        } else {
            let err = end.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
            assert_eq!(
                err.get_ref().and_then(|e| e.downcast_ref::<Error>()),
                Some(&Error::Truncated)
            );
        }
    }
    server.await.unwrap();
}

#[tokio::test]
async fn handshake_against_a_silent_server_times_out() {
    let (client_cfg, _) = configs(Pattern::Nk, Suite::Aes256Gcm);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tcp = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (_silent, _) = listener.accept().await.unwrap();
    let err = lwsec::tokio::Connector::new(Arc::new(client_cfg))
        .with_handshake_timeout(Duration::from_millis(200))
        .connect(tcp)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(err.to_string().contains("handshake"), "{err}");
}

#[tokio::test]
async fn a_peer_that_does_not_read_makes_the_writer_wait_not_buffer() {
    let (client_cfg, server_cfg) = configs(Pattern::Nk, Suite::ChaCha20Poly1305);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_cfg = Arc::new(server_cfg);
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let stream = lwsec::tokio::accept(server_cfg, tcp).await.unwrap();
        tokio::time::sleep(Duration::from_secs(3600)).await; // never reads
        drop(stream);
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut stream = lwsec::tokio::connect(Arc::new(client_cfg), tcp)
        .await
        .unwrap();
    let message = vec![0x5a; 256 * 1024];
    let mut sent = 0usize;
    let writing = async {
        loop {
            stream.send_message(&message).await.unwrap();
            sent += 1;
        }
    };
    // The socket buffers fill up; the writer must then wait forever.
    let stopped = tokio::time::timeout(Duration::from_millis(500), writing).await;
    assert!(stopped.is_err(), "the writer never waited");
    assert!(sent < 10_000, "sent {sent} messages nobody read");
    let queued = stream.conn().pending_output().len();
    assert!(
        queued <= 64 * 1024 + message.len() + 16 * 1024,
        "queued {queued} bytes"
    );
    server.abort();
}

#[tokio::test]
async fn keepalive_keeps_an_idle_connection_alive_and_idle_timeout_fires_without_it() {
    for keepalive in [true, false] {
        let (mut client_cfg, mut server_cfg) = configs(Pattern::Ik, Suite::Aes256Gcm);
        if keepalive {
            client_cfg.transport.keepalive_interval = Some(Duration::from_millis(20));
        }
        server_cfg.transport.idle_timeout = Some(Duration::from_millis(1000));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server_cfg = Arc::new(server_cfg);
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut stream = lwsec::tokio::accept(server_cfg, tcp).await.unwrap();
            let waited =
                tokio::time::timeout(Duration::from_millis(2500), stream.recv_message()).await;
            match waited {
                Err(_) => Ok(()), // still alive after 2.5 idle timeouts
                Ok(Ok(m)) => panic!("unexpected message {m:?}"),
                Ok(Err(e)) => Err(e),
            }
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut stream = lwsec::tokio::connect(Arc::new(client_cfg), tcp)
            .await
            .unwrap();
        // The client only reads: its pings go out from the read path.
        let _ = tokio::time::timeout(Duration::from_millis(3000), stream.recv_message()).await;
        let result = server.await.unwrap();
        if keepalive {
            result.unwrap();
        } else {
            let err = result.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TimedOut);
            assert_eq!(
                err.get_ref().and_then(|e| e.downcast_ref::<Error>()),
                Some(&Error::Timeout)
            );
        }
    }
}

#[tokio::test]
async fn handshake_refusals_reach_the_client_as_unauthenticated_alerts() {
    use lwsec::{AlertCode, ClientHello, Rejection};
    let (client_cfg, server_cfg) = configs(Pattern::Ik, Suite::Aes256Gcm);
    // The server holds another key: the pinned one is unknown to it.
    let other = lwsec::tokio::Acceptor::new(Arc::new(ServerConfig::new(
        StaticKeyPair::generate(&OsRandom).unwrap(),
    )));
    let refusing = lwsec::tokio::Acceptor::new(Arc::new(server_cfg))
        .with_authorizer(|_: ClientHello| async { Err(Rejection::NotAuthorized) });
    let client_cfg = Arc::new(client_cfg);
    for (acceptor, server_expected, code) in [
        (other, Error::UnknownServerKey, AlertCode::UnknownServerKey),
        (
            refusing,
            Error::ClientRejected(Rejection::NotAuthorized),
            AlertCode::ClientRejected,
        ),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, peer) = listener.accept().await.unwrap();
            acceptor.accept(tcp, peer).await.unwrap_err()
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let err = lwsec::tokio::connect(client_cfg.clone(), tcp)
            .await
            .unwrap_err();
        let server_err = server.await.unwrap();
        assert_eq!(
            err.get_ref().and_then(|e| e.downcast_ref::<Error>()),
            Some(&Error::PeerAlert {
                code,
                authenticated: false
            }),
            "{err}"
        );
        assert_eq!(
            server_err.get_ref().and_then(|e| e.downcast_ref::<Error>()),
            Some(&server_expected)
        );
    }
}

#[tokio::test]
async fn early_data_is_answered_before_the_client_confirms() {
    use lwsec::Time;
    use lwsec::early_data::{DEFAULT_EARLY_DATA_WINDOW, StrikeRegister};
    let (client_cfg, mut server_cfg) = configs(Pattern::Ik, Suite::ChaCha20Poly1305);
    server_cfg.enable_replayable_early_data(DEFAULT_EARLY_DATA_WINDOW);
    let guard = Arc::new(StrikeRegister::new(1024, Time::from_millis(0)));
    let acceptor =
        lwsec::tokio::Acceptor::new(Arc::new(server_cfg)).with_replay_guard(guard.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, peer) = listener.accept().await.unwrap();
        let mut pending = acceptor.accept_unconfirmed(tcp, peer).await.unwrap();
        let early = pending.take_early_data().expect("early data accepted");
        // 0.5-RTT: answered before the client's confirmation arrives.
        pending.send_message(&early).await.unwrap();
        let mut stream = pending.confirm().await.unwrap();
        assert!(stream.conn().peer_static_key().is_some());
        stream.close().await.unwrap();
        assert_eq!(stream.recv_message().await.unwrap(), None);
    });
    // The Connector pairs with the Acceptor: one configuration, a timeout,
    // early data in the first flight.
    let connector = lwsec::tokio::Connector::new(Arc::new(client_cfg))
        .with_handshake_timeout(Duration::from_secs(5));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut stream = connector
        .connect_with_replayable_early_data(tcp, b"fetch new messages")
        .await
        .unwrap();
    assert_eq!(
        stream.recv_message().await.unwrap().as_deref(),
        Some(&b"fetch new messages"[..])
    );
    assert_eq!(stream.early_data_accepted(), Some(true));
    assert_eq!(stream.recv_message().await.unwrap(), None);
    stream.close().await.unwrap();
    server.await.unwrap();
    assert_eq!(guard.len(), 1);
}

#[tokio::test]
async fn writes_larger_than_max_message_size_are_split_into_messages() {
    let (mut client_cfg, mut server_cfg) = configs(Pattern::Nk, Suite::Aes256Gcm);
    client_cfg.transport.max_message_size = 1000;
    server_cfg.transport.max_message_size = 1000;
    let addr = echo_server(server_cfg).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut stream = lwsec::tokio::connect(Arc::new(client_cfg), tcp)
        .await
        .unwrap();
    assert_eq!(stream.write(&[1u8; 2500]).await.unwrap(), 1000);
    stream.write_all(&[2u8; 1500]).await.unwrap();
    stream.flush().await.unwrap();
    let sizes: Vec<usize> = [
        stream.recv_message().await.unwrap().unwrap().len(),
        stream.recv_message().await.unwrap().unwrap().len(),
        stream.recv_message().await.unwrap().unwrap().len(),
    ]
    .into();
    assert_eq!(sizes, vec![1000, 1000, 500]);
    stream.close().await.unwrap();
}

/// An echo server behind an `Acceptor` with the given cookie threshold.
async fn acceptor_echo_server(acceptor: lwsec::tokio::Acceptor) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let mut stream = acceptor.accept(tcp, peer).await.unwrap();
                while let Some(m) = stream.recv_message().await.unwrap() {
                    stream.send_message(&m).await.unwrap();
                }
                stream.close().await.unwrap();
            });
        }
    });
    addr
}

#[tokio::test]
async fn cookie_acceptor_demands_cookies_only_above_the_threshold() {
    for (threshold, clients, expect_demanded) in [(0usize, 3usize, 3usize), (100, 3, 0)] {
        let (client_cfg, server_cfg) = configs(Pattern::Ik, Suite::Aes256Gcm);
        let acceptor =
            lwsec::tokio::Acceptor::new(Arc::new(server_cfg)).with_cookie_threshold(threshold);
        let addr = acceptor_echo_server(acceptor.clone()).await;
        let client_cfg = Arc::new(client_cfg);
        for i in 0..clients {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut stream = lwsec::tokio::connect(client_cfg.clone(), tcp)
                .await
                .unwrap();
            let message = vec![i as u8; 100];
            stream.send_message(&message).await.unwrap();
            assert_eq!(
                stream.recv_message().await.unwrap().as_deref(),
                Some(&message[..])
            );
            stream.close().await.unwrap();
        }
        assert_eq!(
            acceptor.cookies_demanded(),
            expect_demanded,
            "threshold {threshold}"
        );
    }
}

/// Issue 12, item 6: the count that triggers cookies used to include idle
/// sockets, so 25 sockets that never sent a byte made every honest client
/// pay a Retry round trip (and let an attacker switch cookies on and off).
/// Now only clients that sent a ClientHello count: idle sockets change
/// nothing, stalled first flights do.
#[tokio::test]
async fn cookie_acceptor_counts_only_clients_that_sent_a_client_hello() {
    let (client_cfg, server_cfg) = configs(Pattern::Nk, Suite::ChaCha20Poly1305);
    let client_cfg = Arc::new(client_cfg);
    let acceptor = lwsec::tokio::Acceptor::new(Arc::new(server_cfg))
        .with_cookie_threshold(5)
        .with_handshake_timeout(Duration::from_secs(30));
    let addr = acceptor_echo_server(acceptor.clone()).await;
    let echo = |text: &'static [u8]| {
        let client_cfg = client_cfg.clone();
        async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut stream = lwsec::tokio::connect(client_cfg, tcp).await.unwrap();
            stream.send_message(text).await.unwrap();
            assert_eq!(stream.recv_message().await.unwrap().as_deref(), Some(text));
            stream.close().await.unwrap();
        }
    };
    let mut idle = Vec::new();
    for _ in 0..25 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        acceptor.pending_handshakes(),
        0,
        "idle sockets do not count"
    );
    echo(b"past the idle sockets").await;
    assert_eq!(acceptor.cookies_demanded(), 0);

    // Stalled first flights: the first bytes of a ClientHello, then nothing.
    let mut stalled = Vec::new();
    for _ in 0..8 {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(&[0x01, 0x00, 0x60, b'l', b'w'])
            .await
            .unwrap();
        stalled.push(tcp);
    }
    while acceptor.pending_handshakes() < 8 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // (The stalled flights past the threshold were asked for cookies too.)
    let before = acceptor.cookies_demanded();
    echo(b"through the flood").await;
    assert_eq!(
        acceptor.cookies_demanded() - before,
        1,
        "the honest client echoed a cookie"
    );
    drop((idle, stalled));
}
