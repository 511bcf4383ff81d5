//! The holes found under attack (issue 12), each reproduced as the attack
//! it is: early data replayed through a Retry, a guard that forgets, a
//! device map that fills up, anonymous clients pinning memory, and early
//! data in a retried ClientHello.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lwsec::early_data::StrikeRegister;
use lwsec::tokio::Acceptor;
use lwsec::{
    Acceptance, ClientConfig, Connection, EarlyDataRefusal, Event, ServerConfig, StaticKeyPair,
    Suite, Time,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const W: Duration = Duration::from_secs(10);

fn server_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x31; 32])
}

// ----- 1. early data replayed through a Retry -----

/// High: after a Retry the client used to re-send its early data in the
/// retried ClientHello, under a new ephemeral key; an attacker who recorded
/// the first (pre-Retry) flight replayed it once the server stopped
/// demanding cookies, and the application saw the same early request
/// twice, even with one shared guard. Now the retried ClientHello carries
/// no early data (the client resends it as a message), so across the
/// honest connection and the replay it is delivered as early data at most
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_data_replayed_through_retry_is_delivered_at_most_once() {
    let mut config = ServerConfig::new(server_key());
    config.enable_replayable_early_data(W);
    let config = Arc::new(config);
    let guard = Arc::new(StrikeRegister::new(1024, Time::from_millis(0)));
    let early = Arc::new(AtomicUsize::new(0));
    let resent = Arc::new(AtomicUsize::new(0));
    // The same server under load (cookies always) and after (never), one guard.
    let loaded = Acceptor::new(config.clone())
        .with_replay_guard(guard.clone())
        .with_cookie_threshold(0);
    let relaxed = Acceptor::new(config)
        .with_replay_guard(guard.clone())
        .with_cookie_threshold(usize::MAX);
    let serve = |acceptor: Acceptor| {
        let (early, resent) = (early.clone(), resent.clone());
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                loop {
                    let (tcp, peer) = listener.accept().await.unwrap();
                    let (acceptor, early, resent) =
                        (acceptor.clone(), early.clone(), resent.clone());
                    tokio::spawn(async move {
                        // Early data is taken before the client confirms, as
                        // a server answering in 0.5-RTT does.
                        let Ok(mut pending) = acceptor.accept_unconfirmed(tcp, peer).await else {
                            return;
                        };
                        if pending.take_early_data().as_deref() == Some(b"like post #7") {
                            early.fetch_add(1, Ordering::SeqCst);
                        }
                        let Ok(mut stream) = pending.confirm().await else {
                            return;
                        };
                        while let Ok(Some(m)) = stream.recv_message().await {
                            if &m[..] == b"like post #7" {
                                resent.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    });
                }
            });
            addr
        }
    };
    let (loaded_addr, relaxed_addr) = (serve(loaded).await, serve(relaxed).await);

    // The honest client, recorded by the attacker as it sends its first flight.
    let client_cfg = Arc::new(ClientConfig::nk(server_key().public_key()));
    let conn =
        Connection::client_with_replayable_early_data(client_cfg, Time::now(), b"like post #7")
            .unwrap();
    let recorded = conn.pending_output().to_vec();
    let tcp = TcpStream::connect(loaded_addr).await.unwrap();
    let mut stream = lwsec::tokio::handshake(conn, tcp, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        stream.early_data_accepted(),
        Some(false),
        "not sent after the Retry"
    );
    stream.send_message(b"like post #7").await.unwrap(); // the application resends it
    stream.close().await.unwrap();

    // The attacker replays the pre-Retry flight to the relaxed server, twice.
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(relaxed_addr).await.unwrap();
        tcp.write_all(&recorded).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while resent.load(Ordering::SeqCst) < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        early.load(Ordering::SeqCst) <= 1,
        "the early request was delivered as early data {} times",
        early.load(Ordering::SeqCst)
    );
    assert_eq!(resent.load(Ordering::SeqCst), 1);
}

