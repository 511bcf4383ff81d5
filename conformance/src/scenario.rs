//! Scenarios, verdicts, and the helpers that judge what the peer did
//! against what the spec says.

use std::time::Duration;

use crate::net::{Seen, Wire};
use crate::wire::alert_name;

/// A scenario's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass(String),
    Fail { expected: String, seen: String },
    Skip(String),
}

impl Verdict {
    pub fn pass() -> Self {
        Verdict::Pass(String::new())
    }
    pub fn fail(expected: impl Into<String>, seen: impl ToString) -> Self {
        Verdict::Fail {
            expected: expected.into(),
            seen: seen.to_string(),
        }
    }
    pub fn skip(reason: impl Into<String>) -> Self {
        Verdict::Skip(reason.into())
    }
    pub fn is_fail(&self) -> bool {
        matches!(self, Verdict::Fail { .. })
    }
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass(_) => "pass",
            Verdict::Fail { .. } => "fail",
            Verdict::Skip(_) => "skip",
        }
    }
}

/// `?` for scenario steps: an early verdict.
pub type Step<T> = Result<T, Verdict>;

/// Runs a scenario body written with `?`.
pub fn verdict(f: impl FnOnce() -> Step<Verdict>) -> Verdict {
    match f() {
        Ok(v) | Err(v) => v,
    }
}

/// Which side of the protocol the implementation under test plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The tester is the client; the implementation under test a server.
    Server,
    /// The tester is the server; the implementation under test a client.
    Client,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Server => "server",
            Mode::Client => "client",
        }
    }
}

/// One scenario: an independent connection (or a few), citing the spec.
pub struct Scenario<C> {
    pub id: &'static str,
    pub sections: &'static [&'static str],
    pub title: &'static str,
    pub run: Box<dyn Fn(&mut C) -> Verdict + Send + Sync>,
}

impl<C> Scenario<C> {
    pub fn new(
        id: &'static str,
        sections: &'static [&'static str],
        title: &'static str,
        run: impl Fn(&mut C) -> Verdict + Send + Sync + 'static,
    ) -> Self {
        Scenario {
            id,
            sections,
            title,
            run: Box::new(run),
        }
    }

    /// `--only`: a section (`4.5` matches `4.5` and `4.5.x`), a scenario id,
    /// or an id prefix (`server.cookie` matches `server.cookie.*`).
    pub fn matches(&self, only: &str) -> bool {
        self.id == only
            || self
                .id
                .starts_with(&format!("{}.", only.trim_end_matches('.')))
            || self
                .sections
                .iter()
                .any(|s| *s == only || s.starts_with(&format!("{only}.")))
    }
}

/// How the peer must fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A cleartext alert frame `15 0001 code`, then close.
    Clear(u8),
    /// A protected alert record, then close.
    Protected(u8),
    /// Nothing at all, then close (a failure that sends nothing).
    Silence,
}

impl Expect {
    pub fn describe(self) -> String {
        match self {
            Expect::Clear(c) => format!("cleartext alert {}, then close", alert_name(c)),
            Expect::Protected(c) => format!("protected alert {}, then close", alert_name(c)),
            Expect::Silence => "no alert, close".to_string(),
        }
    }
}

/// How long the peer has to close once it has failed.
pub const CLOSE_GRACE: Duration = Duration::from_millis(1500);

/// Judges `seen` (the first significant thing the peer did) against
/// `expect`, then checks that the peer closes.
pub fn judge(expect: Expect, seen: Seen, wire: &mut Wire) -> Verdict {
    let ok = match (expect, &seen) {
        (Expect::Clear(c), Seen::ClearAlert(s)) => c == *s,
        (Expect::Protected(c), Seen::Alert(s)) => c == *s,
        (Expect::Silence, Seen::Eof { partial: 0 } | Seen::Reset) => return Verdict::pass(),
        _ => false,
    };
    if !ok {
        return Verdict::fail(expect.describe(), seen);
    }
    match wire.expect_close(CLOSE_GRACE) {
        Ok(()) => Verdict::pass(),
        Err(more) => Verdict::fail(
            expect.describe(),
            format!("{seen}, then {} instead of a close", Seen::from(more)),
        ),
    }
}
