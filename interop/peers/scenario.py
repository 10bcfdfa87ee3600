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

The "deflate" scenario, for the permessage-deflate pairs, sends instead
(deflate_messages below): compressible JSON-ish text of 4 KiB, a short
JSON-ish text twice in a row (with context takeover the second copy
compresses to a few bytes), the 256 bytes 0x00 .. 0xff, 64 KiB of
incompressible xorshift32 bytes, an empty text, and about 1 MiB of
JSON-ish text, the last sent fragmented where the API allows.

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


def messages(scenario="plain"):
    """The scenario's messages as (name, payload) pairs: str for text, bytes
    for binary. scenario is "plain" (five messages) or "deflate" (seven)."""
    if scenario == "deflate":
        return deflate_messages()
    if scenario != "plain":
        raise ValueError(f"unknown scenario {scenario!r}")
    return [
        ("text", "hello, interop ✓ é 🚀"),
        ("binary", bytes(range(256))),
        ("empty", ""),
        ("1MiB", bytes(i % 251 for i in range(BIG_SIZE))),
        ("fragmented", FRAGMENT_UNIT * FRAGMENT_REPEAT),
    ]


RANDOM_SEED = 2463534242


def record(i):
    """The i-th JSON-ish record; every fifth has a note with 2-, 3- and
    4-byte UTF-8. Numbers are small integers, printed alike everywhere."""
    note = ',"note":"café ✓ 🚀"' if i % 5 == 0 else ""
    active = "true" if i % 3 == 0 else "false"
    return (
        f'{{"id":{i},"user":"user-{i}","email":"user-{i}@example.com",'
        f'"active":{active},"score":{(i * 7919) % 10007},"tags":["alpha","beta","gamma"]{note}}}'
    )


def json_text(n):
    """Records 0 .. n-1 as a JSON array."""
    return "[" + ",".join(record(i) for i in range(n)) + "]"


def random_bytes(n, seed):
    """n bytes of xorshift32 (13, 17, 5) from seed: the low byte of each state."""
    out = bytearray(n)
    x = seed
    for i in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i] = x & 0xFF
    return bytes(out)


def deflate_messages():
    """The "deflate" scenario's seven messages."""
    repeat = record(9000)  # an id no other message has
    return [
        ("json-4KiB", json_text(40)),
        ("repeat-1", repeat),
        ("repeat-2", repeat),
        ("binary", bytes(range(256))),
        ("random", random_bytes(64 << 10, RANDOM_SEED)),
        ("empty", ""),
        ("json-1MiB", json_text(8250)),
    ]


def text_fragments(text):
    """Cuts text into pieces of at most FRAGMENT_SIZE UTF-8 bytes, between
    code points (websockets sends each str of an iterable as a frame)."""
    data = text.encode()
    pieces, off = [], 0
    while off < len(data):
        end = min(off + FRAGMENT_SIZE, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1  # back to the start of a code point
        pieces.append(data[off:end].decode())
        off = end
    return pieces


class Checker:
    """Collects received messages and compares each with the expected one."""

    def __init__(self, scenario="plain"):
        self.want = messages(scenario)
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


def config(arg):
    """Parses the optional JSON argument the Go test passes to the websockets
    peers: {"scenario": "plain" | "deflate", "deflate": {...}}, where
    "deflate", when present, holds the keyword arguments of websockets'
    Client/ServerPerMessageDeflateFactory. Returns (scenario, deflate)."""
    import json

    c = json.loads(arg) if arg else {}
    return c.get("scenario", "plain"), c.get("deflate")


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
