//! `Acceptor::metrics` (tokio and blocking) after real handshakes over TCP
//! loopback: a completed one with messages, a client the authorizer
//! rejects, a client that pins a key the server does not hold.

use std::sync::Arc;

use lwsec::rng::OsRandom;
use lwsec::{
    AlertCode, ClientConfig, ClientHello, PublicKey, Rejection, ServerConfig, StaticKeyPair,
};

struct Keys {
    server: StaticKeyPair,
    device: StaticKeyPair,
}

fn keys() -> Keys {
    Keys {
        server: StaticKeyPair::generate(&OsRandom).unwrap(),
        device: StaticKeyPair::generate(&OsRandom).unwrap(),
    }
}

/// The three clients: let in (NK), rejected (IK), stale pin (NK to an
/// unknown key).
fn clients(keys: &Keys) -> [Arc<ClientConfig>; 3] {
    [
        Arc::new(ClientConfig::nk(keys.server.public_key())),
        Arc::new(ClientConfig::ik(
            keys.server.public_key(),
            keys.device.clone(),
        )),
        Arc::new(ClientConfig::nk(PublicKey::from_bytes([9; 32]))),
    ]
}

fn check(m: &lwsec::AcceptorMetrics) {
    assert_eq!(m.handshakes_started, 3, "{m:?}");
    assert_eq!(m.handshakes_completed, 1, "{m:?}");
    assert_eq!(m.handshakes_failed, 2, "{m:?}");
    assert_eq!(m.clients_rejected, 1, "{m:?}");
    assert_eq!(m.failed_by_alert(AlertCode::ClientRejected), 1, "{m:?}");
    assert_eq!(m.failed_by_alert(AlertCode::UnknownServerKey), 1, "{m:?}");
    assert_eq!(m.failed_by_alert(AlertCode::DecryptError), 0, "{m:?}");
    assert_eq!(m.failures_by_alert().count(), 2, "{m:?}");
    assert_eq!(m.handshakes_timed_out, 0, "{m:?}");
    assert_eq!(m.early_data_accepted + m.early_data_rejected, 0, "{m:?}");
    assert!(m.bytes_in > 0 && m.bytes_out > 0, "{m:?}");
    assert_eq!(m.open_connections, 0, "{m:?}");
    assert_eq!(m.pending_handshakes, 0, "{m:?}");
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_acceptor_counts_handshakes_bytes_and_connections() {
    use tokio::net::{TcpListener, TcpStream};

    let keys = keys();
    let acceptor = lwsec::tokio::Acceptor::new(Arc::new(ServerConfig::new(keys.server.clone())))
        .with_authorizer(|hello: ClientHello| async move {
            match hello.claimed_client_key() {
                Some(_) => Err(Rejection::NotAuthorized),
                None => Ok(None),
            }
        });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = {
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for _ in 0..3 {
                let (tcp, peer) = listener.accept().await.unwrap();
                match acceptor.accept(tcp, peer).await {
                    Ok(mut stream) => {
                        assert_eq!(acceptor.metrics().open_connections, 1);
                        while let Some(m) = stream.recv_message().await.unwrap() {
                            stream.send_message(&m).await.unwrap();
                        }
                        stream.close().await.unwrap();
                        outcomes.push(Ok(()));
                    }
                    Err(e) => outcomes.push(Err(e.kind())),
                }
            }
            outcomes
        })
    };
    let [nk, ik, stale] = clients(&keys);
    let mut stream = lwsec::tokio::connect(nk, TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    stream.send_message(&[5; 3000]).await.unwrap();
    assert_eq!(stream.recv_message().await.unwrap().unwrap().len(), 3000);
    stream.close().await.unwrap();
    assert!(stream.recv_message().await.unwrap().is_none());
    for config in [ik, stale] {
        let tcp = TcpStream::connect(addr).await.unwrap();
        assert!(lwsec::tokio::connect(config, tcp).await.is_err());
    }
    let outcomes = server.await.unwrap();
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    let m = acceptor.metrics();
    check(&m);
    assert!(m.bytes_in > 3000 && m.bytes_out > 3000, "{m:?}");
    assert_eq!(m.buffered_bytes, 0, "{m:?}");
    assert_eq!(m.cookies_demanded, 0, "{m:?}");
    assert_eq!(m.refused_by_limits, 0, "{m:?}");
    // The older getters read the same counters.
    assert_eq!(acceptor.open_connections(), 0);
    assert_eq!(acceptor.pending_handshakes(), 0);
    assert_eq!(acceptor.cookies_demanded(), 0);
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_acceptor_counts_cookies_and_refusals() {
    use tokio::net::{TcpListener, TcpStream};

    let keys = keys();
    // Cookies always; at most one connection at a time.
    let acceptor = lwsec::tokio::Acceptor::new(Arc::new(ServerConfig::new(keys.server.clone())))
        .with_max_connections(1)
        .with_cookie_threshold(0);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = {
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let (tcp, peer) = listener.accept().await.unwrap();
            let mut stream = acceptor.accept(tcp, peer).await.unwrap();
            // While this one is open, the next is refused.
            let (tcp, peer) = listener.accept().await.unwrap();
            assert!(acceptor.accept(tcp, peer).await.is_err());
            assert!(stream.recv_message().await.unwrap().is_none());
            stream.close().await.unwrap();
        })
    };
    let [nk, ..] = clients(&keys);
    let mut stream = lwsec::tokio::connect(nk, TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    let _refused = TcpStream::connect(addr).await.unwrap();
    // Close once the server refused the second client.
    while acceptor.metrics().refused_by_limits == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stream.close().await.unwrap();
    server.await.unwrap();
    let m = acceptor.metrics();
    assert_eq!(m.cookies_demanded, 1, "{m:?}");
    assert_eq!(m.refused_by_limits, 1, "{m:?}");
    assert_eq!(
        (m.handshakes_started, m.handshakes_completed),
        (1, 1),
        "{m:?}"
    );
    assert_eq!(m.open_connections, 0, "{m:?}");
}

