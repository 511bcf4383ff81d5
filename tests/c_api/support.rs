//! Helpers of the C API tests: building the library, the C examples and the
//! C test programs. (The header's freshness is checked by `tools/header`,
//! `cargo test -p lwsec-header`.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, OnceLock};

/// The C examples, built once per test run.
pub(crate) struct CExamples {
    pub(crate) server: PathBuf,
    pub(crate) client: PathBuf,
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds `liblwsec.a` once per test run, in its own target directory (so
/// the outer cargo's lock is not contended).
fn static_lib() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = root.join("target").join("c_api");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        run(
            Command::new(cargo)
                .current_dir(root)
                .args([
                    "rustc",
                    "--lib",
                    "--features",
                    "ffi",
                    "--crate-type",
                    "staticlib",
                ])
                .arg("--target-dir")
                .arg(&target),
            "building liblwsec.a",
        );
        let lib = target.join("debug").join("liblwsec.a");
        assert!(lib.exists(), "{} was not built", lib.display());
        lib
    })
}

/// Compiles the C program `source` (relative to the repository) with gcc
/// and strict warnings against `liblwsec.a` into `target/c_api/{name}`.
fn compile_c(source: &str, name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = static_lib();
    let target = root.join("target").join("c_api");
    let exe = target.join(name);
    // Built under a private name, then renamed into place: test runners
    // that use one process per test (nextest) build concurrently, and
    // writing over an executable another process is running fails ("text
    // file busy"); a rename does not.
    let tmp = target.join(format!("{name}.{}.tmp", std::process::id()));
    run(
        Command::new("gcc")
            .args(["-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror"])
            .arg("-I")
            .arg(root.join("include"))
            .arg(root.join(source))
            .arg("-o")
            .arg(&tmp)
            .arg(lib)
            .args(["-lpthread", "-ldl", "-lm"]),
        &format!("compiling {source} with gcc"),
    );
    std::fs::rename(&tmp, &exe).unwrap();
    exe
}

/// Builds `liblwsec.a` and compiles the C examples with gcc.
pub(crate) fn c_examples() -> &'static CExamples {
    static BUILT: OnceLock<CExamples> = OnceLock::new();
    BUILT.get_or_init(|| CExamples {
        server: compile_c("examples/c/echo_server.c", "echo_server"),
        client: compile_c("examples/c/echo_client.c", "echo_client"),
    })
}

/// The C resumption test program (`tests/c_api/resumption.c`), compiled
/// once per test run.
pub(crate) fn c_resumption_program() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| compile_c("tests/c_api/resumption.c", "c_resumption"))
}

/// Panics with a clear message unless valgrind can be run.
pub(crate) fn require_valgrind() {
    let ok = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "valgrind is required by this test but was not found; install it \
         (e.g. `apt-get install valgrind`)"
    );
}

/// The valgrind command line for the memory checks.
pub(crate) const VALGRIND: [&str; 5] = [
    "--error-exitcode=1",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite,indirect",
    "--show-leak-kinds=definite,indirect",
    "-q",
];

/// A running C echo server and what it printed on startup.
pub(crate) struct CServer {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) public_key: String,
}

/// Starts the C echo server (optionally under `wrapper`, e.g. valgrind)
/// with `args`, and reads its key and port.
pub(crate) fn start_c_server(wrapper: &[&str], args: &[&str]) -> CServer {
    let server = &c_examples().server;
    let mut cmd = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(server);
            c
        }
        None => Command::new(server),
    };
    let mut child = cmd
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let public_line = lines.next().unwrap().unwrap();
    let port_line = lines.next().unwrap().unwrap();
    let public_key = public_line.strip_prefix("public ").unwrap().to_owned();
    let port = port_line.strip_prefix("port ").unwrap().parse().unwrap();
    CServer {
        child,
        port,
        public_key,
    }
}

/// Runs the C echo client (optionally under `wrapper`).
pub(crate) fn run_c_client(
    wrapper: &[&str],
    port: u16,
    key: &str,
    pattern: &str,
    suite: &str,
) -> Output {
    let client = &c_examples().client;
    let mut cmd = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(client);
            c
        }
        None => Command::new(client),
    };
    cmd.args(["127.0.0.1", &port.to_string(), key, pattern, suite])
        .output()
        .unwrap()
}

/// Asserts the C client reported a full, byte-exact echo.
pub(crate) fn assert_echo_ok(out: &Output, what: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("echo_client: OK: 6 messages (86691 bytes) echoed"),
        "{what}: client failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
}

/// A Rust echo server on the sans-IO `Connection` and blocking std::net,
/// serving `connections` clients one after the other. Returns its address,
/// its public key text and a handle yielding the messages it echoed.
pub(crate) fn rust_echo_server(
    connections: usize,
) -> (u16, String, std::thread::JoinHandle<Vec<usize>>) {
    use lwsec::{Connection, Event, ServerConfig, StaticKeyPair, Time, rng::OsRandom};
    let key = StaticKeyPair::generate(&OsRandom).unwrap();
    let public = key.public_key().to_text();
    let config = Arc::new(ServerConfig::new(key));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut echoed = Vec::new();
        for _ in 0..connections {
            let (mut stream, _) = listener.accept().unwrap();
            let mut conn = Connection::server(config.clone(), Time::now()).unwrap();
            let mut buf = vec![0u8; 32 * 1024];
            let mut count = 0;
            'conn: loop {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    conn.handle_eof().unwrap();
                    break;
                }
                let mut offset = 0;
                while offset < n {
                    offset += conn.handle_input(&buf[offset..n], Time::now()).unwrap();
                    if conn.client_hello().is_some() {
                        conn.accept_client(lwsec::Acceptance::new(), Time::now())
                            .unwrap();
                    }
                    let mut closing = false;
                    while let Some(event) = conn.poll_event() {
                        if event == Event::PeerClosed {
                            conn.close().unwrap();
                            closing = true;
                        }
                    }
                    while let Some(message) = conn.recv_message() {
                        if !conn.is_closed() {
                            conn.send_message(&message).unwrap();
                            count += 1;
                        }
                    }
                    stream.write_all(conn.pending_output()).unwrap();
                    let len = conn.pending_output().len();
                    conn.consume_output(len);
                    if closing {
                        break 'conn; // close_notify sent: close the socket
                    }
                }
            }
            echoed.push(count);
        }
        echoed
    });
    (port, public, handle)
}
