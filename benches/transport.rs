//! End-to-end message cost after the handshake (seal, frame, parse, open):
//! lwsec (`send_message` -> `handle_input` -> `recv_message`) on every
//! provider compiled in, against the raw AEAD seal+open floor, snow
//! transport mode with a 2-byte length prefix, and rustls (TLS 1.3 records
//! over in-memory buffers, ring and aws-lc-rs), in the same run.
//!
//! `cargo bench -p lwsec-bench --bench transport -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented `fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Throughput, criterion_group, criterion_main};
use lwsec::Pattern;

mod common;
use common::{
    Bench, RawAead, SERVER_SECRET, SUITES, bench_config, lwsec_pair, lwsec_send_recv, providers,
    rustls_bases, rustls_configs, rustls_handshake, rustls_provider, rustls_send_recv, snow_pair,
    snow_send_recv,
};

/// 64 B: a typical chat message; 16 KiB: bulk (one full record).
const SIZES: [(usize, &str); 2] = [(64, "64B"), (16384, "16KiB")];

fn messages(c: &mut Bench) {
    let server_public =
        *x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(SERVER_SECRET)).as_bytes();
    for (size, size_name) in SIZES {
        let mut g = c.benchmark_group(format!("transport/{size_name}"));
        g.throughput(Throughput::Bytes(size as u64));
        let msg = vec![0xabu8; size];
        let mut out = vec![0u8; 65535];
        for (suite, sname) in SUITES {
            for provider in providers() {
                let prov = provider.name;
                let aead = RawAead::new(provider, suite);
                let mut buf = vec![0xabu8; size + 16];
                let mut seq = 0u64;
                let id = BenchmarkId::new(format!("raw-seal-open-{prov}"), sname);
                g.bench_function(id, |b| {
                    b.iter(|| {
                        seq += 1;
                        aead.seal(seq, &[0x17, 0, 0], black_box(&mut buf));
                        aead.open(seq, &[0x17, 0, 0], black_box(&mut buf));
                    })
                });

                let (mut client, mut server) = lwsec_pair(provider, suite);
                g.bench_function(BenchmarkId::new(format!("lwsec-{prov}"), sname), |b| {
                    b.iter(|| {
                        let n = lwsec_send_recv(&mut client, &mut server, black_box(&msg));
                        assert_eq!(n, size);
                        n
                    })
                });
            }

            let (mut si, mut sr) =
                snow_pair(Pattern::Nk, suite, &SERVER_SECRET, &server_public, &[0; 32]);
            let mut wire = vec![0u8; 65535 + 2];
            g.bench_function(BenchmarkId::new("snow", sname), |b| {
                b.iter(|| {
                    let n = snow_send_recv(&mut si, &mut sr, black_box(&msg), &mut wire, &mut out);
                    assert_eq!(n, size);
                    n
                })
            });

            for (rname, base) in rustls_bases() {
                let (ccfg, scfg) = rustls_configs(rustls_provider(base, suite));
                let mut wire = Vec::with_capacity(32768);
                let (mut rc, mut rs) = rustls_handshake(&ccfg, &scfg, &mut wire);
                g.bench_function(BenchmarkId::new(format!("rustls-{rname}"), sname), |b| {
                    b.iter(|| {
                        let n = rustls_send_recv(
                            &mut rc,
                            &mut rs,
                            black_box(&msg),
                            &mut wire,
                            &mut out,
                        );
                        assert_eq!(n, size);
                        n
                    })
                });
            }
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = bench_config();
    targets = messages
}
criterion_main!(benches);
