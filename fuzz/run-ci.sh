#!/usr/bin/env bash
# Builds every fuzz target with nightly and runs each for FUZZ_SECONDS
# (default 45) seconds from the committed corpus; fails on any crash.
#
#   fuzz/run-ci.sh                 # all targets
#   FUZZ_SECONDS=600 fuzz/run-ci.sh wire_parsers
#
# Crashes are written to fuzz/artifacts/<target>/; keep each one as a
# regression input in fuzz/regressions/<target>/ (replayed by
# `cargo test --test fuzz_corpus`). New corpus entries go to a scratch
# directory, so the committed corpus stays small.
set -euo pipefail

cd "$(dirname "$0")/.."
root="$(pwd)"
seconds="${FUZZ_SECONDS:-45}"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "run-ci.sh: the nightly toolchain is required (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# lwsec forbids unsafe code outside its C API (src/ffi), so for the other
# targets AddressSanitizer adds little but cost; debug assertions (overflow
# checks) stay on. Set FUZZ_SANITIZER=address to use it anyway. c_api drives
# the C API and always runs under AddressSanitizer with LeakSanitizer (a
# leak fails the run); its build lives in its own target directory so that
# the two builds do not replace each other.
sanitizer="${FUZZ_SANITIZER:-none}"
sanitizer_of() {
    if [ "$1" = c_api ]; then echo address; else echo "$sanitizer"; fi
}
target_dir_of() {
    local s
    s="$(sanitizer_of "$1")"
    if [ "$s" = none ]; then echo "$root/fuzz/target"; else echo "$root/fuzz/target/$s"; fi
}
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# The cryptographic primitive crates are built without coverage
# instrumentation (fuzz/rustc-wrapper.sh says why: 2.7x the executions of
# diff_snow_handshake).
export RUSTC_WRAPPER="$root/fuzz/rustc-wrapper.sh"
cargo +nightly fuzz build --sanitizer "$sanitizer" --target-dir "$(target_dir_of server_handshake)"
for target in "${targets[@]}"; do
    if [ "$target" = c_api ]; then
        cargo +nightly fuzz build --sanitizer address --target-dir "$(target_dir_of c_api)" c_api
    fi
done

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for target in "${targets[@]}"; do
    echo "=== fuzzing $target for ${seconds}s"
    mkdir -p "$scratch/$target"
    seeds=("$root/fuzz/corpus/$target")
    if [ -d "$root/fuzz/regressions/$target" ]; then
        seeds+=("$root/fuzz/regressions/$target")
    fi
    cargo +nightly fuzz run --sanitizer "$(sanitizer_of "$target")" \
        --target-dir "$(target_dir_of "$target")" \
        "$target" "$scratch/$target" "${seeds[@]}" -- \
        -dict="$root/fuzz/dict/lwsec.dict" \
        -detect_leaks=1 \
        -max_total_time="$seconds" \
        -print_final_stats=1
done
echo "=== all fuzz targets ran ${seconds}s without a crash"
