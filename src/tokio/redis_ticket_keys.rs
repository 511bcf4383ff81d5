//! Ticket keys shared by a fleet of servers through Redis, rotated by
//! whichever server first finds them due.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use zeroize::Zeroizing;

use crate::rng::{OsRandom, SecureRandom};
use crate::{MAX_PREVIOUS_TICKET_KEYS, TicketKeyring, TicketKeys, Time};

/// Per-call response timeout of the Redis connection.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Timeout of one attempt to (re)connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How often a fleet's ticket keys rotate by default (daily, as the
/// [`TicketKeys`] notes suggest).
pub const DEFAULT_TICKET_KEY_ROTATION: Duration = Duration::from_secs(24 * 3600);

/// How often [`RedisTicketKeys::spawn_refresh`] asks Redis by default.
pub const DEFAULT_TICKET_KEY_REFRESH: Duration = Duration::from_secs(60);

/// How long one refresh may take by default before it counts as failed.
pub const DEFAULT_TICKET_KEY_REFRESH_DEADLINE: Duration = Duration::from_secs(5);

/// Atomically, for one server's refresh:
///
/// * KEYS[1] is a list of the fleet's secrets, newest (current) first;
///   KEYS[2] the Redis time (ms) of the last rotation.
/// * If the list is empty, the rotation time is missing, a rotation is
///   forced (ARGV[3] = "1"), or the last rotation is at least ARGV[1] ms
///   old on Redis's own clock (one clock for the whole fleet), the
///   candidate secret ARGV[2] (32 random bytes from the caller: Lua has no
///   secure random generator) becomes the current one, the list is trimmed
///   to ARGV[4] + 1 secrets, and the rotation time is set.
/// * Returns `{rotation time, {secrets...}}`.
///
/// `TIME` before a write needs effect replication (the default since
/// Redis 5).
const SYNC_KEYS: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rotated = tonumber(redis.call('GET', KEYS[2]) or '-1')
local n = redis.call('LLEN', KEYS[1])
if n == 0 or rotated < 0 or ARGV[3] == '1' or now >= rotated + tonumber(ARGV[1]) then
  redis.call('LPUSH', KEYS[1], ARGV[2])
  redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[4]))
  redis.call('SET', KEYS[2], now)
  rotated = now
end
return {rotated, redis.call('LRANGE', KEYS[1], 0, -1)}
";

/// How a [`RedisTicketKeys`] is doing: what an operator exports as metrics
/// and alerts on (a growing `consecutive_failures` means this server no
/// longer follows the fleet's rotations).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TicketKeysStatus {
    /// Successful refreshes (the keyring now holds what Redis holds).
    pub refreshes: u64,
    /// Refreshes that failed (Redis unreachable or too slow, malformed
    /// data); the keyring kept its keys each time.
    pub failures: u64,
    /// Failures since the last success (0 when the last refresh worked).
    pub consecutive_failures: u64,
    /// Times a refresh found a new current key (a rotation, by this server
    /// or another one).
    pub rotations_seen: u64,
    /// When (this server's clock) the last refresh succeeded.
    pub last_success: Option<Time>,
    /// The last refresh's error, while refreshes fail (`None` after a
    /// success).
    pub last_error: Option<String>,
    /// When the fleet's current key became current (Redis's clock).
    pub current_since: Time,
    /// The id of the current key (the first 4 bytes of the tickets it
    /// seals; never secret).
    pub current_id: [u8; 4],
}

