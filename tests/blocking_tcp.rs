//! The blocking adapter over real TCP loopback connections.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use lwsec::blocking::{self, Stream};
use lwsec::rng::OsRandom;
use lwsec::{ClientConfig, Error, Pattern, ServerConfig, StaticKeyPair, Suite};

fn configs(pattern: Pattern, suite: Suite) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let server_key = StaticKeyPair::generate(&OsRandom).unwrap();
    let device = StaticKeyPair::generate(&OsRandom).unwrap();
    let mut client = match pattern {
        Pattern::Nk => ClientConfig::nk(server_key.public_key()),
        _ => ClientConfig::ik(server_key.public_key(), device),
    };
    client.suites = vec![suite];
    (Arc::new(client), Arc::new(ServerConfig::new(server_key)))
}

/// A server thread that echoes every message until the client closes, then
/// closes gracefully.
fn echo_server(
    config: Arc<ServerConfig>,
) -> (std::net::SocketAddr, thread::JoinHandle<io::Result<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept()?;
        let mut stream = blocking::accept(config, tcp)?;
        let mut echoed = 0;
        while let Some(message) = stream.recv_message()? {
            stream.send_message(&message)?;
            echoed += 1;
        }
        stream.close()?;
        Ok(echoed)
    });
    (addr, handle)
}

fn pattern_bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn every_pattern_and_suite_echoes_messages_and_closes_cleanly() {
    for pattern in [Pattern::Nk, Pattern::Ik] {
        for suite in Suite::ALL {
            let (client_cfg, server_cfg) = configs(pattern, suite);
            let server_public = server_cfg.public_keys()[0];
            let (addr, server) = echo_server(server_cfg);
            let mut stream =
                blocking::connect(client_cfg, TcpStream::connect(addr).unwrap()).unwrap();
            assert_eq!(stream.conn().suite(), Some(suite));
            assert_eq!(stream.conn().pattern(), Some(pattern));
            assert_eq!(stream.conn().peer_static_key(), Some(server_public));
            let sizes = [0usize, 1, 100, 16_384, 16_385, 200_000, 1 << 20];
            for (i, &len) in sizes.iter().enumerate() {
                let sent = pattern_bytes(len, i as u8);
                stream.send_message(&sent).unwrap();
                let got = stream.recv_message().unwrap().unwrap();
                assert_eq!(got, sent, "{pattern:?} {suite:?} message of {len} bytes");
                if i == 3 {
                    stream.conn_mut().update_keys(true).unwrap();
                    stream.flush().unwrap();
                }
            }
            stream.close().unwrap();
            assert_eq!(
                stream.recv_message().unwrap(),
                None,
                "clean end after close_notify"
            );
            assert_eq!(server.join().unwrap().unwrap(), sizes.len());
        }
    }
}

#[test]
fn read_and_write_views_move_bytes_across_message_boundaries() {
    let (client_cfg, server_cfg) = configs(Pattern::Ik, Suite::Aes256Gcm);
    let (addr, server) = echo_server(server_cfg);
    let mut stream = blocking::connect(client_cfg, TcpStream::connect(addr).unwrap()).unwrap();
    let data = pattern_bytes(300_000, 9);
    stream.write_all(&data).unwrap();
    stream.flush().unwrap();
    let mut back = vec![0u8; data.len()];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(back, data);
    stream.close().unwrap();
    let mut rest = Vec::new();
    assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0);
    server.join().unwrap().unwrap();
}

/// Moves at most one byte per read or write call, and sometimes reports
/// `Interrupted` first.
struct OneByte<T> {
    inner: T,
    calls: usize,
}

impl<T: Read> Read for OneByte<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 7 == 0 {
            return Err(ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(1);
        self.inner.read(&mut buf[..n])
    }
}

impl<T: blocking::ReadTimeout> blocking::ReadTimeout for OneByte<T> {
    fn read_timeout(&self) -> io::Result<Option<std::time::Duration>> {
        self.inner.read_timeout()
    }
    fn set_read_timeout(&self, timeout: Option<std::time::Duration>) -> io::Result<()> {
        self.inner.set_read_timeout(timeout)
    }
}

impl<T: Write> Write for OneByte<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 5 == 0 {
            return Err(ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(1);
        self.inner.write(&buf[..n])
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[test]
fn one_byte_per_call_transport_still_works() {
    for suite in Suite::ALL {
        let (client_cfg, server_cfg) = configs(Pattern::Ik, suite);
        let (addr, server) = echo_server(server_cfg);
        let tcp = TcpStream::connect(addr).unwrap();
        let mut stream = blocking::connect(
            client_cfg,
            OneByte {
                inner: tcp,
                calls: 0,
            },
        )
        .unwrap();
        for len in [1usize, 5, 17_000] {
            let sent = pattern_bytes(len, 3);
            stream.send_message(&sent).unwrap();
            assert_eq!(stream.recv_message().unwrap().unwrap(), sent);
        }
        stream.close().unwrap();
        assert_eq!(stream.recv_message().unwrap(), None);
        assert!(
            stream.get_ref().calls > 17_000,
            "the wrapper was really used"
        );
        assert_eq!(server.join().unwrap().unwrap(), 3);
    }
}

#[test]
fn abrupt_close_is_truncation_not_a_clean_end() {
    let (client_cfg, server_cfg) = configs(Pattern::Nk, Suite::ChaCha20Poly1305);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut stream = blocking::accept(server_cfg, tcp).unwrap();
        stream.send_message(b"last words").unwrap();
        // Cut the TCP connection without close_notify (Drop's attempt fails).
        stream.get_mut().shutdown(Shutdown::Both).unwrap();
    });
    let mut stream = blocking::connect(client_cfg, TcpStream::connect(addr).unwrap()).unwrap();
    server.join().unwrap();
    assert_eq!(
        stream.recv_message().unwrap().as_deref(),
        Some(&b"last words"[..])
    );
    let err = stream.recv_message().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(
        err.get_ref().and_then(|e| e.downcast_ref::<Error>()),
        Some(&Error::Truncated)
    );
    // The failure is sticky and reported the same way by the byte view.
    let err = stream.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
}

