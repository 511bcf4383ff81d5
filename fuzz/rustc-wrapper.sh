#!/usr/bin/env bash
# RUSTC_WRAPPER for the fuzz builds (fuzz/run-ci.sh, fuzz/grow-corpus.sh):
# compiles the third-party cryptographic primitives without libFuzzer's
# coverage instrumentation, every other crate as cargo-fuzz asks.
#
# Why: the targets run real X25519, SHA-256, HKDF and AEADs on every input
# (diff_snow_handshake some 15 X25519 operations). Instrumented, the field
# arithmetic of curve25519-dalek spent 58 % of diff_snow_handshake's time in
# `__sanitizer_cov_trace_cmp*` hooks (perf). The fuzzers look for bugs in
# lwsec, not in these crates, and edges inside a constant-time primitive
# tell the fuzzer nothing about lwsec's states; so the primitives run at
# full speed and lwsec, the test support and snow's handshake logic stay
# instrumented. Sanitizer flags (-Zsanitizer=address for c_api) are kept
# for every crate (rustc requires them to match).
#
# Invoked by cargo as: rustc-wrapper.sh <rustc> <args...>
set -euo pipefail

rustc="$1"
shift

uninstrumented=" curve25519_dalek x25519_dalek sha2 blake2 aes aes_gcm ghash polyval \
chacha20 chacha20poly1305 poly1305 hmac hkdf "

crate=""
prev=""
for arg in "$@"; do
    if [ "$prev" = "--crate-name" ]; then
        crate="$arg"
        break
    fi
    prev="$arg"
done

if [ -n "$crate" ] && [[ "$uninstrumented" == *" $crate "* ]]; then
    args=()
    for arg in "$@"; do
        case "$arg" in
        -Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage-*) ;;
        *) args+=("$arg") ;;
        esac
    done
    exec "$rustc" "${args[@]}"
fi
exec "$rustc" "$@"
