#!/usr/bin/env bash
# Conformance of the peer libraries, side by side with ours.
#
#   bench/conformance.sh [LIB...]    # default: rfc6455 gorilla gobwas coder gws nbio
#
# Builds each echo server (ours is autobahn/cmd/echoserver of the parent
# module, the others bench/cmd/echo-LIB), runs the native conformance runner
# (autobahn/cmd/conformance) against it on loopback, writes the reports to
# bench/reports/LIB/ (git-ignored) and prints a Markdown table:
# library | OK | NON-STRICT | INFORMATIONAL | FAILED | notes.
#
# Environment: CONFORMANCE_FLAGS adds runner flags (e.g. "-cases 1.*,2.*"),
# CONFTABLE_GROUPS=1 also prints the counts per group and the reason for every case
# that is not OK. Binaries go to bench/bin/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")"
bench=$PWD
libs=("$@")
[ ${#libs[@]} -gt 0 ] || libs=(rfc6455 gorilla gobwas coder gws nbio)

mkdir -p bin reports
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; true' EXIT

wait_port() { # host port
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $1:$2" >&2
  return 1
}

# The runner and our server belong to the parent module: build them there, so
# the version measured is the working tree, with the parent's go.mod.
(cd .. && go build -o "$bench/bin/conformance" ./autobahn/cmd/conformance)
(cd .. && go build -o "$bench/bin/echo-rfc6455" ./autobahn/cmd/echoserver)

port=9101
dirs=()
for lib in "${libs[@]}"; do
  if [ "$lib" != rfc6455 ]; then
    go build -o "bin/echo-$lib" "./cmd/echo-$lib"
  fi
  addr=127.0.0.1:$port
  port=$((port + 1))
  "bin/echo-$lib" -addr "$addr" >"reports/$lib.log" 2>&1 &
  server=$!
  wait_port "${addr%:*}" "${addr#*:}"
  rm -rf "reports/$lib"
  echo "== $lib on $addr" >&2
  # The runner exits non-zero when a case fails: that is a result, not an error.
  # shellcheck disable=SC2086 # CONFORMANCE_FLAGS is a list of flags
  bin/conformance -url "ws://$addr" -agent "$lib" -out "reports/$lib" ${CONFORMANCE_FLAGS:-} >"reports/$lib.out" 2>&1 || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
  dirs+=("reports/$lib")
done

if [ "${CONFTABLE_GROUPS:-}" = 1 ]; then
  go run ./cmd/conftable -groups "${dirs[@]}"
else
  go run ./cmd/conftable "${dirs[@]}"
fi