/// Keeps a [`TicketKeyring`] in sync with ticket keys a fleet of servers
/// shares on a Redis server (feature `redis`), so that every server accepts
/// every other server's resumption tickets, and rotates them: the first
/// server to refresh after the rotation interval has passed (on Redis's
/// clock) makes a new current key, the old one becomes the first previous,
/// and at most [`MAX_PREVIOUS_TICKET_KEYS`] are kept. Each refresh is one
/// atomic script (read and, when due, rotate), so servers refreshing at
/// once never rotate twice or lose a key.
///
/// Give [`keyring`](Self::keyring) to
/// [`ServerConfig::enable_resumption`](crate::ServerConfig::enable_resumption)
/// and run [`spawn_refresh`](Self::spawn_refresh) (every minute, say).
/// Connections read the keyring once per handshake and never wait on
/// Redis.
///
/// **Anyone with access to this Redis can impersonate the fleet to
/// resuming clients.** The secrets are stored there in the clear: whoever
/// can read them can complete a resumed handshake with any client holding
/// a ticket they sealed (and read its early data), and whoever can write
/// them can plant keys of their own. Use a Redis (or an ACL user and key
/// prefix) reserved for the servers, with authentication and, across
/// machines, TLS; keep it off the replay guard's shared instance if other
/// applications reach that one.
///
/// **When Redis is unreachable** a refresh fails, the keyring keeps the
/// keys it has, and the failure shows in [`status`](Self::status). That is
/// safe: the keys held are ones the fleet issued, tickets still expire by
/// their own lifetime and the resumption age limit, and a server that
/// misses a rotation only seals with the previous current key, which the
/// other servers still hold as a previous key for three more rotations.
/// What it costs: the keys stay in use longer than planned (a longer
/// window for a leaked key), and if the outage outlasts three rotations
/// this server's tickets are refused elsewhere (clients fall back to full
/// handshakes) and it refuses the new ones. It never stops issuing or
/// accepting tickets by itself; alert on `consecutive_failures`.
///
/// **Timing.** A server picks up a rotation at its next refresh; until then
/// the tickets sealed elsewhere with the new key are refused here (the
/// client runs a full handshake), so refresh much more often than you
/// rotate. A ticket stays openable for three rotation intervals after its
/// key stopped being current: keep the rotation interval at least a third
/// of [`ServerConfig::ticket_lifetime`](crate::ServerConfig::ticket_lifetime).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use lwsec::{ServerConfig, StaticKeyPair, rng::OsRandom};
/// use lwsec::tokio::{
///     Acceptor, DEFAULT_TICKET_KEY_REFRESH, DEFAULT_TICKET_KEY_REFRESH_DEADLINE,
///     DEFAULT_TICKET_KEY_ROTATION, RedisTicketKeys,
/// };
///
/// let keys = RedisTicketKeys::open(
///     "redis://127.0.0.1/",
///     "lwsec:tickets",
///     DEFAULT_TICKET_KEY_ROTATION,
/// )
/// .await?;
/// let _refresh = keys.spawn_refresh(DEFAULT_TICKET_KEY_REFRESH, DEFAULT_TICKET_KEY_REFRESH_DEADLINE);
/// let mut config = ServerConfig::new(StaticKeyPair::generate(&OsRandom)?);
/// config.enable_resumption(keys.keyring());
/// let acceptor = Acceptor::new(Arc::new(config));
/// // Export keys.status() with the acceptor's metrics.
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisTicketKeys {
    inner: Arc<Inner>,
}

struct Inner {
    connection: ConnectionManager,
    keys: [String; 2],
    rotation: Duration,
    script: redis::Script,
    keyring: Arc<TicketKeyring>,
    status: Mutex<TicketKeysStatus>,
}

impl RedisTicketKeys {
    /// Connects to the Redis server at `url`, keeping the fleet's keys under
    /// `prefix` (every server of the fleet uses the same; keys
    /// `PREFIX:ticket-keys` and `PREFIX:ticket-keys:rotated`), and runs a
    /// first refresh, which creates the fleet's first key if there is none.
    /// `rotation` is how old the current key may get before a refresh
    /// rotates it.
    ///
    /// Fails when Redis cannot be reached, when the first refresh fails, or
    /// when `rotation` is zero: a server starting without its fleet's keys
    /// would refuse every ticket.
    pub async fn open(
        url: &str,
        prefix: &str,
        rotation: Duration,
    ) -> Result<Self, redis::RedisError> {
        if rotation.is_zero() {
            return Err(redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "the ticket key rotation interval must be above zero",
            )));
        }
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_number_of_retries(1);
        let connection = client.get_connection_manager_with_config(config).await?;
        let script = redis::Script::new(SYNC_KEYS);
        let keys = [
            format!("{prefix}:ticket-keys"),
            format!("{prefix}:ticket-keys:rotated"),
        ];
        let (keys_now, since) = sync(&connection, &script, &keys, rotation, false).await?;
        let status = TicketKeysStatus {
            refreshes: 1,
            failures: 0,
            consecutive_failures: 0,
            rotations_seen: 0,
            last_success: Some(Time::now()),
            last_error: None,
            current_since: since,
            current_id: keys_now.current_id(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                connection,
                keys,
                rotation,
                script,
                keyring: Arc::new(TicketKeyring::new(keys_now)),
                status: Mutex::new(status),
            }),
        })
    }

    /// The keyring this keeps in sync, for
    /// [`ServerConfig::enable_resumption`](crate::ServerConfig::enable_resumption).
    pub fn keyring(&self) -> Arc<TicketKeyring> {
        self.inner.keyring.clone()
    }

    /// How the refreshes are doing.
    pub fn status(&self) -> TicketKeysStatus {
        match self.inner.status.lock() {
            Ok(status) => status.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the fleet's keys now (rotating them first if the current one
    /// is due) and puts them in the keyring. On failure the keyring keeps
    /// its keys; the error is also recorded in [`status`](Self::status).
    pub async fn refresh(&self) -> Result<(), redis::RedisError> {
        self.run(false).await
    }

    /// Rotates the fleet's keys now, whatever their age (a suspected leak,
    /// or a test), and puts them in the keyring. The other servers pick the
    /// new key up at their next refresh.
    pub async fn rotate(&self) -> Result<(), redis::RedisError> {
        self.run(true).await
    }

    /// Refreshes every `every` in a background task, each refresh given
    /// `deadline` to finish (a Redis that hangs counts as a failure, and
    /// the keyring keeps its keys). The task runs until the returned
    /// handle is aborted. Needs a tokio runtime with its time driver.
    pub fn spawn_refresh(
        &self,
        every: Duration,
        deadline: Duration,
    ) -> ::tokio::task::JoinHandle<()> {
        let this = self.clone();
        ::tokio::spawn(async move {
            let mut ticks = ::tokio::time::interval(every);
            ticks.set_missed_tick_behavior(::tokio::time::MissedTickBehavior::Delay);
            // The first tick is immediate, and `open` just refreshed.
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if ::tokio::time::timeout(deadline, this.run(false))
                    .await
                    .is_err()
                {
                    this.record(Err(format!(
                        "the refresh missed its deadline of {deadline:?}"
                    )));
                }
            }
        })
    }

    async fn run(&self, force: bool) -> Result<(), redis::RedisError> {
        let inner = &self.inner;
        match sync(
            &inner.connection,
            &inner.script,
            &inner.keys,
            inner.rotation,
            force,
        )
        .await
        {
            Ok((keys, since)) => {
                let id = keys.current_id();
                let changed = inner.keyring.keys().ids() != keys.ids();
                if changed {
                    inner.keyring.replace(keys);
                }
                self.record(Ok((id, since)));
                Ok(())
            }
            Err(e) => {
                self.record(Err(e.to_string()));
                Err(e)
            }
        }
    }

    /// Records a refresh's outcome in the status.
    fn record(&self, outcome: Result<([u8; 4], Time), String>) {
        let mut status = match self.inner.status.lock() {
            Ok(status) => status,
            Err(poisoned) => poisoned.into_inner(),
        };
        match outcome {
            Ok((id, since)) => {
                if id != status.current_id {
                    status.rotations_seen = status.rotations_seen.saturating_add(1);
                }
                status.refreshes = status.refreshes.saturating_add(1);
                status.consecutive_failures = 0;
                status.last_success = Some(Time::now());
                status.last_error = None;
                status.current_since = since;
                status.current_id = id;
            }
            Err(message) => {
                status.failures = status.failures.saturating_add(1);
                status.consecutive_failures = status.consecutive_failures.saturating_add(1);
                status.last_error = Some(message);
            }
        }
    }
}

