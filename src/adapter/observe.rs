//! Observability shared by the adapters: the acceptors' counters and their
//! [`AcceptorMetrics`] snapshot, and, with the `tracing` feature, the
//! connection spans and events (module `trace`).
//!
//! Nothing here reads a secret: spans and events carry the pattern, the
//! suite, public key ids, durations, alert codes and error messages, never
//! key bytes or payloads.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::{AlertCode, Error, Rejection};

/// The alert codes counted one by one in [`AcceptorMetrics`], by wire
/// value; any other code is counted in one last slot.
const COUNTED_ALERTS: [u8; 15] = [0, 10, 20, 22, 40, 47, 50, 51, 70, 80, 90, 91, 92, 93, 94];

/// Slots of the per-alert counters: one per counted code, one for others.
const ALERT_SLOTS: usize = COUNTED_ALERTS.len() + 1;

/// The slot counting `code`.
fn alert_slot(code: AlertCode) -> usize {
    let byte = code.to_u8();
    COUNTED_ALERTS
        .iter()
        .position(|c| *c == byte)
        .unwrap_or(COUNTED_ALERTS.len())
}

/// A snapshot of an acceptor's counters, from
/// [`tokio::Acceptor::metrics`](crate::tokio::Acceptor::metrics) or
/// [`blocking::Acceptor::metrics`](crate::blocking::Acceptor::metrics).
///
/// Counters (`u64`) only grow, from the acceptor's creation, and are shared
/// by its clones; gauges (`usize`) say how things are now. Each is read on
/// its own (relaxed), so a snapshot taken while connections come and go
/// need not add up exactly (`handshakes_started` may briefly exceed
/// completed plus failed plus in progress). Export them to your metrics
/// system by polling, for example once every few seconds.
///
/// ```
/// # use std::sync::Arc;
/// # let config = Arc::new(lwsec::ServerConfig::new(lwsec::StaticKeyPair::from_private_bytes([1; 32])));
/// let acceptor = lwsec::blocking::Acceptor::new(config);
/// let m = acceptor.metrics();
/// assert_eq!(m.handshakes_completed, 0);
/// assert_eq!(m.failed_by_alert(lwsec::AlertCode::DecryptError), 0);
/// println!("{m:?}");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AcceptorMetrics {
    /// Handshakes begun: clients that sent their first bytes. (Clients
    /// dropped before, by the connection cap or the per-address rate, are
    /// in `refused_by_limits`.)
    pub handshakes_started: u64,
    /// Handshakes completed: the client confirmed the keys and the
    /// application got a stream.
    pub handshakes_completed: u64,
    /// Of `handshakes_completed`: handshakes resumed with a ticket
    /// (`spec/PROTOCOL.md` section 4.11; one DH, no static-key work); the
    /// others ran a full handshake, including those whose ticket was
    /// refused (the client then falls back on the same connection). The
    /// resumption rate is `handshakes_resumed / handshakes_completed`; a
    /// fleet whose rate drops after a deployment is probably not sharing
    /// its ticket keys.
    pub handshakes_resumed: u64,
    /// Handshakes begun that did not complete, for any reason: an alert
    /// sent or received (see [`failed_by_alert`](Self::failed_by_alert)),
    /// a rejected client, a timeout, a transport error, or a handshake
    /// abandoned by the application (an `Unconfirmed` dropped).
    pub handshakes_failed: u64,
    /// Of `handshakes_failed`: handshakes that missed the acceptor's
    /// handshake timeout.
    pub handshakes_timed_out: u64,
    /// Clients refused by the authorizer (including those refused because
    /// it failed or missed its deadline, [`Rejection::PolicyUnavailable`]).
    /// They are also counted in `handshakes_failed`.
    pub clients_rejected: u64,
    /// Decisions whose policy (the authorizer or the replay guard) missed
    /// its deadline: the client was refused, or its early data rejected.
    pub decisions_timed_out: u64,
    /// Clients dropped before any work: the connection cap or the
    /// per-address handshake rate was reached (tokio acceptor only).
    pub refused_by_limits: u64,
    /// Clients that had to echo a Retry cookie (tokio acceptor only).
    pub cookies_demanded: u64,
    /// First flights whose early data was accepted (the replay guard found
    /// it fresh).
    pub early_data_accepted: u64,
    /// First flights that offered early data and had it rejected (no
    /// replay guard, a replay, a guard error or timeout, or the
    /// connection's own checks).
    pub early_data_rejected: u64,
    /// Bytes read from the transports of this acceptor's connections
    /// (records as on the wire, handshake included).
    pub bytes_in: u64,
    /// Bytes written to the transports of this acceptor's connections.
    pub bytes_out: u64,
    /// Gauge: connections open now, from `accept` until the stream (or the
    /// handshake) is dropped.
    pub open_connections: usize,
    /// Gauge: handshakes in progress now (clients that sent something and
    /// are not yet established).
    pub pending_handshakes: usize,
    /// Gauge: bytes of received data held for the application now, across
    /// connections (what the memory budget limits; tokio acceptor only).
    pub buffered_bytes: usize,
    /// Failed handshakes by the alert that ended them, sent or received.
    failed_by_alert: [u64; ALERT_SLOTS],
}

