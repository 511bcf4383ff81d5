//! The timers of an established connection: keep-alive, idle timeout and
//! the partial-message deadline. Time is an input; nothing here reads a
//! clock.

use crate::config::TransportConfig;
use crate::time::Time;

/// What a timer asks for at a given time.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Due {
    /// Nothing to do.
    Nothing,
    /// Send a keep-alive ping (nothing was sent for a whole interval).
    Ping,
    /// Nothing was received for the idle timeout.
    IdleTimeout,
    /// A message begun too long ago is still incomplete.
    PartialMessageTimeout,
}

/// The timers' state; their durations are read from the connection's
/// [`TransportConfig`], passed in, not copied here.
pub(super) struct Timers {
    /// When something was last received.
    last_rx: Time,
    next_keepalive: Option<Time>,
    /// Whether anything was sent since the last keep-alive check.
    sent_since_keepalive: bool,
    /// When the first fragment of the message being reassembled arrived.
    partial_since: Option<Time>,
    /// Keep-alive pings sent and not yet answered: their (empty) pongs are
    /// not reported, so an idle connection does not pile up events.
    keepalive_pongs_due: u8,
}

impl Timers {
    /// Timers that start at `now`.
    pub(super) fn start(config: &TransportConfig, now: Time) -> Self {
        Self {
            last_rx: now,
            next_keepalive: config.keepalive_interval.map(|i| now.saturating_add(i)),
            sent_since_keepalive: false,
            partial_since: None,
            keepalive_pongs_due: 0,
        }
    }

    pub(super) fn received(&mut self, now: Time) {
        self.last_rx = now;
    }

    pub(super) fn sent(&mut self) {
        self.sent_since_keepalive = true;
    }

    /// A keep-alive ping was sent.
    pub(super) fn keepalive_sent(&mut self) {
        self.keepalive_pongs_due = self.keepalive_pongs_due.saturating_add(1);
    }

    /// An empty pong arrived: whether it answers a keep-alive ping of ours
    /// (then it is not reported). An application's empty ping gets its pong
    /// all the same: pongs are told apart by payload only.
    pub(super) fn keepalive_pong(&mut self) -> bool {
        let ours = self.keepalive_pongs_due > 0;
        self.keepalive_pongs_due = self.keepalive_pongs_due.saturating_sub(1);
        ours
    }

    /// A fragment of an unfinished message arrived.
    pub(super) fn fragment_received(&mut self) {
        if self.partial_since.is_none() {
            self.partial_since = Some(self.last_rx);
        }
    }

    /// The message being reassembled is complete.
    pub(super) fn message_completed(&mut self) {
        self.partial_since = None;
    }

    /// When something is due next, with `config`'s durations.
    pub(super) fn next_due(&self, config: &TransportConfig) -> Option<Time> {
        let idle = config.idle_timeout.map(|d| self.last_rx.saturating_add(d));
        let partial = config
            .partial_message_timeout
            .zip(self.partial_since)
            .map(|(d, since)| since.saturating_add(d));
        [idle, self.next_keepalive, partial]
            .into_iter()
            .flatten()
            .min()
    }

    /// What is due at `now` with `config`'s durations; a keep-alive check
    /// re-arms itself.
    pub(super) fn due(&mut self, config: &TransportConfig, now: Time) -> Due {
        if config
            .idle_timeout
            .is_some_and(|idle| now >= self.last_rx.saturating_add(idle))
        {
            return Due::IdleTimeout;
        }
        if let (Some(limit), Some(since)) = (config.partial_message_timeout, self.partial_since) {
            if now >= since.saturating_add(limit) {
                return Due::PartialMessageTimeout;
            }
        }
        if let (Some(due), Some(interval)) = (self.next_keepalive, config.keepalive_interval) {
            if now >= due {
                let ping = !self.sent_since_keepalive;
                self.sent_since_keepalive = false;
                self.next_keepalive = Some(now.saturating_add(interval));
                if ping {
                    return Due::Ping;
                }
            }
        }
        Due::Nothing
    }
}
