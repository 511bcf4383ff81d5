# Set-up shared by fuzz/run-ci.sh and fuzz/grow-corpus.sh (sourced, not run).
#
# After `source fuzz/lib.sh NAME "$@"` (NAME: the calling script, for
# messages; "$@": the targets named on its command line):
#   root            the repository
#   targets         the named targets, or every target of fuzz/Cargo.toml
#   sanitizer_of T  the sanitizer target T is built with: none by default
#                   (lwsec has no unsafe code outside its C API;
#                   FUZZ_SANITIZER=address to use it anyway), always address
#                   for c_api, with LeakSanitizer (a leak fails the run)
#   target_dir_of T its cargo target directory (one per sanitizer, so the
#                   builds do not replace each other)
#   bin_of T        its fuzzer binary
#   fuzz_build [PREFIX...]  builds every target (and c_api with address if
#                   it is among the targets), the command prefixed by PREFIX
#                   (e.g. `nice -n 10`)
# The nightly toolchain is required; cargo-fuzz is installed if missing.

fuzz_script="$1"
shift
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "$fuzz_script: the nightly toolchain is required (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked || exit 1
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cd "$root" && cargo +nightly fuzz list)
fi

fuzz_sanitizer="${FUZZ_SANITIZER:-none}"
sanitizer_of() {
    if [ "$1" = c_api ]; then echo address; else echo "$fuzz_sanitizer"; fi
}
target_dir_of() {
    local s
    s="$(sanitizer_of "$1")"
    if [ "$s" = none ]; then echo "$root/fuzz/target"; else echo "$root/fuzz/target/$s"; fi
}
bin_of() { echo "$(target_dir_of "$1")/x86_64-unknown-linux-gnu/release/$1"; }

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# The cryptographic primitive crates are built without coverage
# instrumentation (fuzz/rustc-wrapper.sh says why: 2.7x the executions of
# diff_snow_handshake). A wrapper the user had (sccache) still runs, inside.
if [ -n "${RUSTC_WRAPPER:-}" ] && [ "$RUSTC_WRAPPER" != "$root/fuzz/rustc-wrapper.sh" ]; then
    export LWSEC_FUZZ_NEXT_WRAPPER="$RUSTC_WRAPPER"
fi
export RUSTC_WRAPPER="$root/fuzz/rustc-wrapper.sh"

fuzz_build() {
    local target
    (cd "$root" && "$@" cargo +nightly fuzz build --sanitizer "$fuzz_sanitizer" \
        --target-dir "$(target_dir_of server_handshake)") || return 1
    for target in "${targets[@]}"; do
        if [ "$target" = c_api ]; then
            (cd "$root" && "$@" cargo +nightly fuzz build --sanitizer address \
                --target-dir "$(target_dir_of c_api)" c_api) || return 1
        fi
    done
}