impl fmt::Debug for RedisTicketKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTicketKeys")
            .field("keys", &self.inner.keys)
            .field("rotation", &self.inner.rotation)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

fn malformed(detail: String) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::UnexpectedReturnType,
        "the fleet's ticket keys in Redis are malformed",
        detail,
    ))
}

/// Runs the script once: the fleet's keys (rotated first when due or
/// `force`), and when the current one became current.
async fn sync(
    connection: &ConnectionManager,
    script: &redis::Script,
    keys: &[String; 2],
    rotation: Duration,
    force: bool,
) -> Result<(TicketKeys, Time), redis::RedisError> {
    let mut candidate = Zeroizing::new([0u8; 32]);
    OsRandom.fill(candidate.as_mut()).map_err(|e| {
        redis::RedisError::from((
            redis::ErrorKind::Client,
            "no randomness for a new ticket key",
            e.to_string(),
        ))
    })?;
    let rotation_ms = u64::try_from(rotation.as_millis()).unwrap_or(u64::MAX);
    let [list, rotated] = keys;
    let mut invocation = script.prepare_invoke();
    invocation
        .key(list)
        .key(rotated)
        .arg(rotation_ms)
        .arg(candidate.as_slice())
        .arg(if force { "1" } else { "0" })
        .arg(MAX_PREVIOUS_TICKET_KEYS);
    let mut connection = connection.clone();
    let (since, secrets): (i64, Vec<Vec<u8>>) = invocation.invoke_async(&mut connection).await?;
    let secrets: Vec<Zeroizing<Vec<u8>>> = secrets.into_iter().map(Zeroizing::new).collect();
    let mut secrets = secrets.iter().map(|s| {
        <[u8; 32]>::try_from(s.as_slice())
            .map(Zeroizing::new)
            .map_err(|_| malformed(format!("a secret of {} bytes, not 32", s.len())))
    });
    let current = secrets
        .next()
        .ok_or_else(|| malformed("no secret".to_owned()))??;
    let mut ticket_keys = TicketKeys::new(*current);
    for previous in secrets.take(MAX_PREVIOUS_TICKET_KEYS) {
        ticket_keys = ticket_keys
            .with_previous(*previous?)
            .map_err(|e| malformed(e.to_string()))?;
    }
    let since = Time::from_millis(u64::try_from(since).unwrap_or(0));
    Ok((ticket_keys, since))
}
