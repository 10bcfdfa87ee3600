// chromium.mjs drives headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core) to the page at the URL given as its argument, waits for
// the page's verdict (window.interopResult, set by browser.mjs) and prints
// it: "PASS" and exit 0, or "FAIL: why" lines and exit 1. The page's console
// and errors are printed too, prefixed "page:", and the extensions the
// server agreed to (the page's ws.extensions) as "EXT value".
//
//	node chromium.mjs http://127.0.0.1:PORT/ [/path/to/chromium]
import { chromium } from "playwright-core";

const url = process.argv[2];
const executablePath = process.argv[3] || "/usr/bin/chromium";

async function main() {
	const browser = await chromium.launch({
		executablePath,
		headless: true,
		timeout: 15000,
		args: [
			"--headless",
			"--no-sandbox",
			"--disable-gpu",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
			"--no-first-run",
			"--disable-quic",
		],
	});
	try {
		const page = await browser.newPage();
		page.on("console", (m) => console.log(`page: console.${m.type()}: ${m.text()}`));
		page.on("pageerror", (e) => console.log(`page: error: ${e.message}`));
		await page.goto(url, { timeout: 10000 });
		const handle = await page.waitForFunction(() => window.interopResult, null, { timeout: 20000 });
		const result = await handle.jsonValue();
		console.log(`EXT ${result.extensions}`);
		return result.failures;
	} finally {
		await browser.close();
	}
}

let failures;
try {
	failures = await main();
} catch (e) {
	failures = [`${e.name}: ${e.message}`];
}
if (failures.length === 0) {
	console.log("PASS");
	process.exit(0);
}
for (const f of failures) console.log(`FAIL: ${f}`);
process.exit(1);
