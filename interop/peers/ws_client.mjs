// ws_client.mjs is a Node `ws` client that runs the scenario against the
// server at the URL given as its argument: it sends the five messages (the
// last one fragmented), checks the five it receives, then closes with
// 4000 "bye" and checks that the server answered with the same code.
//
// The optional second argument is JSON (see config in ws_common.mjs): the
// scenario and the perMessageDeflate options. The client prints the
// server's Sec-WebSocket-Extensions as "EXT value" ("EXT " for none).
//
// It prints "PASS" and exits 0, or prints "FAIL: why" and exits 1.
//
//	node ws_client.mjs ws://127.0.0.1:PORT/path ['{"scenario":"deflate","perMessageDeflate":{...}}']
import WebSocket from "ws";
import { Checker, CLOSE_CODE, CLOSE_REASON, fragments, messages } from "./scenario.mjs";
import { config, finish, sendAll } from "./ws_common.mjs";

const url = process.argv[2];
if (!url) finish(["usage: node ws_client.mjs URL [CONFIG]"]);
const cfg = config(process.argv[3]);

const ws = new WebSocket(url, cfg.perMessageDeflate === undefined ? {} : { perMessageDeflate: cfg.perMessageDeflate });
const checker = new Checker(cfg.scenario);
let sent = false;
let closing = false;

function maybeClose() {
	if (sent && checker.done() && !closing) {
		closing = true;
		ws.close(CLOSE_CODE, CLOSE_REASON);
	}
}

ws.on("upgrade", (res) => console.log(`EXT ${res.headers["sec-websocket-extensions"] ?? ""}`));
ws.on("open", async () => {
	try {
		await sendAll(ws, messages(cfg.scenario), fragments);
	} catch (e) {
		finish([`send: ${e}`]);
	}
	sent = true;
	maybeClose();
});
ws.on("message", (data, isBinary) => {
	checker.add(isBinary, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
	maybeClose();
});
ws.on("error", (e) => finish([`error: ${e.message}`]));
ws.on("close", (code, reason) => {
	const failures = [];
	const s = checker.summary();
	if (s) failures.push(s);
	if (!closing) failures.push(`server closed first with ${code} "${reason}"`);
	// RFC 6455 §5.5.1: the answer typically echoes the code; the reason
	// is the answering side's own (ours sends none).
	if (code !== CLOSE_CODE) failures.push(`close: server answered ${code} "${reason}", want ${CLOSE_CODE}`);
	finish(failures);
});
