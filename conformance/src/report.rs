//! Running scenarios and reporting: text grouped by section, JSON, JUnit.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::scenario::{Mode, Scenario, Verdict};

/// One scenario's result.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub mode: Mode,
    pub id: String,
    pub sections: Vec<String>,
    pub title: String,
    pub verdict: Verdict,
    pub elapsed: Duration,
}

/// Runs the scenarios that match `only` (all when empty), one after the
/// other; `after` runs after each (the client mode stops its client).
pub fn run<C>(
    mode: Mode,
    ctx: &mut C,
    scenarios: &[Scenario<C>],
    only: &[String],
    mut after: impl FnMut(&mut C),
    mut progress: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    let mut out = Vec::new();
    for s in scenarios {
        if !only.is_empty() && !only.iter().any(|o| s.matches(o)) {
            continue;
        }
        let start = Instant::now();
        let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (s.run)(ctx)))
            .unwrap_or_else(|_| {
                Verdict::fail(
                    "the scenario runs",
                    "the tester panicked (a bug in the tester)",
                )
            });
        after(ctx);
        let o = Outcome {
            mode,
            id: s.id.to_string(),
            sections: s.sections.iter().map(|x| x.to_string()).collect(),
            title: s.title.to_string(),
            verdict,
            elapsed: start.elapsed(),
        };
        progress(&o);
        out.push(o);
    }
    out
}

fn section_key(s: &str) -> Vec<u32> {
    s.split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}

/// The readable report, grouped by each scenario's first section.
pub fn text(outcomes: &[Outcome]) -> String {
    let mut sorted: Vec<&Outcome> = outcomes.iter().collect();
    sorted.sort_by_key(|o| section_key(&o.sections[0]));
    let mut t = String::new();
    let mut current = None;
    for o in sorted {
        if current != Some(&o.sections[0]) {
            current = Some(&o.sections[0]);
            let _ = writeln!(t, "\nSection {}", o.sections[0]);
        }
        let mark = match o.verdict {
            Verdict::Pass(_) => "PASS",
            Verdict::Fail { .. } => "FAIL",
            Verdict::Skip(_) => "SKIP",
        };
        let _ = writeln!(
            t,
            "  {mark} {} [{}] {}",
            o.id,
            o.sections.join(", "),
            o.title
        );
        match &o.verdict {
            Verdict::Fail { expected, seen } => {
                let _ = writeln!(t, "       expected: {expected}\n       seen:     {seen}");
            }
            Verdict::Skip(reason) => {
                let _ = writeln!(t, "       {reason}");
            }
            Verdict::Pass(_) => {}
        }
    }
    let (p, f, s) = counts(outcomes);
    let _ = writeln!(t, "\n{p} passed, {f} failed, {s} skipped");
    t
}

pub fn counts(outcomes: &[Outcome]) -> (usize, usize, usize) {
    let c = |l| outcomes.iter().filter(|o| o.verdict.label() == l).count();
    (c("pass"), c("fail"), c("skip"))
}

pub fn json(outcomes: &[Outcome]) -> serde_json::Value {
    let (p, f, s) = counts(outcomes);
    let list: Vec<_> = outcomes
        .iter()
        .map(|o| {
            let mut v = serde_json::json!({
                "id": o.id,
                "mode": o.mode.name(),
                "sections": o.sections,
                "title": o.title,
                "result": o.verdict.label(),
                "seconds": o.elapsed.as_secs_f64(),
            });
            match &o.verdict {
                Verdict::Fail { expected, seen } => {
                    v["expected"] = expected.clone().into();
                    v["seen"] = seen.clone().into();
                }
                Verdict::Skip(r) => v["reason"] = r.clone().into(),
                Verdict::Pass(_) => {}
            }
            v
        })
        .collect();
    serde_json::json!({ "passed": p, "failed": f, "skipped": s, "scenarios": list })
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one test suite per section, one test case per scenario.
pub fn junit(outcomes: &[Outcome]) -> String {
    let mut sections: Vec<&String> = outcomes.iter().map(|o| &o.sections[0]).collect();
    sections.sort_by_key(|s| section_key(s));
    sections.dedup();
    let (_, f, s) = counts(outcomes);
    let total: f64 = outcomes.iter().map(|o| o.elapsed.as_secs_f64()).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"lwsec-conformance\" tests=\"{}\" failures=\"{f}\" skipped=\"{s}\" time=\"{total:.3}\">",
        outcomes.len()
    );
    for sec in sections {
        let these: Vec<&Outcome> = outcomes.iter().filter(|o| &o.sections[0] == sec).collect();
        let (_, f, s) = counts(&these.iter().map(|o| (*o).clone()).collect::<Vec<_>>());
        let _ = writeln!(
            x,
            "  <testsuite name=\"section {}\" tests=\"{}\" failures=\"{f}\" skipped=\"{s}\">",
            xml(sec),
            these.len()
        );
        for o in these {
            let _ = write!(
                x,
                "    <testcase classname=\"lwsec-conformance.{}.section-{}\" name=\"{}\" time=\"{:.3}\"",
                o.mode.name(),
                xml(sec),
                xml(&o.id),
                o.elapsed.as_secs_f64()
            );
            match &o.verdict {
                Verdict::Pass(_) => x.push_str("/>\n"),
                Verdict::Fail { expected, seen } => {
                    let _ = writeln!(
                        x,
                        ">\n      <failure message=\"expected {}; seen {}\">{}\nsections: {}\nexpected: {}\nseen: {}</failure>\n    </testcase>",
                        xml(expected),
                        xml(seen),
                        xml(&o.title),
                        xml(&o.sections.join(", ")),
                        xml(expected),
                        xml(seen)
                    );
                }
                Verdict::Skip(r) => {
                    let _ = writeln!(
                        x,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml(r)
                    );
                }
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}
