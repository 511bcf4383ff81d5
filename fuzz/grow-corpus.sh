#!/usr/bin/env bash
# Grows the committed corpus: fuzzes every target (or the named ones) for
# FUZZ_SECONDS from the committed corpus and regression inputs, merges the
# inputs that add coverage into fuzz/corpus/<target>/ with `cargo fuzz
# cmin` (the result is a minimal set covering old and new inputs; the named
# seeds written by `write_seeds` are always kept), copies every crash to
# fuzz/regressions/<target>/ (replayed by `cargo test --test fuzz_corpus`),
# and prints executions and coverage before and after.
#
#   fuzz/grow-corpus.sh                                 # every target, 300 s each
#   FUZZ_SECONDS=3600 FUZZ_JOBS=2 fuzz/grow-corpus.sh diff_records wire_parsers
#
# Environment:
#   FUZZ_SECONDS    fuzzing time per target (default 300)
#   FUZZ_JOBS       > 1: libFuzzer's -fork=N (N workers; crashes do not stop
#                   the run); default 1: one process, stops at the first crash
#   FUZZ_SANITIZER  default none (lwsec has no unsafe code outside its C
#                   API), e.g. address; c_api always runs under address
#                   (with LeakSanitizer), built in fuzz/target/address
#   FUZZ_NICE       niceness of the fuzzing processes (default 10)
#   GROW_CMIN_ARGS  libFuzzer options for the minimization (default
#                   -use_counters=0: keep every covered edge, not every hit
#                   count, which makes the committed corpus several times
#                   smaller; set it empty to keep every feature)
#   GROW_NO_MERGE=1 fuzz and report, leave the committed corpus alone
#
# Several runs on the same target may go at once (one per core, say): each
# fuzzes from a snapshot of the corpus and merges into whatever the corpus
# holds when it finishes, and the snapshot and the merge hold a lock per
# target (fuzz/target/grow-<target>.lock), so no run's inputs are lost.
#
# Coverage is libFuzzer's own count: `cov` is the number of covered edges
# (PCs), `ft` the number of features (edges with hit-count buckets, ...).
# cov0/ft0 and cov1/ft1 are measured by loading the committed corpus alone
# (-runs=0) before and after the merge, so they compare; cov_run/ft_run are
# the fuzzing run's final status line (committed corpus, regressions and
# everything it found).
# Exit status: 0, or 1 if any target crashed (the inputs are kept anyway).
set -uo pipefail

seconds="${FUZZ_SECONDS:-300}"
jobs="${FUZZ_JOBS:-1}"
niceness="${FUZZ_NICE:-10}"
read -r -a cmin_args <<<"${GROW_CMIN_ARGS--use_counters=0}"
# Tools, targets, sanitizers (c_api under AddressSanitizer and
# LeakSanitizer), target directories, the build.
cd "$(dirname "$0")/.."
source fuzz/lib.sh grow-corpus.sh "$@"
fuzz_build nice -n "$niceness" || exit 1

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# "cov ft files" of a corpus directory, as libFuzzer counts them on loading
# it ("-" when an input of the directory crashes the target).
measure() {
    local target="$1" dir="$2" line cov ft
    line="$("$(bin_of "$target")" -runs=0 -artifact_prefix="$scratch/" "$dir" 2>&1 |
        grep -E 'INITED|DONE' | tail -1)"
    cov="$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$line")"
    ft="$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$line")"
    echo "${cov:--} ${ft:--} $(find "$dir" -maxdepth 1 -type f | wc -l)"
}

is_fuzzer_name() { [[ "$1" =~ ^[0-9a-f]{40}$ ]]; }

