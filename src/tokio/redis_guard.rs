//! A replay guard shared by a fleet of servers through Redis, reached
//! asynchronously.

use std::fmt::{self, Write as _};
use std::io;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::policy::{PolicyFuture, ReplayGuard};
use crate::{EarlyDataOffer, Time};

/// Per-call response timeout of the Redis connection (the acceptor's own
/// deadline, 50 ms by default, usually ends the wait first).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Timeout of one attempt to (re)connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Atomically, for one first flight (`spec/PROTOCOL.md` section 4.9):
///
/// * KEYS[1] holds the time this Redis dataset started serving the prefix
///   (set on first use). If Redis lost its data (a restart without
///   persistence, a flush, a failover to an empty replica), the key is gone
///   and is set again to `now`: flights with `t < start + W` are rejected,
///   the strike-register start rule, so nothing accepted before the loss is
///   accepted again.
/// * KEYS[2] is the flight; KEYS[3], when present, the IK device whose
///   timestamps must increase.
/// * Both are recorded, with expiry ARGV[4] ms, only if the flight is
///   accepted. Returns 1 if accepted, 0 otherwise.
///
/// ARGV: 1 = t, 2 = W (ms), 3 = now (ms), 4 = time to live (ms).
const CHECK_FLIGHT: &str = r"
local start = redis.call('GET', KEYS[1])
if not start then
  redis.call('SET', KEYS[1], ARGV[3])
  start = ARGV[3]
end
local t = tonumber(ARGV[1])
if t < tonumber(start) + tonumber(ARGV[2]) then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if KEYS[3] then
  local last = redis.call('GET', KEYS[3])
  if last and tonumber(last) >= t then return 0 end
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[4])
end
redis.call('SET', KEYS[2], 1, 'PX', ARGV[4])
return 1
";

/// A [`ReplayGuard`] on a Redis server, so that servers sharing it reject a
/// first flight replayed to any of them.
///
/// Each check is one round trip: an atomic script that records the flight
/// (and the IK device's timestamp) only if it is fresh, over a multiplexed
/// async connection that reconnects by itself (no lock: concurrent checks
/// share it). A Redis that is slow or down makes checks miss the acceptor's
/// deadline: the early data is rejected (fail closed), the handshake goes
/// on, and nothing else waits.
///
/// **What Redis must guarantee.** A guard that forgets would accept a
/// replay. Run Redis with `maxmemory-policy noeviction` (an evicting policy
/// could drop a flight before its window ends; [`open`](Self::open)
/// refuses such a server) and with persistence (`appendonly yes`) if a
/// Redis restart must not cost one window of refused early data. After a
/// data loss the guard refuses early data for one window (see the script's
/// start rule). With asynchronous replication, a failover can lose the
/// last writes before it; use `min-replicas-to-write` or accept that risk.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::{sync::Arc, time::Duration};
/// use lwsec::{ServerConfig, StaticKeyPair, rng::OsRandom};
/// use lwsec::tokio::{Acceptor, RedisReplayGuard};
///
/// let guard = RedisReplayGuard::open("redis://127.0.0.1/", "lwsec:replay").await?;
/// let mut config = ServerConfig::new(StaticKeyPair::generate(&OsRandom)?);
/// config.enable_replayable_early_data(Duration::from_secs(10));
/// let acceptor = Acceptor::new(Arc::new(config)).with_replay_guard(Arc::new(guard));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisReplayGuard {
    connection: ConnectionManager,
    prefix: String,
    script: Arc<redis::Script>,
}

impl RedisReplayGuard {
    /// Connects to the Redis server at `url` (e.g. `redis://127.0.0.1/`),
    /// storing keys under `prefix` (every server of a fleet uses the same).
    ///
    /// Fails when Redis cannot be reached or runs with an evicting
    /// `maxmemory-policy` (anything but `noeviction`). When the server does
    /// not allow `CONFIG GET` (some managed services), the policy cannot be
    /// checked; [`open`](Self::open) then succeeds and it is up to the
    /// operator to set it.
    pub async fn open(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_number_of_retries(1);
        let mut connection = client.get_connection_manager_with_config(config).await?;
        let policy: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("maxmemory-policy")
            .query_async(&mut connection)
            .await;
        if let Ok(values) = policy {
            if let Some(policy) = values.get(1) {
                if policy != "noeviction" {
                    return Err(redis::RedisError::from((
                        redis::ErrorKind::Client,
                        "an evicting Redis can forget flights and accept replays; set maxmemory-policy noeviction",
                        format!("maxmemory-policy is {policy}"),
                    )));
                }
            }
        }
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
            script: Arc::new(redis::Script::new(CHECK_FLIGHT)),
        })
    }

    fn key(&self, kind: &str, bytes: &[u8; 32]) -> String {
        let mut key = String::with_capacity(self.prefix.len().saturating_add(72));
        key.push_str(&self.prefix);
        key.push(':');
        key.push_str(kind);
        key.push(':');
        for b in bytes {
            let _ = write!(key, "{b:02x}");
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
    fn check(&self, offer: &EarlyDataOffer, now: Time) -> PolicyFuture<io::Result<bool>> {
        let w = millis(offer.window());
        let t = offer.timestamp().as_millis();
        // Keep entries until t + W has passed, plus one window of margin for
        // clock differences between servers.
        let until = t.saturating_add(w.saturating_mul(2));
        let ttl = until.saturating_sub(now.as_millis()).max(1);
        let mut keys = vec![
            format!("{}:start", self.prefix),
            self.key("flight", offer.flight_id()),
        ];
        if let Some(device) = offer.device() {
            keys.push(self.key("device", device.as_bytes()));
        }
        let args = [t, w, now.as_millis(), ttl];
        let (script, mut connection) = (self.script.clone(), self.connection.clone());
        Box::pin(async move {
            let mut invocation = script.prepare_invoke();
            for key in &keys {
                invocation.key(key);
            }
            for arg in args {
                invocation.arg(arg);
            }
            let accepted: i64 = invocation
                .invoke_async(&mut connection)
                .await
                .map_err(io::Error::other)?;
            Ok(accepted == 1)
        })
    }
}
