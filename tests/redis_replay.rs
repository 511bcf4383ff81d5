//! The shared replay guard on a real Redis server (feature `redis`).
//!
//! Needs `LWSEC_REDIS_URL` (e.g. `redis://127.0.0.1:6399/`); `scripts/test.sh`
//! starts a redis-server and sets it. Without it these tests fail with a
//! message saying so: they never pass silently.
#![cfg(feature = "redis")]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lwsec::early_data::{RedisReplayGuard, ReplayGuard};
use lwsec::rng::DeterministicRandom;
use lwsec::{ClientConfig, Connection, Event, PublicKey, ServerConfig, StaticKeyPair, Time};

const NOW: Time = Time::from_millis(1_700_000_000_000);

fn redis_url() -> String {
    std::env::var("LWSEC_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "LWSEC_REDIS_URL is not set: these tests need a Redis server. \
             Run `bash scripts/test.sh` (it starts one), or start redis-server and \
             set LWSEC_REDIS_URL=redis://127.0.0.1:6379/"
        )
    })
}

/// A key prefix unique to this test run, so runs never see each other's keys.
fn prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("lwsec-test:{test}:{}:{nanos}", std::process::id())
}

fn server(guard: RedisReplayGuard) -> Arc<ServerConfig> {
    let mut cfg = ServerConfig::new(StaticKeyPair::from_private_bytes([1; 32]));
    cfg.enable_replayable_early_data(Arc::new(guard), Duration::from_secs(10));
    Arc::new(cfg)
}

fn first_flight(seed: &str, ik: bool, ts: Time) -> Vec<u8> {
    let server_key = StaticKeyPair::from_private_bytes([1; 32]).public_key();
    let mut cfg = if ik {
        ClientConfig::ik(server_key, StaticKeyPair::from_private_bytes([2; 32]))
    } else {
        ClientConfig::nk(server_key)
    };
    cfg.rng = Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        seed.as_bytes(),
    ));
    let client = Connection::client_with_replayable_early_data(Arc::new(cfg), ts, b"sync").unwrap();
    client.pending_output().to_vec()
}

fn early_data_delivered(config: &Arc<ServerConfig>, flight: &[u8], now: Time) -> bool {
    let mut server = Connection::server(config.clone(), now).unwrap();
    server.handle_input(flight, now).unwrap();
    assert!(server.is_established());
    std::iter::from_fn(|| server.poll_event()).any(|e| matches!(e, Event::EarlyData(_)))
}

#[test]
fn redis_replay_is_rejected_by_the_same_and_by_another_server() {
    let url = redis_url();
    let p = prefix("fleet");
    let server_a = server(RedisReplayGuard::open(&url, &p).unwrap());
    let server_b = server(RedisReplayGuard::open(&url, &p).unwrap());
    let flight = first_flight("fleet", false, NOW);
    assert!(
        early_data_delivered(&server_a, &flight, NOW),
        "first delivery accepted"
    );
    assert!(
        !early_data_delivered(&server_a, &flight, NOW),
        "replay to the same server"
    );
    assert!(
        !early_data_delivered(&server_b, &flight, NOW),
        "replay to another server"
    );
    // A different flight is still accepted by the other server.
    let other = first_flight("fleet-2", false, NOW);
    assert!(early_data_delivered(&server_b, &other, NOW));
}

#[test]
fn redis_replay_outside_the_window_is_rejected() {
    let cfg = server(RedisReplayGuard::open(&redis_url(), &prefix("window")).unwrap());
    let old = Time::from_millis(NOW.as_millis() - 60_000);
    assert!(!early_data_delivered(
        &cfg,
        &first_flight("old", false, old),
        NOW
    ));
}

#[test]
fn redis_replay_device_timestamps_must_increase_across_servers() {
    let url = redis_url();
    let p = prefix("device");
    let a = server(RedisReplayGuard::open(&url, &p).unwrap());
    let b = server(RedisReplayGuard::open(&url, &p).unwrap());
    let t1 = NOW;
    let t2 = NOW.saturating_add(Duration::from_millis(5));
    assert!(early_data_delivered(&a, &first_flight("d1", true, t2), t2));
    // A different flight (fresh ephemeral) from the same device with an
    // older timestamp, sent to the other server: rejected.
    assert!(!early_data_delivered(&b, &first_flight("d2", true, t1), t2));

    let guard = RedisReplayGuard::open(&url, &prefix("device-direct")).unwrap();
    let device = PublicKey::from_bytes([7; 32]);
    assert!(guard.check_device_timestamp(&device, Time::from_millis(10)));
    assert!(!guard.check_device_timestamp(&device, Time::from_millis(10)));
    assert!(guard.check_device_timestamp(&device, Time::from_millis(11)));
}

#[test]
fn redis_replay_guard_fails_closed_when_redis_is_unreachable() {
    // Port 1 on loopback: nothing listens there.
    let guard = RedisReplayGuard::open("redis://127.0.0.1:1/", "unreachable").unwrap();
    assert!(!guard.check_and_insert(&[1; 32], NOW, Duration::from_secs(10), NOW));
    let cfg = server(guard);
    assert!(!early_data_delivered(
        &cfg,
        &first_flight("down", false, NOW),
        NOW
    ));
}
