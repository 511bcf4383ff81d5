//! A replay guard shared by a fleet of servers through Redis.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use crate::crypto::dh::PublicKey;
use crate::early_data::ReplayGuard;
use crate::time::Time;

/// How long a device's last early-data timestamp is remembered.
const DEVICE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Atomically: store ARGV[1] in KEYS[1] if it is greater than the stored
/// value (or none is stored), with expiry ARGV[2] ms; return 1 if stored.
const NEWER_TIMESTAMP: &str = r"
local last = redis.call('GET', KEYS[1])
if last and tonumber(last) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// A [`ReplayGuard`] on a Redis server, so that servers sharing it reject a
/// first flight replayed to any of them.
///
/// Each accepted flight is an atomic `SET key 1 NX PX ttl` (set-if-absent
/// with expiry), so two servers racing on the same flight cannot both accept
/// it. IK device timestamps use an atomic compare-and-set script. Any Redis
/// error rejects the early data (fails closed); the handshake itself is not
/// affected. Calls block the calling thread for one Redis round trip.
///
/// ```no_run
/// use std::{sync::Arc, time::Duration};
/// use lwsec::{ServerConfig, StaticKeyPair, early_data::RedisReplayGuard, rng::OsRandom};
/// let guard = RedisReplayGuard::open("redis://127.0.0.1/", "lwsec:replay")?;
/// let mut config = ServerConfig::new(StaticKeyPair::generate(&OsRandom)?);
/// config.enable_replayable_early_data(Arc::new(guard), Duration::from_secs(10));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedisReplayGuard {
    client: redis::Client,
    connection: Mutex<Option<redis::Connection>>,
    prefix: String,
    script: redis::Script,
}

impl RedisReplayGuard {
    /// A guard on the Redis server at `url` (e.g. `redis://127.0.0.1/`),
    /// storing its keys under `prefix`. Connects lazily.
    pub fn open(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: Mutex::new(None),
            prefix: prefix.to_owned(),
            script: redis::Script::new(NEWER_TIMESTAMP),
        })
    }

    /// Runs `f` on a live connection, reconnecting once after an error.
    fn with_connection<T>(
        &self,
        f: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Option<T> {
        let mut slot = self.connection.lock().ok()?;
        for _ in 0..2 {
            if slot.is_none() {
                *slot = self
                    .client
                    .get_connection_with_timeout(Duration::from_secs(2))
                    .ok();
            }
            let conn = slot.as_mut()?;
            match f(conn) {
                Ok(v) => return Some(v),
                Err(_) => *slot = None,
            }
        }
        None
    }

    fn key(&self, kind: &str, bytes: &[u8; 32]) -> String {
        let mut key = String::with_capacity(self.prefix.len().saturating_add(68));
        key.push_str(&self.prefix);
        key.push(':');
        key.push_str(kind);
        key.push(':');
        for b in bytes {
            key.push_str(&format!("{b:02x}"));
        }
        key
    }
}

impl fmt::Debug for RedisReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayGuard")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl ReplayGuard for RedisReplayGuard {
    fn check_and_insert(
        &self,
        flight: &[u8; 32],
        timestamp: Time,
        window: Duration,
        now: Time,
    ) -> bool {
        // Keep the entry until timestamp + window has passed, plus one window
        // of margin for clock differences between servers.
        let until = timestamp
            .as_millis()
            .saturating_add(millis(window).saturating_mul(2));
        let ttl = until.saturating_sub(now.as_millis()).max(1);
        let key = self.key("flight", flight);
        self.with_connection(|conn| {
            redis::cmd("SET")
                .arg(&key)
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(ttl)
                .query::<Option<String>>(conn)
        })
        .flatten()
        .is_some()
    }

    fn check_device_timestamp(&self, device: &PublicKey, timestamp: Time) -> bool {
        let key = self.key("device", device.as_bytes());
        self.with_connection(|conn| {
            self.script
                .key(&key)
                .arg(timestamp.as_millis())
                .arg(millis(DEVICE_TTL))
                .invoke::<i64>(conn)
        }) == Some(1)
    }
}
