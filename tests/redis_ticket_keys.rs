//! Ticket keys shared by a fleet through Redis (feature `redis`):
//! `RedisTicketKeys` on a real Redis server, two server instances over
//! loopback TCP.
//!
//! Needs `LWSEC_REDIS_URL` (e.g. `redis://127.0.0.1:6399/`); `scripts/test.sh`
//! starts a redis-server and sets it. The outage test starts a private
//! `redis-server` of its own (it kills it). Without Redis these tests fail
//! with a message saying so: they never pass silently.
#![cfg(feature = "redis")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lwsec::tokio::{Acceptor, Connector, RedisTicketKeys};
use lwsec::{ClientConfig, ResumptionTicket, ServerConfig, StaticKeyPair, TicketKeyring};
use lwsec_test_support::redis_server::PrivateRedis;
use tokio::net::TcpStream;

const DAY: Duration = Duration::from_secs(86_400);

fn redis_url() -> String {
    lwsec_test_support::redis_server::shared_url()
}

fn prefix(test: &str) -> String {
    lwsec_test_support::redis_server::unique_prefix(test)
}

fn server_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x41; 32])
}

fn client() -> Connector {
    Connector::new(Arc::new(ClientConfig::ik(
        server_key().public_key(),
        StaticKeyPair::from_private_bytes([0x42; 32]),
    )))
}

/// An echo server on a loopback port whose tickets use `ring`.
async fn serve(ring: Arc<TicketKeyring>) -> (SocketAddr, Acceptor) {
    let mut config = ServerConfig::new(server_key());
    config.enable_resumption(ring);
    let acceptor = Acceptor::new(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let a = acceptor.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = listener.accept().await.unwrap();
            let handshake = a.accept(tcp, peer);
            tokio::spawn(async move {
                let Ok(mut stream) = handshake.await else {
                    return;
                };
                while let Ok(Some(m)) = stream.recv_message().await {
                    if stream.send_message(&m).await.is_err() {
                        return;
                    }
                }
                let _ = stream.close().await;
            });
        }
    });
    (addr, acceptor)
}

/// Connects to `addr` (resuming with `ticket` if given), echoes one message
/// and returns whether the handshake was resumed and the new ticket.
async fn visit(addr: SocketAddr, ticket: Option<ResumptionTicket>) -> (bool, ResumptionTicket) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut stream = match ticket {
        Some(t) => client().resume(t, tcp).await.unwrap(),
        None => client().connect(tcp).await.unwrap(),
    };
    stream.send_message(b"ping").await.unwrap();
    assert_eq!(&stream.recv_message().await.unwrap().unwrap()[..], b"ping");
    let ticket = stream.take_resumption_ticket().expect("a ticket");
    stream.close().await.unwrap();
    (stream.conn().is_resumed(), ticket)
}