impl AcceptorMetrics {
    /// Handshakes that failed with the alert `code`, whichever side sent
    /// it. Codes this version does not know ([`AlertCode::Unknown`]) share
    /// one count. Failures without an alert (timeouts, transport errors)
    /// are in `handshakes_failed` only.
    pub fn failed_by_alert(&self, code: AlertCode) -> u64 {
        self.failed_by_alert
            .get(alert_slot(code))
            .copied()
            .unwrap_or(0)
    }

    /// Every alert that ended a failed handshake, with its count (codes
    /// never seen are left out; [`AlertCode::Unknown`]`(255)` stands for
    /// all unknown codes).
    pub fn failures_by_alert(&self) -> impl Iterator<Item = (AlertCode, u64)> + '_ {
        COUNTED_ALERTS
            .iter()
            .map(|c| AlertCode::from_u8(*c))
            .chain([AlertCode::Unknown(u8::MAX)])
            .zip(self.failed_by_alert)
            .filter(|(_, n)| *n > 0)
    }
}

impl fmt::Debug for AcceptorMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct ByAlert<'a>(&'a AcceptorMetrics);
        impl fmt::Debug for ByAlert<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(
                        self.0
                            .failures_by_alert()
                            .map(|(code, n)| (code.to_string(), n)),
                    )
                    .finish()
            }
        }
        f.debug_struct("AcceptorMetrics")
            .field("handshakes_started", &self.handshakes_started)
            .field("handshakes_completed", &self.handshakes_completed)
            .field("handshakes_resumed", &self.handshakes_resumed)
            .field("handshakes_failed", &self.handshakes_failed)
            .field("failed_by_alert", &ByAlert(self))
            .field("handshakes_timed_out", &self.handshakes_timed_out)
            .field("clients_rejected", &self.clients_rejected)
            .field("decisions_timed_out", &self.decisions_timed_out)
            .field("refused_by_limits", &self.refused_by_limits)
            .field("cookies_demanded", &self.cookies_demanded)
            .field("early_data_accepted", &self.early_data_accepted)
            .field("early_data_rejected", &self.early_data_rejected)
            .field("bytes_in", &self.bytes_in)
            .field("bytes_out", &self.bytes_out)
            .field("open_connections", &self.open_connections)
            .field("pending_handshakes", &self.pending_handshakes)
            .field("buffered_bytes", &self.buffered_bytes)
            .finish()
    }
}

/// The counters behind [`AcceptorMetrics`], shared by an acceptor, its
/// clones and its connections. Relaxed atomics: each is a statistic, not a
/// synchronisation.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    started: AtomicU64,
    completed: AtomicU64,
    resumed: AtomicU64,
    failed: AtomicU64,
    timed_out: AtomicU64,
    rejected: AtomicU64,
    decisions_timed_out: AtomicU64,
    refused_by_limits: AtomicU64,
    cookies_demanded: AtomicU64,
    early_data_accepted: AtomicU64,
    early_data_rejected: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    failed_by_alert: [AtomicU64; ALERT_SLOTS],
    /// Gauges, for an acceptor that keeps them here (the tokio acceptor's
    /// open connections are counted by its limits).
    pub(crate) open: AtomicUsize,
    pub(crate) pending: AtomicUsize,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// The lwsec error inside an adapter's `io::Error`, if it holds one.
pub(crate) fn lwsec_error(err: &io::Error) -> Option<&Error> {
    err.get_ref()?.downcast_ref::<Error>()
}

/// The alert that ended a connection failing with `err`, and whether this
/// side received it (`true`) or sent it (`false`).
pub(crate) fn failure_alert(err: &Error) -> Option<(AlertCode, bool)> {
    match err {
        Error::PeerAlert { code, .. } => Some((*code, true)),
        other => other.alert().map(|code| (code, false)),
    }
}

impl Counters {
    pub(crate) fn handshake_started(&self) {
        bump(&self.started);
    }

    /// A handshake completed; `resumed`: with a ticket.
    pub(crate) fn handshake_completed(&self, resumed: bool) {
        bump(&self.completed);
        if resumed {
            bump(&self.resumed);
        }
    }

