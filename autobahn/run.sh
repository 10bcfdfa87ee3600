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
# puts both servers in servers/), each with an index.html; the run fails on
# any case whose result is not OK or INFORMATIONAL. AUTOBAHN_NATIVE=1 forces
# the native runner (make conformance, which CI runs). Both testees run with
# -deflate, so the compression groups 12 and 13 negotiate permessage-deflate;
# groups 1-10 make no offer and run uncompressed.
# AUTOBAHN_COMPRESSION_MESSAGES caps the messages per compression case of
# the native runner (default: the suite's 1000).
#
# Time: the run says up front how long it will take: the duration of the
# last run of the same kind, recorded in autobahn/reports/last-run-*, or
# else, for the native runner, its estimate from measured per-case figures
# (conformance -estimate; see autobahn/cmd/conformance/estimate.go): about
# 11 minutes per role with 1000 messages per compression case, under a
# minute with 50.
#
# Parallel roles: one role (runner and testee together) keeps about 0.8 of
# a core busy (measured on 2 cores, at nice 19: the runner 58% of a core,
# the echoserver 22%, over a 46 s role of make conformance). The roles run
# at once as far as the cores carry them without oversubscription,
# nproc*5/4 of them (1 core: one at a time; 2 cores: two, then the third;
# 3 or more: all three), because the reports record case durations (groups
# 9, 12 and 13 are timed) that a CPU shared by more runs than it has cores
# would inflate. AUTOBAHN_JOBS overrides the count. Roles that run at once
# print one line each at a time, prefixed with the role: progress every 30
# seconds, each failing case with its details, the verdict table at the
# end. One at a time, a role has the terminal to itself.
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

cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
jobs=${AUTOBAHN_JOBS:-$((cores * 5 / 4))}
jobs=$((jobs < 1 ? 1 : jobs))

# minutes renders seconds as "12m05s".
minutes() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# prefix puts "[role] " before every line of its input, so that roles
# running at once stay readable.
prefix() {
  local line
  while IFS= read -r line; do printf '[%s] %s\n' "$1" "$line"; done
}

# role name cmd...: runs cmd as one role, at most $jobs at once: in the
# foreground when one at a time, else in the background with its output
# prefixed. wait_roles waits for the background ones.
role_pids=()
role() {
  local name=$1
  shift
  if ((jobs == 1)); then
    "$@" || true
    return
  fi
  while :; do
    local n=0 p
    for p in "${role_pids[@]}"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
    ((n < jobs)) && break
    wait -n "${role_pids[@]}" || true
  done
  { "$@" 2>&1 || true; } | prefix "$name" &
  role_pids+=($!)
}
wait_roles() {
  local p
  for p in "${role_pids[@]}"; do wait "$p" || true; done
  role_pids=()
}

# announce says how long the run will take: the last run of this kind, or
# the estimate given (seconds), or that nothing is known yet.
announce() { # kind estimate-seconds-or-empty
  local last="$reports/last-run-$1"
  if [ -s "$last" ]; then
    echo "== The last run like this ($1) took $(minutes "$(cat "$last")"); expect about as long"
  elif [ -n "$2" ]; then
    echo "== Expect about $(minutes "$2") (estimated from measured per-case figures; the next run uses this run's time)"
  else
    echo "== No run like this ($1) is recorded yet; this one's time is recorded for the next"
  fi
}
started=$SECONDS

if [ -z "${AUTOBAHN_NATIVE:-}" ] && docker info >/dev/null 2>&1; then
  echo "== Docker engine found: running the Autobahn testsuite"
  # The suite's fuzzing client tests both servers in one run (both write
  # servers/index.json); the client role is its own run beside it.
  djobs=$((jobs < 2 ? 1 : 2))
  kind=docker-j$djobs
  announce "$kind" ""
  image=crossbario/autobahn-testsuite
  "$bin/echoserver" -addr 127.0.0.1:9001 -deflate &
  "$bin/echoserver" -addr 127.0.0.1:9003 -deflate -io eventloop &
  wait_port 127.0.0.1 9001
  wait_port 127.0.0.1 9003
  trap 'docker rm -f rfc6455-fuzzingserver >/dev/null 2>&1 || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
  client_role() {
    docker run --rm -d --name rfc6455-fuzzingserver --network host -v "$PWD/autobahn/config:/config" \
      -v "$PWD/$reports:/reports" "$image" wstest -m fuzzingserver -s /config/fuzzingserver.json
    wait_port 127.0.0.1 9002
    "$bin/echoclient" -url ws://127.0.0.1:9002 -agent rfc6455 -deflate
  }
  jobs=$djobs
  role servers docker run --rm --network host -v "$PWD/autobahn/config:/config" -v "$PWD/$reports:/reports" \
    "$image" wstest -m fuzzingclient -s /config/fuzzingclient.json
  role clients client_role
  wait_roles
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
  # One line of progress per role into the shared output when the roles
  # run at once; a terminal's own progress line when one at a time.
  show=()
  ((jobs > 1)) && show=(-progress)
  per_role=$("$bin/conformance" -estimate "${cap[@]}")
  waves=$(((3 + jobs - 1) / jobs))
  ((waves > 3)) && waves=3
  kind=native-m${AUTOBAHN_COMPRESSION_MESSAGES:-0}-j$((jobs < 3 ? jobs : 3))
  echo "== 3 roles, $((jobs < 3 ? jobs : 3)) at a time ($cores cores), about $(minutes "$per_role") each"
  announce "$kind" $((per_role * waves))
  "$bin/echoserver" -addr 127.0.0.1:9001 -deflate &
  "$bin/echoserver" -addr 127.0.0.1:9003 -deflate -io eventloop &
  wait_port 127.0.0.1 9001
  wait_port 127.0.0.1 9003
  client_role() {
    "$bin/conformance" -listen 127.0.0.1:9002 -out "$reports/clients" -strict "${show[@]}" "${cap[@]}" &
    local runner=$!
    wait_port 127.0.0.1 9002
    "$bin/echoclient" -url ws://127.0.0.1:9002 -agent rfc6455 -deflate
    wait "$runner"
  }
  role servers "$bin/conformance" -url ws://127.0.0.1:9001 -agent rfc6455 -out "$reports/servers" -strict "${show[@]}" "${cap[@]}"
  role servers-eventloop "$bin/conformance" -url ws://127.0.0.1:9003 -agent rfc6455-eventloop -out "$reports/servers-eventloop" -strict "${show[@]}" "${cap[@]}"
  role clients client_role
  wait_roles
  eventloop_index="$reports/servers-eventloop/index.json"
fi
took=$((SECONDS - started))
echo "$took" >"$reports/last-run-$kind"
echo "== Done in $(minutes "$took"); reports: $reports/*/index.html"
"$bin/checkreport" "$reports/servers/index.json" ${eventloop_index:-} "$reports/clients/index.json"
