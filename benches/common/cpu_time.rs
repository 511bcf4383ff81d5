//! The benches' clock: CPU time of the measuring thread, not wall time.
//!
//! Everything benchmarked here runs on one thread and never sleeps or
//! waits for I/O, so on a quiet machine both clocks agree. On a shared
//! machine (CI, a 2-core VM with other jobs) wall time also counts the time
//! the thread spends preempted, which inflates medians by 20-50 % at
//! random; thread CPU time does not. Cache and memory-bandwidth
//! interference from other jobs remain, which is why every result is
//! compared with its baseline measured in the same run.

use std::time::Duration;

use cpu_time::ThreadTime;
use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

/// `CLOCK_THREAD_CPUTIME_ID` as a criterion [`Measurement`], in nanoseconds.
pub(crate) struct ThreadCpuTime;

/// The clock for `iter_custom` loops that time part of an iteration.
pub(crate) struct Stopwatch(ThreadTime);

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Self(ThreadTime::now())
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

impl Measurement for ThreadCpuTime {
    type Intermediate = ThreadTime;
    type Value = Duration;

    fn start(&self) -> ThreadTime {
        ThreadTime::now()
    }

    fn end(&self, start: ThreadTime) -> Duration {
        start.elapsed()
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

/// Formats nanoseconds as criterion's wall-time formatter does.
struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if ns < 1e3 {
            (1.0, "ns")
        } else if ns < 1e6 {
            (1e-3, "µs")
        } else if ns < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        for v in values {
            *v *= factor;
        }
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let (amount, unit) = match *throughput {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (n as f64 / 1e6, "MB/s"),
            Throughput::Elements(n) => (n as f64, "elem/s"),
            Throughput::Bits(n) => (n as f64 / 1e6, "Mb/s"),
        };
        for v in values {
            *v = amount * 1e9 / *v;
        }
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
