// scenario.mjs is the exchange every interop pair runs, for the JavaScript
// peers (Node's ws and the browser page load this same module). The Go side
// (scenario_test.go) and the Python side (scenario.py) build the same five
// messages; any change here must be made there too.
//
// Each side sends, in order:
//
//	1. text    "hello, interop ✓ é 🚀"
//	2. binary  the 256 bytes 0x00 .. 0xff
//	3. text    "" (empty)
//	4. binary  1 MiB, byte i = i % 251 (a prime, so no 256-byte period)
//	5. text    FRAGMENT_UNIT repeated FRAGMENT_REPEAT times (230,000 bytes),
//	           sent fragmented where the API allows, in FRAGMENT_SIZE-byte
//	           frames whose edges cut multi-byte code points
//
// and then one side closes with 4000 "bye".
//
// The "deflate" scenario, for the permessage-deflate pairs, sends instead
// (deflateMessages below): compressible JSON-ish text of 4 KiB, a short
// JSON-ish text twice in a row (with context takeover the second copy
// compresses to a few bytes), the 256 bytes 0x00 .. 0xff, 64 KiB of
// incompressible xorshift32 bytes, an empty text, and about 1 MiB of
// JSON-ish text, the last sent fragmented where the API allows.
//
// It uses only what browsers and Node both have (TextEncoder, Uint8Array).

export const CLOSE_CODE = 4000;
export const CLOSE_REASON = "bye";
export const FRAGMENT_UNIT = "fragmented ✓ é 🚀 ";
export const FRAGMENT_REPEAT = 10000;
export const FRAGMENT_SIZE = 100000;
export const BIG_SIZE = 1 << 20;

/**
 * messages returns the scenario's messages as {name, binary, data:
 * Uint8Array}: "plain" (the default) or "deflate".
 */
export function messages(scenario = "plain") {
	if (scenario === "deflate") return deflateMessages();
	if (scenario !== "plain") throw new Error(`unknown scenario ${scenario}`);
	const enc = new TextEncoder();
	const all = new Uint8Array(256);
	for (let i = 0; i < 256; i++) all[i] = i;
	const big = new Uint8Array(BIG_SIZE);
	for (let i = 0; i < BIG_SIZE; i++) big[i] = i % 251;
	return [
		{ name: "text", binary: false, data: enc.encode("hello, interop ✓ é 🚀") },
		{ name: "binary", binary: true, data: all },
		{ name: "empty", binary: false, data: new Uint8Array(0) },
		{ name: "1MiB", binary: true, data: big },
		{ name: "fragmented", binary: false, data: enc.encode(FRAGMENT_UNIT.repeat(FRAGMENT_REPEAT)) },
	];
}

/**
 * record is the i-th JSON-ish record; every fifth has a note with 2-, 3- and
 * 4-byte UTF-8. Numbers are small integers, so Go, JavaScript and Python
 * print them alike.
 */
export function record(i) {
	const note = i % 5 === 0 ? ',"note":"café ✓ 🚀"' : "";
	return (
		`{"id":${i},"user":"user-${i}","email":"user-${i}@example.com",` +
		`"active":${i % 3 === 0},"score":${(i * 7919) % 10007},"tags":["alpha","beta","gamma"]${note}}`
	);
}

/** jsonText returns records 0 .. n-1 as a JSON array. */
export function jsonText(n) {
	const r = [];
	for (let i = 0; i < n; i++) r.push(record(i));
	return `[${r.join(",")}]`;
}

/**
 * randomBytes returns n bytes of xorshift32 (13, 17, 5) from seed: the low
 * byte of each state. Incompressible, and the same in every language.
 */
export function randomBytes(n, seed) {
	const out = new Uint8Array(n);
	let x = seed | 0;
	for (let i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		out[i] = x & 0xff;
	}
	return out;
}

export const RANDOM_SEED = 2463534242;

/** deflateMessages returns the "deflate" scenario's seven messages. */
function deflateMessages() {
	const enc = new TextEncoder();
	const all = new Uint8Array(256);
	for (let i = 0; i < 256; i++) all[i] = i;
	const repeat = enc.encode(record(9000)); // an id no other message has
	return [
		{ name: "json-4KiB", binary: false, data: enc.encode(jsonText(40)) },
		{ name: "repeat-1", binary: false, data: repeat },
		{ name: "repeat-2", binary: false, data: repeat },
		{ name: "binary", binary: true, data: all },
		{ name: "random", binary: true, data: randomBytes(64 << 10, RANDOM_SEED) },
		{ name: "empty", binary: false, data: new Uint8Array(0) },
		{ name: "json-1MiB", binary: false, data: enc.encode(jsonText(8250)) },
	];
}

/** fragments cuts data into FRAGMENT_SIZE-byte pieces (the last may be shorter). */
export function fragments(data) {
	const out = [];
	for (let off = 0; off < data.length; off += FRAGMENT_SIZE) {
		out.push(data.subarray(off, Math.min(off + FRAGMENT_SIZE, data.length)));
	}
	return out;
}

/**
 * Checker collects received messages and compares each with the expected
 * one. add takes the message as a Uint8Array and whether it was binary.
 */
export class Checker {
	constructor(scenario = "plain") {
		this.want = messages(scenario);
		this.got = 0;
		this.failures = [];
	}

	add(binary, data) {
		const i = this.got++;
		if (i >= this.want.length) {
			this.failures.push(`unexpected message #${i + 1} (${binary ? "binary" : "text"}, ${data.length} bytes)`);
			return;
		}
		const w = this.want[i];
		if (binary !== w.binary) {
			this.failures.push(`${w.name}: got a ${binary ? "binary" : "text"} message, want ${w.binary ? "binary" : "text"}`);
			return;
		}
		const diff = firstDiff(data, w.data);
		if (diff >= 0) {
			this.failures.push(`${w.name}: ${data.length} bytes, want ${w.data.length}; first difference at byte ${diff}`);
		}
	}

	/** done reports whether every expected message has arrived. */
	done() {
		return this.got >= this.want.length;
	}

	/** summary returns "" when all is well, or what went wrong. */
	summary() {
		const f = [...this.failures];
		if (this.got < this.want.length) f.push(`received ${this.got} of ${this.want.length} messages`);
		return f.join("; ");
	}
}

function firstDiff(a, b) {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
	return a.length === b.length ? -1 : n;
}