summary=()
crashed=0
for target in "${targets[@]}"; do
    corpus="$root/fuzz/corpus/$target"
    regressions="$root/fuzz/regressions/$target"
    artifacts="$root/fuzz/artifacts/$target"
    work="$scratch/$target"
    mkdir -p "$corpus" "$work/new" "$work/seed" "$artifacts"
    # The lock serializes snapshots and merges of this target's corpus.
    exec {lock}>"$root/fuzz/target/grow-$target.lock"
    flock "$lock"
    find "$corpus" -maxdepth 1 -type f -exec cp -t "$work/seed" {} +
    flock -u "$lock"
    read -r cov0 ft0 files0 < <(measure "$target" "$work/seed")

    echo "=== $target: fuzzing ${seconds}s (jobs: $jobs) from $files0 inputs (cov $cov0, ft $ft0)"
    seeds=("$work/seed")
    [ -d "$regressions" ] && seeds+=("$regressions")
    extra=()
    if [ "$jobs" -gt 1 ]; then
        extra=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    marker="$work/started"
    touch "$marker"
    nice -n "$niceness" "$(bin_of "$target")" \
        -artifact_prefix="$artifacts/" \
        -dict="$root/fuzz/dict/lwsec.dict" \
        -max_total_time="$seconds" \
        -print_final_stats=1 \
        "${extra[@]}" \
        "$work/new" "${seeds[@]}" >"$work/log" 2>&1
    status=$?

    # Executions: libFuzzer's final statistics, or the last status line.
    execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/log" | tail -1)"
    [ -n "$execs" ] || execs="$(grep -oE '^#[0-9]+' "$work/log" | tail -1 | tr -d '#')"
    rate="$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$work/log" | tail -1)"
    [ -n "$rate" ] || rate="$(grep -oE 'exec/s: [0-9]+' "$work/log" | tail -1 | grep -oE '[0-9]+')"
    # Coverage the fuzzing run reached (its last status line), before the merge.
    last="$(grep -E '(^#[0-9]+.*cov: )' "$work/log" | tail -1)"
    run_cov="$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")"
    run_ft="$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")"

    # Crashes become regression inputs.
    new_crashes=0
    while IFS= read -r -d '' crash; do
        mkdir -p "$regressions"
        cp "$crash" "$regressions/"
        echo "    kept $(basename "$crash") in fuzz/regressions/$target/"
        new_crashes=$((new_crashes + 1))
    done < <(find "$artifacts" -maxdepth 1 -type f -newer "$marker" \
        \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) -print0)
    if [ "$new_crashes" -gt 0 ] || { [ "$status" -ne 0 ] && [ "$jobs" -le 1 ]; }; then
        crashed=1
        grep -E 'panicked at|SUMMARY' "$work/log" | head -5 | sed 's/^/    /'
    fi

    flock "$lock"
    if [ "${GROW_NO_MERGE:-0}" != 1 ]; then
        # Minimize old and new inputs together, then put the named seeds back
        # under their names (cmin names every file by its SHA-1).
        merged="$work/merged"
        mkdir -p "$merged"
        find "$corpus" "$work/new" -maxdepth 1 -type f -exec cp -t "$merged" {} +
        if nice -n "$niceness" cargo +nightly fuzz cmin --sanitizer "$(sanitizer_of "$target")" \
            --target-dir "$(target_dir_of "$target")" "$target" "$merged" \
            -- "${cmin_args[@]}" >"$work/cmin.log" 2>&1; then
            for seed in "$corpus"/*; do
                [ -f "$seed" ] || continue
                name="$(basename "$seed")"
                is_fuzzer_name "$name" && continue
                rm -f "$merged/$(sha1sum "$seed" | cut -d' ' -f1)"
                cp "$seed" "$merged/$name"
            done
            find "$corpus" -maxdepth 1 -type f -delete
            cp "$merged"/* "$corpus/"
        else
            echo "    cargo fuzz cmin failed; the committed corpus is unchanged (log: $work/cmin.log)"
            tail -5 "$work/cmin.log" | sed 's/^/    /'
        fi
    fi
    read -r cov1 ft1 files1 < <(measure "$target" "$corpus")
    exec {lock}>&-
    summary+=("$(printf '%-22s %11s %7s %6s %7s %6s %6s %7s %6s %6s %6s %7s' \
        "$target" "${execs:--}" "${rate:--}" "$cov0" "${run_cov:--}" "$cov1" \
        "$ft0" "${run_ft:--}" "$ft1" "$files0" "$files1" "$new_crashes")")
done

echo
printf '%-22s %11s %7s %6s %7s %6s %6s %7s %6s %6s %6s %7s\n' \
    target executions exec/s cov0 cov_run cov1 ft0 ft_run ft1 files0 files1 crashes
printf '%s\n' "${summary[@]}"
if [ "$crashed" -ne 0 ]; then
    echo "=== crashes were kept in fuzz/regressions/: reproduce with"
    echo "    cargo +nightly fuzz run <target> fuzz/regressions/<target>/<file>"
    exit 1
fi
