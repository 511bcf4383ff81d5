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
# Invoked by cargo as: rustc-wrapper.sh <rustc> <args...>. A wrapper the
# user had set (sccache; fuzz/lib.sh moves it to LWSEC_FUZZ_NEXT_WRAPPER)
# runs inside this one.
set -euo pipefail

if [ -n "${LWSEC_FUZZ_NEXT_WRAPPER:-}" ]; then
    rustc=("$LWSEC_FUZZ_NEXT_WRAPPER" "$1")
else
    rustc=("$1")
fi
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
    # Under AddressSanitizer (c_api) the primitives keep the sanitizer
    # flag (rustc requires it to match across crates) but their loads,
    # stores and stack frames are not checked, like the uninstrumented
    # standard library: they hold no pointer from the C caller, and
    # curve25519-dalek's checked field arithmetic was some 30 % of c_api's
    # time (perf; c_api runs 1.25x faster without the checks).
    for arg in "${args[@]}"; do
        if [ "$arg" = "-Zsanitizer=address" ] || [ "$arg" = "-Csanitizer=address" ]; then
            args+=(-Cllvm-args=-asan-instrument-reads=0 -Cllvm-args=-asan-instrument-writes=0
                -Cllvm-args=-asan-instrument-atomics=0 -Cllvm-args=-asan-stack=0)
            break
        fi
    done
    exec "${rustc[@]}" "${args[@]}"
fi
exec "${rustc[@]}" "$@"
