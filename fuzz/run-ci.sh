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

seconds="${FUZZ_SECONDS:-45}"
# Tools, targets, sanitizers (c_api under AddressSanitizer and
# LeakSanitizer), target directories, the build.
cd "$(dirname "$0")/.."
source fuzz/lib.sh run-ci.sh "$@"
fuzz_build

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