    /// A handshake begun (`handshake_started`) that failed with `err`
    /// (`None`: abandoned).
    pub(crate) fn handshake_failed(&self, err: Option<&io::Error>) {
        bump(&self.failed);
        let Some(err) = err else { return };
        if err.kind() == io::ErrorKind::TimedOut
            && matches!(lwsec_error(err), Some(Error::HandshakeTimeout(_)))
        {
            bump(&self.timed_out);
        }
        if let Some((code, _)) = lwsec_error(err).and_then(failure_alert) {
            if let Some(slot) = self.failed_by_alert.get(alert_slot(code)) {
                bump(slot);
            }
        }
    }

    /// The authorizer refused a client.
    pub(crate) fn client_rejected(&self, _reason: Rejection) {
        bump(&self.rejected);
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn decision_timed_out(&self) {
        bump(&self.decisions_timed_out);
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn refused_by_limits(&self) {
        bump(&self.refused_by_limits);
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn cookie_demanded(&self) {
        bump(&self.cookies_demanded);
    }

    /// A first flight offered early data; `accepted` says what became of it.
    pub(crate) fn early_data(&self, accepted: bool) {
        bump(if accepted {
            &self.early_data_accepted
        } else {
            &self.early_data_rejected
        });
    }

    pub(crate) fn bytes_in(&self, n: usize) {
        add(&self.bytes_in, n);
    }

    pub(crate) fn bytes_out(&self, n: usize) {
        add(&self.bytes_out, n);
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn cookies_demanded(&self) -> u64 {
        self.cookies_demanded.load(Ordering::Relaxed)
    }

    /// The snapshot, with the gauges the acceptor keeps elsewhere.
    pub(crate) fn snapshot(
        &self,
        open_connections: usize,
        pending_handshakes: usize,
        buffered_bytes: usize,
    ) -> AcceptorMetrics {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        AcceptorMetrics {
            handshakes_started: load(&self.started),
            handshakes_completed: load(&self.completed),
            handshakes_resumed: load(&self.resumed),
            handshakes_failed: load(&self.failed),
            handshakes_timed_out: load(&self.timed_out),
            clients_rejected: load(&self.rejected),
            decisions_timed_out: load(&self.decisions_timed_out),
            refused_by_limits: load(&self.refused_by_limits),
            cookies_demanded: load(&self.cookies_demanded),
            early_data_accepted: load(&self.early_data_accepted),
            early_data_rejected: load(&self.early_data_rejected),
            bytes_in: load(&self.bytes_in),
            bytes_out: load(&self.bytes_out),
            open_connections,
            pending_handshakes,
            buffered_bytes,
            failed_by_alert: std::array::from_fn(|i| self.failed_by_alert.get(i).map_or(0, load)),
        }
    }
}

/// A handshake in progress on a blocking acceptor: counted in the
/// `pending_handshakes` gauge while it lives and in the counters once
/// resolved; dropped unresolved (a panic in a policy), it counts as failed.
#[derive(Debug)]
pub(crate) struct Handshake<'a> {
    counters: &'a Counters,
    resolved: bool,
}

impl<'a> Handshake<'a> {
    pub(crate) fn start(counters: &'a Counters) -> Self {
        counters.pending.fetch_add(1, Ordering::Relaxed);
        counters.handshake_started();
        Self {
            counters,
            resolved: false,
        }
    }

    /// Records how the handshake ended (`resumed`: with a ticket).
    pub(crate) fn resolve<T>(mut self, result: &io::Result<T>, resumed: bool) {
        self.resolved = true;
        match result {
            Ok(_) => self.counters.handshake_completed(resumed),
            Err(e) => self.counters.handshake_failed(Some(e)),
        }
    }
}

impl Drop for Handshake<'_> {
    fn drop(&mut self) {
        self.counters.pending.fetch_sub(1, Ordering::Relaxed);
        if !self.resolved {
            self.counters.handshake_failed(None);
        }
    }
}

/// One blocking connection's share of its acceptor's metrics: the
/// `open_connections` gauge while it lives, and the bytes it moves.
#[derive(Debug)]
pub(crate) struct Meter(Arc<Counters>);

impl Meter {
    pub(crate) fn open(counters: Arc<Counters>) -> Self {
        counters.open.fetch_add(1, Ordering::Relaxed);
        Self(counters)
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.0
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Connection spans and events for the `tracing` crate (feature
/// `tracing`). The adapters call these; the sans-IO core emits nothing.
#[cfg(feature = "tracing")]
pub(crate) mod trace {
    use std::fmt;
    use std::io;
    use std::time::Duration;

    use tracing::field::Empty;
    use tracing::{Span, debug, info, warn};

    use super::{failure_alert, lwsec_error};
    use crate::conn::Side;
    use crate::{Connection, Error, Event};

    /// A public key id (8 bytes) in hex: never anything secret.
    pub(crate) struct KeyId(pub(crate) [u8; 8]);

    impl fmt::Display for KeyId {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
        }
    }

    /// The span of one connection: its side and peer now, its pattern,
    /// suite and key ids once known.
    pub(crate) fn connection_span(side: Side, peer: Option<&dyn fmt::Display>) -> Span {
        let side = match side {
            Side::Client => "client",
            Side::Server => "server",
        };
        let span = tracing::info_span!(
            "lwsec_connection",
            side,
            peer = Empty,
            pattern = Empty,
            suite = Empty,
            key_id = Empty,
            client_key_id = Empty,
        );
        if let Some(peer) = peer {
            span.record("peer", tracing::field::display(peer));
        }
        span
    }

    /// The handshake completed after `duration`. `server_key_id` is the
    /// key id of the server's static key (a server passes the one the
    /// client asked for; a client's comes from the connection).
    pub(crate) fn handshake_completed(
        span: &Span,
        conn: &Connection,
        server_key_id: Option<[u8; 8]>,
        duration: Duration,
    ) {
        let pattern = conn.pattern().map(|p| p.noise_name());
        let suite = conn.suite().map(tracing::field::display);
        let peer_key = conn.peer_static_key().map(|k| k.key_id());
        let (key_id, client_key_id) = match conn.side() {
            Side::Client => (peer_key, None),
            Side::Server => (server_key_id, peer_key),
        };
        let key_id = key_id.map(|k| tracing::field::display(KeyId(k)));
        let client_key_id = client_key_id.map(|k| tracing::field::display(KeyId(k)));
        span.record("pattern", pattern);
        span.record("suite", &suite);
        span.record("key_id", &key_id);
        span.record("client_key_id", &client_key_id);
        info!(
            parent: span,
            pattern,
            suite,
            key_id,
            client_key_id,
            resumed = conn.is_resumed(),
            duration_ms = duration_ms(duration),
            "lwsec handshake completed"
        );
    }

    /// The handshake failed with `err` after `duration`.
    pub(crate) fn handshake_failed(span: &Span, err: &io::Error, duration: Duration) {
        let inner = lwsec_error(err);
        let alert = inner.and_then(failure_alert);
        warn!(
            parent: span,
            error = %err,
            alert = alert.map(|(code, _)| tracing::field::display(code)),
            alert_code = alert.map(|(code, _)| code.to_u8()),
            alert_received = alert.map(|(_, received)| received),
            authenticated = inner.and_then(authenticated),
            duration_ms = duration_ms(duration),
            "lwsec handshake failed"
        );
    }

    /// An established connection failed with `err` (an alert sent or
    /// received, a truncation, a timeout...).
    pub(crate) fn connection_failed(span: &Span, err: &Error) {
        let alert = failure_alert(err);
        let reason = match err {
            Error::Truncated => "truncation",
            Error::Timeout | Error::PartialMessageTimeout => "timeout",
            Error::PeerAlert { .. } => "alert received",
            _ if alert.is_some() => "alert sent",
            _ => "error",
        };
        warn!(
            parent: span,
            reason,
            error = %err,
            alert = alert.map(|(code, _)| tracing::field::display(code)),
            alert_code = alert.map(|(code, _)| code.to_u8()),
            alert_received = alert.map(|(_, received)| received),
            authenticated = authenticated(err),
            "lwsec connection closed"
        );
    }

    /// The transport failed under an established connection.
    #[cfg(feature = "tokio")]
    pub(crate) fn transport_failed(span: &Span, err: &io::Error) {
        warn!(parent: span, reason = "transport error", error = %err, "lwsec connection closed");
    }

    /// This side queued its close_notify.
    pub(crate) fn closing(span: &Span) {
        info!(parent: span, reason = "close_notify", by = "local", "lwsec connection closing");
    }

    /// An event of the core, as the adapter takes it.
    pub(crate) fn event(span: &Span, event: &Event) {
        match event {
            Event::KeyUpdated => debug!(parent: span, "lwsec key update received"),
            Event::PeerClosed => info!(
                parent: span,
                reason = "close_notify",
                by = "peer",
                "lwsec connection closed"
            ),
            Event::EarlyDataAccepted => debug!(parent: span, "lwsec early data accepted"),
            Event::EarlyDataRejected => debug!(parent: span, "lwsec early data rejected"),
            // The ticket itself is a secret: only its lifetime is reported.
            Event::ResumptionTicket(ticket) => debug!(
                parent: span,
                expires_ms = ticket.expires().as_millis(),
                "lwsec resumption ticket received"
            ),
            _ => {}
        }
    }

    /// Whether a received alert came inside a protected record.
    fn authenticated(err: &Error) -> Option<bool> {
        match err {
            Error::PeerAlert { authenticated, .. } => Some(*authenticated),
            _ => None,
        }
    }

    fn duration_ms(d: Duration) -> u64 {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
    }
}
