//! Scenarios against a **client** under test: the tester plays the server.
//!
//! Probe protocol the client under test follows, once per scenario (once
//! per connection): connect to the tester, complete the handshake (any
//! pattern and suites, pinning the tester's key), send one message (any
//! content), wait for one message in reply (any content, up to the client's
//! maximum message size), send close_notify and close. A client that fails
//! sends its alert and closes. lwsec's `echo_client` example with one word
//! as its message is such a client:
//!
//! ```text
//! --client-cmd 'target/release/examples/echo_client --connect {addr} --server-key {key} --ticket {ticket} probe'
//! ```
//!
//! Resumption (section 4.11): `{ticket}` in the command is a file the client
//! keeps its resumption ticket in, in any format of its own: at the start it
//! resumes with the ticket stored there, if any (and forgets it: a ticket is
//! used once), and it stores there the ticket the tester sends. The tester
//! removes the file before every scenario, except between the connections
//! of a `client.resume.*` scenario: connection 1 is a full handshake that
//! brings a ticket, connection 2 (a new client process) must resume with
//! it. A command without `{ticket}` says the client does not resume: the
//! `client.resume.*` scenarios that need it skip (a client that connects by
//! itself says it does with `--client-resumes`). The ticket-record rules
//! (`client.ticket.*`) apply to every client.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::{Got, Seen, Session, Wire};
use crate::scenario::{Expect, Scenario, Step, Verdict, judge, verdict};
use crate::wire::{self, AES, CHACHA, Header, IK, RESUME, alert, ext};

/// Starts the client under test for one scenario.
pub trait Launcher: Send + Sync {
    /// Starts a client that connects to `addr`, pinning the key in
    /// `key_file` (a `lwsec-public-v1:` file), keeping its resumption
    /// ticket in `ticket_file` (section 4.11).
    fn launch(&self, addr: SocketAddr, key_file: &Path, ticket_file: &Path) -> Box<dyn Running>;

    /// Whether the client resumes with the tickets the tester gives it
    /// (then a client that does not is a failure, else a skip).
    fn resumes(&self) -> bool {
        false
    }
}

/// A running client under test.
pub trait Running {
    /// Waits up to `wait` for it to end (then stops it): its exit code,
    /// `None` when it had to be stopped or has none.
    fn finish(&mut self, wait: Duration) -> Option<i32>;
}

/// `--client-cmd`: a shell command run once per scenario (per connection),
/// with `{addr}`, `{host}`, `{port}`, `{key}` and `{ticket}` replaced.
pub struct CommandLauncher {
    pub template: String,
    pub log: Option<PathBuf>,
}

struct ChildProcess(Child);

impl Running for ChildProcess {
    fn finish(&mut self, wait: Duration) -> Option<i32> {
        let until = Instant::now() + wait;
        loop {
            match self.0.try_wait() {
                Ok(Some(status)) => return status.code(),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
                _ => {
                    let _ = self.0.kill();
                    let _ = self.0.wait();
                    return None;
                }
            }
        }
    }
}

impl Launcher for CommandLauncher {
    fn resumes(&self) -> bool {
        self.template.contains("{ticket}")
    }

    fn launch(&self, addr: SocketAddr, key_file: &Path, ticket_file: &Path) -> Box<dyn Running> {
        let cmd = self
            .template
            .replace("{addr}", &addr.to_string())
            .replace("{host}", &addr.ip().to_string())
            .replace("{port}", &addr.port().to_string())
            .replace("{key}", &key_file.display().to_string())
            .replace("{ticket}", &ticket_file.display().to_string());
        let out = || match &self.log {
            Some(p) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
            None => Stdio::null(),
        };
        match Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .stdin(Stdio::null())
            .stdout(out())
            .stderr(out())
            .spawn()
        {
            Ok(child) => Box::new(ChildProcess(child)),
            Err(e) => {
                eprintln!("cannot run the client command: {e}");
                Box::new(Nothing)
            }
        }
    }
}

/// No command: the client under test is started elsewhere and connects by
/// itself, again and again; `resumes` when it keeps the tickets it gets
/// and resumes with them (`--client-resumes`).
pub struct External {
    pub resumes: bool,
}
struct Nothing;
impl Running for Nothing {
    fn finish(&mut self, _: Duration) -> Option<i32> {
        None
    }
}
impl Launcher for External {
    fn launch(&self, _: SocketAddr, _: &Path, _: &Path) -> Box<dyn Running> {
        Box::new(Nothing)
    }
    fn resumes(&self) -> bool {
        self.resumes
    }
}

/// The tester as a server, and the client under test.
pub struct Target {
    pub listener: TcpListener,
    pub addr: SocketAddr,
    pub server_private: [u8; 32],
    pub server_public: [u8; 32],
    pub key_file: PathBuf,
    pub launcher: Box<dyn Launcher>,
    pub timeout: Duration,
    /// The client's maximum message size (section 7; default 1 MiB).
    pub max_message: usize,
    /// The client's ticket file (`{ticket}`), beside `key_file`.
    pub ticket_file: PathBuf,
    running: Option<Box<dyn Running>>,
    /// The tickets the tester issued and their pre-shared keys.
    issued: Vec<(Vec<u8>, [u8; 32])>,
}

const NO_RESUME: &str = "not applicable: the client does not resume (a --client-cmd with a {ticket} file, or --client-resumes, says it does)";

impl Target {
    pub fn new(
        listener: TcpListener,
        server_private: [u8; 32],
        key_file: PathBuf,
        launcher: Box<dyn Launcher>,
        timeout: Duration,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let server_public = wire::public_of(&server_private);
        wire::write_public_key_file(&key_file, &server_public)?;
        let ticket_file = key_file.with_file_name("client.ticket");
        Ok(Target {
            listener,
            addr,
            server_private,
            server_public,
            key_file,
            launcher,
            timeout,
            max_message: 1 << 20,
            ticket_file,
            running: None,
            issued: Vec::new(),
        })
    }

    /// Ends the scenario's client: waits a little for it, stops it, and
    /// drops connections it left queued.
    pub fn finish(&mut self) {
        if let Some(mut r) = self.running.take() {
            r.finish(Duration::from_secs(2));
        }
        let _ = self.listener.set_nonblocking(true);
        while self.listener.accept().is_ok() {}
        let _ = self.listener.set_nonblocking(false);
    }

    /// Starts the client (without a ticket) and reads its ClientHello.
    fn start(&mut self) -> Step<Flow> {
        self.launch(false)
    }

    /// Waits for the scenario's client to end (a client stores its ticket
    /// before it exits), stopping it after 2 seconds.
    fn end_client(&mut self) {
        if let Some(mut r) = self.running.take() {
            r.finish(Duration::from_secs(2));
        }
    }

