//! Peers for the tester's own tests: lwsec servers and clients run
//! in-process, and a frame-aware TCP proxy that makes them deviate.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use lwsec::early_data::StrikeRegister;
use lwsec::{
    ClientConfig, Connection, Event, Identity, PublicKey, Rejection, ResumptionTicket,
    ServerConfig, StaticKeyPair, TicketKeyring, TicketKeys, Time,
};
use lwsec_conformance::client_mode::{self, Launcher, Running};
use lwsec_conformance::{Outcome, Verdict, server_mode};

pub const SERVER_PRIVATE: [u8; 32] = [0x11; 32];
pub const DEVICE_PRIVATE: [u8; 32] = [0x22; 32];
pub const REJECTED_PRIVATE: [u8; 32] = [0x33; 32];

/// How the in-process lwsec echo server is set up.
#[derive(Clone, Copy, Default)]
pub struct ServerSetup {
    /// Demand a Retry cookie from every client.
    pub cookies: bool,
    /// Accept early data (with a fresh strike register).
    pub early_data: bool,
    /// Issue resumption tickets (section 4.11) and resume with them.
    pub tickets: bool,
}

/// Starts an lwsec echo server (the contract of `server_mode`) on a
/// loopback port, in its own thread and runtime; IK clients are let in
/// except the one holding `REJECTED_PRIVATE`.
pub fn start_server(setup: ServerSetup) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut config = ServerConfig::new(StaticKeyPair::from_private_bytes(SERVER_PRIVATE));
            if setup.early_data {
                config.enable_replayable_early_data(Duration::from_secs(10));
            }
            if setup.tickets {
                config.enable_resumption(Arc::new(TicketKeyring::new(TicketKeys::new([0x44; 32]))));
            }
            let rejected = StaticKeyPair::from_private_bytes(REJECTED_PRIVATE).public_key();
            let mut acceptor = lwsec::tokio::Acceptor::new(Arc::new(config))
                .without_handshake_rate_limit()
                .with_authorizer(move |hello: lwsec::ClientHello| async move {
                    if hello.claimed_client_key() == Some(rejected) {
                        Err(Rejection::NotAuthorized)
                    } else {
                        Ok(None::<Identity>)
                    }
                });
            if setup.cookies {
                acceptor = acceptor.with_cookie_threshold(0);
            }
            if setup.early_data {
                let start = Time::from_millis(Time::now().as_millis().saturating_sub(60_000));
                acceptor = acceptor.with_replay_guard(Arc::new(StrikeRegister::new(10_000, start)));
            }
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let Ok((tcp, peer)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp, peer).await else {
                        return;
                    };
                    let mut messages = stream.into_messages();
                    while let Some(Ok(m)) = messages.next().await {
                        if messages.send(m).await.is_err() {
                            return;
                        }
                    }
                    let _ = messages.close().await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

pub fn server_public() -> [u8; 32] {
    *StaticKeyPair::from_private_bytes(SERVER_PRIVATE)
        .public_key()
        .as_bytes()
}

/// A server-mode target for `addr` (the lwsec server or a proxy to it).
pub fn server_target(addr: SocketAddr) -> server_mode::Target {
    let mut t =
        server_mode::Target::new(&addr.to_string(), server_public(), Duration::from_secs(5))
            .unwrap();
    t.client_key = DEVICE_PRIVATE;
    t.client_key_generated = false;
    t.rejected_key = Some(REJECTED_PRIVATE);
    t
}

/// The lwsec client as the client under test, in-process: the probe
/// protocol (connect, send one message, read one, close).
pub struct LwsecClient {
    /// Connect here instead of the tester's address (a proxy), given the
    /// tester's address.
    pub via: Option<Arc<dyn Fn(SocketAddr) -> SocketAddr + Send + Sync>>,
    /// Keep tickets in the tester's ticket file and resume with them (as
    /// `echo_client --ticket {ticket}`).
    pub resumes: bool,
}

/// A client under test running in a thread of the test.
pub struct Thread(pub Option<thread::JoinHandle<()>>);

impl Running for Thread {
    fn finish(&mut self, _wait: Duration) -> Option<i32> {
        // The client bounds itself with a deadline.
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
        None
    }
}

impl Launcher for LwsecClient {
    fn resumes(&self) -> bool {
        self.resumes
    }