#[tokio::test]
async fn redis_two_servers_share_ticket_keys_and_pick_up_each_others_rotation() {
    let (url, prefix) = (redis_url(), prefix("share"));
    let keys_a = RedisTicketKeys::open(&url, &prefix, DAY).await.unwrap();
    let keys_b = RedisTicketKeys::open(&url, &prefix, DAY).await.unwrap();
    // The first one created the fleet's key; the second found it.
    let (ring_a, ring_b) = (keys_a.keyring(), keys_b.keyring());
    assert_eq!(ring_a.keys().ids(), ring_b.keys().ids());
    assert_eq!(ring_a.keys().ids().len(), 1);
    let (a, _) = serve(ring_a.clone()).await;
    let (b, metrics_b) = serve(ring_b.clone()).await;

    // A's ticket resumes on B, and B's on A.
    let (resumed, ticket) = visit(a, None).await;
    assert!(!resumed);
    let (resumed, ticket) = visit(b, Some(ticket)).await;
    assert!(resumed, "B accepts A's ticket");
    let (resumed, old_ticket) = visit(a, Some(ticket)).await;
    assert!(resumed, "A accepts B's ticket");

    // A rotates; B picks the rotation up with its background refresh.
    let before = ring_a.keys().current_id();
    keys_a.rotate().await.unwrap();
    let rotated = ring_a.keys().ids();
    assert_ne!(rotated[0], before);
    assert_eq!(
        rotated[1], before,
        "the old key is now the first previous one"
    );
    assert_eq!(keys_a.status().rotations_seen, 1);
    let refresh = keys_b.spawn_refresh(Duration::from_millis(50), Duration::from_secs(2));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while ring_b.keys().ids() != rotated {
        assert!(
            tokio::time::Instant::now() < deadline,
            "B never saw the rotation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    refresh.abort();
    let status = keys_b.status();
    assert_eq!(status.rotations_seen, 1, "{status:?}");
    assert_eq!(status.current_id, rotated[0]);
    assert_eq!((status.consecutive_failures, status.last_error), (0, None));

    // A ticket sealed before the rotation still resumes on B (previous
    // key); a ticket sealed by A's new key too.
    let (resumed, _) = visit(b, Some(old_ticket)).await;
    assert!(resumed, "the previous key still opens old tickets");
    let (_, fresh) = visit(a, None).await;
    assert_eq!(&fresh.ticket()[..4], &rotated[0], "sealed with the new key");
    let (resumed, _) = visit(b, Some(fresh)).await;
    assert!(resumed);
    let m = metrics_b.metrics();
    assert_eq!(
        (m.handshakes_completed, m.handshakes_resumed),
        (3, 3),
        "{m:?}"
    );
}

#[tokio::test]
async fn redis_rotation_is_due_after_the_interval_and_keeps_three_previous_keys() {
    let (url, prefix) = (redis_url(), prefix("interval"));
    let interval = Duration::from_secs(1);
    let keys = RedisTicketKeys::open(&url, &prefix, interval)
        .await
        .unwrap();
    let other = RedisTicketKeys::open(&url, &prefix, interval)
        .await
        .unwrap();
    let first = keys.keyring().keys().current_id();
    // Not due yet: two refreshes (from two servers) change nothing.
    keys.refresh().await.unwrap();
    other.refresh().await.unwrap();
    assert_eq!(keys.keyring().keys().ids(), vec![first]);
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    // Due: the first refresh rotates, the second (another server, at once)
    // sees the rotation and does not rotate again.
    keys.refresh().await.unwrap();
    other.refresh().await.unwrap();
    let ids = keys.keyring().keys().ids();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[1], first);
    assert_eq!(other.keyring().keys().ids(), ids);
    for _ in 0..4 {
        keys.rotate().await.unwrap();
    }
    let ids = keys.keyring().keys().ids();
    assert_eq!(ids.len(), 4, "the current key and 3 previous");
    assert!(!ids.contains(&first));
}

#[tokio::test]
async fn redis_unreachable_keeps_the_keys_and_reports_it() {
    assert!(
        RedisTicketKeys::open("redis://127.0.0.1:1/", "lwsec-test:none", DAY)
            .await
            .is_err(),
        "a server does not start without its fleet's keys"
    );
    let redis = PrivateRedis::start();
    let keys = RedisTicketKeys::open(&redis.url(), "lwsec-test:outage", DAY)
        .await
        .unwrap();
    let held = keys.keyring().keys().ids();
    drop(redis);
    assert!(keys.refresh().await.is_err());
    let refresh = keys.spawn_refresh(Duration::from_millis(50), Duration::from_millis(500));
    tokio::time::sleep(Duration::from_millis(400)).await;
    refresh.abort();
    assert_eq!(keys.keyring().keys().ids(), held, "the keys are kept");
    let status = keys.status();
    assert!(status.consecutive_failures >= 2, "{status:?}");
    assert_eq!(status.failures, status.consecutive_failures);
    assert!(status.last_error.is_some());
    assert_eq!(status.refreshes, 1);
    // The server still resumes with the keys it kept.
    let (addr, _) = serve(keys.keyring()).await;
    let (_, ticket) = visit(addr, None).await;
    assert!(visit(addr, Some(ticket)).await.0);
}