    /// Starts the client and reads its ClientHello. Unless `keep_ticket`
    /// the ticket file is removed first, and a resumption ClientHello (a
    /// client that keeps tickets by itself) is answered with ResumeRefused:
    /// the scenario then runs on the full ClientHello that follows.
    fn launch(&mut self, keep_ticket: bool) -> Step<Flow> {
        let _ = std::fs::write(
            &self.key_file,
            format!("lwsec-public-v1:{}\n", wire::hex(&self.server_public)),
        );
        if !keep_ticket {
            let _ = std::fs::remove_file(&self.ticket_file);
        }
        self.running = Some(
            self.launcher
                .launch(self.addr, &self.key_file, &self.ticket_file),
        );
        let until = Instant::now() + self.timeout;
        self.listener.set_nonblocking(true).ok();
        let tcp = loop {
            match self.listener.accept() {
                Ok((tcp, _)) => break tcp,
                Err(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => {
                    return Err(Verdict::fail(
                        "the client under test connects",
                        format!("no connection ({e})"),
                    ));
                }
            }
        };
        self.listener.set_nonblocking(false).ok();
        tcp.set_nonblocking(false).ok();
        let mut wire = Wire::new(tcp, self.timeout);
        let mut hello = read_hello(&mut wire, &self.server_public)?;
        if !keep_ticket && hello.header.pattern == RESUME {
            wire.send(&wire::frame(wire::FRAME_RESUME_REFUSED, &[]));
            hello = read_hello(&mut wire, &self.server_public)?;
            if hello.header.pattern == RESUME {
                return Err(Verdict::fail(
                    "a full ClientHello after ResumeRefused (4.11)",
                    "another resumption ClientHello",
                ));
            }
        }
        Ok(Flow { wire, hello })
    }

    /// Reads message 1 of `hello` as the responder.
    fn noise(&self, hello: &ClientHelloSeen) -> Step<(snow::HandshakeState, Vec<u8>)> {
        let prologue = wire::prologue(&hello.header_bytes);
        let mut hs = if hello.header.pattern == RESUME {
            let ticket = hello.header.ticket.as_deref().unwrap_or_default();
            let Some((_, psk)) = self.issued.iter().find(|(t, _)| t == ticket) else {
                return Err(Verdict::fail(
                    "a resumption ClientHello with a ticket the tester issued (4.11)",
                    format!("a ticket of {} bytes it never issued", ticket.len()),
                ));
            };
            wire::noise_resume(false, hello.header.suite, &prologue, psk, None)
        } else {
            wire::noise_responder(
                hello.header.pattern,
                hello.header.suite,
                &prologue,
                &self.server_private,
            )
        };
        let mut payload = vec![0u8; hello.msg1.len()];
        let n = hs.read_message(&hello.msg1, &mut payload).map_err(|e| {
            Verdict::fail(
                "a ClientHello whose Noise message 1 decrypts under its header (4.2)",
                format!("snow: {e}"),
            )
        })?;
        payload.truncate(n);
        let list = wire::parse_extensions(&payload, &[wire::EXT_TIMESTAMP, wire::EXT_EARLY_DATA])
            .map_err(|a| {
            Verdict::fail(
                "a valid ClientHello extension list (4.4)",
                format!("one a server refuses with {}", wire::alert_name(a)),
            )
        })?;
        let early = hello.header.flags & 1 == 1;
        let has = |t| list.iter().any(|e| e.ty == t);
        if early != has(wire::EXT_EARLY_DATA) || early != has(wire::EXT_TIMESTAMP) {
            return Err(Verdict::fail(
                "flag, timestamp and early_data all present or all absent (4.3 step 7)",
                "they disagree",
            ));
        }
        Ok((hs, payload))
    }

    /// Answers `flow` with a ServerHello carrying `payload`; returns the
    /// session (not yet past the client's confirm).
    fn server_hello(&self, flow: Flow, payload: &[u8]) -> Step<Session> {
        let Flow { mut wire, hello } = flow;
        let (mut hs, _) = self.noise(&hello)?;
        let mut msg = vec![0u8; 65535];
        let n = hs.write_message(payload, &mut msg).expect("message 2");
        wire.send(&wire::frame(wire::FRAME_SERVER_HELLO, &msg[..n]));
        Ok(Session::from_handshake(
            wire,
            &mut hs,
            hello.header.suite,
            false,
        ))
    }

    /// Sends a ticket record (section 4.11) of `len` random bytes on `s`,
    /// good for a resumption with `s`'s resumption secret.
    fn issue(&mut self, s: &mut Session, lifetime: u32, len: usize) -> Vec<u8> {
        let ticket: Vec<u8> = (0..len).map(|_| wire::random_bytes::<1>()[0]).collect();
        self.issued
            .push((ticket.clone(), s.resumption.expect("derived")));
        s.record(wire::CT_TICKET, &wire::ticket_payload(lifetime, &ticket));
        ticket
    }

    /// Connection 1 of a resumption scenario: a full handshake, a ticket
    /// record after the confirm, the probe; waits for the client to end
    /// (it stores the ticket). Skips for a client that does not resume.
    fn first_connection(&mut self) -> Step<Vec<u8>> {
        if !self.launcher.resumes() {
            return Err(Verdict::skip(NO_RESUME));
        }
        let (mut s, m) = self.established()?;
        let ticket = self.issue(&mut s, 3600, 120);
        s.message(&m);
        let end = graceful_end(&mut s);
        if end.is_fail() {
            return Err(end);
        }
        self.end_client();
        Ok(ticket)
    }

    /// The next connection, which must resume with `ticket` (4.11).
    fn resumed_start(&mut self, ticket: &[u8]) -> Step<Flow> {
        let flow = self.launch(true)?;
        let h = &flow.hello.header;
        if h.pattern != RESUME {
            return Err(Verdict::fail(
                "a resumption ClientHello (pattern 0x03) with the ticket of the previous connection (4.11)",
                format!("a ClientHello of pattern {}", wire::pattern_name(h.pattern)),
            ));
        }
        if h.ticket.as_deref() != Some(ticket) {
            return Err(Verdict::fail(
                "the ticket of the previous connection, verbatim (4.11)",
                "another ticket",
            ));
        }
        Ok(flow)
    }

    /// The next connection, which must be a full handshake: its
    /// ClientHello, answered with handshake_failure.
    fn full_start(&mut self, why: &str) -> Step<Verdict> {
        let mut flow = self.launch(true)?;
        flow.wire.send(&wire::alert_frame(alert::HANDSHAKE_FAILURE));
        Ok(if flow.hello.header.pattern == RESUME {
            Verdict::fail(
                format!("a full ClientHello ({why})"),
                "a resumption ClientHello",
            )
        } else {
            Verdict::pass()
        })
    }

    /// A ServerHello, then the client's confirm and its probe message.
    fn established(&mut self) -> Step<(Session, Vec<u8>)> {
        let flow = self.start()?;
        let mut s = self.server_hello(flow, b"")?;
        confirm(&mut s)?;
        let m = s
            .expect_message()
            .map_err(|seen| Verdict::fail("the client's probe message", seen))?;
        Ok((s, m))
    }
}

/// What the client's ClientHello held.
#[derive(Clone)]
pub struct ClientHelloSeen {
    pub header: Header,
    pub header_bytes: Vec<u8>,
    pub msg1: Vec<u8>,
    pub frame: Vec<u8>,
}

pub struct Flow {
    wire: Wire,
    hello: ClientHelloSeen,
}

/// Reads and checks a ClientHello (4.1, 4.3 step 1).
fn read_hello(wire: &mut Wire, server_public: &[u8; 32]) -> Step<ClientHelloSeen> {
    let body = match wire.read_frame() {
        Got::Frame(wire::FRAME_CLIENT_HELLO, body) => body,
        other => return Err(Verdict::fail("a ClientHello", Seen::from(other))),
    };
    if body.len() > wire::MAX_CLIENT_HELLO {
        return Err(Verdict::fail(
            "a ClientHello of at most 10240 bytes",
            body.len(),
        ));
    }
    let (header, len) = Header::parse(&body)
        .map_err(|(_, why)| Verdict::fail("a well-formed ClientHello header (4.1)", why))?;
    if header.pattern != wire::NK && header.pattern != IK && header.pattern != RESUME {
        return Err(Verdict::fail(
            "pattern NK, IK or resume (0x03)",
            header.pattern,
        ));
    }
    if header.key_id != wire::key_id(server_public) {
        return Err(Verdict::fail(
            "the key_id of the pinned key (2.2)",
            wire::hex(&header.key_id),
        ));
    }
    let min = if header.pattern == IK { 96 } else { 48 };
    if body.len() - len < min {
        return Err(Verdict::fail(
            "a complete Noise message 1",
            format!("{} bytes", body.len() - len),
        ));
    }
    Ok(ClientHelloSeen {
        header,
        header_bytes: body[..len].to_vec(),
        msg1: body[len..].to_vec(),
        frame: wire::frame(wire::FRAME_CLIENT_HELLO, &body),
    })
}

/// The client's first record must be an empty confirm (4.10).
fn confirm(s: &mut Session) -> Step<()> {
    match s.observe() {
        Seen::Record(wire::CT_CONFIRM, p) if p.is_empty() => Ok(()),
        Seen::Record(wire::CT_CONFIRM, p) => Err(Verdict::fail(
            "an empty confirm record (4.10)",
            format!("a confirm with {} bytes", p.len()),
        )),
        other => Err(Verdict::fail(
            "the client's confirm record first (4.10)",
            other,
        )),
    }
}

/// The end of the probe: the client's close_notify, then its close.
fn graceful_end(s: &mut Session) -> Verdict {
    match s.observe() {
        Seen::Alert(0) => match s.wire.expect_close(Duration::from_millis(2000)) {
            Ok(()) => Verdict::pass(),
            Err(g) => Verdict::fail("close after close_notify", Seen::from(g)),
        },
        other => Verdict::fail("the client's close_notify (end of the probe)", other),
    }
}

fn then(s: &mut Session, expect: Expect) -> Verdict {
    let seen = s.observe();
    judge(expect, seen, &mut s.wire)
}

fn other_suite(h: &Header) -> Option<u8> {
    h.suites
        .iter()
        .copied()
        .find(|&x| x != h.suite && (x == AES || x == CHACHA))
}

type S = Scenario<Target>;

/// Every scenario against a client, in report order.
pub fn scenarios() -> Vec<S> {
    use Expect::{Clear, Protected, Silence};
    let mut v: Vec<S> = Vec::new();

    v.push(S::new("client.handshake.probe", &["4.1", "4.6", "4.10", "7", "9.2", "10.1"], "honest server: well-formed ClientHello, confirm first, message, reply, close_notify, close", |t| {
        verdict(|| {
            let (mut s, m) = t.established()?;
            s.message(&m);
            Ok(graceful_end(&mut s))
        })
    }));
    v.push(S::new(
        "client.hello.empty_payload",
        &["4.4", "4.9"],
        "without early data, message 1's payload is an empty extension list",
        |t| {
            verdict(|| {
                let flow = t.start()?;
                let (_, payload) = t.noise(&flow.hello)?;
                let mut wire = flow.wire;
                wire.send(&wire::alert_frame(alert::HANDSHAKE_FAILURE));
                if flow.hello.header.flags & 1 == 1 {
                    return Ok(Verdict::skip(
                        "not applicable: the client offered early data",
                    ));
                }
                Ok(if payload.is_empty() {
                    Verdict::pass()
                } else {
                    Verdict::fail("an empty payload", format!("{} bytes", payload.len()))
                })
            })
        },
    ));

    // ----- 4.5: Retry at the client -----
    fn retry_ok(
        v: &mut Vec<S>,
        id: &'static str,
        title: &'static str,
        mk: fn(&Header) -> Option<Vec<u8>>,
    ) {
        v.push(S::new(id, &["4.5", "10.1"], title, move |t| {
            verdict(|| {
                let mut flow = t.start()?;
                let first = flow.hello.clone();
                let Some(body) = mk(&first.header) else {
                    flow.wire.send(&wire::alert_frame(alert::HANDSHAKE_FAILURE));
                    return Ok(Verdict::skip("not applicable: the client offers one suite"));
                };
                flow.wire.send(&wire::frame(wire::FRAME_RETRY, &body));
                let second = read_hello(&mut flow.wire, &t.server_public)?;
                let h = &second.header;
                let checks = [
                    (h.suite == body[0], "suite = the Retry's suite"),
                    (h.suites == first.header.suites, "the same suite list"),
                    (h.key_id == first.header.key_id, "the same key id"),
                    (h.pattern == first.header.pattern, "the same pattern"),
                    (h.retry == body, "the Retry body echoed verbatim"),
                    (h.flags & 1 == 0, "no early data in a retried ClientHello"),
                    (
                        second.msg1[..32] != first.msg1[..32],
                        "a fresh ephemeral key",
                    ),
                ];
                if let Some((_, what)) = checks.iter().find(|(ok, _)| !ok) {
                    return Ok(Verdict::fail(
                        format!("a retried ClientHello with {what}"),
                        "not so",
                    ));
                }
                let flow = Flow {
                    wire: flow.wire,
                    hello: second,
                };
                let mut s = t.server_hello(flow, b"")?;
                confirm(&mut s)?;
                let m = s
                    .expect_message()
                    .map_err(|seen| Verdict::fail("the client's probe message", seen))?;
                s.message(&m);
                Ok(graceful_end(&mut s))
            })
        }));
    }
    retry_ok(
        &mut v,
        "client.retry.suite",
        "Retry naming the client's other suite: a retried ClientHello echoing it, handshake completes",
        |h| other_suite(h).map(|o| wire::retry_body(o, &[])),
    );
    retry_ok(
        &mut v,
        "client.retry.cookie_64",
        "Retry with a 64-byte cookie (at the limit): echoed verbatim, handshake completes",
        |h| Some(wire::retry_body(h.suite, &[0xc0; 64])),
    );
    retry_ok(
        &mut v,
        "client.retry.suite_and_cookie",
        "Retry with the other suite and a cookie: echoed verbatim, handshake completes",
        |h| other_suite(h).map(|o| wire::retry_body(o, b"cookie-0123456789abcdefg")),
    );

    fn first_frame(
        v: &mut Vec<S>,
        id: &'static str,
        sections: &'static [&'static str],
        title: &'static str,
        mk: fn(&ClientHelloSeen) -> Vec<u8>,
        expect: Expect,
    ) {
        v.push(S::new(id, sections, title, move |t| {
            verdict(|| {
                let mut flow = t.start()?;
                flow.wire.send(&mk(&flow.hello));
                let seen = Seen::from(flow.wire.read_frame());
                Ok(judge(expect, seen, &mut flow.wire))
            })
        }));
    }
    v.push(S::new(
        "client.retry.second",
        &["4.5", "10.1", "11"],
        "a second Retry on the connection: unexpected_message",
        |t| {
            verdict(|| {
                let mut flow = t.start()?;
                let body = wire::retry_body(flow.hello.header.suite, b"cookie1");
                flow.wire.send(&wire::frame(wire::FRAME_RETRY, &body));
                read_hello(&mut flow.wire, &t.server_public)?;
                flow.wire.send(&wire::frame(
                    wire::FRAME_RETRY,
                    &wire::retry_body(flow.hello.header.suite, b"cookie2"),
                ));
                let seen = Seen::from(flow.wire.read_frame());
                Ok(judge(
                    Clear(alert::UNEXPECTED_MESSAGE),
                    seen,
                    &mut flow.wire,
                ))
            })
        },
    ));
    v.push(S::new("client.two_rules.second_retry_malformed", &["4.5"], "a second Retry with a malformed body (cookie_len 65, no cookie): the second Retry is refused first (unexpected_message)", |t| {
        verdict(|| {
            let mut flow = t.start()?;
            let body = wire::retry_body(flow.hello.header.suite, b"cookie1");
            flow.wire.send(&wire::frame(wire::FRAME_RETRY, &body));
            read_hello(&mut flow.wire, &t.server_public)?;
            flow.wire.send(&wire::frame(wire::FRAME_RETRY, &[flow.hello.header.suite, 65]));
            let seen = Seen::from(flow.wire.read_frame());
            Ok(judge(Clear(alert::UNEXPECTED_MESSAGE), seen, &mut flow.wire))
        })
    }));
    first_frame(
        &mut v,
        "client.retry.cookie_65",
        &["4.5", "11"],
        "Retry with a 65-byte cookie (one past the limit): decode_error",
        |h| {
            wire::frame(
                wire::FRAME_RETRY,
                &wire::retry_body(h.header.suite, &[0xc0; 65]),
            )
        },
        Clear(alert::DECODE_ERROR),
    );
    first_frame(
        &mut v,
        "client.retry.body_length",
        &["4.5"],
        "Retry whose cookie_len says 2 but carries 3 bytes: decode_error",
        |h| wire::frame(wire::FRAME_RETRY, &[h.header.suite, 2, 1, 2, 3]),
        Clear(alert::DECODE_ERROR),
    );
    first_frame(
        &mut v,
        "client.retry.empty_body",
        &["4.5"],
        "Retry with an empty body: decode_error",
        |_| wire::frame(wire::FRAME_RETRY, &[]),
        Clear(alert::DECODE_ERROR),
    );
    first_frame(
        &mut v,
        "client.retry.suite_not_offered",
        &["4.5"],
        "Retry naming a suite the client did not offer: illegal_parameter",
        |h| {
            let s = (0x03..=0xff)
                .find(|c| !h.header.suites.contains(c))
                .unwrap_or(0xff);
            wire::frame(wire::FRAME_RETRY, &wire::retry_body(s, &[]))
        },
        Clear(alert::ILLEGAL_PARAMETER),
    );
    first_frame(
        &mut v,
        "client.retry.changes_nothing",
        &["4.5"],
        "Retry with the suite already used and no cookie: illegal_parameter",
        |h| wire::frame(wire::FRAME_RETRY, &wire::retry_body(h.header.suite, &[])),
        Clear(alert::ILLEGAL_PARAMETER),
    );
    first_frame(
        &mut v,
        "client.frame.retry_overflow",
        &["3", "11"],
        "Retry header of length 2049 (one past the limit): record_overflow before the body",
        |_| wire::frame_header(wire::FRAME_RETRY, 2049),
        Clear(alert::RECORD_OVERFLOW),
    );
    first_frame(
        &mut v,
        "client.frame.server_hello_overflow",
        &["3", "11"],
        "ServerHello header of length 2049: record_overflow before the body",
        |_| wire::frame_header(wire::FRAME_SERVER_HELLO, 2049),
        Clear(alert::RECORD_OVERFLOW),
    );
    first_frame(
        &mut v,
        "client.frame.unknown_type",
        &["3"],
        "unknown frame type 0x05 (header only): decode_error",
        |_| wire::frame_header(0x05, 10),
        Clear(alert::DECODE_ERROR),
    );
    first_frame(
        &mut v,
        "client.frame.client_hello",
        &["10.1"],
        "ExpectServerHello + ClientHello frame: unexpected_message",
        |h| h.frame.clone(),
        Clear(alert::UNEXPECTED_MESSAGE),
    );
    first_frame(
        &mut v,
        "client.frame.record",
        &["10.1"],
        "ExpectServerHello + Record frame: unexpected_message",
        |_| wire::frame(wire::FRAME_RECORD, &[0x42; 20]),
        Clear(alert::UNEXPECTED_MESSAGE),
    );
    first_frame(
        &mut v,
        "client.frame.alert_empty",
        &["3"],
        "cleartext alert frame of length 0: decode_error",
        |_| wire::frame(wire::FRAME_ALERT, &[]),
        Clear(alert::DECODE_ERROR),
    );
    first_frame(
        &mut v,
        "client.alert.not_answered",
        &["4.8", "10.1"],
        "ExpectServerHello + cleartext alert (unknown_server_key): nothing sent, close",
        |_| wire::alert_frame(alert::UNKNOWN_SERVER_KEY),
        Silence,
    );
    first_frame(
        &mut v,
        "client.server_hello.short",
        &["4.6"],
        "a ServerHello of 47 bytes: decode_error",
        |_| wire::frame(wire::FRAME_SERVER_HELLO, &[0x42; 47]),
        Clear(alert::DECODE_ERROR),
    );
    first_frame(
        &mut v,
        "client.two_rules.short_low_order",
        &["4.6", "4.7"],
        "a 40-byte ServerHello whose ephemeral key is a low-order point: the length first (decode_error)",
        |_| wire::frame(wire::FRAME_SERVER_HELLO, &[0; 40]),
        Clear(alert::DECODE_ERROR),
    );

