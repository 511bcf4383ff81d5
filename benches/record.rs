//! Record layer cost: lwsec sealing and opening one record through its
//! public API, against the raw AEAD it wraps (same crate, same buffer
//! sealed or opened in place), measured in the same run.
//!
//! `cargo bench --bench record -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented `fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

mod common;
use common::{NOW, RECORD_OVERHEAD, RawAead, SUITES, lwsec_pair, lwsec_send_recv};

const SIZES: [usize; 3] = [64, 1024, 16384];
/// Records sealed (untimed) before each timed batch of opens.
const OPEN_BATCH: u64 = 32;

fn seal(c: &mut Criterion) {
    let mut g = c.benchmark_group("record/seal");
    for (suite, sname) in SUITES {
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let msg = vec![0xabu8; size];
            let (mut client, _server) = lwsec_pair(suite);
            g.bench_with_input(
                BenchmarkId::new(format!("lwsec/{sname}"), size),
                &size,
                |b, _| {
                    b.iter(|| {
                        client.send_message(black_box(&msg)).unwrap();
                        let n = black_box(client.pending_output()).len();
                        client.consume_output(n);
                    })
                },
            );
            let aead = RawAead::new(suite);
            let mut buf = vec![0xabu8; size];
            let mut seq = 0u64;
            g.bench_with_input(
                BenchmarkId::new(format!("raw/{sname}"), size),
                &size,
                |b, _| {
                    b.iter(|| {
                        seq += 1;
                        black_box(aead.seal(seq, &[0x17, 0, 0], black_box(&mut buf)));
                    })
                },
            );
        }
    }
    g.finish();
}

fn open(c: &mut Criterion) {
    let mut g = c.benchmark_group("record/open");
    for (suite, sname) in SUITES {
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let msg = vec![0xabu8; size];
            let (mut client, mut server) = lwsec_pair(suite);
            let record_len = size + RECORD_OVERHEAD;
            let mut wire = Vec::with_capacity(record_len * OPEN_BATCH as usize);
            g.bench_with_input(
                BenchmarkId::new(format!("lwsec/{sname}"), size),
                &size,
                |b, _| {
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
                            let start = Instant::now();
                            for rec in wire.chunks(record_len) {
                                server.handle_input(rec, NOW).unwrap();
                                black_box(server.recv_message().unwrap());
                            }
                            total += start.elapsed();
                        }
                        total
                    })
                },
            );
            let aead = RawAead::new(suite);
            let mut bufs = vec![vec![0xabu8; size]; OPEN_BATCH as usize];
            let mut tags = vec![[0u8; 16]; OPEN_BATCH as usize];
            let mut seq = 0u64;
            g.bench_with_input(
                BenchmarkId::new(format!("raw/{sname}"), size),
                &size,
                |b, _| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        let mut left = iters;
                        while left > 0 {
                            let batch = left.min(OPEN_BATCH) as usize;
                            left -= batch as u64;
                            let first = seq;
                            for (buf, tag) in bufs.iter_mut().zip(tags.iter_mut()).take(batch) {
                                seq += 1;
                                *tag = aead.seal(seq, &[0x17, 0, 0], buf);
                            }
                            let start = Instant::now();
                            let mut s = first;
                            for (buf, tag) in bufs.iter_mut().zip(tags.iter()).take(batch) {
                                s += 1;
                                aead.open(s, &[0x17, 0, 0], black_box(buf), tag);
                            }
                            total += start.elapsed();
                        }
                        total
                    })
                },
            );
        }
    }
    g.finish();
}

fn seal_open(c: &mut Criterion) {
    let mut g = c.benchmark_group("record/seal_open");
    for (suite, sname) in SUITES {
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let msg = vec![0xabu8; size];
            let (mut client, mut server) = lwsec_pair(suite);
            g.bench_with_input(
                BenchmarkId::new(format!("lwsec/{sname}"), size),
                &size,
                |b, _| b.iter(|| lwsec_send_recv(&mut client, &mut server, black_box(&msg))),
            );
            let aead = RawAead::new(suite);
            let mut buf = vec![0xabu8; size];
            let mut seq = 0u64;
            g.bench_with_input(
                BenchmarkId::new(format!("raw/{sname}"), size),
                &size,
                |b, _| {
                    b.iter(|| {
                        seq += 1;
                        let tag = aead.seal(seq, &[0x17, 0, 0], black_box(&mut buf));
                        aead.open(seq, &[0x17, 0, 0], black_box(&mut buf), &tag);
                    })
                },
            );
        }
    }
    g.finish();
}

/// A 1 MiB message split into 64 records of 16 KiB, sent and received,
/// against the raw AEAD sealing and opening the same 64 records.
fn message_1mib(c: &mut Criterion) {
    const SIZE: usize = 1 << 20;
    let mut g = c.benchmark_group("record/message_1MiB");
    g.throughput(Throughput::Bytes(SIZE as u64));
    for (suite, sname) in SUITES {
        let msg = vec![0xabu8; SIZE];
        let (mut client, mut server) = lwsec_pair(suite);
        g.bench_function(BenchmarkId::new("lwsec", sname), |b| {
            b.iter(|| {
                let n = lwsec_send_recv(&mut client, &mut server, black_box(&msg));
                assert_eq!(n, SIZE);
            })
        });
        let aead = RawAead::new(suite);
        let mut buf = vec![0xabu8; SIZE];
        let mut seq = 0u64;
        g.bench_function(BenchmarkId::new("raw", sname), |b| {
            b.iter(|| {
                for chunk in buf.chunks_mut(16384) {
                    seq += 1;
                    let tag = aead.seal(seq, &[0x17, 0x40, 0x11], chunk);
                    aead.open(seq, &[0x17, 0x40, 0x11], chunk, &tag);
                }
                black_box(&buf);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, seal, open, seal_open, message_1mib);
criterion_main!(benches);
