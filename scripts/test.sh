#!/usr/bin/env bash
# The whole test suite, as the README's quick start runs it.
# Installs what the tests need when it can (valgrind for the C API tests),
# then runs every test with every feature enabled.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkg() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing $2 (needed by the tests)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "!! $1 is missing and cannot be installed here (not root or no apt-get)."
    echo "!! Tests that need it will FAIL, not be skipped: install $2 and run again."
  fi
}
need_pkg valgrind valgrind
need_pkg cc gcc

cargo test --all-features "$@"
