//! The tester catches deviations: lwsec peers made to deviate by a
//! frame-aware proxy (and one client built on the tester's own codec), each
//! of which must fail exactly the scenarios that check the rule it breaks,
//! and pass the others.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::*;
use lwsec_conformance::Verdict;
use lwsec_conformance::client_mode::{Launcher, Running};
use lwsec_conformance::net::{Got, Seen, Session, Wire};
use lwsec_conformance::server_mode::Hello;
use lwsec_conformance::wire::{self, AES, CHACHA, Header, NK};

fn frame(ty: u8, body: &[u8]) -> Vec<u8> {
    [
        vec![ty],
        (body.len() as u16).to_be_bytes().to_vec(),
        body.to_vec(),
    ]
    .concat()
}

fn pass(frame: Vec<u8>) -> Action {
    Action {
        forward: frame,
        back: Vec::new(),
    }
}

/// A server that sends the wrong alert for an unsupported version:
/// decode_error (50) instead of protocol_version (70).
struct WrongVersionAlert;
impl Deviation for WrongVersionAlert {
    fn hold(&self, dir: Dir, ty: u8, len: usize) -> bool {
        dir == Dir::Down && ty == 0x15 && len == 1
    }
    fn frame(&self, _: Dir, _: usize, f: Vec<u8>) -> Action {
        pass(if f[3] == 70 { frame(0x15, &[50]) } else { f })
    }
}

/// A server that answers a cleartext alert with an alert of its own
/// (unexpected_message), which section 4.8 forbids.
struct AnswersAlerts;
impl Deviation for AnswersAlerts {
    fn hold(&self, dir: Dir, ty: u8, len: usize) -> bool {
        dir == Dir::Up && ty == 0x15 && len == 1
    }
    fn frame(&self, _: Dir, _: usize, f: Vec<u8>) -> Action {
        Action {
            forward: f,
            back: frame(0x15, &[10]),
        }
    }
}

/// A server that skips the reserved-flags check of section 4.3 step 1:
/// reserved bits are cleared before the ClientHello reaches lwsec, so the
/// flight fails later, on the prologue (decrypt_error), not on the flags.
struct IgnoresReservedFlags;
impl Deviation for IgnoresReservedFlags {
    fn hold(&self, dir: Dir, ty: u8, len: usize) -> bool {
        dir == Dir::Up && ty == 0x01 && len <= 10240
    }
    fn frame(&self, _: Dir, _: usize, mut f: Vec<u8>) -> Action {
        // frame header 3, magic 2, version, pattern, suite, n_suites
        if f.len() > 8 && &f[3..5] == b"lw" {
            let n = usize::from(f[8]);
            let flags = 3 + 6 + n + 8;
            if flags < f.len() {
                f[flags] &= 0x01;
            }
        }
        pass(f)
    }
}

/// A client that answers the server's cleartext alerts (section 4.8).
struct ClientAnswersAlerts;
impl Deviation for ClientAnswersAlerts {
    fn hold(&self, dir: Dir, ty: u8, len: usize) -> bool {
        dir == Dir::Down && ty == 0x15 && len == 1
    }
    fn frame(&self, _: Dir, _: usize, f: Vec<u8>) -> Action {
        Action {
            forward: f,
            back: frame(0x15, &[10]),
        }
    }
}

/// A client that never sends its key confirmation (section 4.10): its
/// first record is dropped on the way.
struct NoConfirm;
impl Deviation for NoConfirm {
    fn hold(&self, dir: Dir, ty: u8, _: usize) -> bool {
        dir == Dir::Up && ty == 0x17
    }
    fn frame(&self, _: Dir, n: usize, f: Vec<u8>) -> Action {
        pass(if n == 0 { Vec::new() } else { f })
    }
}

/// A server that fails where it should refuse a ticket: a cleartext
/// handshake_failure instead of the ResumeRefused frame (section 4.11).
struct ResumeRefusedAsAlert;
impl Deviation for ResumeRefusedAsAlert {
    fn hold(&self, dir: Dir, ty: u8, len: usize) -> bool {
        dir == Dir::Down && ty == 0x04 && len == 0
    }
    fn frame(&self, _: Dir, _: usize, _: Vec<u8>) -> Action {
        pass(frame(0x15, &[40]))
    }
}