#[test]
fn a_read_timeout_mid_message_loses_nothing() {
    let (client_cfg, server_cfg) = configs(Pattern::Nk, Suite::Aes256Gcm);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut raw = tcp.try_clone().unwrap();
        let mut stream = blocking::accept(server_cfg, tcp).unwrap();
        // Queue a message but send only its first half, then wait.
        let message = pattern_bytes(40_000, 1);
        stream.conn_mut().send_message(&message).unwrap();
        let out = stream.conn().pending_output().to_vec();
        stream.conn_mut().consume_output(out.len());
        raw.write_all(&out[..out.len() / 2]).unwrap();
        go_rx.recv().unwrap();
        raw.write_all(&out[out.len() / 2..]).unwrap();
        stream.close().unwrap();
        let _ = stream.recv_message();
    });
    let tcp = TcpStream::connect(addr).unwrap();
    let mut stream = blocking::connect(client_cfg, tcp).unwrap();
    stream
        .get_mut()
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let err = stream.recv_message().unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    go_tx.send(()).unwrap();
    stream.get_mut().set_read_timeout(None).unwrap();
    assert_eq!(
        stream.recv_message().unwrap().unwrap(),
        pattern_bytes(40_000, 1)
    );
    assert_eq!(stream.recv_message().unwrap(), None);
    stream.close().unwrap();
    server.join().unwrap();
}

#[test]
fn a_stream_built_by_hand_runs_the_handshake_on_first_use() {
    let (client_cfg, server_cfg) = configs(Pattern::Ik, Suite::ChaCha20Poly1305);
    let server_public = server_cfg.public_keys()[0];
    let (addr, server) = echo_server(server_cfg);
    let conn = lwsec::Connection::client(client_cfg, lwsec::Time::now()).unwrap();
    let mut stream = Stream::new(conn, TcpStream::connect(addr).unwrap());
    assert!(stream.conn().is_handshaking());
    stream.write_all(b"first").unwrap();
    assert_eq!(stream.conn().peer_static_key(), Some(server_public));
    let mut back = [0u8; 5];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"first");
    stream.close().unwrap();
    assert_eq!(server.join().unwrap().unwrap(), 1);
}

/// Issue 12, item 10: a silent peer used to hold `blocking::connect` (and
/// its thread) forever; with a socket read timeout the caller got a bare
/// `WouldBlock` and lost the stream. Now the handshake gives up at its
/// deadline with a typed error, and the caller's own read timeout is kept.
#[test]
fn blocking_handshake_against_a_silent_peer_times_out() {
    let server_key = StaticKeyPair::from_private_bytes([1; 32]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = std::thread::spawn(move || listener.accept().unwrap());
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(30)))
        .unwrap();
    let probe = tcp.try_clone().unwrap();
    let own_timeout = probe.read_timeout().unwrap(); // as the OS rounded it
    let err = blocking::connect_with_timeout(
        Arc::new(ClientConfig::nk(server_key.public_key())),
        tcp,
        Duration::from_millis(300),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.get_ref().and_then(|e| e.downcast_ref::<lwsec::Error>()),
        Some(&lwsec::Error::HandshakeTimeout(Duration::from_millis(300)))
    );
    assert_eq!(probe.read_timeout().unwrap(), own_timeout, "restored");
    let _peer = silent.join().unwrap();

    // The server side: a client that connects and says nothing.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let _idle = TcpStream::connect(addr).unwrap();
    let (tcp, peer) = listener.accept().unwrap();
    let acceptor = blocking::Acceptor::new(Arc::new(lwsec::ServerConfig::new(server_key)))
        .with_handshake_timeout(Duration::from_millis(200));
    let err = acceptor.accept(tcp, peer).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
}

/// Issue 12, item 7: dropping a blocking stream (an error path, a panic)
/// used to send close_notify, so the peer saw a clean end and could not
/// tell that data was missing. Now only `close()` sends it: a drop
/// mid-transfer is a truncation.
#[test]
fn dropping_a_blocking_stream_is_a_truncation_not_a_clean_close() {
    let server_key = StaticKeyPair::from_private_bytes([1; 32]);
    let config = Arc::new(lwsec::ServerConfig::new(server_key.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut stream = blocking::accept(config, tcp).unwrap();
        let first = stream.recv_message().unwrap();
        (first, stream.recv_message())
    });
    let tcp = TcpStream::connect(addr).unwrap();
    let mut stream =
        blocking::connect(Arc::new(ClientConfig::nk(server_key.public_key())), tcp).unwrap();
    stream.send_message(b"part 1 of 2").unwrap();
    drop(stream); // e.g. unwinding from a panic before part 2
    let (first, end) = server.join().unwrap();
    assert_eq!(first.as_deref(), Some(&b"part 1 of 2"[..]));
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(
        err.get_ref().and_then(|e| e.downcast_ref::<lwsec::Error>()),
        Some(&lwsec::Error::Truncated)
    );
}
