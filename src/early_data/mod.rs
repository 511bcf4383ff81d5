//! Early data (0-RTT) and the in-memory strike register that makes it safe
//! to accept in one process.
//!
//! A client may attach application data to its first flight
//! ([`Connection::client_with_replayable_early_data`](crate::Connection::client_with_replayable_early_data)).
//! That data is encrypted only to the server's static key: it is **not
//! forward secret**, and an attacker who records the flight can **replay** it.
//! A server accepts early data only when it is enabled
//! ([`ServerConfig::enable_replayable_early_data`](crate::ServerConfig::enable_replayable_early_data)),
//! the flight did not answer a Retry, its timestamp is within the window,
//! and a replay guard has not seen it before (`spec/PROTOCOL.md` section
//! 4.9). The connection checks the first three itself and shows the offer
//! in its [`ClientHello`](crate::ClientHello); whoever answers the decision
//! asks the replay guard: a [`StrikeRegister`] in one process, or a guard a
//! fleet shares (`lwsec::tokio::RedisReplayGuard`, feature `redis`).
//! Rejected early data is reported to the client after the handshake so the
//! application can send it again as a normal message.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use crate::conn::EarlyDataOffer;
use crate::time::Time;

/// Largest early data a client may send in its first flight.
pub const MAX_EARLY_DATA: usize = crate::wire::limits::MAX_EARLY_DATA;

/// Default anti-replay window: a first flight's timestamp must be within
/// 10 seconds of the server's clock.
pub const DEFAULT_EARLY_DATA_WINDOW: Duration = Duration::from_secs(10);

/// An in-memory strike register for one server process: a replay guard that
/// accepts each first flight at most once.
///
/// * **Start rule**: it rejects every flight with timestamp
///   `t < start + W`. Flights from before it started (or before the
///   process restarted) may have been accepted by a predecessor that
///   forgot them; after a restart, early data is refused for one window.
/// * **Flights** are remembered until the largest time seen passes
///   `t + W`, so a clock that goes backwards never re-admits one.
/// * **IK devices**: a device's timestamps must increase; an entry is
///   forgotten once it is older than the largest time seen minus `W`
///   (it then constrains nothing the window does not).
///
/// Memory is bounded by `capacity` flights and `capacity` devices; when
/// full it rejects early data (fails closed) until entries expire. Lookups
/// are hash-map lookups (SipHash, keyed at random per process).
pub struct StrikeRegister {
    capacity: usize,
    start: Time,
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
    /// (last accepted timestamp, device), for forgetting in order.
    device_times: BTreeSet<(u64, [u8; 32])>,
    /// The largest `now` ever passed in.
    max_now: u64,
}

