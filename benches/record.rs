//! Record layer cost: lwsec sealing and opening one record through its
//! public API, against the raw AEAD it wraps (the same crate lwsec's
//! provider calls, sealing or opening the same-sized buffer in place),
//! measured in the same run, for every provider compiled in.
//!
//! `cargo bench -p lwsec-bench --bench record -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented `fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Throughput, criterion_group, criterion_main};

mod common;
use common::cpu_time::Stopwatch;
use common::{
    Bench, NOW, RECORD_OVERHEAD, RawAead, SUITES, bench_config, lwsec_pair, lwsec_send_recv,
    providers,
};

const SIZES: [usize; 3] = [64, 1024, 16384];
/// Records sealed (untimed) before each timed batch of opens.
const OPEN_BATCH: u64 = 32;
/// The AAD of a record (frame type and length, as lwsec authenticates it).
const AAD: [u8; 3] = [0x17, 0x40, 0x11];

fn seal(c: &mut Bench) {
    let mut g = c.benchmark_group("record/seal");
    for provider in providers() {
        let pname = provider.name;
        for (suite, sname) in SUITES {
            for size in SIZES {
                g.throughput(Throughput::Bytes(size as u64));
                let msg = vec![0xabu8; size];
                let (mut client, _server) = lwsec_pair(provider, suite);
                let id = BenchmarkId::new(format!("lwsec-{pname}/{sname}"), size);
                g.bench_function(id, |b| {
                    b.iter(|| {
                        client.send_message(black_box(&msg)).unwrap();
                        let n = black_box(client.pending_output()).len();
                        client.consume_output(n);
                    })
                });
                let aead = RawAead::new(provider, suite);
                let mut buf = vec![0xabu8; size + 16];
                let mut seq = 0u64;
                let id = BenchmarkId::new(format!("raw-{pname}/{sname}"), size);
                g.bench_function(id, |b| {
                    b.iter(|| {
                        seq += 1;
                        aead.seal(seq, &AAD, black_box(&mut buf));
                    })
                });
            }
        }
    }
    g.finish();
}

fn open(c: &mut Bench) {
    let mut g = c.benchmark_group("record/open");
    for provider in providers() {
        let pname = provider.name;
        for (suite, sname) in SUITES {
            for size in SIZES {
                g.throughput(Throughput::Bytes(size as u64));
                let msg = vec![0xabu8; size];
                let (mut client, mut server) = lwsec_pair(provider, suite);
                let record_len = size + RECORD_OVERHEAD;
                let mut wire = Vec::with_capacity(record_len * OPEN_BATCH as usize);
                let id = BenchmarkId::new(format!("lwsec-{pname}/{sname}"), size);
                g.bench_function(id, |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        let mut left = iters;
                        while left > 0 {
                            let batch = left.min(OPEN_BATCH);
                            left -= batch;
                            wire.clear();
                            for _ in 0..batch {
                                client.send_message(&msg).unwrap();
                            }
                            wire.extend_from_slice(client.pending_output());
                            client.consume_output(wire.len());
                            let start = Stopwatch::start();
                            for rec in wire.chunks(record_len) {
                                server.handle_input(rec, NOW).unwrap();
                                // Usually one message per record (a key
                                // update record shifts the chunks once).
                                while let Some(m) = server.recv_message() {
                                    black_box(m);
                                }
                            }
                            total += start.elapsed();
                        }
                        total
                    })
                });
                let aead = RawAead::new(provider, suite);
                let mut bufs = vec![vec![0xabu8; size + 16]; OPEN_BATCH as usize];
                let mut seq = 0u64;
                let id = BenchmarkId::new(format!("raw-{pname}/{sname}"), size);
                g.bench_function(id, |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        let mut left = iters;
                        while left > 0 {
                            let batch = left.min(OPEN_BATCH) as usize;
                            left -= batch as u64;
                            let first = seq;
                            for buf in bufs.iter_mut().take(batch) {
                                seq += 1;
                                aead.seal(seq, &AAD, buf);
                            }
                            let start = Stopwatch::start();
                            for (i, buf) in bufs.iter_mut().take(batch).enumerate() {
                                aead.open(first + 1 + i as u64, &AAD, black_box(buf));
                            }
                            total += start.elapsed();
                        }
                        total
                    })
                });
            }
        }
    }
    g.finish();
}

fn seal_open(c: &mut Bench) {
    let mut g = c.benchmark_group("record/seal_open");
    for provider in providers() {
        let pname = provider.name;
        for (suite, sname) in SUITES {
            for size in SIZES {
                g.throughput(Throughput::Bytes(size as u64));
                let msg = vec![0xabu8; size];
                let (mut client, mut server) = lwsec_pair(provider, suite);
                let id = BenchmarkId::new(format!("lwsec-{pname}/{sname}"), size);
                g.bench_function(id, |b| {
                    b.iter(|| lwsec_send_recv(&mut client, &mut server, black_box(&msg)))
                });
                let aead = RawAead::new(provider, suite);
                let mut buf = vec![0xabu8; size + 16];
                let mut seq = 0u64;
                let id = BenchmarkId::new(format!("raw-{pname}/{sname}"), size);
                g.bench_function(id, |b| {
                    b.iter(|| {
                        seq += 1;
                        aead.seal(seq, &AAD, black_box(&mut buf));
                        aead.open(seq, &AAD, black_box(&mut buf));
                    })
                });
            }
        }
    }
    g.finish();
}

/// A 1 MiB message split into 64 records of 16 KiB, sent and received,
/// against the raw AEAD sealing and opening the same 64 records.
fn message_1mib(c: &mut Bench) {
    const SIZE: usize = 1 << 20;
    const FRAGMENT: usize = 16384;
    let mut g = c.benchmark_group("record/message_1MiB");
    g.throughput(Throughput::Bytes(SIZE as u64));
    for provider in providers() {
        let pname = provider.name;
        for (suite, sname) in SUITES {
            let msg = vec![0xabu8; SIZE];
            let (mut client, mut server) = lwsec_pair(provider, suite);
            g.bench_function(BenchmarkId::new(format!("lwsec-{pname}"), sname), |b| {
                b.iter(|| {
                    let n = lwsec_send_recv(&mut client, &mut server, black_box(&msg));
                    assert_eq!(n, SIZE);
                })
            });
            let aead = RawAead::new(provider, suite);
            let mut buf = vec![0xabu8; SIZE / FRAGMENT * (FRAGMENT + 16)];
            let mut seq = 0u64;
            g.bench_function(BenchmarkId::new(format!("raw-{pname}"), sname), |b| {
                b.iter(|| {
                    for record in buf.chunks_mut(FRAGMENT + 16) {
                        seq += 1;
                        aead.seal(seq, &AAD, record);
                        aead.open(seq, &AAD, record);
                    }
                    black_box(&buf);
                })
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = bench_config();
    targets = seal, open, seal_open, message_1mib
}
criterion_main!(benches);
