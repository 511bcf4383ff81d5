//! Time as an input.

use std::time::Duration;

/// A point in time: milliseconds since the UNIX epoch (wall clock).
///
/// The sans-IO core never reads a clock: every call that needs the time takes
/// a `Time`, and adapters pass [`Time::now`]. Wall-clock time is needed
/// because early-data timestamps and Retry cookies are compared across
/// machines; keep clocks roughly in sync (NTP). Tests may use any values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(u64);

impl Time {
    /// A time `ms` milliseconds after the clock's origin.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the clock's origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The current wall-clock time (milliseconds since the UNIX epoch). Only
    /// adapters call this; the core takes time as an argument.
    pub fn now() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
    }

    /// `self + d`, saturating.
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        )
    }
}
