//! Server-wide limits of an [`Acceptor`](super::Acceptor): a memory budget
//! for received, undelivered bytes across connections, a connection cap,
//! and a per-address handshake rate.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
#[cfg(test)]
use std::time::Duration;
use std::time::Instant;

use crate::adapter::observe::Counters;

/// Default memory budget for received, undelivered bytes across all of an
/// acceptor's connections: 256 MiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 256 << 20;

/// Default cap on an acceptor's open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1_000_000;

/// Most addresses whose handshake rate is tracked at once; when full,
/// addresses whose bucket has refilled are forgotten, and new addresses are
/// refused until some have (fail closed).
const MAX_TRACKED_ADDRESSES: usize = 65_536;

/// The shared counters behind an acceptor and its streams.
#[derive(Debug)]
pub(super) struct Limits {
    pub(super) budget: usize,
    held: AtomicUsize,
    pub(super) max_connections: usize,
    connections: AtomicUsize,
    /// What [`Acceptor::metrics`](super::Acceptor::metrics) reports
    /// (handshakes in progress are its `pending` gauge).
    pub(super) counters: Counters,
}

impl Limits {
    pub(super) fn new(budget: usize, max_connections: usize) -> Self {
        Self {
            budget,
            held: AtomicUsize::new(0),
            max_connections,
            connections: AtomicUsize::new(0),
            counters: Counters::default(),
        }
    }

    /// Bytes held by all connections now.
    pub(super) fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Connections open now.
    pub(super) fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Takes a connection slot, unless the cap is reached.
    pub(super) fn open(limits: &Arc<Self>) -> Option<Charge> {
        let previous = limits.connections.fetch_add(1, Ordering::SeqCst);
        if previous >= limits.max_connections {
            limits.connections.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Charge {
            limits: limits.clone(),
            charged: 0,
        })
    }
}

/// One connection's slot and its charge against the memory budget,
/// released when the stream is dropped.
#[derive(Debug)]
pub(crate) struct Charge {
    limits: Arc<Limits>,
    charged: usize,
}

impl Charge {
    /// The acceptor's counters, for the bytes the stream moves.
    pub(crate) fn counters(&self) -> &Counters {
        &self.limits.counters
    }

    /// Records that the connection now holds `bytes`.
    pub(crate) fn set(&mut self, bytes: usize) {
        if bytes > self.charged {
            self.limits
                .held
                .fetch_add(bytes.saturating_sub(self.charged), Ordering::Relaxed);
        } else {
            self.limits
                .held
                .fetch_sub(self.charged.saturating_sub(bytes), Ordering::Relaxed);
        }
        self.charged = bytes;
    }

    /// Whether this connection must not take more input: the budget is
    /// spent and it holds some of it (a connection that holds nothing may
    /// still read, so a message that fits completes and frees memory).
    pub(crate) fn over_budget(&self) -> bool {
        self.charged > 0 && self.limits.held() > self.limits.budget
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.set(0);
        self.limits.connections.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Handshakes per second and burst allowed from one address (IPv4 address,
/// or IPv6 /64: one subscriber).
#[derive(Debug)]
pub(super) struct RateLimit {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    pub(super) fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for a handshake from `addr` at `now`; `false` when the
    /// address is over its rate.
    pub(super) fn allow(&self, addr: IpAddr, now: Instant) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        let key = subscriber(addr);
        let refill = |b: &Bucket| {
            let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
            (b.tokens + elapsed * self.per_second).min(self.burst)
        };
        if !buckets.contains_key(&key) && buckets.len() >= MAX_TRACKED_ADDRESSES {
            let burst = self.burst;
            buckets.retain(|_, b| refill(b) < burst);
            if buckets.len() >= MAX_TRACKED_ADDRESSES {
                return false;
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let tokens = refill(bucket);
        if tokens < 1.0 {
            *bucket = Bucket { tokens, at: now };
            return false;
        }
        *bucket = Bucket {
            tokens: tokens - 1.0,
            at: now,
        };
        true
    }

    /// How long one token takes to come back.
    #[cfg(test)]
    fn period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second)
    }
}

/// The key a rate is tracked by: the IPv4 address, or the IPv6 /64.
fn subscriber(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            if let Some(host) = octets.get_mut(8..) {
                host.fill(0);
            }
            IpAddr::from(octets)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let limit = RateLimit::new(10, 3);
        let t = Instant::now();
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        assert!((0..3).all(|_| limit.allow(ip, t)));
        assert!(!limit.allow(ip, t));
        // Another address has its own bucket.
        assert!(limit.allow("203.0.113.8".parse().unwrap(), t));
        // One token back after a tenth of a second.
        let later = t + limit.period();
        assert!(limit.allow(ip, later));
        assert!(!limit.allow(ip, later));
        // IPv6: one bucket per /64.
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        assert!((0..3).all(|_| limit.allow(a, t)));
        assert!(!limit.allow(b, t));
    }

    #[test]
    fn charges_add_up_and_are_released() {
        let limits = Arc::new(Limits::new(100, 2));
        let mut a = Limits::open(&limits).unwrap();
        let mut b = Limits::open(&limits).unwrap();
        assert!(Limits::open(&limits).is_none(), "connection cap");
        a.set(80);
        b.set(30);
        assert_eq!(limits.held(), 110);
        assert!(a.over_budget() && b.over_budget());
        b.set(0);
        assert!(!b.over_budget(), "a connection holding nothing may read");
        drop(a);
        assert_eq!((limits.held(), limits.connections()), (0, 1));
    }
}
