//! Early data (0-RTT) and the replay guard that makes it safe to accept.
//!
//! A client may attach application data to its first flight
//! ([`Connection::client_with_replayable_early_data`](crate::Connection::client_with_replayable_early_data)).
//! That data is encrypted only to the server's static key: it is **not
//! forward secret**, and an attacker who records the flight can **replay** it.
//! A server therefore accepts early data only when it has a [`ReplayGuard`],
//! and only once per first flight within a time window
//! (`spec/PROTOCOL.md` section 4.9). Everything else about the handshake is
//! unchanged; rejected early data is reported to the client after the
//! handshake so the application can send it again as a normal message.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use crate::crypto::dh::PublicKey;
use crate::time::Time;

#[cfg(feature = "redis")]
mod redis_guard;
#[cfg(feature = "redis")]
pub use redis_guard::RedisReplayGuard;

/// Largest early data a client may send in its first flight.
pub const MAX_EARLY_DATA: usize = 8192;

/// Default anti-replay window: a first flight's timestamp must be within
/// 10 seconds of the server's clock.
pub const DEFAULT_EARLY_DATA_WINDOW: Duration = Duration::from_secs(10);

/// Decides whether a first flight carrying early data is fresh.
///
/// Implementations must be safe to share between connections (and, for a
/// fleet, between servers: see `RedisReplayGuard`, feature `redis`). Both methods record what
/// they accept; they must be atomic (check and record in one step).
pub trait ReplayGuard: Send + Sync + fmt::Debug {
    /// Returns `true` and remembers `flight` (the client's ephemeral public
    /// key, unique to one first flight) until at least `timestamp + window`,
    /// if it was not seen before; returns `false` for a replay or when the
    /// guard cannot remember more (it fails closed).
    fn check_and_insert(
        &self,
        flight: &[u8; 32],
        timestamp: Time,
        window: Duration,
        now: Time,
    ) -> bool;

    /// IK only: returns `true` and remembers `timestamp` if it is newer than
    /// the last timestamp accepted from `device`; `false` otherwise.
    fn check_device_timestamp(&self, device: &PublicKey, timestamp: Time) -> bool;
}

/// An in-memory strike register for one server process.
///
/// Memory is bounded by `capacity` flights and `capacity` devices; when full
/// it rejects early data (fails closed) until entries expire. Lookups are
/// hash-map lookups (SipHash, keyed at random per process); expiry keeps
/// entries until the largest time seen passes `timestamp + window`, so a
/// clock that goes backwards never re-opens the window for an old flight.
pub struct StrikeRegister {
    capacity: usize,
    inner: Mutex<Strikes>,
}

#[derive(Default)]
struct Strikes {
    /// Flight -> expiry (milliseconds).
    seen: HashMap<[u8; 32], u64>,
    /// (expiry, flight), for expiring in order.
    expiries: BTreeSet<(u64, [u8; 32])>,
    /// Device key -> last accepted timestamp.
    devices: HashMap<[u8; 32], u64>,
    /// The largest `now` ever passed in.
    max_now: u64,
}