#[test]
fn blocking_acceptor_counts_handshakes_bytes_and_connections() {
    use std::net::{TcpListener, TcpStream};

    let keys = keys();
    let acceptor = lwsec::blocking::Acceptor::new(Arc::new(ServerConfig::new(keys.server.clone())))
        .with_authorizer(|hello: &ClientHello| match hello.claimed_client_key() {
            Some(_) => Err(Rejection::NotAuthorized),
            None => Ok(None),
        });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = {
        let acceptor = acceptor.clone();
        std::thread::spawn(move || {
            for _ in 0..3 {
                let (tcp, peer) = listener.accept().unwrap();
                if let Ok(mut stream) = acceptor.accept(tcp, peer) {
                    assert_eq!(acceptor.metrics().open_connections, 1);
                    while let Some(m) = stream.recv_message().unwrap() {
                        stream.send_message(&m).unwrap();
                    }
                    stream.close().unwrap();
                }
            }
        })
    };
    let [nk, ik, stale] = clients(&keys);
    let mut stream = lwsec::blocking::connect(nk, TcpStream::connect(addr).unwrap()).unwrap();
    stream.send_message(b"hello").unwrap();
    assert_eq!(&stream.recv_message().unwrap().unwrap()[..], b"hello");
    stream.close().unwrap();
    assert!(stream.recv_message().unwrap().is_none());
    for config in [ik, stale] {
        assert!(lwsec::blocking::connect(config, TcpStream::connect(addr).unwrap()).is_err());
    }
    server.join().unwrap();
    check(&acceptor.metrics());
}

/// A replay guard that finds only the first flight fresh.
#[cfg(feature = "tokio")]
#[derive(Debug, Default)]
struct OnlyFirst(std::sync::atomic::AtomicBool);

#[cfg(feature = "tokio")]
impl lwsec::tokio::ReplayGuard for OnlyFirst {
    fn check(
        &self,
        _: &lwsec::EarlyDataOffer,
        _: lwsec::Time,
    ) -> lwsec::tokio::PolicyFuture<std::io::Result<bool>> {
        let fresh = !self.0.swap(true, std::sync::atomic::Ordering::SeqCst);
        Box::pin(std::future::ready(Ok(fresh)))
    }
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_acceptor_counts_early_data_accepted_and_rejected() {
    use lwsec::early_data::DEFAULT_EARLY_DATA_WINDOW;
    use lwsec::{Connection, Time};
    use tokio::net::{TcpListener, TcpStream};

    let keys = keys();
    let mut server_cfg = ServerConfig::new(keys.server.clone());
    server_cfg.enable_replayable_early_data(DEFAULT_EARLY_DATA_WINDOW);
    let acceptor = lwsec::tokio::Acceptor::new(Arc::new(server_cfg))
        .with_replay_guard(Arc::new(OnlyFirst::default()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = {
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            for _ in 0..2 {
                let (tcp, peer) = listener.accept().await.unwrap();
                let mut stream = acceptor.accept(tcp, peer).await.unwrap();
                assert!(stream.recv_message().await.unwrap().is_none());
                stream.close().await.unwrap();
            }
        })
    };
    let [_, ik, _] = clients(&keys);
    let mut accepted = Vec::new();
    for _ in 0..2 {
        let conn =
            Connection::client_with_replayable_early_data(ik.clone(), Time::now(), b"hi").unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut stream = lwsec::tokio::handshake(conn, tcp, std::time::Duration::from_secs(10))
            .await
            .unwrap();
        accepted.push(stream.early_data_accepted());
        stream.close().await.unwrap();
        assert!(stream.recv_message().await.unwrap().is_none());
    }
    server.await.unwrap();
    assert_eq!(accepted, [Some(true), Some(false)]);
    let m = acceptor.metrics();
    assert_eq!(
        (m.early_data_accepted, m.early_data_rejected),
        (1, 1),
        "{m:?}"
    );
    assert_eq!(m.handshakes_completed, 2, "{m:?}");
}
