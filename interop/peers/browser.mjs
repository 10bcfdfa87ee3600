// browser.mjs runs the scenario in the page, against ws://<page host>/ws:
// it sends the five messages (the browser API cannot fragment, so the last
// goes whole), checks the five it receives, closes with 4000 "bye" and
// checks the server's answer. The page's query may name the scenario
// (?scenario=deflate). The verdict lands in window.interopResult as
// {failures: [...], extensions: ws.extensions}, where the playwright driver
// (chromium.mjs) reads it.
import { Checker, CLOSE_CODE, CLOSE_REASON, messages } from "./scenario.mjs";

const scenario = new URLSearchParams(location.search).get("scenario") || "plain";
const failures = [];
const checker = new Checker(scenario);
let extensions = "";
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });
let closing = false;

const ws = new WebSocket(`ws://${location.host}/ws`);
ws.binaryType = "arraybuffer";

ws.onopen = () => {
	extensions = ws.extensions; // the server's Sec-WebSocket-Extensions
	for (const m of messages(scenario)) ws.send(m.binary ? m.data : dec.decode(m.data));
};
ws.onmessage = (e) => {
	if (typeof e.data === "string") checker.add(false, enc.encode(e.data));
	else checker.add(true, new Uint8Array(e.data));
	if (checker.done() && !closing) {
		closing = true;
		ws.close(CLOSE_CODE, CLOSE_REASON);
	}
};
ws.onerror = () => failures.push("error event");
ws.onclose = (e) => {
	const s = checker.summary();
	if (s) failures.push(s);
	if (!closing) failures.push(`server closed first with ${e.code} "${e.reason}"`);
	if (!e.wasClean) failures.push("close was not clean");
	// RFC 6455 §5.5.1: the answer typically echoes the code; the reason
	// is the answering side's own (ours sends none).
	if (e.code !== CLOSE_CODE) failures.push(`close: server answered ${e.code} "${e.reason}", want ${CLOSE_CODE}`);
	window.interopResult = { failures, extensions };
};
