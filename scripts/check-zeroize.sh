#!/usr/bin/env bash
# Checks that every pure-Rust primitive holding key material is built with
# its `zeroize` feature, so keys are wiped on drop (issue 12, item 8):
# aes-gcm's own `zeroize` feature does not reach aes, ghash and polyval, nor
# chacha20poly1305's reach poly1305; Cargo.toml lists them for that.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree --edges features --target all --prefix none -p lwsec 2>/dev/null)
status=0
for crate in aes-gcm aes ghash polyval chacha20 poly1305 x25519-dalek curve25519-dalek; do
  if grep -q "^$crate feature \"zeroize\"" <<<"$tree"; then
    echo "ok   $crate: zeroize"
  else
    echo "FAIL $crate is built without its zeroize feature: its keys would stay in memory"
    status=1
  fi
done
exit $status
