#!/usr/bin/env bash
# Conformance run for CI: builds the tester and lwsec's echo example
# (server, client, keygen), then runs every scenario against lwsec's
# echo_server (server mode, issuing resumption tickets so that the
# server.resume.* scenarios run) and echo_client (client mode, one client
# process per connection, keeping its ticket in the tester's {ticket} file so
# that the client.resume.* scenarios run). Exits non-zero if any scenario
# fails.
#
#   conformance/run-ci.sh            # release build (default)
#   PROFILE=dev conformance/run-ci.sh
#
# JUnit reports: $CONFORMANCE_OUT/server.xml and client.xml (default
# target/conformance/).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${PROFILE:-release}
case "$profile" in
  release) dir=target/release; flag=(--release) ;;
  dev) dir=target/debug; flag=() ;;
  *) echo "PROFILE must be release or dev" >&2; exit 2 ;;
esac
out=${CONFORMANCE_OUT:-target/conformance}
mkdir -p "$out"

echo "== building the tester and the echo examples ($profile)"
cargo build "${flag[@]}" -q -p lwsec-conformance --bin lwsec-conformance
cargo build "${flag[@]}" -q -p lwsec --example echo_server --example echo_client --example keygen

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$dir/examples/keygen" --out "$tmp/server" >/dev/null
"$dir/examples/keygen" --out "$tmp/device" >/dev/null

# The echo server on a free loopback port: its first line names it.
"$dir/examples/echo_server" --listen 127.0.0.1:0 --key "$tmp/server.key" --tickets >"$tmp/server.log" 2>&1 &
server_pid=$!
addr=""
for _ in $(seq 100); do
  addr=$(sed -n 's/^echo server on //p' "$tmp/server.log" | head -n1)
  [ -n "$addr" ] && break
  sleep 0.05
done
[ -n "$addr" ] || { echo "echo_server did not start:"; cat "$tmp/server.log"; exit 1; }

status=0
start=$(date +%s.%N)
echo "== server mode: lwsec echo_server at $addr"
"$dir/lwsec-conformance" server "$addr" --server-key "$tmp/server.pub" \
  --client-key "$tmp/device.key" --junit "$out/server.xml" || status=1

echo "== client mode: lwsec echo_client, one process per connection"
"$dir/lwsec-conformance" client --listen 127.0.0.1:0 --server-key-pair "$tmp/server.key" \
  --client-cmd "$dir/examples/echo_client --connect {addr} --server-key {key} --ticket {ticket} probe" \
  --junit "$out/client.xml" || status=1
end=$(date +%s.%N)
echo "== conformance runs took $(echo "$end - $start" | bc 2>/dev/null || echo "?") s; JUnit reports in $out/"
exit $status
