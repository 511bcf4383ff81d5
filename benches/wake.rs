//! What waking an idle connection costs a server: receiving one 64-byte
//! message and sending the reply on a connection whose idle memory was
//! released (buffers and expanded AEAD keys dropped, as the adapters do
//! whenever a read would block with nothing pending) against the same on
//! a warm connection, next to the cost of deriving the two record keys the
//! wake-up rebuilds, done with the raw primitives of the same provider
//! (two HKDF-Expand calls and an AEAD key set-up per direction, as lwsec's
//! key schedule does).
//!
//! `cargo bench -p lwsec-bench --bench wake -- --warm-up-time 1 --measurement-time 3`
//!
//! The wake-up overhead is `after_idle - warm`; the target is that it is no
//! more than `two_key_derivations`.

// criterion_group! generates an undocumented `fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main};
use lwsec::crypto::CryptoProvider;
use lwsec::{Connection, Suite};

mod common;
use common::cpu_time::Stopwatch;
use common::{Bench, NOW, SUITES, bench_config, lwsec_pair, providers};

/// Records sealed by the client (untimed) before each timed batch.
const BATCH: u64 = 256;
const MESSAGE: [u8; 64] = [0x42; 64];

/// Times the server's side of `iters` request/reply exchanges; with
/// `idle`, the server releases its idle memory after each reply.
fn exchanges(client: &mut Connection, server: &mut Connection, iters: u64, idle: bool) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    let mut records = Vec::with_capacity(BATCH as usize);
    while left > 0 {
        let n = left.min(BATCH);
        records.clear();
        for _ in 0..n {
            client.send_message(&MESSAGE).unwrap();
            let record = client.pending_output().to_vec();
            client.consume_output(record.len());
            records.push(record);
        }
        let clock = Stopwatch::start();
        for record in &records {
            let used = server.handle_input(record, NOW).unwrap();
            debug_assert_eq!(used, record.len());
            let message = server.recv_message().unwrap();
            server.send_message(&message).unwrap();
            let sent = server.pending_output().len();
            black_box(server.pending_output());
            server.consume_output(sent);
            if idle {
                server.release_idle_memory();
            }
        }
        total += clock.elapsed();
        left -= n;
    }
    total
}

/// The raw work of rebuilding one direction's record key: HKDF-Expand of
/// the key and of the IV from the traffic secret, and the AEAD key set-up.
fn derive_record_key(provider: &CryptoProvider, suite: Suite, secret: &[u8; 32]) {
    let mut key = [0u8; 32];
    let mut iv = [0u8; 12];
    if provider.name == "aws-lc" {
        use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Prk};
        struct Len(usize);
        impl KeyType for Len {
            fn len(&self) -> usize {
                self.0
            }
        }
        let prk = Prk::new_less_safe(HKDF_SHA256, secret);
        prk.expand(&[b"lwsec key"], Len(32))
            .unwrap()
            .fill(&mut key)
            .unwrap();
        prk.expand(&[b"lwsec iv"], Len(12))
            .unwrap()
            .fill(&mut iv)
            .unwrap();
        let algorithm = match suite {
            Suite::Aes256Gcm => &aws_lc_rs::aead::AES_256_GCM,
            _ => &aws_lc_rs::aead::CHACHA20_POLY1305,
        };
        let unbound = aws_lc_rs::aead::UnboundKey::new(algorithm, &key).unwrap();
        black_box(aws_lc_rs::aead::LessSafeKey::new(unbound));
    } else {
        let hk = hkdf::Hkdf::<sha2::Sha256>::from_prk(secret).unwrap();
        hk.expand(b"lwsec key", &mut key).unwrap();
        hk.expand(b"lwsec iv", &mut iv).unwrap();
        match suite {
            Suite::Aes256Gcm => {
                use aes_gcm::KeyInit;
                black_box(Box::new(aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap()));
            }
            _ => {
                use chacha20poly1305::KeyInit;
                black_box(Box::new(
                    chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key).unwrap(),
                ));
            }
        }
    }
    black_box(iv);
}

fn wake(c: &mut Bench) {
    let mut g = c.benchmark_group("wake");
    for provider in providers() {
        let pname = provider.name;
        for (suite, sname) in SUITES {
            let (mut client, mut server) = lwsec_pair(provider, suite);
            g.bench_function(format!("{pname}/{sname}/warm"), |b| {
                b.iter_custom(|iters| exchanges(&mut client, &mut server, iters, false));
            });
            g.bench_function(format!("{pname}/{sname}/after_idle"), |b| {
                b.iter_custom(|iters| exchanges(&mut client, &mut server, iters, true));
            });
            let secret = [0x33u8; 32];
            g.bench_function(format!("{pname}/{sname}/two_key_derivations"), |b| {
                b.iter(|| {
                    derive_record_key(provider, suite, black_box(&secret));
                    derive_record_key(provider, suite, black_box(&secret));
                });
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = bench_config();
    targets = wake
}
criterion_main!(benches);