impl StrikeRegister {
    /// A register started at `start` (the server's clock when it began
    /// accepting early data), remembering at most `capacity` flights and
    /// devices. 100,000 is room for a busy server's flights in one window.
    pub fn new(capacity: usize, start: Time) -> Self {
        Self {
            capacity,
            start,
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

    /// How many IK devices' timestamps are remembered now.
    pub fn devices(&self) -> usize {
        self.inner.lock().map(|s| s.devices.len()).unwrap_or(0)
    }

    /// Decides whether `offer` is fresh at `now` and, if so, records it (its
    /// flight, and its device's timestamp for IK) in one step. Returns
    /// `false` for a replay, a flight from before the register started, an
    /// IK timestamp not newer than the device's last, or a full register.
    pub fn check(&self, offer: &EarlyDataOffer, now: Time) -> bool {
        let Ok(mut s) = self.inner.lock() else {
            return false;
        };
        let w = window_ms(offer.window());
        let t = offer.timestamp().as_millis();
        if t < self.start.as_millis().saturating_add(w) {
            return false;
        }
        s.max_now = s.max_now.max(now.as_millis());
        s.expire(w);
        let expiry = t.saturating_add(w);
        if expiry < s.max_now || s.seen.contains_key(offer.flight_id()) {
            return false;
        }
        let device = offer.device().map(|d| *d.as_bytes());
        let last = device.and_then(|d| s.devices.get(&d).copied());
        if last.is_some_and(|last| last >= t) {
            return false;
        }
        let new_device = device.is_some() && last.is_none();
        if s.seen.len() >= self.capacity || (new_device && s.devices.len() >= self.capacity) {
            return false;
        }
        let flight = *offer.flight_id();
        s.seen.insert(flight, expiry);
        s.expiries.insert((expiry, flight));
        if let Some(d) = device {
            if let Some(last) = last {
                s.device_times.remove(&(last, d));
            }
            s.devices.insert(d, t);
            s.device_times.insert((t, d));
        }
        true
    }
}

impl Strikes {
    /// Forgets flights whose window has passed and devices whose last
    /// timestamp is older than `max_now - w`.
    fn expire(&mut self, w: u64) {
        while let Some(&(expiry, key)) = self.expiries.first() {
            if expiry >= self.max_now {
                break;
            }
            self.expiries.pop_first();
            self.seen.remove(&key);
        }
        let horizon = self.max_now.saturating_sub(w);
        while let Some(&(last, device)) = self.device_times.first() {
            if last >= horizon {
                break;
            }
            self.device_times.pop_first();
            self.devices.remove(&device);
        }
    }
}

impl fmt::Debug for StrikeRegister {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StrikeRegister")
            .field("capacity", &self.capacity)
            .field("start", &self.start)
            .field("len", &self.len())
            .finish()
    }
}

fn window_ms(window: Duration) -> u64 {
    u64::try_from(window.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PublicKey;

    const W: Duration = Duration::from_secs(10);

    fn offer(flight: u8, device: Option<u8>, t: u64) -> EarlyDataOffer {
        EarlyDataOffer {
            len: 1,
            timestamp: Time::from_millis(t),
            flight_id: [flight; 32],
            device: device.map(|d| PublicKey::from_bytes([d; 32])),
            window: W,
            refused: None,
        }
    }

    #[test]
    fn replay_register_rejects_replays_and_survives_clock_going_back() {
        let r = StrikeRegister::new(3, Time::from_millis(0));
        let t = 100_000;
        let now = Time::from_millis(t);
        assert!(r.check(&offer(1, None, t), now));
        assert!(!r.check(&offer(1, None, t), now), "replay");
        // Clock jumps forward past the window: the entry expires...
        let later = 200_000;
        assert!(r.check(&offer(2, None, later), Time::from_millis(later)));
        assert_eq!(r.len(), 1);
        // ...and going back in time does not let the old flight in again.
        assert!(!r.check(&offer(1, None, t), now));
        // Capacity is a hard bound: fail closed.
        assert!(r.check(&offer(3, None, later), Time::from_millis(later)));
        assert!(r.check(&offer(4, None, later), Time::from_millis(later)));
        assert!(!r.check(&offer(5, None, later), Time::from_millis(later)));
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn replay_register_rejects_flights_from_before_it_started() {
        let start = 1_000_000;
        let r = StrikeRegister::new(10, Time::from_millis(start));
        // Recorded before a restart: inside the window, but t < start + W.
        let now = Time::from_millis(start + 5_000);
        assert!(!r.check(&offer(1, None, start - 1_000), now));
        assert!(!r.check(&offer(2, None, start + 5_000), now));
        // One window after the start, fresh flights are accepted again.
        let t = start + 10_000;
        assert!(r.check(&offer(3, None, t), Time::from_millis(t)));
    }

    #[test]
    fn replay_device_timestamps_must_increase() {
        let r = StrikeRegister::new(10, Time::from_millis(0));
        let now = Time::from_millis(50_000);
        assert!(r.check(&offer(1, Some(9), 50_000), now));
        assert!(!r.check(&offer(2, Some(9), 50_000), now));
        assert!(!r.check(&offer(3, Some(9), 49_999), now));
        assert!(r.check(&offer(4, Some(9), 50_001), now));
        // A rejected flight records nothing: its flight id is still fresh.
        assert!(r.check(&offer(3, Some(8), 50_000), now));
    }

    #[test]
    fn replay_device_map_forgets_devices_older_than_the_window() {
        let r = StrikeRegister::new(2, Time::from_millis(0));
        let t = 100_000;
        assert!(r.check(&offer(1, Some(1), t), Time::from_millis(t)));
        assert!(r.check(&offer(2, Some(2), t), Time::from_millis(t)));
        // Full: a third device is refused while the others constrain...
        assert!(!r.check(&offer(3, Some(3), t + 1), Time::from_millis(t + 1)));
        // ...and admitted once they are older than the window.
        let later = t + 2 * 10_000 + 1;
        assert!(r.check(&offer(4, Some(3), later), Time::from_millis(later)));
        assert_eq!(r.devices(), 1);
    }
}
