#!/usr/bin/env bash
# install.sh installs the real peers the interop tests talk to: headless
# Chromium, Python's websockets and autobahn (Debian packages), and Node's
# ws and playwright-core (npm, pinned in peers/package-lock.json).
#
# It is idempotent: a second run only re-checks what is there. Run it as
# root from anywhere; the lead's .ci/run calls it before `go test ./interop/`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium python3-websockets python3-autobahn

# Node.js and npm come with the machine (the Node peers need Node >= 20,
# newer than Debian's nodejs); say so plainly if they are missing.
for tool in node npm; do
	if ! command -v "$tool" >/dev/null; then
		echo "install.sh: $tool not found; the Node peers need Node.js >= 20 with npm" >&2
		exit 1
	fi
done

cd "$here/peers"
if [ -f package-lock.json ]; then
	npm ci --no-audit --no-fund
else
	npm install --no-audit --no-fund
fi
