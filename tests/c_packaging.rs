//! The packaged C library: `scripts/install-c-lib.sh` installs into a
//! temporary prefix; the README's C snippet (between `<!-- c-snippet -->`
//! markers), compiled exactly as written, is linked through pkg-config
//! against the shared library (found through an rpath, no
//! `LD_LIBRARY_PATH`) and the static one, and each program echoes a
//! message through a Rust server.
#![cfg(all(feature = "ffi", target_os = "linux"))]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use lwsec::{ServerConfig, StaticKeyPair, rng::OsRandom};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn check(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    check(out, what)
}

/// The README's C snippet, between its markers, without the code fence.
fn readme_snippet() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- c-snippet -->")
        .expect("README.md has a <!-- c-snippet --> marker");
    let end = readme
        .find("<!-- /c-snippet -->")
        .expect("README.md has a <!-- /c-snippet --> marker");
    let block = &readme[start..end];
    let code = block
        .split_once("```c\n")
        .expect("a ```c block after the marker")
        .1;
    code.rsplit_once("```")
        .expect("the block's closing fence")
        .0
        .to_owned()
}

/// The test program: calls the snippet's `echo_once` over TCP.
const MAIN: &str = r#"
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "lwsec.h"

int echo_once(int fd, const uint8_t server_key[LWSEC_KEY_LEN], uint64_t (*now)(void));

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int lines = 0;
static void on_log(void *userdata, lwsec_log_level level, const char *msg, size_t len) {
  (void)userdata; (void)level; (void)msg; (void)len;
  lines++;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  printf("lwsec %s\n", lwsec_version());
  if (lwsec_set_log_callback(on_log, NULL) != LWSEC_OK) return 3;
  uint8_t key[LWSEC_KEY_LEN];
  size_t written = 0;
  if (lwsec_public_key_from_text((const uint8_t *)argv[2], strlen(argv[2]), key, sizeof key, &written) != LWSEC_OK)
    return 4;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) return 5;
  int r = echo_once(fd, key, now_ms);
  close(fd);
  printf("echo_once: %d, %s\n", r, lwsec_event_str(LWSEC_EVENT_PEER_CLOSED));
  lwsec_set_log_callback(NULL, NULL);
  return r == 0 ? 0 : 1;
}
"#;

/// A Rust echo server for `count` connections; returns its port and key.
fn echo_server(count: usize) -> (u16, String, std::thread::JoinHandle<()>) {
    let key = StaticKeyPair::generate(&OsRandom).unwrap();
    let public = key.public_key().to_string();
    let config = Arc::new(ServerConfig::new(key));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        for _ in 0..count {
            let (tcp, _) = listener.accept().unwrap();
            let mut stream = lwsec::blocking::accept(config.clone(), tcp).unwrap();
            while let Ok(Some(message)) = stream.recv_message() {
                stream.send_message(&message).unwrap();
            }
        }
    });
    (port, public, server)
}

fn pkg_config(pc_dir: &Path, args: &[&str]) -> Vec<String> {
    let out = run(
        Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", pc_dir)
            .args(args),
        "pkg-config",
    );
    out.split_whitespace().map(str::to_owned).collect()
}

fn needed_libraries(binary: &Path) -> String {
    run(Command::new("readelf").arg("-d").arg(binary), "readelf -d")
}

