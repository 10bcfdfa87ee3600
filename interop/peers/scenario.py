"""The exchange every interop pair runs, for the Python peers.

The Go side (scenario_test.go) and the JavaScript side (scenario.mjs) build
the same five messages; any change here must be made there too. Each side
sends, in order:

    1. text    "hello, interop ✓ é 🚀"
    2. binary  the 256 bytes 0x00 .. 0xff
    3. text    "" (empty)
    4. binary  1 MiB, byte i = i % 251 (a prime, so no 256-byte period)
    5. text    FRAGMENT_UNIT repeated FRAGMENT_REPEAT times (230,000 bytes),
               sent fragmented where the API allows

and then one side closes with 4000 "bye".

Peers print "PASS" and exit 0, or print "FAIL: why" lines and exit 1.
"""

import sys

CLOSE_CODE = 4000
CLOSE_REASON = "bye"
FRAGMENT_UNIT = "fragmented ✓ é 🚀 "
FRAGMENT_REPEAT = 10000
FRAGMENT_SIZE = 100000  # bytes per frame, where the API cuts bytes
BIG_SIZE = 1 << 20
TIMEOUT = 20  # seconds; the Go test kills us later anyway


def messages():
    """The five messages as (name, payload) pairs: str for text, bytes for binary."""
    return [
        ("text", "hello, interop ✓ é 🚀"),
        ("binary", bytes(range(256))),
        ("empty", ""),
        ("1MiB", bytes(i % 251 for i in range(BIG_SIZE))),
        ("fragmented", FRAGMENT_UNIT * FRAGMENT_REPEAT),
    ]


class Checker:
    """Collects received messages and compares each with the expected one."""

    def __init__(self):
        self.want = messages()
        self.got = 0
        self.failures = []

    def add(self, payload):
        """Takes a received message: str for text, bytes for binary."""
        i = self.got
        self.got += 1
        if i >= len(self.want):
            self.failures.append(f"unexpected message #{i + 1} ({kind(payload)}, {len(payload)} long)")
            return
        name, want = self.want[i]
        if type(payload) is not type(want):
            self.failures.append(f"{name}: got a {kind(payload)} message, want {kind(want)}")
            return
        if payload != want:
            n = min(len(payload), len(want))
            diff = next((j for j in range(n) if payload[j] != want[j]), n)
            self.failures.append(f"{name}: {len(payload)} long, want {len(want)}; first difference at {diff}")

    def done(self):
        return self.got >= len(self.want)

    def summary(self):
        f = list(self.failures)
        if self.got < len(self.want):
            f.append(f"received {self.got} of {len(self.want)} messages")
        return f


def kind(payload):
    return "text" if isinstance(payload, str) else "binary"


def finish(failures):
    """Prints the verdict and exits: PASS and 0, or FAIL lines and 1."""
    if not failures:
        print("PASS", flush=True)
        sys.exit(0)
    for f in failures:
        print(f"FAIL: {f}", flush=True)
    sys.exit(1)
