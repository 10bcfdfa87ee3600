// The chat page: one WebSocket to /ws on this origin. Messages are shown
// with textContent only, never as HTML, so whatever people type stays text.
const $ = (id) => document.getElementById(id);
const log = $("log");
const messages = $("messages");
const status = $("status");
const form = $("form");
const nameInput = $("name");
const textInput = $("text");
const sendButton = $("send");

nameInput.value = localStorage.getItem("chat.name") || "";

let socket = null;
let failures = 0; // consecutive failed connections, for the backoff

function setStatus(text, state) {
	status.textContent = text;
	status.dataset.state = state;
}

function connect() {
	const url = new URL("ws", location.href);
	url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
	setStatus("connecting…", "connecting");
	socket = new WebSocket(url);
	socket.onopen = () => {
		failures = 0;
		sendButton.disabled = false;
		setStatus("connected", "online");
	};
	socket.onmessage = (event) => {
		let m;
		try {
			m = JSON.parse(event.data);
		} catch {
			return;
		}
		if (m.kind === "message") {
			show(m);
		} else if (m.kind === "presence") {
			status.dataset.online = m.online;
			setStatus(`${m.online} online`, "online");
		}
	};
	socket.onclose = (event) => {
		sendButton.disabled = true;
		delete status.dataset.online;
		// Back off: 1 s, 2 s, 4 s ... at most 30 s, so a restarting server
		// is not stormed by every open page at once.
		const delay = Math.min(30, 2 ** failures++);
		const why = event.code + (event.reason ? `: ${event.reason}` : "");
		setStatus(`disconnected (${why}), retrying in ${delay} s`, "offline");
		setTimeout(connect, delay * 1000);
	};
}

function show(m) {
	const li = document.createElement("li");
	if (m.name === nameInput.value.trim()) li.classList.add("mine");
	const meta = document.createElement("div");
	meta.className = "meta";
	const name = document.createElement("span");
	name.className = "name";
	name.textContent = m.name;
	const time = document.createElement("time");
	time.dateTime = m.time;
	time.textContent = new Date(m.time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
	meta.append(name, time);
	const text = document.createElement("div");
	text.className = "text";
	text.textContent = m.text;
	li.append(meta, text);
	const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
	messages.append(li);
	if (atBottom) log.scrollTop = log.scrollHeight;
}

form.addEventListener("submit", (event) => {
	event.preventDefault();
	const text = textInput.value.trim();
	if (text === "" || socket?.readyState !== WebSocket.OPEN) return;
	const name = nameInput.value.trim();
	localStorage.setItem("chat.name", name);
	socket.send(JSON.stringify({ name, text }));
	textInput.value = "";
	textInput.focus();
});

connect();