/// The server side of the same rule, against a client that breaks it: a
/// ClientHello that echoes a Retry and still carries early data (written
/// with snow) gets `early_data_status` 0 and delivers nothing, even when the
/// replay guard would call it fresh.
#[test]
fn early_data_in_a_retried_client_hello_is_refused() {
    let now = Time::from_millis(1_767_225_600_000);
    let server_public = server_key().public_key();
    // Header: suite 2 after a suite-only Retry `02 00`, early-data flag.
    let mut header = b"lw".to_vec();
    header.extend_from_slice(&[1, 1, 2, 2, 1, 2]);
    header.extend_from_slice(&server_public.key_id());
    header.extend_from_slice(&[0x01, 2, 2, 0]);
    let mut payload = vec![0x00, 0x01, 0x00, 0x08];
    payload.extend_from_slice(&now.as_millis().to_be_bytes());
    payload.extend_from_slice(&[0x00, 0x02, 0x00, 0x04]);
    payload.extend_from_slice(b"sync");
    let prologue = [&b"lwsec/1 prologue"[..], &header].concat();
    let mut snow = snow::Builder::new("Noise_NK_25519_ChaChaPoly_SHA256".parse().unwrap())
        .prologue(&prologue)
        .unwrap()
        .remote_public_key(server_public.as_bytes())
        .unwrap()
        .build_initiator()
        .unwrap();
    let mut message = vec![0u8; 1024];
    let n = snow.write_message(&payload, &mut message).unwrap();
    let body = [&header[..], &message[..n]].concat();
    let mut frame = vec![0x01];
    frame.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(&body);

    let mut config = ServerConfig::new(server_key());
    config.suites = vec![Suite::ChaCha20Poly1305];
    config.enable_replayable_early_data(W);
    let mut server = Connection::server(Arc::new(config), now).unwrap();
    assert_eq!(server.handle_input(&frame, now), Ok(frame.len()));
    let hello = server.client_hello().unwrap();
    assert!(hello.retry_echoed());
    let offer = hello.early_data().unwrap();
    assert_eq!(offer.refused(), Some(EarlyDataRefusal::AfterRetry));
    server
        .accept_client(Acceptance::new().with_fresh_early_data(true), now)
        .unwrap();
    assert_eq!(server.poll_event(), Some(Event::ClientHello));
    assert_eq!(server.poll_event(), None, "no early data delivered");
    let server_hello = server.pending_output().to_vec();
    let mut reply = vec![0u8; 64];
    let n = snow.read_message(&server_hello[3..], &mut reply).unwrap();
    assert_eq!(
        &reply[..n],
        &[0x00, 0x03, 0x00, 0x01, 0x00],
        "early_data_status 0"
    );
}

// ----- 2. a guard that forgets on restart -----

/// What a server shows for a first flight with early data sent at `t`
/// (IK when `device` is given) and received at `server_now`.
fn offer_at(seed: &str, t: Time, server_now: Time, device: Option<u8>) -> lwsec::EarlyDataOffer {
    let server = server_key().public_key();
    let mut cfg = match device {
        Some(d) => ClientConfig::ik(server, StaticKeyPair::from_private_bytes([0x40 + d; 32])),
        None => ClientConfig::nk(server),
    };
    cfg.rng = Arc::new(
        lwsec::rng::DeterministicRandom::dangerous_from_seed_for_testing_only(seed.as_bytes()),
    );
    let client = Connection::client_with_replayable_early_data(Arc::new(cfg), t, b"x").unwrap();
    let mut config = ServerConfig::new(server_key());
    config.enable_replayable_early_data(W);
    let mut conn = Connection::server(Arc::new(config), server_now).unwrap();
    conn.handle_input(client.pending_output(), server_now)
        .unwrap();
    *conn.client_hello().unwrap().early_data().unwrap()
}

