//! The `lwsec` binary, run as the README's walk-through runs it: keygen
//! (refusal to overwrite, `--force`, mode 0600), pubkey, serve + connect
//! (echo, relay, IK with an allow list, key rotation, graceful shutdown by
//! SIGTERM), ticketkeys + serve --ticket-keys + connect --ticket
//! (resumption across two servers, SIGHUP reload, fallback), bench with
//! `--json`, and the exit codes.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

fn lwsec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lwsec"))
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lwsec-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    lwsec().current_dir(dir).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn keygen(dir: &Path, name: &str) -> String {
    let out = run(dir, &["keygen", "--out", name]);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Lines a child writes to a pipe, as they come.
fn lines(pipe: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle`; returns it and everything before.
fn wait_for(rx: &Receiver<String>, needle: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
            Err(_) => panic!("no line with `{needle}`; saw:\n{}", seen.join("\n")),
        }
    }
}

/// Everything left on `rx` (the child has exited).
fn rest(rx: &Receiver<String>, seen: &mut Vec<String>) -> String {
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        seen.push(line);
    }
    seen.join("\n")
}

fn wait_exit(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().expect("exited, not killed by a signal");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not exit in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `lwsec serve`, its port and its stderr lines.
struct Server {
    child: Child,
    port: u16,
    log: Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let mut child = lwsec()
            .current_dir(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = lines(child.stderr.take().unwrap());
        let mut seen = Vec::new();
        let line = wait_for(&log, "listening on", &mut seen);
        let port = line
            .split("listening on 127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in `{line}`"));
        Self {
            child,
            port,
            log,
            seen,
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn wait_log(&mut self, needle: &str) -> String {
        wait_for(&self.log, needle, &mut self.seen)
    }

    /// Sends `sig` (`-HUP`...) to the server.
    fn signal(&self, sig: &str) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args([sig, &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// SIGTERM, then the exit code and the whole log.
    fn terminate(mut self) -> (i32, String) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let code = wait_exit(&mut self.child);
        (code, rest(&self.log, &mut self.seen))
    }
}

/// A running `lwsec connect` with its stdin open.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Receiver<String>,
    err: Receiver<String>,
    seen_out: Vec<String>,
    seen_err: Vec<String>,
}

impl Client {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let mut child = lwsec()
            .current_dir(dir)
            .arg("connect")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let out = lines(child.stdout.take().unwrap());
        let err = lines(child.stderr.take().unwrap());
        Self {
            child,
            stdin,
            out,
            err,
            seen_out: Vec::new(),
            seen_err: Vec::new(),
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn expect_out(&mut self, needle: &str) -> String {
        wait_for(&self.out, needle, &mut self.seen_out)
    }

    fn expect_err(&mut self, needle: &str) -> String {
        wait_for(&self.err, needle, &mut self.seen_err)
    }

    /// Closes stdin (end of input) unless already closed, then the exit
    /// code and stderr.
    fn finish(mut self) -> (i32, String) {
        drop(self.stdin.take());
        let code = wait_exit(&mut self.child);
        (code, rest(&self.err, &mut self.seen_err))
    }
}

#[test]
fn keygen_writes_name_key_and_name_pub_refuses_to_overwrite_and_pubkey_prints() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("keygen");
    // `--out prod.server` keeps its dot: prod.server.key, not prod.key.
    let public = keygen(&dir, "prod.server");
    assert!(public.starts_with("lwsec-public-v1:"), "{public}");
    let key = dir.join("prod.server.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the secret key is private");
    assert_eq!(
        std::fs::read_to_string(dir.join("prod.server.pub"))
            .unwrap()
            .trim(),
        public
    );
    assert!(!dir.join("prod.key").exists());

    let out = run(&dir, &["pubkey", "prod.server.key"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), public);

    // No overwrite without --force; nothing changed.
    let out = run(&dir, &["keygen", "--out", "prod.server"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("prod.server.key already exists") && stderr(&out).contains("--force"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&run(&dir, &["pubkey", "prod.server.key"]).stdout).trim(),
        public
    );
    // Only the .pub exists: still refused, and the .key is not written.
    std::fs::write(dir.join("other.pub"), "x").unwrap();
    let out = run(&dir, &["keygen", "--out", "other"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(!dir.join("other.key").exists());
    // --force replaces both.
    let out = run(&dir, &["keygen", "--out", "prod.server", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let replaced = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_ne!(replaced, public);
    assert_eq!(
        String::from_utf8_lossy(&run(&dir, &["pubkey", "prod.server.key"]).stdout).trim(),
        replaced
    );
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // No temporary file left behind.
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["other.pub", "prod.server.key", "prod.server.pub"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_name_the_file_and_say_what_to_do_with_documented_exit_codes() {
    let dir = scratch("errors");
    let out = run(&dir, &["pubkey", "server.key"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out).trim(),
        "lwsec: error: server.key: no such file; create it with `lwsec keygen --out server`"
    );
    keygen(&dir, "server");
    let out = run(&dir, &["pubkey", "server.pub"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("server.pub: not an lwsec secret key: this is a public key"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &dir,
        &["connect", "127.0.0.1:1", "--server-key", "nope.pub"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("nope.pub: no such file"),
        "{}",
        stderr(&out)
    );
    // Usage errors: clap's and ours.
    assert_eq!(run(&dir, &["serve", "--bogus"]).status.code(), Some(2));
    assert_eq!(
        run(&dir, &["keygen", "--out", "server.key"]).status.code(),
        Some(2)
    );
    let out = run(
        &dir,
        &["serve", "--allow", "server.pub", "--patterns", "nk,ik"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("drop nk from --patterns"));
    // Network: nothing listens on port 1.
    let out = run(
        &dir,
        &["connect", "127.0.0.1:1", "--server-key", "server.pub"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot connect to 127.0.0.1:1"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn serve_and_connect_echo_then_graceful_shutdown_on_sigterm() {
    let dir = scratch("echo");
    keygen(&dir, "server");
    let mut server = Server::start(&dir, &["--key", "server.key"]);
    let addr = server.addr();

    // A piped client: two lines, end of input, a clean close.
    let out = lwsec()
        .current_dir(&dir)
        .args(["connect", &addr, "--server-key", "server.pub", "--ping"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b"one\ntwo\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one\ntwo\n");
    assert!(stderr(&out).contains("NK AES-256-GCM"), "{}", stderr(&out));
    server.wait_log("closed by the peer after 2 message(s)");

    // An interactive client stays connected; the server is stopped under it.
    let mut client = Client::start(
        &dir,
        &[&addr, "--server-key", "server.pub", "--suite", "chacha"],
    );
    client.expect_err("connected to");
    client.send("hello");
    client.expect_out("hello");
    server.wait_log("accepted: NK ChaCha20-Poly1305, anonymous");
    let (code, log) = server.terminate();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("SIGTERM: shutting down"), "{log}");
    assert!(
        log.contains("closed (shutdown) after 1 message(s)"),
        "{log}"
    );
    assert!(
        log.contains("shut down cleanly (2 connection(s) closed cleanly"),
        "{log}"
    );
    // The client saw close_notify: a clean close, exit 0.
    client.expect_err("the server closed the connection");
    let (code, err) = client.finish();
    assert_eq!(code, 0, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn relay_with_allowed_ik_devices_and_announced_keys() {
    let dir = scratch("relay");
    keygen(&dir, "old");
    let new_key = keygen(&dir, "new");
    let alice = keygen(&dir, "alice");
    keygen(&dir, "bob");
    keygen(&dir, "eve");
    let allowed = format!(
        "{alice}\n{}",
        std::fs::read_to_string(dir.join("bob.pub")).unwrap()
    );
    std::fs::write(dir.join("allowed"), allowed).unwrap();
    std::fs::copy(dir.join("old.pub"), dir.join("pins")).unwrap();
    let mut server = Server::start(
        &dir,
        &[
            "--key",
            "new.key",
            "--key",
            "old.key",
            "--announce",
            "new.pub",
            "--mode",
            "relay",
            "--allow",
            "allowed",
        ],
    );
    let addr = server.addr();

    // Alice pins the old key: she connects, and her pins move to the new one.
    let mut a = Client::start(
        &dir,
        &[&addr, "--server-key", "pins", "--device-key", "alice.key"],
    );
    a.expect_err("connected to");
    a.expect_err("pins updated in pins");
    let pins = std::fs::read_to_string(dir.join("pins")).unwrap();
    assert_eq!(
        pins.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        [new_key.as_str()]
    );
    let mut b = Client::start(
        &dir,
        &[&addr, "--server-key", "new.pub", "--device-key", "bob.key"],
    );
    b.expect_err("connected to");
    server.wait_log("accepted: IK");
    server.wait_log("accepted: IK");
    b.send("hi from bob");
    a.expect_out("hi from bob");
    // Eve is not in the allow list; NK is not accepted.
    let out = run(
        &dir,
        &[
            "connect",
            &addr,
            "--server-key",
            "new.pub",
            "--device-key",
            "eve.key",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--allow"), "{}", stderr(&out));
    let out = run(&dir, &["connect", &addr, "--server-key", "new.pub"]);
    assert_eq!(out.status.code(), Some(1));
    let (code, err) = a.finish();
    assert_eq!(code, 0, "{err}");
    let (code, err) = b.finish();
    assert_eq!(code, 0, "{err}");
    let (code, log) = server.terminate();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("failed: handshake: client refused"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_prints_json_and_a_table() {
    let dir = scratch("bench");
    let out = run(
        &dir,
        &[
            "bench",
            "--seconds",
            "0.005",
            "--json",
            "--sizes",
            "64,16384",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = report["records"].as_array().unwrap();
    let providers = if cfg!(feature = "aws-lc") { 2 } else { 1 };
    assert_eq!(records.len(), providers * 2 * 2);
    for r in records {
        assert!(r["messages_per_second"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["microseconds_per_message"].as_f64().unwrap() > 0.0, "{r}");
        let suite = r["suite"].as_str().unwrap();
        assert!(["AES-256-GCM", "ChaCha20-Poly1305"].contains(&suite));
    }
    let handshakes = report["handshakes"].as_array().unwrap();
    assert_eq!(handshakes.len(), providers * 2 * 2);
    assert!(handshakes.iter().any(|h| h["pattern"] == "NK"));
    assert!(handshakes.iter().any(|h| h["pattern"] == "IK"));
    for h in handshakes {
        let both = h["handshakes_per_second"].as_f64().unwrap();
        let server = h["server_handshakes_per_second"].as_f64().unwrap();
        assert!(both > 0.0 && server > both, "{h}");
    }
    let suite = report["recommendation"]["suite"].as_str().unwrap();
    assert!(["AES-256-GCM", "ChaCha20-Poly1305"].contains(&suite));

    let out = run(
        &dir,
        &[
            "bench",
            "--seconds",
            "0.005",
            "--only",
            "records",
            "--sizes",
            "64",
            "--suites",
            "chacha",
            "--providers",
            "rust-crypto",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("rust-crypto  ChaCha20-Poly1305"), "{table}");
    assert!(table.contains("Recommendation for this CPU:"), "{table}");
    assert_eq!(
        run(&dir, &["bench", "--seconds", "0"]).status.code(),
        Some(2)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// One `lwsec connect` run that sends `line` and reads its echo.
fn connect_once(dir: &Path, addr: &str, extra: &[&str], line: &str) -> Output {
    let out = lwsec()
        .current_dir(dir)
        .args(["connect", addr, "--server-key", "server.pub"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("{line}\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{line}\n"));
    out
}

#[test]
fn ticketkeys_shared_by_two_servers_resume_a_stored_ticket_reload_on_sighup_and_fall_back() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("tickets");
    keygen(&dir, "server");
    keygen(&dir, "device");
    let out = run(&dir, &["ticketkeys", "--out", "fleet.keys"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first_id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(first_id.len(), 8, "{first_id}");
    let mode = std::fs::metadata(dir.join("fleet.keys"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let out = run(&dir, &["ticketkeys", "--out", "fleet.keys"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let out = run(&dir, &["ticketkeys"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(
        &dir,
        &[
            "serve",
            "--key",
            "server.key",
            "--ticket-keys",
            "server.pub",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("server.pub: not an lwsec ticket-key file"),
        "{}",
        stderr(&out)
    );

    let fleet = ["--key", "server.key", "--ticket-keys", "fleet.keys"];
    let mut a = Server::start(&dir, &fleet);
    let mut b = Server::start(&dir, &fleet);
    a.wait_log(&format!(
        "resumption on: ticket keys from fleet.keys (current {first_id})"
    ));
    let client = ["--device-key", "device.key", "--ticket", "client.ticket"];

    // No ticket yet: a full handshake on A, and the ticket A sends is stored.
    let out = connect_once(&dir, &a.addr(), &client, "one");
    let err = stderr(&out);
    assert!(
        err.contains("connected to") && !err.contains("resumed"),
        "{err}"
    );
    assert!(
        err.contains("stored a resumption ticket in client.ticket"),
        "{err}"
    );
    let ticket = dir.join("client.ticket");
    let mode = std::fs::metadata(&ticket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(&ticket)
            .unwrap()
            .contains("lwsec-resumption-ticket-v1:")
    );

    // Resumed on B with A's ticket; B's ticket replaces it.
    let before = std::fs::read(&ticket).unwrap();
    let out = connect_once(&dir, &b.addr(), &client, "two");
    let err = stderr(&out);
    assert!(err.contains("resumed (IK)"), "{err}");
    assert!(err.contains("stored a resumption ticket"), "{err}");
    assert_ne!(std::fs::read(&ticket).unwrap(), before, "a new ticket");
    b.wait_log("resumed");

    // Rotation: the file is rotated, A reloads it on SIGHUP and still
    // accepts B's ticket (sealed with what is now the previous key).
    let out = run(&dir, &["ticketkeys", "--rotate", "fleet.keys"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let new_id = String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    assert_ne!(new_id, first_id);
    assert!(
        stderr(&out).contains(&format!("previous {first_id}")),
        "{}",
        stderr(&out)
    );
    a.signal("-HUP");
    a.wait_log(&format!(
        "ticket keys reloaded from fleet.keys (current {new_id}, 2 key(s))"
    ));
    let out = connect_once(&dir, &a.addr(), &client, "three");
    assert!(stderr(&out).contains("resumed (IK)"), "{}", stderr(&out));

    // A server with other ticket keys refuses the ticket: full handshake on
    // the same connection, and its own ticket is stored.
    assert!(
        run(&dir, &["ticketkeys", "--out", "other.keys"])
            .status
            .success()
    );
    let mut c = Server::start(
        &dir,
        &["--key", "server.key", "--ticket-keys", "other.keys"],
    );
    let out = connect_once(&dir, &c.addr(), &client, "four");
    let err = stderr(&out);
    assert!(
        err.contains("the server refused the ticket: full handshake"),
        "{err}"
    );
    assert!(err.contains("stored a resumption ticket"), "{err}");
    c.wait_log("accepted: IK");

    for server in [a, b, c] {
        let (code, log) = server.terminate();
        assert_eq!(code, 0, "{log}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
