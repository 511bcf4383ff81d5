//! Redis for the tests: the shared server's URL, unique key prefixes, and
//! a private `redis-server` for one test (started on a free loopback port,
//! with no persistence, paused and resumed with signals, killed on drop).

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The shared Redis server of the `redis_*` tests (`LWSEC_REDIS_URL`, set
/// by `scripts/test.sh`); panics with what to do when it is not set.
pub fn shared_url() -> String {
    std::env::var("LWSEC_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "LWSEC_REDIS_URL is not set: these tests need a Redis server. \
             Run `bash scripts/test.sh` (it starts one), or start redis-server and \
             set LWSEC_REDIS_URL=redis://127.0.0.1:6379/"
        )
    })
}

/// A key prefix unique to this test run, so runs never see each other's keys.
pub fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("lwsec-test:{test}:{}:{nanos}", std::process::id())
}

/// A `redis-server` process of the test's own.
pub struct PrivateRedis {
    child: Child,
    addr: SocketAddr,
}

impl PrivateRedis {
    /// Starts one on a free port and waits until it accepts connections.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server could not be started ({e}); install redis-server")
            });
        let redis = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(redis.addr).is_ok() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on {}", redis.addr);
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its URL, `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// Sends `sig` (e.g. `-STOP`, `-CONT`) to the process.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        // A paused server would not die of the kill's SIGKILL any later,
        // but waiting on it would hang: resume it first.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