impl StrikeRegister {
    /// A register remembering at most `capacity` flights and devices.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Strikes::default()),
        }
    }

    /// How many flights are remembered now.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|s| s.seen.len()).unwrap_or(0)
    }

    /// Whether no flight is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for StrikeRegister {
    /// Room for 100,000 flights within one window.
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl fmt::Debug for StrikeRegister {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StrikeRegister")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

fn window_ms(window: Duration) -> u64 {
    u64::try_from(window.as_millis()).unwrap_or(u64::MAX)
}

impl ReplayGuard for StrikeRegister {
    fn check_and_insert(
        &self,
        flight: &[u8; 32],
        timestamp: Time,
        window: Duration,
        now: Time,
    ) -> bool {
        let Ok(mut s) = self.inner.lock() else {
            return false;
        };
        s.max_now = s.max_now.max(now.as_millis());
        let max_now = s.max_now;
        while let Some(&(expiry, key)) = s.expiries.first() {
            if expiry >= max_now {
                break;
            }
            s.expiries.pop_first();
            s.seen.remove(&key);
        }
        let expiry = timestamp.as_millis().saturating_add(window_ms(window));
        if expiry < max_now || s.seen.contains_key(flight) || s.seen.len() >= self.capacity {
            return false;
        }
        s.seen.insert(*flight, expiry);
        s.expiries.insert((expiry, *flight));
        true
    }

    fn check_device_timestamp(&self, device: &PublicKey, timestamp: Time) -> bool {
        let Ok(mut s) = self.inner.lock() else {
            return false;
        };
        let key = *device.as_bytes();
        match s.devices.get(&key) {
            Some(last) if *last >= timestamp.as_millis() => false,
            None if s.devices.len() >= self.capacity => false,
            _ => {
                s.devices.insert(key, timestamp.as_millis());
                true
            }
        }
    }
}

/// A server's early-data policy: the replay guard and the time window.
#[derive(Clone, Debug)]
pub(crate) struct EarlyDataPolicy {
    pub(crate) guard: std::sync::Arc<dyn ReplayGuard>,
    pub(crate) window: Duration,
}

impl EarlyDataPolicy {
    /// The anti-replay rule of `spec/PROTOCOL.md` section 4.9.
    pub(crate) fn accept(
        &self,
        flight: &[u8; 32],
        device: Option<&PublicKey>,
        timestamp: Time,
        now: Time,
    ) -> bool {
        let w = window_ms(self.window);
        let (ts, now_ms) = (timestamp.as_millis(), now.as_millis());
        if ts.saturating_add(w) < now_ms || ts > now_ms.saturating_add(w) {
            return false;
        }
        if let Some(device) = device {
            if !self.guard.check_device_timestamp(device, timestamp) {
                return false;
            }
        }
        self.guard
            .check_and_insert(flight, timestamp, self.window, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_secs(10);

    #[test]
    fn replay_register_rejects_replays_and_survives_clock_going_back() {
        let r = StrikeRegister::new(3);
        let t = Time::from_millis(100_000);
        assert!(r.check_and_insert(&[1; 32], t, W, t));
        assert!(!r.check_and_insert(&[1; 32], t, W, t), "replay");
        // Clock jumps forward past the window: the entry expires...
        let later = Time::from_millis(200_000);
        assert!(r.check_and_insert(&[2; 32], later, W, later));
        assert_eq!(r.len(), 1);
        // ...and going back in time does not let the old flight in again.
        assert!(!r.check_and_insert(&[1; 32], t, W, t));
        // Capacity is a hard bound: fail closed.
        assert!(r.check_and_insert(&[3; 32], later, W, later));
        assert!(r.check_and_insert(&[4; 32], later, W, later));
        assert!(!r.check_and_insert(&[5; 32], later, W, later));
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn replay_device_timestamps_must_increase() {
        let r = StrikeRegister::new(10);
        let d = PublicKey::from_bytes([9; 32]);
        assert!(r.check_device_timestamp(&d, Time::from_millis(5)));
        assert!(!r.check_device_timestamp(&d, Time::from_millis(5)));
        assert!(!r.check_device_timestamp(&d, Time::from_millis(4)));
        assert!(r.check_device_timestamp(&d, Time::from_millis(6)));
    }

    #[test]
    fn replay_policy_enforces_the_window() {
        let p = EarlyDataPolicy {
            guard: std::sync::Arc::new(StrikeRegister::default()),
            window: W,
        };
        let now = Time::from_millis(1_000_000);
        assert!(!p.accept(&[1; 32], None, Time::from_millis(1_000_000 - 10_001), now));
        assert!(!p.accept(&[2; 32], None, Time::from_millis(1_000_000 + 10_001), now));
        assert!(p.accept(&[3; 32], None, Time::from_millis(1_000_000 - 9_000), now));
    }
}