/// Medium: a flight recorded before a server restart used to be accepted
/// after it, by the new process's empty register. Now a guard refuses
/// flights with `t < start + W`.
#[test]
fn a_restarted_guard_refuses_flights_from_before_it_started() {
    let t = Time::from_millis(1_767_225_600_000);
    let before = StrikeRegister::new(1024, Time::from_millis(0));
    let flight = offer_at("before restart", t, t, None);
    assert!(before.check(&flight, t));
    // The process restarts two seconds later with an empty register.
    let restart = t.saturating_add(Duration::from_secs(2));
    let after = StrikeRegister::new(1024, restart);
    let replay_at = restart.saturating_add(Duration::from_secs(1));
    assert!(
        !after.check(&flight, replay_at),
        "replay across the restart"
    );
    // One window after the restart, fresh flights are accepted.
    let later = restart.saturating_add(W);
    assert!(after.check(&offer_at("fresh", later, later, None), later));
}

// ----- 3. the IK device map never expired -----

/// Low: the device-timestamp map kept every device forever; after
/// `capacity` devices, new devices' early data was refused until a restart.
/// Now entries older than the window are forgotten.
#[test]
fn the_device_map_forgets_old_devices_so_new_ones_are_not_locked_out() {
    let register = StrikeRegister::new(4, Time::from_millis(0));
    let t = Time::from_millis(1_767_225_600_000);
    for d in 0..4u8 {
        assert!(register.check(&offer_at(&format!("device {d}"), t, t, Some(d)), t));
    }
    assert_eq!(register.devices(), 4);
    let newcomer = offer_at("newcomer", t, t, Some(9));
    assert!(!register.check(&newcomer, t), "full: fail closed");
    let later = t.saturating_add(W * 3);
    let newcomer = offer_at("newcomer later", later, later, Some(9));
    assert!(
        register.check(&newcomer, later),
        "locked out after the window"
    );
    assert_eq!(register.devices(), 1);
}

// ----- 5. anonymous clients pinning memory -----

/// Runs the server of the memory attack when the parent test asks for it
/// (a separate process, so that its memory is measured alone).
#[test]
fn memory_attack_server_process() {
    let Ok(budget) = std::env::var("LWSEC_ATTACK_SERVER_BUDGET") else {
        return;
    };
    let budget: usize = budget.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let acceptor = Acceptor::new(Arc::new(ServerConfig::new(server_key())))
            .with_memory_budget(budget)
            .without_handshake_rate_limit();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        loop {
            let (tcp, peer) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = acceptor.accept(tcp, peer).await else {
                    return;
                };
                while let Ok(Some(m)) = stream.recv_message().await {
                    let _ = stream.send_message(&m).await;
                }
            });
        }
    });
}

struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process's resident and peak resident memory (kB), from /proc.
fn rss_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Medium: with default settings (1 MiB messages, no idle timeout, no
/// partial-message deadline), 300 anonymous NK clients that each sent most
/// of a message and stopped took the echo server from 5 MiB to 302 MiB.
/// Now the acceptor charges undelivered bytes to a server-wide budget and
/// drops connections that would exceed it; the server's peak memory stays
/// within the budget plus a baseline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_partial_messages_cannot_pin_more_than_the_budget() {
    const BUDGET: usize = 24 << 20;
    const ATTACKERS: usize = 120;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "memory_attack_server_process", "--nocapture"])
        .env("LWSEC_ATTACK_SERVER_BUDGET", BUDGET.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = ServerProcess(child);
    let port: u16 = BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        .find_map(|l| l.strip_prefix("PORT ").map(|p| p.parse().unwrap()))
        .unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let pid = server.0.id();
    let (baseline, _) = rss_kb(pid);

    let client_cfg = Arc::new(ClientConfig::nk(server_key().public_key()));
    let message = vec![0x5a; (1 << 20) - 1024];
    let mut held = Vec::new();
    let mut dropped = 0;
    for _ in 0..ATTACKERS {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut stream = lwsec::tokio::connect(client_cfg.clone(), tcp)
            .await
            .unwrap();
        // Every fragment but the last: the message never completes.
        stream.conn_mut().send_message(&message).unwrap();
        let out = stream.conn().pending_output().to_vec();
        stream.conn_mut().consume_output(out.len());
        let last_record = 3 + 16 + 1 + (message.len() % 16384);
        let mut raw = stream.into_inner();
        if raw
            .write_all(&out[..out.len() - last_record])
            .await
            .is_err()
        {
            dropped += 1;
        }
        held.push(raw);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (now, peak) = rss_kb(pid);
    let grown_kb = peak.saturating_sub(baseline);
    eprintln!(
        "server RSS: baseline {baseline} kB, now {now} kB, peak {peak} kB (+{grown_kb} kB) \
         for {ATTACKERS} attackers x {} KiB; budget {} KiB; {dropped} write(s) failed",
        message.len() >> 10,
        BUDGET >> 10
    );
    // Budget, plus per-connection overhead (read buffers, tasks, keys).
    let allowed_kb = (BUDGET >> 10) as u64 + 16 * 1024;
    assert!(
        grown_kb <= allowed_kb,
        "server grew by {grown_kb} kB, more than the {} kB budget plus baseline",
        BUDGET >> 10
    );
    drop(held);
}

// ----- 4. unauthenticated alerts steering key fallback -----

/// Medium: cleartext alerts were reported as facts
/// (`Error::UnknownServerKey`), and the documented "try the next pinned key"
/// fallback let an attacker who holds a retired key answer the client's
/// first flight with a forged `unknown_server_key` and move it onto that
/// key. Now the alert surfaces as unauthenticated, the client uses only its
/// first pin, and pins change only through the server's announcement inside
/// the handshake.
#[tokio::test]
async fn a_forged_unknown_server_key_alert_cannot_steer_the_client() {
    let new = StaticKeyPair::from_private_bytes([0x51; 32]);
    let old = StaticKeyPair::from_private_bytes([0x52; 32]); // retired, stolen
    let newer = StaticKeyPair::from_private_bytes([0x53; 32]);
    let mut client_cfg = ClientConfig::nk(new.public_key());
    client_cfg
        .set_pinned_keys(vec![new.public_key(), old.public_key()])
        .unwrap();
    let client_cfg = Arc::new(client_cfg);

    // The attacker answers every first flight with a forged alert.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let attacker = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut first = [0u8; 3];
            let _ = tokio::io::AsyncReadExt::read_exact(&mut tcp, &mut first).await;
            let _ = tcp.write_all(&[0x15, 0x00, 0x01, 90]).await;
        }
    });
    let tcp = TcpStream::connect(attacker).await.unwrap();
    let err = lwsec::tokio::connect(client_cfg.clone(), tcp)
        .await
        .unwrap_err();
    let lwsec_err = err.get_ref().and_then(|e| e.downcast_ref::<lwsec::Error>());
    assert_eq!(
        lwsec_err,
        Some(&lwsec::Error::PeerAlert {
            code: lwsec::AlertCode::UnknownServerKey,
            authenticated: false
        })
    );
    assert!(err.to_string().contains("unauthenticated"), "{err}");
    // The client only ever offers its first pin.
    let hello = Connection::client(client_cfg.clone(), Time::now())
        .unwrap()
        .pending_output()
        .to_vec();
    let key_id_at = 3 + 6 + usize::from(hello[8]);
    assert_eq!(&hello[key_id_at..key_id_at + 8], &new.public_key().key_id());

    // The real server announces the next key inside the handshake.
    let mut config = ServerConfig::new(new.clone());
    config
        .announce_server_keys(vec![newer.public_key(), new.public_key()])
        .unwrap();
    let acceptor = Acceptor::new(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let real = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (tcp, peer) = listener.accept().await.unwrap();
        let mut stream = acceptor.accept(tcp, peer).await.unwrap();
        stream.close().await.unwrap();
    });
    let conn = Connection::client(client_cfg, Time::now()).unwrap();
    let tcp = TcpStream::connect(real).await.unwrap();
    let mut stream = lwsec::tokio::handshake(conn, tcp, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        stream.take_announced_server_keys(),
        Some(vec![newer.public_key(), new.public_key()])
    );
}