/// A client that ignores ResumeRefused (section 4.11): the frame never
/// reaches it, as if it had skipped it.
struct IgnoresResumeRefused;
impl Deviation for IgnoresResumeRefused {
    fn hold(&self, dir: Dir, ty: u8, len: usize) -> bool {
        dir == Dir::Down && ty == 0x04 && len == 0
    }
    fn frame(&self, _: Dir, _: usize, _: Vec<u8>) -> Action {
        pass(Vec::new())
    }
}

/// A client, on the tester's own codec, that takes every ticket record
/// without a check (a second one, lifetime 0, an empty or an oversized
/// ticket): section 4.11 says it must fail.
struct AcceptsAnyTicket;
impl Launcher for AcceptsAnyTicket {
    fn launch(&self, addr: SocketAddr, key_file: &Path, _: &Path) -> Box<dyn Running> {
        let server = wire::read_key_file(key_file, "lwsec-public-v1:").unwrap();
        Box::new(Thread(Some(thread::spawn(move || {
            let _ = lax_probe(addr, server);
        }))))
    }
}

/// The probe protocol over NK; ticket records are kept aside unread.
fn lax_probe(addr: SocketAddr, server: [u8; 32]) -> Option<()> {
    let mut wire = Wire::new(TcpStream::connect(addr).ok()?, Duration::from_secs(3));
    let hello = Hello {
        header: Header::new(NK, AES, &[AES, CHACHA], &server),
        payload: Vec::new(),
        static_key: None,
        ephemeral: None,
        psk: None,
    };
    let (bytes, mut hs) = hello.build(&server);
    wire.send(&bytes);
    let Got::Frame(wire::FRAME_SERVER_HELLO, body) = wire.read_frame() else {
        return None;
    };
    let mut payload = vec![0u8; body.len()];
    hs.read_message(&body, &mut payload).ok()?;
    let mut s = Session::from_handshake(wire, &mut hs, AES, true);
    s.record(wire::CT_CONFIRM, b"");
    s.message(b"probe");
    let Seen::Message(_) = s.observe() else {
        return None;
    };
    s.close_notify();
    Some(())
}

fn run_deviant_server(d: Arc<dyn Deviation>) -> Vec<lwsec_conformance::Outcome> {
    let server = start_server(ServerSetup {
        tickets: true,
        ..Default::default()
    });
    let proxy = start_proxy(server, d);
    let mut t = server_target(proxy);
    let out = lwsec_conformance::run_server(&mut t, &[]);
    print(&out);
    out
}

fn run_deviant_client(d: Arc<dyn Deviation>) -> Vec<lwsec_conformance::Outcome> {
    let via: Arc<dyn Fn(std::net::SocketAddr) -> std::net::SocketAddr + Send + Sync> = {
        let proxy = std::sync::Mutex::new(None);
        Arc::new(move |tester| {
            *proxy
                .lock()
                .unwrap()
                .get_or_insert_with(|| start_proxy(tester, d.clone()))
        })
    };
    let mut t = client_target(Box::new(LwsecClient {
        via: Some(via),
        resumes: true,
    }));
    let out = lwsec_conformance::run_client(&mut t, &[]);
    print(&out);
    out
}

#[test]
fn server_with_the_wrong_alert_code() {
    let out = run_deviant_server(Arc::new(WrongVersionAlert));
    assert_eq!(
        failed(&out),
        [
            "server.hello.version",
            "server.two_rules.version_and_structure"
        ]
    );
    let v = &out
        .iter()
        .find(|o| o.id == "server.hello.version")
        .unwrap()
        .verdict;
    assert_eq!(
        *v,
        Verdict::fail(
            "cleartext alert protocol_version(70), then close",
            "cleartext alert decode_error(50)"
        )
    );
}

#[test]
fn server_that_answers_alerts() {
    let out = run_deviant_server(Arc::new(AnswersAlerts));
    assert_eq!(
        failed(&out),
        [
            "server.frame.alert_before_hello",
            "server.confirm.cleartext_alert",
            "server.record.cleartext_alert"
        ]
    );
}