    fn launch(&self, addr: SocketAddr, key_file: &Path, ticket_file: &Path) -> Box<dyn Running> {
        let pinned = lwsec::keys::load_pinned_keys_file(key_file).unwrap();
        let addr = match &self.via {
            Some(f) => f(addr),
            None => addr,
        };
        let ticket_file = self.resumes.then(|| ticket_file.to_path_buf());
        let h = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let probe = async {
                    let config = Arc::new(ClientConfig::nk(pinned[0]));
                    // A stored ticket is used once.
                    let ticket = ticket_file.as_ref().and_then(|path| {
                        let bytes = std::fs::read(path).ok()?;
                        let _ = std::fs::remove_file(path);
                        ResumptionTicket::from_bytes(&bytes).ok()
                    });
                    let conn = match ticket {
                        Some(t) => Connection::resume(config, t, Time::now()),
                        None => Connection::client(config, Time::now()),
                    }
                    .map_err(std::io::Error::other)?;
                    let tcp = tokio::net::TcpStream::connect(addr).await?;
                    let mut stream =
                        lwsec::tokio::handshake(conn, tcp, Duration::from_secs(5)).await?;
                    stream.send_message(b"probe").await?;
                    let _ = stream
                        .recv_message()
                        .await?
                        .ok_or_else(|| std::io::Error::other("closed"))?;
                    while let Some(event) = stream.poll_event() {
                        if let (Event::ResumptionTicket(t), Some(path)) = (event, &ticket_file) {
                            std::fs::write(path, t.to_bytes())?;
                        }
                    }
                    stream.close().await
                };
                let _ = tokio::time::timeout(Duration::from_secs(5), probe).await;
            });
        });
        Box::new(Thread(Some(h)))
    }
}

/// A client-mode target (the tester listening on loopback) for `launcher`.
pub fn client_target(launcher: Box<dyn Launcher>) -> client_mode::Target {
    let dir = std::env::temp_dir().join(format!(
        "lwsec-conformance-test-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    client_mode::Target::new(
        listener,
        SERVER_PRIVATE,
        dir.join("server.pub"),
        launcher,
        Duration::from_secs(5),
    )
    .unwrap()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

// ----- proxy -----

/// Direction of bytes through the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// From the client side to the server side.
    Up,
    /// From the server side to the client side.
    Down,
}

/// What the proxy does with a whole frame it held.
pub struct Action {
    /// Bytes sent on in the frame's direction (the frame itself, changed or
    /// not, or nothing to drop it).
    pub forward: Vec<u8>,
    /// Bytes sent back to where the frame came from (an injected answer).
    pub back: Vec<u8>,
}

/// A deviation: which frames to hold whole (by direction, type and
/// length), and what to do with them. Other bytes pass as they arrive.
pub trait Deviation: Send + Sync + 'static {
    fn hold(&self, dir: Dir, ty: u8, len: usize) -> bool;
    /// `n` counts the held frames of this connection and direction so far.
    fn frame(&self, dir: Dir, n: usize, frame: Vec<u8>) -> Action;
}

/// Starts a proxy to `upstream` applying `deviation`; returns its address.
pub fn start_proxy(upstream: SocketAddr, deviation: Arc<dyn Deviation>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(upstream) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let lock = Arc::new(Mutex::new(()));
            for (dir, from, to) in [
                (
                    Dir::Up,
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                ),
                (
                    Dir::Down,
                    server.try_clone().unwrap(),
                    client.try_clone().unwrap(),
                ),
            ] {
                let d = deviation.clone();
                let lock = lock.clone();
                thread::spawn(move || pump(dir, from, to, d, lock));
            }
        }
    });
    addr
}

fn pump(
    dir: Dir,
    mut from: TcpStream,
    mut to: TcpStream,
    d: Arc<dyn Deviation>,
    lock: Arc<Mutex<()>>,
) {
    let mut buf = [0u8; 65536];
    // Frame parse state: header bytes so far, body bytes left, held frame.
    let mut header: Vec<u8> = Vec::new();
    let mut left = 0usize;
    let mut held: Option<Vec<u8>> = None;
    let mut count = 0usize;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut out = Vec::new();
        let mut back = Vec::new();
        let mut i = 0;
        while i < n {
            if left == 0 && held.is_none() && header.len() < 3 {
                header.push(buf[i]);
                i += 1;
                if header.len() == 3 {
                    let len = usize::from(u16::from_be_bytes([header[1], header[2]]));
                    left = len;
                    if d.hold(dir, header[0], len) {
                        held = Some(std::mem::take(&mut header));
                    } else {
                        out.extend(std::mem::take(&mut header));
                    }
                } else {
                    continue;
                }
            } else {
                let take = left.min(n - i);
                match &mut held {
                    Some(h) => h.extend_from_slice(&buf[i..i + take]),
                    None => out.extend_from_slice(&buf[i..i + take]),
                }
                left -= take;
                i += take;
            }
            if left == 0 && header.is_empty() {
                if let Some(frame) = held.take() {
                    let a = d.frame(dir, count, frame);
                    count += 1;
                    out.extend(a.forward);
                    back.extend(a.back);
                }
            }
        }
        let _g = lock.lock().unwrap();
        if !back.is_empty() {
            let _ = from.write_all(&back);
        }
        if !out.is_empty() && to.write_all(&out).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// The ids of the scenarios that failed.
pub fn failed(outcomes: &[Outcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter(|o| o.verdict.is_fail())
        .map(|o| o.id.clone())
        .collect()
}

pub fn skipped(outcomes: &[Outcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Skip(_)))
        .map(|o| o.id.clone())
        .collect()
}

pub fn print(outcomes: &[Outcome]) {
    println!("{}", lwsec_conformance::report::text(outcomes));
}

pub fn public_key(private: [u8; 32]) -> PublicKey {
    StaticKeyPair::from_private_bytes(private).public_key()
}