#[test]
fn installed_library_links_the_readme_snippet_shared_and_static() {
    for tool in ["cc", "pkg-config", "readelf"] {
        assert!(
            Command::new(tool).arg("--version").output().is_ok(),
            "{tool} is required by this test; install it (gcc, pkg-config, binutils)"
        );
    }
    let work = root()
        .join("target")
        .join("c_packaging")
        .join(format!("t{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let prefix = work.join("prefix");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // A target directory of its own (the outer cargo holds target/'s lock),
    // and the dev profile: this checks the packaging, not the optimiser.
    run(
        Command::new("bash")
            .arg(root().join("scripts/install-c-lib.sh"))
            .arg(&prefix)
            .env("CARGO", cargo)
            .env("CARGO_TARGET_DIR", root().join("target/c_packaging"))
            .env("LWSEC_PROFILE", "dev")
            .env_remove("DESTDIR"),
        "scripts/install-c-lib.sh",
    );
    let lib = prefix.join("lib");
    for file in [
        "liblwsec.a",
        "liblwsec.so.0.1.0",
        "liblwsec.so.0",
        "liblwsec.so",
        "pkgconfig/lwsec.pc",
        "pkgconfig/lwsec-static.pc",
    ] {
        assert!(lib.join(file).exists(), "{file} was not installed");
    }
    assert!(prefix.join("include/lwsec.h").exists());
    assert_eq!(
        std::fs::read_link(lib.join("liblwsec.so.0")).unwrap(),
        PathBuf::from("liblwsec.so.0.1.0")
    );
    assert_eq!(
        std::fs::read_link(lib.join("liblwsec.so")).unwrap(),
        PathBuf::from("liblwsec.so.0")
    );
    assert!(
        needed_libraries(&lib.join("liblwsec.so.0.1.0"))
            .contains("Library soname: [liblwsec.so.0]"),
        "the shared library has its SONAME"
    );
    // Built without tokio.
    let symbols = run(
        Command::new("nm")
            .arg("--defined-only")
            .arg(lib.join("liblwsec.a")),
        "nm",
    );
    assert!(!symbols.contains("tokio"), "liblwsec.a contains tokio");

    // The README's snippet, compiled as written, in its own file.
    let snippet = work.join("snippet.c");
    std::fs::write(&snippet, readme_snippet()).unwrap();
    let main = work.join("main.c");
    std::fs::write(&main, MAIN).unwrap();
    let pc_dir = lib.join("pkgconfig");
    let cflags = pkg_config(&pc_dir, &["--cflags", "lwsec"]);
    let warnings = ["-Wall", "-Wextra", "-Werror"];
    for (name, source) in [("snippet.o", &snippet), ("main.o", &main)] {
        run(
            Command::new("cc")
                .args(["-std=c11", "-O1"])
                .args(warnings)
                .args(&cflags)
                .arg("-c")
                .arg(source)
                .arg("-o")
                .arg(work.join(name)),
            &format!("compiling {}", source.display()),
        );
    }

    let libdir = pkg_config(&pc_dir, &["--variable=libdir", "lwsec"]).join("");
    let shared = work.join("echo_shared");
    run(
        Command::new("cc")
            .arg(work.join("main.o"))
            .arg(work.join("snippet.o"))
            .arg("-o")
            .arg(&shared)
            .args(pkg_config(&pc_dir, &["--libs", "lwsec"]))
            .arg(format!("-Wl,-rpath,{libdir}")),
        "linking against the shared library",
    );
    let needed = needed_libraries(&shared);
    assert!(
        needed.contains("Shared library: [liblwsec.so.0]"),
        "{needed}"
    );
    let static_ = work.join("echo_static");
    run(
        Command::new("cc")
            .arg(work.join("main.o"))
            .arg(work.join("snippet.o"))
            .arg("-o")
            .arg(&static_)
            .args(pkg_config(&pc_dir, &["--libs", "lwsec-static"])),
        "linking against the static library",
    );
    let needed = needed_libraries(&static_);
    assert!(!needed.contains("liblwsec"), "{needed}");

    let (port, public, server) = echo_server(2);
    for program in [&shared, &static_] {
        let out = run(
            Command::new(program)
                .arg(port.to_string())
                .arg(&public)
                .env_remove("LD_LIBRARY_PATH"),
            &format!("running {}", program.display()),
        );
        assert!(
            out.contains(&format!("lwsec {}", env!("CARGO_PKG_VERSION"))),
            "{out}"
        );
        assert!(
            out.contains("echo_once: 0, LWSEC_EVENT_PEER_CLOSED"),
            "{out}"
        );
    }
    server.join().unwrap();
    std::fs::remove_dir_all(&work).unwrap();
}
