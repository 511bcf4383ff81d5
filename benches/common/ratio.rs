//! Paired measurements: criterion samples whose value is the ratio of two
//! thread-CPU times taken back to back in the same sample.
//!
//! Two separate criterion benchmarks run seconds apart; on a shared VM the
//! host's load (steal, cache and memory-bandwidth pressure, AVX frequency
//! changes) drifts between them and moves a ratio of their medians by
//! 20-50 % from run to run at the 100 ns scale. Here every sample times the
//! numerator and the denominator over the same number of iterations, one
//! right after the other (alternating which goes first), and records
//! `iters * numerator_time / denominator_time`; criterion's per-iteration
//! statistics are then statistics of the ratio itself, and drift that is
//! slow compared with one sample cancels out.

use std::time::Duration;

use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

use super::cpu_time::Stopwatch;

/// A criterion [`Measurement`] whose values are ratios (dimensionless).
/// Only [`paired`] produces them: `iter`, which would time one routine
/// alone, is meaningless with it.
pub(crate) struct Ratio;

/// Criterion measuring ratios.
pub(crate) type RatioBench = criterion::Criterion<Ratio>;

impl Measurement for Ratio {
    type Intermediate = ();
    type Value = f64;

    fn start(&self) {}

    fn end(&self, _: ()) -> f64 {
        // `paired` uses `iter_custom`, which never calls start/end.
        f64::NAN
    }

    fn add(&self, a: &f64, b: &f64) -> f64 {
        a + b
    }

    fn zero(&self) -> f64 {
        0.0
    }

    fn to_f64(&self, value: &f64) -> f64 {
        *value
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &Times
    }
}

/// Prints ratios as they are ("x").
struct Times;

impl ValueFormatter for Times {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "x"
    }

    fn scale_throughputs(&self, _: f64, _: &Throughput, _: &mut [f64]) -> &'static str {
        "x"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "x"
    }
}

/// Measures `numerator`'s CPU time divided by `denominator`'s, both run
/// `iters` times per sample, back to back, alternating which runs first.
pub(crate) fn paired(
    b: &mut criterion::Bencher<'_, Ratio>,
    mut numerator: impl FnMut(),
    mut denominator: impl FnMut(),
) {
    let mut numerator_first = false;
    b.iter_custom(|iters| {
        let time = |f: &mut dyn FnMut()| -> Duration {
            let clock = Stopwatch::start();
            for _ in 0..iters {
                f();
            }
            clock.elapsed()
        };
        numerator_first = !numerator_first;
        let (n, d) = if numerator_first {
            let n = time(&mut numerator);
            (n, time(&mut denominator))
        } else {
            let d = time(&mut denominator);
            (time(&mut numerator), d)
        };
        iters as f64 * n.as_secs_f64() / d.as_secs_f64().max(f64::MIN_POSITIVE)
    });
}