    // ----- 4.11: resumption at the client -----
    first_frame(
        &mut v,
        "client.frame.resume_refused_overflow",
        &["3", "4.11", "11"],
        "ResumeRefused header of length 1 (its maximum is 0): record_overflow before the body",
        |_| wire::frame_header(wire::FRAME_RESUME_REFUSED, 1),
        Clear(alert::RECORD_OVERFLOW),
    );
    first_frame(
        &mut v,
        "client.resume.refused_not_resuming",
        &["4.11", "10.1"],
        "ResumeRefused to a client that did not resume: unexpected_message",
        |_| wire::frame(wire::FRAME_RESUME_REFUSED, &[]),
        Clear(alert::UNEXPECTED_MESSAGE),
    );
    fn ticket_case(
        v: &mut Vec<S>,
        id: &'static str,
        sections: &'static [&'static str],
        title: &'static str,
        payloads: fn() -> Vec<Vec<u8>>,
        expect: Option<Expect>,
    ) {
        v.push(S::new(id, sections, title, move |t| {
            verdict(|| {
                let (mut s, m) = t.established()?;
                for p in payloads() {
                    s.record(wire::CT_TICKET, &p);
                }
                Ok(match expect {
                    Some(e) => then(&mut s, e),
                    None => {
                        s.message(&m);
                        graceful_end(&mut s)
                    }
                })
            })
        }));
    }
    ticket_case(
        &mut v,
        "client.ticket.accepted",
        &["4.11", "6.2"],
        "a ticket record after the confirm (lifetime 3600 s, 120 bytes): accepted, probe completes",
        || vec![wire::ticket_payload(3600, &[0x74; 120])],
        None,
    );
    ticket_case(
        &mut v,
        "client.ticket.limits",
        &["4.11", "11"],
        "a ticket record at the limits (lifetime 604800 s, a 1024-byte ticket): accepted",
        || {
            vec![wire::ticket_payload(
                wire::MAX_TICKET_LIFETIME,
                &[0x74; 1024],
            )]
        },
        None,
    );
    ticket_case(
        &mut v,
        "client.ticket.second",
        &["4.11", "11"],
        "a second ticket record on the connection: unexpected_message",
        || {
            vec![
                wire::ticket_payload(3600, &[0x74; 120]),
                wire::ticket_payload(3600, &[0x75; 120]),
            ]
        },
        Some(Protected(alert::UNEXPECTED_MESSAGE)),
    );
    ticket_case(
        &mut v,
        "client.ticket.lifetime_zero",
        &["4.11"],
        "a ticket record with lifetime 0: decode_error",
        || vec![wire::ticket_payload(0, &[0x74; 120])],
        Some(Protected(alert::DECODE_ERROR)),
    );
    ticket_case(
        &mut v,
        "client.ticket.lifetime_604801",
        &["4.11", "11"],
        "a ticket record with lifetime 604801 s (one past 7 days): decode_error",
        || {
            vec![wire::ticket_payload(
                wire::MAX_TICKET_LIFETIME + 1,
                &[0x74; 120],
            )]
        },
        Some(Protected(alert::DECODE_ERROR)),
    );
    ticket_case(
        &mut v,
        "client.ticket.empty",
        &["4.11"],
        "a ticket record with a lifetime and no ticket (4 bytes): decode_error",
        || vec![wire::ticket_payload(3600, &[])],
        Some(Protected(alert::DECODE_ERROR)),
    );
    ticket_case(
        &mut v,
        "client.ticket.short",
        &["4.11"],
        "a ticket record of 3 bytes: decode_error",
        || vec![vec![0, 0, 14]],
        Some(Protected(alert::DECODE_ERROR)),
    );
    ticket_case(
        &mut v,
        "client.ticket.ticket_1025",
        &["4.11", "11"],
        "a ticket record with a 1025-byte ticket (one past the limit): decode_error",
        || vec![wire::ticket_payload(3600, &[0x74; 1025])],
        Some(Protected(alert::DECODE_ERROR)),
    );

    /// The checks on the ClientHello a client sends after a ResumeRefused
    /// (4.11): a full one, no ticket, no early data, a fresh ephemeral key,
    /// the same suites and key id, echoing `retry` (the Retry answered
    /// before, if any).
    fn full_after_refused(
        full: &ClientHelloSeen,
        resumed: &ClientHelloSeen,
        retry: &[u8],
    ) -> Step<()> {
        let h = &full.header;
        let checks = [
            (h.pattern == wire::NK || h.pattern == IK, "pattern NK or IK"),
            (h.ticket.is_none(), "no ticket"),
            (h.flags & 1 == 0, "no early data"),
            (
                h.retry == retry,
                "the Retry answered before echoed (or none)",
            ),
            (h.suites == resumed.header.suites, "the same suite list"),
            (h.key_id == resumed.header.key_id, "the same key id"),
            (
                full.msg1[..32] != resumed.msg1[..32],
                "a fresh ephemeral key",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, what)) => Err(Verdict::fail(
                format!("a full ClientHello after ResumeRefused with {what} (4.11)"),
                "not so",
            )),
            None => Ok(()),
        }
    }

    v.push(S::new(
        "client.resume.accepted",
        &["4.11", "4.10", "5"],
        "connection 2 resumes with connection 1's ticket: NNpsk0 under its resumption secret, confirm, a new ticket, probe completes",
        |t| {
            verdict(|| {
                let ticket = t.first_connection()?;
                let flow = t.resumed_start(&ticket)?;
                let mut s = t.server_hello(flow, b"")?;
                confirm(&mut s)?;
                t.issue(&mut s, 3600, 120);
                let m = s
                    .expect_message()
                    .map_err(|seen| Verdict::fail("the client's probe message", seen))?;
                s.message(&m);
                Ok(graceful_end(&mut s))
            })
        },
    ));
    v.push(S::new(
        "client.resume.chained",
        &["4.11"],
        "connection 3 resumes with the ticket of resumed connection 2, not with the one already used",
        |t| {
            verdict(|| {
                let first = t.first_connection()?;
                let flow = t.resumed_start(&first)?;
                let mut s = t.server_hello(flow, b"")?;
                confirm(&mut s)?;
                let second = t.issue(&mut s, 3600, 120);
                let m = s
                    .expect_message()
                    .map_err(|seen| Verdict::fail("the client's probe message", seen))?;
                s.message(&m);
                let end = graceful_end(&mut s);
                if end.is_fail() {
                    return Ok(end);
                }
                t.end_client();
                let flow = t.resumed_start(&second)?;
                let mut s = t.server_hello(flow, b"")?;
                confirm(&mut s)?;
                let m = s
                    .expect_message()
                    .map_err(|seen| Verdict::fail("the client's probe message", seen))?;
                s.message(&m);
                Ok(graceful_end(&mut s))
            })
        },
    ));
    v.push(S::new(
        "client.resume.single_use",
        &["4.11"],
        "a resumed connection that brings no new ticket: connection 3 runs a full handshake (a ticket is used once)",
        |t| {
            verdict(|| {
                let ticket = t.first_connection()?;
                let flow = t.resumed_start(&ticket)?;
                let mut s = t.server_hello(flow, b"")?;
                confirm(&mut s)?;
                let m = s
                    .expect_message()
                    .map_err(|seen| Verdict::fail("the client's probe message", seen))?;
                s.message(&m);
                let end = graceful_end(&mut s);
                if end.is_fail() {
                    return Ok(end);
                }
                t.end_client();
                t.full_start("the only ticket was used by connection 2")
            })
        },
    ));
    fn refused_case(v: &mut Vec<S>, id: &'static str, title: &'static str, then_third: bool) {
        v.push(S::new(id, &["4.11", "10.1"], title, move |t| {
            verdict(|| {
                let ticket = t.first_connection()?;
                let mut flow = t.resumed_start(&ticket)?;
                let resumed = flow.hello.clone();
                flow.wire
                    .send(&wire::frame(wire::FRAME_RESUME_REFUSED, &[]));
                let full = read_hello(&mut flow.wire, &t.server_public)?;
                full_after_refused(&full, &resumed, &[])?;
                let flow = Flow {
                    wire: flow.wire,
                    hello: full,
                };
                let mut s = t.server_hello(flow, b"")?;
                confirm(&mut s)?;
                let m = s
                    .expect_message()
                    .map_err(|seen| Verdict::fail("the client's probe message", seen))?;
                s.message(&m);
                let end = graceful_end(&mut s);
                if end.is_fail() || !then_third {
                    return Ok(end);
                }
                t.end_client();
                t.full_start("the refused ticket was dropped")
            })
        }));
    }
    refused_case(
        &mut v,
        "client.resume.refused",
        "ResumeRefused: a full ClientHello on the same connection (fresh key, no ticket, no early data), handshake and probe complete",
        false,
    );
    refused_case(
        &mut v,
        "client.resume.refused_drops_ticket",
        "after a ResumeRefused, the next connection runs a full handshake (the ticket was dropped)",
        true,
    );
    fn retry_then_refused(
        v: &mut Vec<S>,
        id: &'static str,
        title: &'static str,
        retry_again: bool,
    ) {
        v.push(S::new(id, &["4.11", "4.5", "10.1"], title, move |t| {
            verdict(|| {
                let ticket = t.first_connection()?;
                let mut flow = t.resumed_start(&ticket)?;
                let first = flow.hello.clone();
                let body = wire::retry_body(first.header.suite, b"resumption-cookie");
                flow.wire.send(&wire::frame(wire::FRAME_RETRY, &body));
                let again = read_hello(&mut flow.wire, &t.server_public)?;
                let h = &again.header;
                let checks = [
                    (h.pattern == RESUME, "pattern 0x03 (still resuming)"),
                    (h.ticket == first.header.ticket, "the same ticket"),
                    (h.retry == body, "the Retry body echoed verbatim"),
                    (h.flags & 1 == 0, "no early data"),
                    (
                        again.msg1[..32] != first.msg1[..32],
                        "a fresh ephemeral key",
                    ),
                ];
                if let Some((_, what)) = checks.iter().find(|(ok, _)| !ok) {
                    return Ok(Verdict::fail(
                        format!(
                            "a resumption ClientHello answering the Retry with {what} (4.11, 4.5)"
                        ),
                        "not so",
                    ));
                }
                flow.wire
                    .send(&wire::frame(wire::FRAME_RESUME_REFUSED, &[]));
                let full = read_hello(&mut flow.wire, &t.server_public)?;
                full_after_refused(&full, &again, &body)?;
                if retry_again {
                    // The one-Retry limit counts the Retry answered before.
                    let body = wire::retry_body(full.header.suite, b"second-cookie");
                    flow.wire.send(&wire::frame(wire::FRAME_RETRY, &body));
                    let seen = Seen::from(flow.wire.read_frame());
                    return Ok(judge(
                        Clear(alert::UNEXPECTED_MESSAGE),
                        seen,
                        &mut flow.wire,
                    ));
                }
                let flow = Flow {
                    wire: flow.wire,
                    hello: full,
                };
                let mut s = t.server_hello(flow, b"")?;
                confirm(&mut s)?;
                let m = s
                    .expect_message()
                    .map_err(|seen| Verdict::fail("the client's probe message", seen))?;
                s.message(&m);
                Ok(graceful_end(&mut s))
            })
        }));
    }
    retry_then_refused(
        &mut v,
        "client.resume.retry_then_refused",
        "a Retry to the resumption ClientHello (resent: same ticket, fresh key, echo), then ResumeRefused: a full ClientHello echoing the same Retry",
        false,
    );
    retry_then_refused(
        &mut v,
        "client.resume.retry_refused_retry",
        "Retry, ResumeRefused, then a second Retry to the full ClientHello: unexpected_message (the one-Retry limit counts the first)",
        true,
    );
    fn resumed_frame(
        v: &mut Vec<S>,
        id: &'static str,
        sections: &'static [&'static str],
        title: &'static str,
        second_refusal: bool,
        frame: fn() -> Vec<u8>,
        expect: Expect,
    ) {
        v.push(S::new(id, sections, title, move |t| {
            verdict(|| {
                let ticket = t.first_connection()?;
                let mut flow = t.resumed_start(&ticket)?;
                if second_refusal {
                    flow.wire
                        .send(&wire::frame(wire::FRAME_RESUME_REFUSED, &[]));
                    read_hello(&mut flow.wire, &t.server_public)?;
                }
                flow.wire.send(&frame());
                let seen = Seen::from(flow.wire.read_frame());
                Ok(judge(expect, seen, &mut flow.wire))
            })
        }));
    }
    resumed_frame(
        &mut v,
        "client.resume.refused_twice",
        &["4.11", "10.1"],
        "a second ResumeRefused (after the full ClientHello): unexpected_message",
        true,
        || wire::frame(wire::FRAME_RESUME_REFUSED, &[]),
        Clear(alert::UNEXPECTED_MESSAGE),
    );
    resumed_frame(
        &mut v,
        "client.resume.refused_overflow",
        &["4.11", "3"],
        "to a resuming client, a ResumeRefused header of length 1: record_overflow before the body",
        false,
        || wire::frame_header(wire::FRAME_RESUME_REFUSED, 1),
        Clear(alert::RECORD_OVERFLOW),
    );
    v.push(S::new(
        "client.resume.server_hello_tampered",
        &["4.11", "4.6"],
        "a resumed ServerHello (NNpsk0 message 2) with a flipped tag byte: decrypt_error",
        |t| {
            verdict(|| {
                let ticket = t.first_connection()?;
                let flow = t.resumed_start(&ticket)?;
                let Flow { mut wire, hello } = flow;
                let (mut hs, _) = t.noise(&hello)?;
                let mut msg = vec![0u8; 65535];
                let n = hs.write_message(b"", &mut msg).expect("message 2");
                msg[n - 1] ^= 1;
                wire.send(&wire::frame(wire::FRAME_SERVER_HELLO, &msg[..n]));
                let seen = Seen::from(wire.read_frame());
                Ok(judge(Clear(alert::DECRYPT_ERROR), seen, &mut wire))
            })
        },
    ));

    // ----- 4.6/4.4/4.7: ServerHello contents -----
    fn sh_case(
        v: &mut Vec<S>,
        id: &'static str,
        sections: &'static [&'static str],
        title: &'static str,
        payload: fn(&Target) -> Vec<u8>,
        edit: fn(&mut Vec<u8>),
        expect: Option<Expect>,
    ) {
        v.push(S::new(id, sections, title, move |t| {
            verdict(|| {
                let flow = t.start()?;
                let Flow { mut wire, hello } = flow;
                let (mut hs, _) = t.noise(&hello)?;
                let mut msg = vec![0u8; 65535];
                let n = hs.write_message(&payload(t), &mut msg).expect("message 2");
                let mut body = msg[..n].to_vec();
                edit(&mut body);
                wire.send(&wire::frame(wire::FRAME_SERVER_HELLO, &body));
                match expect {
                    Some(e) => {
                        let seen = Seen::from(wire.read_frame());
                        Ok(judge(e, seen, &mut wire))
                    }
                    None => {
                        let mut s =
                            Session::from_handshake(wire, &mut hs, hello.header.suite, false);
                        confirm(&mut s)?;
                        let m = s
                            .expect_message()
                            .map_err(|seen| Verdict::fail("the client's probe message", seen))?;
                        s.message(&m);
                        Ok(graceful_end(&mut s))
                    }
                }
            })
        }));
    }
    let none: fn(&Target) -> Vec<u8> = |_| Vec::new();
    sh_case(
        &mut v,
        "client.server_hello.tag_flipped",
        &["4.6"],
        "ServerHello with a flipped tag byte: decrypt_error",
        none,
        |b| {
            let n = b.len();
            b[n - 1] ^= 1
        },
        Some(Clear(alert::DECRYPT_ERROR)),
    );
    sh_case(
        &mut v,
        "client.server_hello.ephemeral_flipped",
        &["4.6"],
        "ServerHello with its ephemeral key's first byte flipped: decrypt_error",
        none,
        |b| b[0] ^= 1,
        Some(Clear(alert::DECRYPT_ERROR)),
    );
    sh_case(
        &mut v,
        "client.server_hello.low_order",
        &["4.7", "4.6"],
        "ServerHello whose ephemeral key is 0 (low-order point): decrypt_error",
        none,
        |b| b[..32].fill(0),
        Some(Clear(alert::DECRYPT_ERROR)),
    );
    sh_case(
        &mut v,
        "client.server_hello.critical_extension",
        &["4.4"],
        "unknown critical extension 0x8001 in the ServerHello: unsupported_extension",
        |_| ext(0x8001, b""),
        |_| {},
        Some(Clear(alert::UNSUPPORTED_EXTENSION)),
    );
    sh_case(
        &mut v,
        "client.server_hello.noncritical_extension",
        &["4.4"],
        "unknown extension 0x0042 (not critical) in the ServerHello: skipped, probe completes",
        |_| ext(0x0042, b"skip"),
        |_| {},
        None,
    );
    sh_case(
        &mut v,
        "client.server_hello.out_of_order",
        &["4.4"],
        "ServerHello extensions 0x0010 then 0x0005: decode_error",
        |_| [ext(0x0010, b""), ext(0x0005, b"")].concat(),
        |_| {},
        Some(Clear(alert::DECODE_ERROR)),
    );
    sh_case(
        &mut v,
        "client.server_hello.length_overrun",
        &["4.4"],
        "ServerHello extension claiming more bytes than it holds: decode_error",
        |_| vec![0x00, 0x42, 0x00, 0x05, 1],
        |_| {},
        Some(Clear(alert::DECODE_ERROR)),
    );
    sh_case(
        &mut v,
        "client.server_hello.status_unsolicited",
        &["4.6", "4.4"],
        "early_data_status although the client sent no early data: illegal_parameter",
        |_| ext(wire::EXT_EARLY_DATA_STATUS, &[1]),
        |_| {},
        Some(Clear(alert::ILLEGAL_PARAMETER)),
    );
    sh_case(
        &mut v,
        "client.two_rules.status_value_unsolicited",
        &["4.4"],
        "unsolicited early_data_status of value 2: the value is checked before the list rule (decode_error)",
        |_| ext(wire::EXT_EARLY_DATA_STATUS, &[2]),
        |_| {},
        Some(Clear(alert::DECODE_ERROR)),
    );
    sh_case(
        &mut v,
        "client.server_hello.timestamp",
        &["4.4"],
        "a timestamp extension (ClientHello only) in the ServerHello: illegal_parameter",
        |_| ext(wire::EXT_TIMESTAMP, &[0; 8]),
        |_| {},
        Some(Clear(alert::ILLEGAL_PARAMETER)),
    );
    sh_case(
        &mut v,
        "client.two_rules.order_then_misplaced",
        &["4.4"],
        "ServerHello extensions 0x0010 then 0x0001 (out of order and not allowed): decode_error",
        |_| [ext(0x0010, b""), ext(wire::EXT_TIMESTAMP, &[0; 8])].concat(),
        |_| {},
        Some(Clear(alert::DECODE_ERROR)),
    );
    sh_case(
        &mut v,
        "client.server_hello.server_keys_33",
        &["4.4"],
        "server_keys of 33 bytes: decode_error",
        |_| ext(wire::EXT_SERVER_KEYS, &[0x42; 33]),
        |_| {},
        Some(Clear(alert::DECODE_ERROR)),
    );
    sh_case(
        &mut v,
        "client.server_hello.server_keys_empty",
        &["4.4"],
        "server_keys of 0 bytes: decode_error",
        |_| ext(wire::EXT_SERVER_KEYS, &[]),
        |_| {},
        Some(Clear(alert::DECODE_ERROR)),
    );
    sh_case(
        &mut v,
        "client.server_hello.server_keys_nine",
        &["4.4"],
        "server_keys with 9 keys (288 bytes, above 256): decode_error",
        |_| ext(wire::EXT_SERVER_KEYS, &[0x42; 288]),
        |_| {},
        Some(Clear(alert::DECODE_ERROR)),
    );
    sh_case(
        &mut v,
        "client.server_hello.server_keys",
        &["4.4"],
        "server_keys announcing the key in use: accepted, probe completes",
        |t| ext(wire::EXT_SERVER_KEYS, &t.server_public),
        |_| {},
        None,
    );
    sh_case(
        &mut v,
        "client.server_hello.at_limit",
        &["3", "11"],
        "ServerHello body of 2048 bytes (at the limit): accepted",
        |_| ext(0x0042, &vec![0; 2048 - 48 - 4]),
        |_| {},
        None,
    );
    sh_case(
        &mut v,
        "client.server_hello.past_limit",
        &["3", "11"],
        "ServerHello body of 2049 bytes, whole: record_overflow",
        |_| ext(0x0042, &vec![0; 2049 - 48 - 4]),
        |_| {},
        Some(Clear(alert::RECORD_OVERFLOW)),
    );

    // ----- after the ServerHello -----
    fn est_case(
        v: &mut Vec<S>,
        id: &'static str,
        sections: &'static [&'static str],
        title: &'static str,
        f: fn(&mut Session, Vec<u8>, usize) -> Step<Verdict>,
    ) {
        v.push(S::new(id, sections, title, move |t| {
            let max = t.max_message;
            verdict(|| {
                let (mut s, m) = t.established()?;
                f(&mut s, m, max)
            })
        }));
    }
    est_case(
        &mut v,
        "client.record.confirm_from_server",
        &["4.10", "10.1"],
        "a confirm record from the server: unexpected_message",
        |s, _, _| {
            s.record(wire::CT_CONFIRM, b"");
            Ok(then(s, Protected(alert::UNEXPECTED_MESSAGE)))
        },
    );
    est_case(
        &mut v,
        "client.record.bad_tag",
        &["6.1"],
        "a record with a flipped tag byte: bad_record_mac",
        |s, _, _| {
            let mut r = s.seal(wire::CT_MESSAGE_END, b"reply");
            let n = r.len();
            r[n - 1] ^= 1;
            s.wire.send(&r);
            Ok(then(s, Protected(alert::BAD_RECORD_MAC)))
        },
    );
    est_case(
        &mut v,
        "client.record.too_short",
        &["6.1"],
        "a record body of 15 bytes: bad_record_mac",
        |s, _, _| {
            s.wire.send(&wire::frame(wire::FRAME_RECORD, &[0x42; 15]));
            Ok(then(s, Protected(alert::BAD_RECORD_MAC)))
        },
    );
    fn inner_case(
        v: &mut Vec<S>,
        id: &'static str,
        sections: &'static [&'static str],
        title: &'static str,
        inner: fn() -> Vec<u8>,
        expect: Expect,
    ) {
        v.push(S::new(id, sections, title, move |t| {
            verdict(|| {
                let (mut s, _) = t.established()?;
                let r = s.send.seal_inner(&inner());
                s.wire.send(&r);
                Ok(then(&mut s, expect))
            })
        }));
    }
    inner_case(
        &mut v,
        "client.record.unknown_content_type",
        &["6.1", "6.2"],
        "a record of content type 0x09: unexpected_message",
        || vec![1, 0x09],
        Protected(alert::UNEXPECTED_MESSAGE),
    );
    inner_case(
        &mut v,
        "client.record.all_zero_inner",
        &["6.1"],
        "an all-zero inner plaintext: unexpected_message",
        || vec![0; 8],
        Protected(alert::UNEXPECTED_MESSAGE),
    );
    inner_case(
        &mut v,
        "client.record.empty_continuation",
        &["6.2"],
        "an empty message_continues: decode_error",
        || vec![wire::CT_MESSAGE_CONTINUES],
        Protected(alert::DECODE_ERROR),
    );
    inner_case(
        &mut v,
        "client.record.key_update_value",
        &["6.2", "8"],
        "a key_update with payload 0x02: decode_error",
        || vec![2, wire::CT_KEY_UPDATE],
        Protected(alert::DECODE_ERROR),
    );
    inner_case(
        &mut v,
        "client.record.ping_65",
        &["6.2", "11"],
        "a ping of 65 bytes: decode_error",
        || [vec![7; 65], vec![wire::CT_PING]].concat(),
        Protected(alert::DECODE_ERROR),
    );
    inner_case(
        &mut v,
        "client.record.pong_65",
        &["6.2", "11"],
        "a pong of 65 bytes: decode_error",
        || [vec![7; 65], vec![wire::CT_PONG]].concat(),
        Protected(alert::DECODE_ERROR),
    );
    inner_case(
        &mut v,
        "client.record.alert_two_bytes",
        &["6.2", "9.1"],
        "an alert record with a 2-byte payload: decode_error",
        || vec![0, 0, wire::CT_ALERT],
        Protected(alert::DECODE_ERROR),
    );
    inner_case(
        &mut v,
        "client.record.alert_fatal",
        &["9.1", "4.8"],
        "a protected fatal alert (internal_error): nothing sent, close",
        || vec![alert::INTERNAL_ERROR, wire::CT_ALERT],
        Silence,
    );
    est_case(
        &mut v,
        "client.record.overflow_header",
        &["3", "6.1", "11"],
        "a record header of length 16402: record_overflow before the body",
        |s, _, _| {
            s.wire.send(&wire::frame_header(wire::FRAME_RECORD, 16402));
            Ok(then(s, Protected(alert::RECORD_OVERFLOW)))
        },
    );
    est_case(
        &mut v,
        "client.record.cleartext_alert",
        &["4.8", "10.1"],
        "Established + cleartext alert frame: nothing sent (never answer an alert), close",
        |s, _, _| {
            s.wire.send(&wire::alert_frame(alert::DECRYPT_ERROR));
            Ok(then(s, Silence))
        },
    );
    est_case(
        &mut v,
        "client.record.server_hello_frame",
        &["10.1"],
        "Established + ServerHello frame: unexpected_message",
        |s, _, _| {
            s.wire
                .send(&wire::frame(wire::FRAME_SERVER_HELLO, &[0x42; 48]));
            Ok(then(s, Protected(alert::UNEXPECTED_MESSAGE)))
        },
    );
    est_case(
        &mut v,
        "client.ping.pong",
        &["6.2", "11"],
        "a 64-byte ping before the reply: a pong with the same payload",
        |s, m, _| {
            let p: Vec<u8> = (100..164).collect();
            s.record(wire::CT_PING, &p);
            s.message(&m);
            let end = graceful_end(s);
            if end.is_fail() {
                return Ok(end);
            }
            if s.pongs_seen != vec![p] {
                return Ok(Verdict::fail(
                    "one pong echoing the ping",
                    format!("{} pong(s)", s.pongs_seen.len()),
                ));
            }
            Ok(end)
        },
    );
    est_case(
        &mut v,
        "client.key_update.requested",
        &["8"],
        "key_update (requested) before the reply: the client updates too (key_update 0x00)",
        |s, m, _| {
            s.key_update(true);
            s.message(&m);
            let end = graceful_end(s);
            if end.is_fail() {
                return Ok(end);
            }
            if s.key_updates_seen != vec![0] {
                return Ok(Verdict::fail(
                    "exactly one key_update (update_not_requested) from the client",
                    format!("{:?}", s.key_updates_seen),
                ));
            }
            Ok(end)
        },
    );
    est_case(
        &mut v,
        "client.key_update.coalesced",
        &["8"],
        "three key_update requests in a row: answered once",
        |s, m, _| {
            s.key_update(true);
            s.key_update(true);
            s.key_update(true);
            s.message(&m);
            let end = graceful_end(s);
            if end.is_fail() {
                return Ok(end);
            }
            if s.key_updates_seen != vec![0] {
                return Ok(Verdict::fail(
                    "exactly one key_update (coalesced)",
                    format!("{:?}", s.key_updates_seen),
                ));
            }
            Ok(end)
        },
    );
    est_case(
        &mut v,
        "client.message.controls_between_fragments",
        &["7", "6.2", "8"],
        "the reply in fragments with ping, key_update and pong between them: accepted",
        |s, _, _| {
            s.record(wire::CT_MESSAGE_CONTINUES, &[0x41; 16000]);
            s.record(wire::CT_PING, b"p");
            s.record(wire::CT_MESSAGE_CONTINUES, b"b");
            s.key_update(false);
            s.record(wire::CT_PONG, b"unasked");
            s.record(wire::CT_MESSAGE_END, b"c");
            let end = graceful_end(s);
            if end.is_fail() {
                return Ok(end);
            }
            if s.pongs_seen != vec![b"p".to_vec()] {
                return Ok(Verdict::fail(
                    "a pong for the ping",
                    format!("{} pong(s)", s.pongs_seen.len()),
                ));
            }
            Ok(end)
        },
    );
    est_case(
        &mut v,
        "client.message.max_size",
        &["7", "11"],
        "a reply of the maximum size (1 MiB by default): accepted",
        |s, _, max| {
            s.message(&vec![0x6d; max]);
            Ok(graceful_end(s))
        },
    );
    est_case(
        &mut v,
        "client.message.too_large",
        &["7", "11", "9.1"],
        "a reply one byte past the maximum: message_too_large",
        |s, _, max| {
            s.message(&vec![0x6d; max + 1]);
            Ok(then(s, Protected(alert::MESSAGE_TOO_LARGE)))
        },
    );
    est_case(
        &mut v,
        "client.message.empty",
        &["7"],
        "an empty reply: accepted",
        |s, _, _| {
            s.message(b"");
            Ok(graceful_end(s))
        },
    );
    est_case(
        &mut v,
        "client.message.close_inside_message",
        &["7", "9.2"],
        "close_notify after a message_continues: unexpected_message",
        |s, _, _| {
            s.record(wire::CT_MESSAGE_CONTINUES, b"half");
            s.close_notify();
            Ok(then(s, Protected(alert::UNEXPECTED_MESSAGE)))
        },
    );
    est_case(
        &mut v,
        "client.close.server_first",
        &["9.2"],
        "the server's close_notify instead of the reply: reported, never answered with an alert",
        |s, _, _| {
            s.close_notify();
            loop {
                match s.observe() {
                    Seen::Alert(0) | Seen::Eof { partial: 0 } | Seen::Reset => {
                        return Ok(Verdict::pass());
                    }
                    Seen::Message(_) => continue,
                    other => {
                        return Ok(Verdict::fail(
                            "no alert (close_notify or a plain close)",
                            other,
                        ));
                    }
                }
            }
        },
    );
    v.push(S::new(
        "client.confirm.half_rtt",
        &["4.3", "4.10"],
        "the reply sent with the ServerHello (0.5-RTT, before the confirm): accepted",
        |t| {
            verdict(|| {
                let flow = t.start()?;
                let mut s = t.server_hello(flow, b"")?;
                s.message(b"0.5-RTT reply");
                confirm(&mut s)?;
                s.expect_message()
                    .map_err(|seen| Verdict::fail("the client's probe message", seen))?;
                Ok(graceful_end(&mut s))
            })
        },
    ));
    v.push(S::new("client.early.status_missing", &["4.6", "4.9"], "a ServerHello without early_data_status to a client that sent early data: illegal_parameter", |t| {
        verdict(|| {
            let flow = t.start()?;
            if flow.hello.header.flags & 1 == 0 {
                let mut wire = flow.wire;
                wire.send(&wire::alert_frame(alert::HANDSHAKE_FAILURE));
                return Ok(Verdict::skip("not applicable: the client did not offer early data"));
            }
            let mut s = t.server_hello(flow, b"")?;
            let seen = Seen::from(s.wire.read_frame());
            Ok(judge(Clear(alert::ILLEGAL_PARAMETER), seen, &mut s.wire))
        })
    }));
    v
}
