//! The shared replay guard on a real Redis server (feature `redis`).
//!
//! Needs `LWSEC_REDIS_URL` (e.g. `redis://127.0.0.1:6399/`); `scripts/test.sh`
//! starts a redis-server and sets it. The stall test starts a private
//! `redis-server` of its own (it pauses it with SIGSTOP). Without Redis these
//! tests fail with a message saying so: they never pass silently.
#![cfg(feature = "redis")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lwsec::rng::DeterministicRandom;
use lwsec::tokio::{Acceptor, RedisReplayGuard, ReplayGuard};
use lwsec::{
    Acceptance, ClientConfig, Connection, EarlyDataOffer, Event, ServerConfig, StaticKeyPair, Time,
};
use lwsec_test_support::redis_server::PrivateRedis;

const W: Duration = Duration::from_secs(10);
/// Flights are sent at NOW; the guard's start is set an hour before.
const NOW: Time = Time::from_millis(1_700_000_000_000);
const EARLIER: Time = Time::from_millis(1_700_000_000_000 - 3_600_000);

fn redis_url() -> String {
    lwsec_test_support::redis_server::shared_url()
}

fn prefix(test: &str) -> String {
    lwsec_test_support::redis_server::unique_prefix(test)
}

fn server_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([1; 32])
}

fn early_config() -> Arc<ServerConfig> {
    let mut cfg = ServerConfig::new(server_key());
    cfg.enable_replayable_early_data(W);
    Arc::new(cfg)
}

fn client_config(seed: &str, ik: bool) -> Arc<ClientConfig> {
    let server = server_key().public_key();
    let mut cfg = if ik {
        ClientConfig::ik(server, StaticKeyPair::from_private_bytes([2; 32]))
    } else {
        ClientConfig::nk(server)
    };
    cfg.rng = Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        seed.as_bytes(),
    ));
    Arc::new(cfg)
}

fn first_flight(seed: &str, ik: bool, ts: Time) -> Vec<u8> {
    let client =
        Connection::client_with_replayable_early_data(client_config(seed, ik), ts, b"sync")
            .unwrap();
    client.pending_output().to_vec()
}

/// What a server connection shows for `flight`.
fn offer(flight: &[u8], now: Time) -> EarlyDataOffer {
    let mut server = Connection::server(early_config(), now).unwrap();
    server.handle_input(flight, now).unwrap();
    *server.client_hello().unwrap().early_data().unwrap()
}

/// Opens a guard and sets its start an hour before `NOW`.
async fn guard(url: &str, prefix: &str) -> RedisReplayGuard {
    let guard = RedisReplayGuard::open(url, prefix).await.unwrap();
    let warmup = offer(&first_flight("warmup", false, EARLIER), EARLIER);
    assert!(!guard.check(&warmup, EARLIER).await.unwrap(), "start rule");
    guard
}

/// Runs the decision for `flight` as an adapter would: is the early data
/// delivered?
async fn delivered(guard: &RedisReplayGuard, flight: &[u8], now: Time) -> bool {
    let mut server = Connection::server(early_config(), now).unwrap();
    server.handle_input(flight, now).unwrap();
    let offer = *server.client_hello().unwrap().early_data().unwrap();
    let fresh = offer.needs_replay_check() && guard.check(&offer, now).await.unwrap();
    server
        .accept_client(Acceptance::new().with_fresh_early_data(fresh), now)
        .unwrap();
    std::iter::from_fn(|| server.poll_event()).any(|e| matches!(e, Event::EarlyData(_)))
}

#[tokio::test]
async fn redis_replay_is_rejected_by_the_same_and_by_another_server() {
    let url = redis_url();
    let p = prefix("fleet");
    let (a, b) = (guard(&url, &p).await, guard(&url, &p).await);
    let flight = first_flight("fleet", false, NOW);
    assert!(delivered(&a, &flight, NOW).await, "first delivery accepted");
    assert!(
        !delivered(&a, &flight, NOW).await,
        "replay to the same server"
    );
    assert!(
        !delivered(&b, &flight, NOW).await,
        "replay to another server"
    );
    // A different flight is still accepted by the other server.
    let other = first_flight("fleet-2", false, NOW);
    assert!(delivered(&b, &other, NOW).await);
}

#[tokio::test]
async fn redis_replay_device_timestamps_must_increase_across_servers() {
    let url = redis_url();
    let p = prefix("device");
    let (a, b) = (guard(&url, &p).await, guard(&url, &p).await);
    let t1 = NOW;
    let t2 = NOW.saturating_add(Duration::from_millis(5));
    assert!(delivered(&a, &first_flight("d1", true, t2), t2).await);
    // A different flight (fresh ephemeral) from the same device with an
    // older timestamp, sent to the other server: rejected.
    assert!(!delivered(&b, &first_flight("d2", true, t1), t2).await);
    // A rejected flight records nothing: the newer one still passes.
    let t3 = t2.saturating_add(Duration::from_millis(1));
    assert!(delivered(&b, &first_flight("d3", true, t3), t3).await);
}

