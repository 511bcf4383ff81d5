//! The timers of an established connection: keep-alive, idle timeout and
//! the partial-message deadline. Time is an input; nothing here reads a
//! clock.

use std::time::Duration;

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

pub(super) struct Timers {
    keepalive_interval: Option<Duration>,
    idle_timeout: Option<Duration>,
    partial_message_timeout: Option<Duration>,
    /// When something was last received.
    last_rx: Time,
    next_keepalive: Option<Time>,
    /// Whether anything was sent since the last keep-alive check.
    sent_since_keepalive: bool,
    /// When the first fragment of the message being reassembled arrived.
    partial_since: Option<Time>,
}

impl Timers {
    /// Timers that start at `now`.
    pub(super) fn start(config: &TransportConfig, now: Time) -> Self {
        Self {
            keepalive_interval: config.keepalive_interval,
            idle_timeout: config.idle_timeout,
            partial_message_timeout: config.partial_message_timeout,
            last_rx: now,
            next_keepalive: config.keepalive_interval.map(|i| now.saturating_add(i)),
            sent_since_keepalive: false,
            partial_since: None,
        }
    }

    pub(super) fn received(&mut self, now: Time) {
        self.last_rx = now;
    }

    pub(super) fn sent(&mut self) {
        self.sent_since_keepalive = true;
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

    /// When something is due next.
    pub(super) fn next_due(&self) -> Option<Time> {
        let idle = self.idle_timeout.map(|d| self.last_rx.saturating_add(d));
        let partial = self
            .partial_message_timeout
            .zip(self.partial_since)
            .map(|(d, since)| since.saturating_add(d));
        [idle, self.next_keepalive, partial]
            .into_iter()
            .flatten()
            .min()
    }

    /// What is due at `now`; a keep-alive check re-arms itself.
    pub(super) fn due(&mut self, now: Time) -> Due {
        if self
            .idle_timeout
            .is_some_and(|idle| now >= self.last_rx.saturating_add(idle))
        {
            return Due::IdleTimeout;
        }
        if let (Some(limit), Some(since)) = (self.partial_message_timeout, self.partial_since) {
            if now >= since.saturating_add(limit) {
                return Due::PartialMessageTimeout;
            }
        }
        if let (Some(due), Some(interval)) = (self.next_keepalive, self.keepalive_interval) {
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
