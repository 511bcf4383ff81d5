#!/usr/bin/env bash
# The whole test suite, as the README's quick start runs it.
# Installs what the tests need when it can (valgrind for the C API tests,
# redis-server for the shared replay guard), starts a private redis-server
# on 127.0.0.1, runs every test with every feature enabled, then stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=0
need_pkg() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  if can_install; then
    echo "== installing $2 (needed by the tests)"
    if [ $apt_updated = 0 ]; then apt-get update -qq >/dev/null || true; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null || true
  fi
  command -v "$1" >/dev/null 2>&1
}

if ! need_pkg valgrind valgrind; then
  echo "!! valgrind is missing and cannot be installed here: the c_api valgrind test will FAIL."
fi
need_pkg cc gcc || echo "!! no C compiler: the c_api tests will FAIL."
need_pkg pkg-config pkg-config || echo "!! no pkg-config: the c_packaging test will FAIL."

skip=()
redis_pid=""
cleanup() { if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
if [ -n "${LWSEC_REDIS_URL:-}" ]; then
  echo "== using the Redis server at $LWSEC_REDIS_URL"
elif need_pkg redis-server redis-server; then
  port=$(( 20000 + RANDOM % 20000 ))
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null &
  redis_pid=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  export LWSEC_REDIS_URL="redis://127.0.0.1:$port/"
  echo "== started redis-server on 127.0.0.1:$port for the shared replay guard and ticket key tests"
else
  skip=(--skip redis_)
  echo "################################################################"
  echo "!! SKIPPING the Redis tests (tests/redis_replay.rs,"
  echo "!! tests/redis_ticket_keys.rs, every test named redis_*): redis-server is not installed and"
  echo "!! cannot be installed here. Install redis-server and run again."
  echo "################################################################"
fi

# The suite runs once per crypto provider: with every feature (the aws-lc
# provider is then the default), and with every feature but aws-lc-default
# (the pure-Rust provider is the default). The first run covers the whole
# workspace, so it also runs the C header check (tools/header, lwsec-header);
# the benches (lwsec-bench) have no tests, and clippy in .ci/run builds them.
features=$(sed -n '/^\[features\]/,/^\[/p' Cargo.toml | sed -n 's/^\([a-z][a-z0-9-]*\) *=.*/\1/p' | grep -v -x -e default -e aws-lc-default | paste -sd, -)
echo "== tests, provider aws-lc, whole workspace (cargo test --workspace --all-features)"
cargo test --workspace --all-features "$@" -- "${skip[@]}"
echo "== tests, provider rust-crypto (cargo test --features $features)"
cargo test --features "$features" "$@" -- "${skip[@]}"
