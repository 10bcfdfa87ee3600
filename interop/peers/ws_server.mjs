// ws_server.mjs is a Node `ws` server on 127.0.0.1 (a free port) for one
// connection: it prints "LISTEN port", then, once a client connects, sends
// the five scenario messages (the last one fragmented), checks the five it
// receives, and expects the client to close with 4000 "bye".
//
// The optional argument is JSON (see config in ws_common.mjs): the scenario
// and the perMessageDeflate options. The server prints the
// Sec-WebSocket-Extensions it answers with as "EXT value" ("EXT " for none).
//
// It prints "PASS" and exits 0, or prints "FAIL: why" and exits 1.
//
//	node ws_server.mjs ['{"scenario":"deflate","perMessageDeflate":{...}}']
import { WebSocketServer } from "ws";
import { Checker, CLOSE_CODE, CLOSE_REASON, fragments, messages } from "./scenario.mjs";
import { config, finish, sendAll } from "./ws_common.mjs";

const cfg = config(process.argv[2]);
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: cfg.perMessageDeflate ?? false });
wss.on("listening", () => console.log(`LISTEN ${wss.address().port}`));
wss.on("error", (e) => finish([`server error: ${e.message}`]));
wss.on("headers", (headers) => {
	const ext = headers.find((h) => h.toLowerCase().startsWith("sec-websocket-extensions:"));
	console.log(`EXT ${ext ? ext.slice(ext.indexOf(":") + 1).trim() : ""}`);
});
wss.on("connection", (ws) => {
	const checker = new Checker(cfg.scenario);
	let sent = false;
	ws.on("message", (data, isBinary) => {
		checker.add(isBinary, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
	});
	ws.on("error", (e) => finish([`error: ${e.message}`]));
	ws.on("close", (code, reason) => {
		const failures = [];
		const s = checker.summary();
		if (s) failures.push(s);
		if (!sent) failures.push("connection closed before all messages were sent");
		if (code !== CLOSE_CODE || reason.toString() !== CLOSE_REASON) {
			failures.push(`close: got ${code} "${reason}", want ${CLOSE_CODE} "${CLOSE_REASON}"`);
		}
		wss.close();
		finish(failures);
	});
	sendAll(ws, messages(cfg.scenario), fragments).then(
		() => (sent = true),
		(e) => finish([`send: ${e}`]),
	);
});