/// Medium, issue 12: a guard that lost its memory (Redis restarted without
/// persistence, flushed, evicted) must not accept a flight it accepted
/// before. The start key is gone with the data, so the guard restarts its
/// window: flights with `t < start + W` are refused.
#[tokio::test]
async fn redis_guard_forgets_on_restart_and_still_refuses_old_flights() {
    let url = redis_url();
    let p = prefix("restart");
    let g = guard(&url, &p).await;
    let flight = first_flight("before-restart", false, NOW);
    assert!(delivered(&g, &flight, NOW).await);
    // Redis loses every key of the prefix.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{p}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .unwrap();
    // The recorded flight, replayed one second later: refused.
    let later = NOW.saturating_add(Duration::from_secs(1));
    assert!(
        !delivered(&g, &flight, later).await,
        "replay after data loss"
    );
    // One window later, fresh flights are accepted again.
    let after = later.saturating_add(W);
    assert!(delivered(&g, &first_flight("after", false, after), after).await);
}

#[tokio::test]
async fn redis_guard_fails_closed_when_redis_is_unreachable() {
    // Port 1 on loopback: nothing listens there.
    assert!(
        RedisReplayGuard::open("redis://127.0.0.1:1/", "unreachable")
            .await
            .is_err()
    );
}

/// An echo server behind `acceptor`; each accepted client's early data, if
/// any, is sent back first.
async fn serve(acceptor: Acceptor) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = acceptor.accept(tcp, peer).await else {
                    return;
                };
                let early = stream.take_early_data().unwrap_or_default();
                let _ = stream.send_message(&early).await;
                let _ = stream.close().await;
            });
        }
    });
    addr
}

/// Connects (with early data when `early`) and returns whether the server
/// accepted the early data.
async fn connect(addr: SocketAddr, seed: String, early: bool) -> bool {
    let cfg = client_config(&seed, false);
    let conn = if early {
        Connection::client_with_replayable_early_data(cfg, Time::now(), b"sync").unwrap()
    } else {
        Connection::client(cfg, Time::now()).unwrap()
    };
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut stream = lwsec::tokio::handshake(conn, tcp, Duration::from_secs(5))
        .await
        .unwrap();
    let echoed = stream.recv_message().await.unwrap().unwrap();
    assert_eq!(
        stream.early_data_accepted().unwrap_or(false),
        !echoed.is_empty()
    );
    !echoed.is_empty()
}

/// The stalled-Redis attack of issue 11: with redis-server paused by
/// SIGSTOP, early-data flights used to freeze every tokio worker (blocking
/// Redis I/O inside `handle_input`, under one mutex, with no timeout), so a
/// client without early data on another listener timed out. Now the guard
/// is asked asynchronously with a deadline: early data is rejected, every
/// handshake completes, and all recovers after SIGCONT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_paused_by_sigstop_delays_nobody_and_fails_closed() {
    let redis = PrivateRedis::start();
    let guard = Arc::new(RedisReplayGuard::open(&redis.url(), "stall").await.unwrap());
    // The guard's start rule refuses early data for one window after its
    // first use; start it in the past by checking an old flight.
    let old = Time::from_millis(Time::now().as_millis() - 3_600_000);
    assert!(
        !guard
            .check(&offer(&first_flight("warmup", false, old), old), old)
            .await
            .unwrap()
    );
    let acceptor = Acceptor::new(early_config()).with_replay_guard(guard.clone());
    let with_early = serve(acceptor.clone()).await;
    let without_early = serve(acceptor).await;
    assert!(
        connect(with_early, "before".into(), true).await,
        "healthy Redis"
    );

    redis.signal("-STOP");
    // Three anonymous early-data flights in flight at once...
    let flights: Vec<_> = (0..3)
        .map(|i| tokio::spawn(connect(with_early, format!("stalled-{i}"), true)))
        .collect();
    // ...and clients without early data on the other listener complete.
    for i in 0..5 {
        let plain = tokio::time::timeout(
            Duration::from_secs(5),
            connect(without_early, format!("plain-{i}"), false),
        )
        .await;
        assert_eq!(plain, Ok(false), "a client without early data was held up");
    }
    for flight in flights {
        let accepted = flight.await.unwrap();
        assert!(
            !accepted,
            "early data accepted while the guard was unreachable"
        );
    }

    redis.signal("-CONT");
    let mut recovered = false;
    for i in 0..50 {
        if connect(with_early, format!("after-{i}"), true).await {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "early data never accepted again after SIGCONT");
}

#[tokio::test]
async fn redis_guard_refuses_an_evicting_server() {
    let redis = PrivateRedis::start();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .query_async(&mut conn)
        .await
        .unwrap();
    let err = RedisReplayGuard::open(&redis.url(), "evicting")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("noeviction"), "{err}");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("noeviction")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        RedisReplayGuard::open(&redis.url(), "evicting")
            .await
            .is_ok()
    );
}
