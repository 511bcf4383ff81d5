//! Issue 6's targets as paired ratios: every sample times lwsec and its
//! baseline back to back over the same number of iterations (see
//! `common/ratio.rs`), so the reported median is the median of per-sample
//! ratios rather than a ratio of medians taken seconds apart. The routines
//! are the ones `record`, `handshake` and `transport` time separately.
//!
//! Every id says which way the ratio goes:
//! - `speed-vs-X` = X's time / lwsec's time (above 1: lwsec is faster);
//! - `cost-vs-floor` = lwsec's time / the X25519 floor's time.
//!
//! `cargo bench -p lwsec-bench --bench ratios -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented `fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, criterion_group, criterion_main};
use lwsec::crypto::CryptoProvider;
use lwsec::{Pattern, ServerOptions};

mod common;
use common::ratio::{Ratio, RatioBench, paired};
use common::{
    PATTERNS, RawAead, SUITES, X25519Floor, floor_ops, lwsec_first_flight, lwsec_pair,
    lwsec_send_recv, lwsec_server, providers, rustls_bases, rustls_configs, rustls_first_flight,
    rustls_handshake, rustls_provider, rustls_send_recv, rustls_server,
};

fn config() -> RatioBench {
    criterion::Criterion::default().with_measurement(Ratio)
}

/// The rustls provider of the same family as an lwsec provider: aws-lc-rs
/// for `aws-lc`, ring (the closest native one) for `rust-crypto`.
fn rustls_peer(provider: &CryptoProvider) -> (&'static str, rustls::crypto::CryptoProvider) {
    let [ring, aws_lc] = rustls_bases();
    if provider.name == "aws-lc" {
        aws_lc
    } else {
        ring
    }
}

/// One message of `size` bytes end to end, against the raw AEAD sealing
/// and opening the same payload (targets: 16 KiB >= 0.95x, 64 B >= 0.8x).
/// The `inner` group seals 65 bytes raw: the 64-byte payload plus the
/// content-type byte every record carries (its inner plaintext), which
/// separates the cost of that protocol byte from lwsec's own.
fn versus_raw(c: &mut RatioBench) {
    for (size, raw_size, group) in [
        (16384, 16384, "ratio/seal-open-16KiB-speed-vs-raw"),
        (64, 64, "ratio/message-64B-speed-vs-raw"),
        (64, 65, "ratio/message-64B-speed-vs-raw-inner-65B"),
    ] {
        let mut g = c.benchmark_group(group);
        let msg = vec![0xabu8; size];
        for provider in providers() {
            for (suite, sname) in SUITES {
                let (mut client, mut server) = lwsec_pair(provider, suite);
                let aead = RawAead::new(provider, suite);
                let mut buf = vec![0xabu8; raw_size + 16];
                let mut seq = 0u64;
                g.bench_function(BenchmarkId::new(provider.name, sname), |b| {
                    paired(
                        b,
                        || {
                            seq += 1;
                            aead.seal(seq, &[0x17, 0, 0], black_box(&mut buf));
                            aead.open(seq, &[0x17, 0, 0], black_box(&mut buf));
                        },
                        || {
                            let n = lwsec_send_recv(&mut client, &mut server, black_box(&msg));
                            assert_eq!(n, size);
                        },
                    )
                });
            }
        }
        g.finish();
    }
}

/// Messages end to end against rustls on the same suite and provider
/// family (targets: 64 B faster than rustls, 16 KiB bulk >= 1.2x).
fn versus_rustls(c: &mut RatioBench) {
    for (size, group) in [
        (64, "ratio/message-64B-speed-vs-rustls"),
        (16384, "ratio/bulk-16KiB-speed-vs-rustls"),
    ] {
        let mut g = c.benchmark_group(group);
        let msg = vec![0xabu8; size];
        let mut out = vec![0u8; 65535];
        let mut wire = Vec::with_capacity(32768);
        for provider in providers() {
            let (rname, base) = rustls_peer(provider);
            for (suite, sname) in SUITES {
                let (mut client, mut server) = lwsec_pair(provider, suite);
                let (ccfg, scfg) = rustls_configs(rustls_provider(base.clone(), suite));
                let (mut rc, mut rs) = rustls_handshake(&ccfg, &scfg, &mut wire);
                let id = BenchmarkId::new(format!("{}-vs-rustls-{rname}", provider.name), sname);
                g.bench_function(id, |b| {
                    paired(
                        b,
                        || {
                            let n = rustls_send_recv(
                                &mut rc,
                                &mut rs,
                                black_box(&msg),
                                &mut wire,
                                &mut out,
                            );
                            assert_eq!(n, size);
                        },
                        || {
                            let n = lwsec_send_recv(&mut client, &mut server, black_box(&msg));
                            assert_eq!(n, size);
                        },
                    )
                });
            }
        }
        g.finish();
    }
}

/// The server side of a handshake against the X25519 work its pattern
/// needs (target: at most 1.10x) and, for NK, against rustls's server
/// (target with aws-lc: at least 1.5x).
fn handshakes(c: &mut RatioBench) {
    let options = ServerOptions::default();
    let mut g = c.benchmark_group("ratio/handshake-server-cost-vs-floor");
    for (pattern, pname) in PATTERNS {
        let (keygens, dhs) = floor_ops(pattern);
        for provider in providers() {
            let floor = X25519Floor::new(provider);
            for (suite, sname) in SUITES {
                let (hello, scfg) = lwsec_first_flight(provider, pattern, suite);
                let id = BenchmarkId::new(format!("{}-{pname}", provider.name), sname);
                g.bench_function(id, |b| {
                    paired(
                        b,
                        || {
                            lwsec_server(&scfg, &options, &hello);
                        },
                        || floor.run(keygens, dhs),
                    )
                });
            }
        }
    }
    g.finish();

    let mut g = c.benchmark_group("ratio/nk-server-speed-vs-rustls");
    let mut out = Vec::with_capacity(8192);
    for provider in providers() {
        let (rname, base) = rustls_peer(provider);
        for (suite, sname) in SUITES {
            let (hello, scfg) = lwsec_first_flight(provider, Pattern::Nk, suite);
            let (rustls_ccfg, rustls_scfg) = rustls_configs(rustls_provider(base.clone(), suite));
            let rustls_hello = rustls_first_flight(&rustls_ccfg);
            let id = BenchmarkId::new(format!("{}-vs-rustls-{rname}", provider.name), sname);
            g.bench_function(id, |b| {
                paired(
                    b,
                    || {
                        black_box(rustls_server(&rustls_scfg, &rustls_hello, &mut out));
                    },
                    || {
                        lwsec_server(&scfg, &options, &hello);
                    },
                )
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = versus_raw, versus_rustls, handshakes
}
criterion_main!(benches);
