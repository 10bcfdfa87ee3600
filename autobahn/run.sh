#!/usr/bin/env bash
# make autobahn: conformance reports for our server and our client.
#
# With a Docker engine (docker info succeeds) it runs the real Autobahn
# testsuite (crossbario/autobahn-testsuite) in both modes against
# autobahn/cmd/echoserver and autobahn/cmd/echoclient. Without one it runs
# the native runner (autobahn/cmd/conformance) in both roles. The server runs
# twice, in both I/O modes: agent rfc6455 (a goroutine per connection, port
# 9001) and agent rfc6455-eventloop (epoll loops, port 9003). Reports go to
# autobahn/reports/{servers,servers-eventloop,clients}/ (the real testsuite
# puts both servers in servers/); the run fails on any case whose result is
# not OK or INFORMATIONAL. AUTOBAHN_NATIVE=1 forces the native runner
# (make conformance, which CI runs). Both testees run with -deflate, so the
# compression groups 12 and 13 negotiate permessage-deflate; groups 1-10
# make no offer and run uncompressed. AUTOBAHN_COMPRESSION_MESSAGES caps
# the messages per compression case of the native runner (default: the
# suite's 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
reports=autobahn/reports
bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
mkdir -p "$reports/servers" "$reports/servers-eventloop" "$reports/clients"

go build -o "$bin/echoserver" ./autobahn/cmd/echoserver
go build -o "$bin/echoclient" ./autobahn/cmd/echoclient
go build -o "$bin/checkreport" ./autobahn/cmd/checkreport

wait_port() { # host port
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $1:$2" >&2
  return 1
}

if [ -z "${AUTOBAHN_NATIVE:-}" ] && docker info >/dev/null 2>&1; then
  echo "== Docker engine found: running the Autobahn testsuite"
  image=crossbario/autobahn-testsuite
  "$bin/echoserver" -addr 127.0.0.1:9001 -deflate &
  "$bin/echoserver" -addr 127.0.0.1:9003 -deflate -io eventloop &
  wait_port 127.0.0.1 9001
  wait_port 127.0.0.1 9003
  docker run --rm --network host -v "$PWD/autobahn/config:/config" -v "$PWD/$reports:/reports" \
    "$image" wstest -m fuzzingclient -s /config/fuzzingclient.json
  docker run --rm -d --name rfc6455-fuzzingserver --network host -v "$PWD/autobahn/config:/config" \
    -v "$PWD/$reports:/reports" "$image" wstest -m fuzzingserver -s /config/fuzzingserver.json
  trap 'docker rm -f rfc6455-fuzzingserver >/dev/null 2>&1 || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
  wait_port 127.0.0.1 9002
  "$bin/echoclient" -url ws://127.0.0.1:9002 -agent rfc6455 -deflate
else
  if [ -n "${AUTOBAHN_NATIVE:-}" ]; then
    echo "== AUTOBAHN_NATIVE is set: running the native conformance runner"
  else
    echo "== No Docker engine answers 'docker info': running the native conformance runner instead"
  fi
  if [ ! -d autobahn/cmd/conformance ]; then
    echo "autobahn/cmd/conformance is not in this tree: no conformance run is possible here" >&2
    exit 1
  fi
  go build -o "$bin/conformance" ./autobahn/cmd/conformance
  cap=(-compression-messages "${AUTOBAHN_COMPRESSION_MESSAGES:-0}")
  "$bin/echoserver" -addr 127.0.0.1:9001 -deflate &
  "$bin/echoserver" -addr 127.0.0.1:9003 -deflate -io eventloop &
  wait_port 127.0.0.1 9001
  wait_port 127.0.0.1 9003
  "$bin/conformance" -url ws://127.0.0.1:9001 -agent rfc6455 -out "$reports/servers" -strict "${cap[@]}" || true
  "$bin/conformance" -url ws://127.0.0.1:9003 -agent rfc6455-eventloop -out "$reports/servers-eventloop" -strict "${cap[@]}" || true
  eventloop_index="$reports/servers-eventloop/index.json"
  "$bin/conformance" -listen 127.0.0.1:9002 -out "$reports/clients" -strict "${cap[@]}" &
  runner=$!
  wait_port 127.0.0.1 9002
  "$bin/echoclient" -url ws://127.0.0.1:9002 -agent rfc6455 -deflate
  wait "$runner" || true
fi
"$bin/checkreport" "$reports/servers/index.json" ${eventloop_index:-} "$reports/clients/index.json"
