// ws_common.mjs holds what the Node `ws` client and server share.

// A peer that hangs is a failure, not a stuck test: the Go test kills us
// too, but this way the output says why.
const timer = setTimeout(() => finish(["timed out after 20 s"]), 20000);

/**
 * config parses the optional JSON argument the Go test passes:
 * {scenario: "plain" | "deflate", perMessageDeflate: ws's options or false}.
 * Without it: the plain scenario, and ws's default perMessageDeflate.
 */
export function config(arg) {
	const c = arg ? JSON.parse(arg) : {};
	return { scenario: c.scenario || "plain", perMessageDeflate: c.perMessageDeflate };
}

/**
 * finish prints the verdict and exits: "PASS" and 0 for no failures,
 * otherwise one "FAIL: ..." line per failure and 1.
 */
export function finish(failures) {
	clearTimeout(timer);
	if (failures.length === 0) {
		console.log("PASS");
		process.exit(0);
	}
	for (const f of failures) console.log(`FAIL: ${f}`);
	process.exit(1);
}

/**
 * sendAll sends the scenario's messages in order; the last one goes in
 * fragments (ws sends a frame per send call with fin: false until the last).
 */
export async function sendAll(ws, msgs, fragments) {
	const send = (data, opts) =>
		new Promise((resolve, reject) => ws.send(data, opts, (err) => (err ? reject(err) : resolve())));
	for (let i = 0; i < msgs.length; i++) {
		const m = msgs[i];
		if (i < msgs.length - 1) {
			await send(m.data, { binary: m.binary, fin: true });
			continue;
		}
		const parts = fragments(m.data);
		for (let j = 0; j < parts.length; j++) {
			await send(parts[j], { binary: m.binary, fin: j === parts.length - 1 });
		}
	}
}