#[test]
fn server_that_skips_the_reserved_flags_check() {
    let out = run_deviant_server(Arc::new(IgnoresReservedFlags));
    assert_eq!(failed(&out), ["server.hello.reserved_flag"]);
}

#[test]
fn client_that_answers_alerts() {
    let out = run_deviant_client(Arc::new(ClientAnswersAlerts));
    assert_eq!(
        failed(&out),
        ["client.alert.not_answered", "client.record.cleartext_alert"]
    );
}

#[test]
fn client_that_never_confirms() {
    let out = run_deviant_client(Arc::new(NoConfirm));
    let failed = failed(&out);
    assert!(failed.contains(&"client.handshake.probe".to_string()));
    // Every failure is the missing confirm; scenarios that end before the
    // ServerHello still pass.
    for o in out.iter().filter(|o| o.verdict.is_fail()) {
        let Verdict::Fail { expected, .. } = &o.verdict else {
            unreachable!()
        };
        assert_eq!(
            expected, "the client's confirm record first (4.10)",
            "{}",
            o.id
        );
    }
    for id in [
        "client.retry.second",
        "client.retry.cookie_65",
        "client.server_hello.tag_flipped",
        "client.alert.not_answered",
    ] {
        assert!(!failed.contains(&id.to_string()), "{id} should pass");
    }
}

#[test]
fn server_that_fails_instead_of_refusing_a_ticket() {
    let out = run_deviant_server(Arc::new(ResumeRefusedAsAlert));
    assert_eq!(
        failed(&out),
        [
            "server.resume.forged_ticket",
            "server.resume.flipped_bit",
            "server.resume.unknown_key_id",
            "server.resume.stateless",
            "server.resume.ticket_1",
            "server.resume.ticket_1024",
            "server.two_rules.ticket_and_cookie",
            "server.two_rules.ticket_and_retry_suite"
        ]
    );
    let v = &out
        .iter()
        .find(|o| o.id == "server.resume.flipped_bit")
        .unwrap()
        .verdict;
    assert_eq!(
        *v,
        Verdict::fail(
            "an empty ResumeRefused frame (04 0000)",
            "cleartext alert handshake_failure(40)"
        )
    );
}

#[test]
fn client_that_ignores_resume_refused() {
    // Only section 4.11, with a short deadline: the client waits for a
    // frame that never comes, so each failure costs the deadline.
    let d: Arc<dyn Deviation> = Arc::new(IgnoresResumeRefused);
    let proxy = std::sync::Mutex::new(None);
    let via: Arc<dyn Fn(SocketAddr) -> SocketAddr + Send + Sync> = Arc::new(move |tester| {
        *proxy
            .lock()
            .unwrap()
            .get_or_insert_with(|| start_proxy(tester, d.clone()))
    });
    let mut t = client_target(Box::new(LwsecClient {
        via: Some(via),
        resumes: true,
    }));
    t.timeout = Duration::from_millis(1500);
    let out = lwsec_conformance::run_client(&mut t, &["4.11".to_string()]);
    print(&out);
    assert_eq!(
        failed(&out),
        [
            "client.resume.refused_not_resuming",
            "client.resume.refused",
            "client.resume.refused_drops_ticket",
            "client.resume.retry_then_refused",
            "client.resume.retry_refused_retry",
            "client.resume.refused_twice"
        ]
    );
    // Resuming, and the frame's length check, still pass.
    for id in ["client.resume.accepted", "client.resume.refused_overflow"] {
        assert!(!failed(&out).contains(&id.to_string()), "{id} should pass");
    }
}

#[test]
fn client_that_accepts_any_ticket() {
    let mut t = client_target(Box::new(AcceptsAnyTicket));
    t.timeout = Duration::from_millis(1000);
    let out = lwsec_conformance::run_client(&mut t, &["client.ticket".to_string()]);
    print(&out);
    // Well-formed tickets pass; every rule of section 4.11 on the ticket
    // record fails.
    assert_eq!(
        failed(&out),
        [
            "client.ticket.second",
            "client.ticket.lifetime_zero",
            "client.ticket.lifetime_604801",
            "client.ticket.empty",
            "client.ticket.short",
            "client.ticket.ticket_1025"
        ]
    );
    assert_eq!(out.len(), 8);
}
