// twopages.cjs drives headless Chromium (through playwright-core) to the
// chat page twice, as two people, and checks that what one types the other
// sees. It prints "PASS" and exits 0, or "FAIL: why" lines and exits 1; the
// pages' console output and errors are printed too, prefixed "page A:" or
// "page B:", and any error on a page is a failure (a Content-Security-Policy
// violation among them).
//
//	NODE_PATH=interop/peers/node_modules node twopages.cjs URL [chromium] [screenshot.png]
//
// CommonJS rather than a module: require honours NODE_PATH, import does
// not, and playwright-core is installed in the interop package's folder.
const { chromium } = require("playwright-core");

const [url, executablePath = "/usr/bin/chromium", screenshot] = process.argv.slice(2);
const failures = [];
const step = { timeout: 15000 };

// open opens the chat in a fresh browser context: its own storage, like a
// second person on another machine.
async function open(browser, label) {
	const context = await browser.newContext({ viewport: { width: 720, height: 480 } });
	const page = await context.newPage();
	page.on("console", (m) => {
		console.log(`page ${label}: console.${m.type()}: ${m.text()}`);
		if (m.type() === "error") failures.push(`page ${label}: console error: ${m.text()}`);
	});
	page.on("pageerror", (e) => failures.push(`page ${label}: ${e.message}`));
	await page.goto(url, step);
	return page;
}

// say types a message as name and sends it with Enter.
async function say(page, name, text) {
	await page.fill("#name", name);
	await page.locator("#text").pressSequentially(text);
	await page.press("#text", "Enter");
}

// shows waits until the page lists a message from name with exactly text.
async function shows(page, label, name, text) {
	try {
		await page.waitForFunction(
			([name, text]) =>
				[...document.querySelectorAll("#messages li")].some(
					(li) => li.querySelector(".name")?.textContent === name && li.querySelector(".text")?.textContent === text,
				),
			[name, text],
			step,
		);
	} catch (e) {
		const seen = await page.$$eval("#messages li", (lis) => lis.map((li) => li.textContent));
		throw new Error(`page ${label} never showed ${name}: ${JSON.stringify(text)}; it shows ${JSON.stringify(seen)}`);
	}
}

async function online(page, label, n) {
	try {
		await page.waitForSelector(`#status[data-online="${n}"]`, step);
	} catch (e) {
		throw new Error(`page ${label} never showed ${n} online; status: ${await page.textContent("#status")}`);
	}
}

async function main() {
	const browser = await chromium.launch({
		executablePath,
		headless: true,
		timeout: 15000,
		args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
	});
	try {
		const a = await open(browser, "A");
		const b = await open(browser, "B");
		// B gets only what is sent after it joined: wait until both know.
		await online(a, "A", 2);
		await online(b, "B", 2);

		const hello = "hello from A ✓ 🙂";
		await say(a, "alice", hello);
		await shows(b, "B", "alice", hello);
		await shows(a, "A", "alice", hello); // the sender gets its own message back

		// Markup stays text: B's message must not become a <b> element.
		const reply = "<b>hi</b> from B & co";
		await say(b, "bob", reply);
		await shows(a, "A", "bob", reply);
		if ((await a.$$("#messages b")).length > 0) failures.push("page A rendered a message as HTML");
		if ((await a.inputValue("#text")) !== "" || (await b.inputValue("#text")) !== "") {
			failures.push("the message box was not cleared after sending");
		}

		if (screenshot) await a.screenshot({ path: screenshot });

		// B leaves: A learns it.
		await b.context().close();
		await online(a, "A", 1);
	} finally {
		await browser.close();
	}
}

main()
	.catch((e) => failures.push(`${e.name}: ${e.message}`))
	.finally(() => {
		if (failures.length === 0) {
			console.log("PASS");
			process.exit(0);
		}
		for (const f of failures) console.log(`FAIL: ${f}`);
		process.exit(1);
	});
