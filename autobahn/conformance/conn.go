package conformance

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// Role says which side of the WebSocket connection the runner plays.
type Role int

const (
	// RoleClient: the runner dials and tests a server; it masks its frames.
	RoleClient Role = iota
	// RoleServer: the runner listens and tests a client; it does not mask,
	// and it requires the client's frames to be masked.
	RoleServer
)

// String returns "client" or "server".
func (r Role) String() string {
	if r == RoleServer {
		return "server"
	}
	return "client"
}

// EventKind is the kind of a recorded [Event].
type EventKind string

// Event kinds, named as in the Autobahn reports.
const (
	EventMessage EventKind = "message" // a complete text or binary message
	EventPing    EventKind = "ping"    // a ping from the peer
	EventPong    EventKind = "pong"    // a pong from the peer
	EventTimeout EventKind = "timeout" // a script checkpoint reached while the connection was open
)

// Event is one observation in a case: what the peer sent, or a checkpoint.
type Event struct {
	Kind    EventKind
	Binary  bool   // for messages: binary rather than text
	Payload []byte // for messages, pings and pongs
	Tag     string // for timeouts: the checkpoint name

	// elided is the length of a message payload the case checked and then
	// dropped, so that the 1000-message cases do not keep every payload.
	elided int
}

func (e Event) equal(o Event) bool {
	return e.Kind == o.Kind && e.Binary == o.Binary && e.Tag == o.Tag && bytes.Equal(e.Payload, o.Payload)
}

// String renders the event compactly, abbreviating long payloads.
func (e Event) String() string {
	switch e.Kind {
	case EventTimeout:
		return fmt.Sprintf("timeout(%s)", e.Tag)
	case EventMessage:
		kind := "text"
		if e.Binary {
			kind = "binary"
		}
		if e.elided > 0 {
			return fmt.Sprintf("message(%s, %d bytes as expected)", kind, e.elided)
		}
		return fmt.Sprintf("message(%s, %s)", kind, describePayload(e.Payload, !e.Binary))
	}
	return fmt.Sprintf("%s(%s)", e.Kind, describePayload(e.Payload, false))
}

// describePayload renders a payload for humans: quoted text when it is short
// valid UTF-8 (and text is wanted), hex otherwise, abbreviated past 64 bytes.
func describePayload(p []byte, text bool) string {
	const max = 64
	short := p
	suffix := ""
	if len(p) > max {
		short, suffix = p[:max], fmt.Sprintf("... (%d bytes)", len(p))
	}
	if (text || len(p) == 0) && utf8.Valid(short) {
		return fmt.Sprintf("%q%s", short, suffix)
	}
	return fmt.Sprintf("0x%x%s", short, suffix)
}

func eventsEqual(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].equal(b[i]) {
			return false
		}
	}
	return true
}

// Shorthands for the event lists cases expect.
func textMsg(s string) Event   { return Event{Kind: EventMessage, Payload: []byte(s)} }
func binMsg(p []byte) Event    { return Event{Kind: EventMessage, Binary: true, Payload: p} }
func pongEv(p string) Event    { return Event{Kind: EventPong, Payload: []byte(p)} }
func timeoutEv(t string) Event { return Event{Kind: EventTimeout, Tag: t} }

// expectation is one acceptable outcome: the exact event list that earns
// the behavior.
type expectation struct {
	Behavior Behavior
	Events   []Event
}

// closeExpectation says how the connection must end.
type closeExpectation struct {
	ClosedByMe   bool  // the runner, not the peer, starts the closing handshake
	Codes        []int // acceptable close codes from the peer (an absent code is always accepted)
	RequireClean bool  // the closing handshake must complete and TCP close in order
	// WrongEndpointFatal makes the behavior FAILED when the wrong endpoint
	// closed: for invalid UTF-8, it means the peer never noticed.
	WrongEndpointFatal bool
}

// wireEntry is one line of the per-case wire log.
type wireEntry struct {
	At      int64  `json:"at_ms"`
	Dir     string `json:"dir"` // "tx" or "rx" frame, "tx-bytes" for a raw write, "note"
	Opcode  string `json:"opcode,omitempty"`
	Fin     bool   `json:"fin,omitempty"`
	RSV     byte   `json:"rsv,omitempty"`
	Masked  bool   `json:"masked,omitempty"`
	Len     int    `json:"len"`
	Payload string `json:"payload,omitempty"`
	Chop    int    `json:"chop,omitempty"`
	Text    string `json:"text,omitempty"`
}

// maxWirelog bounds the wire log so the 1000-message cases stay readable.
const maxWirelog = 400

// inItem is what the reader goroutine hands to the script goroutine.
type inItem struct {
	f   *frame
	err error
}

// conn is the raw connection a case script drives. It is used by one
// goroutine (the case's), plus an internal reader goroutine that only decodes
// frames and queues them; all protocol reactions (pong, close reply,
// recording, judging input) happen on the case goroutine when it waits, so
// the state has a single owner.
type conn struct {
	role  Role
	nc    net.Conn
	br    *bufio.Reader
	opts  *Runner
	start time.Time

	// incoming queue (filled by the reader goroutine)
	mu     sync.Mutex
	queue  []inItem
	signal chan struct{}
	done   chan struct{}

	// expectations, set by the script
	expected      []expectation
	expectClose   closeExpectation
	suppressClose bool

	received []Event
	wirelog  []wireEntry
	notes    []string

	// override, set by scripts that judge themselves (group 9)
	behavior Behavior
	result   string

	// state
	closeSent, closeRecv bool
	tcpClosed            bool
	closedByMe           bool
	droppedByMe          bool
	failedByMe           bool
	wasClean             bool
	remoteCode           *int
	remoteReason         string
	localCode            *int
	localReason          string
	wasNotCleanReason    string

	// message reassembly
	inMsg       bool
	msgOp       Opcode
	msgBuf      []byte
	utf8Checked int // msgBuf[:utf8Checked] is valid UTF-8 ending on a boundary

	// script-level frame counters (10.1.1 checks its own fragmentation)
	txFrames map[Opcode]int

	// permessage-deflate (groups 12 and 13): nil when not negotiated.
	pmd           *pmdState
	negotiation   *Negotiation
	msgCompressed bool   // the message being received has RSV1 set
	violation     string // the first compression rule the peer broke

	writeErr error
	batching bool
	pending  []byte
}

func newConn(role Role, nc net.Conn, br *bufio.Reader, opts *Runner) *conn {
	c := &conn{
		role:     role,
		nc:       nc,
		br:       br,
		opts:     opts,
		start:    time.Now(),
		signal:   make(chan struct{}, 1),
		done:     make(chan struct{}),
		txFrames: map[Opcode]int{},
	}
	go c.readLoop()
	return c
}

func (c *conn) readLoop() {
	defer close(c.done)
	for {
		f, err := readFrame(c.br, c.opts.maxMessage())
		c.mu.Lock()
		c.queue = append(c.queue, inItem{f, err})
		c.mu.Unlock()
		select {
		case c.signal <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// open reports whether the WebSocket connection is open: no close frame has
// been sent or received and TCP is up.
func (c *conn) open() bool { return !c.closeSent && !c.closeRecv && !c.tcpClosed }

func (c *conn) ms() int64 { return time.Since(c.start).Milliseconds() }

func (c *conn) log(e wireEntry) {
	if len(c.wirelog) < maxWirelog {
		e.At = c.ms()
		c.wirelog = append(c.wirelog, e)
	} else if len(c.wirelog) == maxWirelog {
		c.wirelog = append(c.wirelog, wireEntry{At: c.ms(), Dir: "note", Text: "wire log truncated"})
	}
}

func (c *conn) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	c.notes = append(c.notes, s)
	c.log(wireEntry{Dir: "note", Text: s})
}

// --- sending -------------------------------------------------------------

// sendOpts shapes how a frame goes on the wire.
type sendOpts struct {
	fin  bool
	rsv  byte
	chop int // >0: write the encoded frame in pieces of this many bytes
}

// sendFrame encodes one frame, masked when the runner is the client, and
// writes it. Writes to a closed connection are dropped silently: a script
// keeps going the way the suite's does, and the judge looks at what the peer
// did, not at our write errors.
func (c *conn) sendFrame(op Opcode, payload []byte, o sendOpts) {
	if c.tcpClosed {
		return
	}
	f := frame{Fin: o.fin, RSV: o.rsv, Opcode: op, Payload: payload}
	if c.role == RoleClient {
		f.Masked = true
		rand.Read(f.MaskKey[:])
	}
	c.txFrames[op]++
	c.log(wireEntry{Dir: "tx", Opcode: op.String(), Fin: o.fin, RSV: o.rsv, Masked: f.Masked,
		Len: len(payload), Payload: describePayload(payload, op == OpText), Chop: o.chop})
	wire := appendFrame(make([]byte, 0, len(payload)+maxHeaderLen), &f)
	c.writeChopped(wire, o.chop)
	c.poll()
}

// batch runs fn with writes collected, then puts them on the wire in one
// write: the "all sent in one chop" of the case descriptions.
func (c *conn) batch(fn func()) {
	c.batching = true
	fn()
	c.batching = false
	b := c.pending
	c.pending = nil
	c.writeChopped(b, 0)
	c.poll()
}

// writeChopped writes b in pieces of chop bytes (all at once if chop <= 0).
func (c *conn) writeChopped(b []byte, chop int) {
	if c.batching {
		c.pending = append(c.pending, b...)
		return
	}
	if chop <= 0 {
		chop = len(b)
	}
	for len(b) > 0 && c.writeErr == nil {
		n := min(chop, len(b))
		c.nc.SetWriteDeadline(time.Now().Add(c.opts.ioTimeout()))
		if _, err := c.nc.Write(b[:n]); err != nil {
			c.writeErr = err
			c.note("write failed: %v", err)
		}
		b = b[n:]
	}
}

// send sends one unfragmented frame with FIN set.
func (c *conn) send(op Opcode, payload []byte) { c.sendFrame(op, payload, sendOpts{fin: true}) }

// sendMessage sends a message split into frames of at most fragSize bytes
// (one frame when fragSize <= 0).
func (c *conn) sendMessage(op Opcode, payload []byte, fragSize int) {
	if fragSize <= 0 || len(payload) <= fragSize {
		c.send(op, payload)
		return
	}
	for i := 0; i < len(payload); i += fragSize {
		end := min(i+fragSize, len(payload))
		o := op
		if i > 0 {
			o = OpContinuation
		}
		c.sendFrame(o, payload[i:end], sendOpts{fin: end == len(payload)})
	}
}

// sendClose starts (or answers) the closing handshake with a status code
// (code < 0: none). Unlike a raw close frame from sendFrame, it changes the
// connection state; a second call is ignored.
func (c *conn) sendClose(code int, reason []byte) {
	if code >= 0 {
		if c.closeSent || c.tcpClosed {
			return
		}
		c.localCode = &code
		c.localReason = string(reason)
	}
	c.sendCloseRaw(encodeClose(code, reason))
}

// sendCloseRaw is sendClose with an arbitrary payload, valid or not.
func (c *conn) sendCloseRaw(payload []byte) {
	if c.closeSent || c.tcpClosed {
		return
	}
	c.closeSent = true
	if !c.closeRecv {
		c.closedByMe = true
	}
	c.send(OpClose, payload)
}

// rawFrame is the begin/data/end path of 6.4.3 and 6.4.4: one frame header
// announcing n payload bytes, then the payload in separately timed pieces.
type rawFrame struct {
	c   *conn
	key [4]byte
	pos int
}

func (c *conn) beginFrame(op Opcode, n int) *rawFrame {
	f := frame{Fin: true, Opcode: op}
	r := &rawFrame{c: c}
	if c.role == RoleClient {
		f.Masked = true
		rand.Read(f.MaskKey[:])
		r.key = f.MaskKey
	}
	c.txFrames[op]++
	c.log(wireEntry{Dir: "tx", Opcode: op.String(), Fin: true, Masked: f.Masked, Len: n, Text: "header only; payload follows in pieces"})
	if !c.tcpClosed {
		c.writeChopped(appendHeader(nil, &f, n), 0)
	}
	return r
}

func (r *rawFrame) write(p []byte) {
	c := r.c
	c.log(wireEntry{Dir: "tx-bytes", Len: len(p), Payload: describePayload(p, false)})
	if c.tcpClosed {
		return
	}
	b := append([]byte(nil), p...)
	if c.role == RoleClient {
		r.pos = maskBytes(r.key, r.pos, b)
	}
	c.writeChopped(b, 0)
	c.poll()
}

// --- receiving -----------------------------------------------------------

// poll handles whatever the peer has sent so far without blocking.
func (c *conn) poll() {
	c.mu.Lock()
	items := c.queue
	c.queue = nil
	c.mu.Unlock()
	for _, it := range items {
		c.handle(it)
	}
}

// waitUntil handles incoming frames until cond holds, TCP is closed, or the
// deadline passes; it reports cond().
func (c *conn) waitUntil(deadline time.Time, cond func() bool) bool {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for {
		c.poll()
		if cond() {
			return true
		}
		if c.tcpClosed {
			return false
		}
		select {
		case <-c.signal:
		case <-t.C:
			c.poll()
			return cond()
		}
	}
}

// pause waits d (in units of the runner's time scale), reacting to the peer.
func (c *conn) pause(d float64) {
	c.waitUntil(time.Now().Add(c.opts.scale(d)), func() bool { return false })
}

// checkpoint pauses, then records a timeout event named tag if the
// connection is still open; it reports whether it was.
func (c *conn) checkpoint(d float64, tag string) bool {
	c.pause(d)
	if !c.open() {
		return false
	}
	c.received = append(c.received, timeoutEv(tag))
	c.log(wireEntry{Dir: "note", Text: "checkpoint " + tag})
	return true
}

// next waits up to d for the next recorded event after index i.
func (c *conn) next(i int, d time.Duration) (Event, bool) {
	ok := c.waitUntil(time.Now().Add(d), func() bool { return len(c.received) > i })
	if !ok {
		return Event{}, false
	}
	return c.received[i], true
}

func (c *conn) handle(it inItem) {
	if c.tcpClosed {
		return
	}
	if it.err != nil {
		c.tcpLost(it.err)
		return
	}
	f := it.f
	c.log(wireEntry{Dir: "rx", Opcode: f.Opcode.String(), Fin: f.Fin, RSV: f.RSV, Masked: f.Masked,
		Len: len(f.Payload), Payload: describePayload(f.Payload, f.Opcode == OpText)})
	if c.closeRecv {
		c.note("peer sent a %s frame after its close frame", f.Opcode)
		return
	}
	switch {
	case f.RSV != 0 && c.pmd == nil:
		c.fail(CloseProtocolError, fmt.Sprintf("peer set RSV bits %03b without a negotiated extension", f.RSV))
		return
	case f.RSV != 0 && !(c.failedByMe && c.closeSent) && !c.rsvAllowed(f):
		// (Once we have failed the connection, the rest of a message in
		// flight is discarded below, whatever its RSV bits.)
		return
	case !f.Opcode.isDefined():
		c.fail(CloseProtocolError, fmt.Sprintf("peer used reserved opcode %d", byte(f.Opcode)))
		return
	case c.role == RoleClient && f.Masked:
		c.fail(CloseProtocolError, "server sent a masked frame")
		return
	case c.role == RoleServer && !f.Masked:
		c.fail(CloseProtocolError, "client sent an unmasked frame")
		return
	case f.Opcode.isControl() && !f.Fin:
		c.fail(CloseProtocolError, "peer fragmented a control frame")
		return
	case f.Opcode.isControl() && len(f.Payload) > 125:
		c.fail(CloseProtocolError, "peer sent a control frame longer than 125 bytes")
		return
	}
	if c.failedByMe && c.closeSent && !f.Opcode.isControl() {
		// RFC 6455 §5.5.1: a peer may still send the rest of a fragmented
		// message after a close frame. Once we have failed the connection,
		// data frames still in flight are read and discarded, not judged.
		// (After a normal close they still count: 7.1.1 expects the echo
		// of a message sent just before the close.)
		c.note("discarded a %s frame that arrived after our close frame", f.Opcode)
		return
	}
	switch f.Opcode {
	case OpClose:
		c.onClose(f.Payload)
	case OpPing:
		c.record(Event{Kind: EventPing, Payload: f.Payload})
		if !c.closeSent {
			c.send(OpPong, f.Payload)
		}
	case OpPong:
		c.record(Event{Kind: EventPong, Payload: f.Payload})
	case OpContinuation:
		if !c.inMsg {
			c.fail(CloseProtocolError, "peer sent a continuation frame with no message to continue")
			return
		}
		c.onData(f)
	default: // text or binary
		if c.inMsg {
			c.fail(CloseProtocolError, "peer started a new message inside a fragmented one")
			return
		}
		c.inMsg, c.msgOp, c.msgBuf, c.utf8Checked = true, f.Opcode, c.msgBuf[:0], 0
		c.msgCompressed = f.RSV&rsv1 != 0
		c.onData(f)
	}
}

func (c *conn) onData(f *frame) {
	if int64(len(c.msgBuf))+int64(len(f.Payload)) > c.opts.maxMessage() {
		c.fail(CloseTooBig, "peer's message exceeds the runner's limit")
		return
	}
	c.msgBuf = append(c.msgBuf, f.Payload...)
	if c.msgOp == OpText && !c.msgCompressed {
		var ok bool
		if c.utf8Checked, ok = utf8From(c.msgBuf, c.utf8Checked); !ok {
			c.fail(CloseInvalidPayload, "peer sent a text message that is not valid UTF-8")
			return
		}
	}
	if !f.Fin {
		return
	}
	c.inMsg = false
	payload := c.msgBuf
	if c.msgCompressed {
		out, err := c.pmd.decompress(c.msgBuf, c.opts.maxMessage())
		switch {
		case errors.Is(err, errTooLong):
			c.fail(CloseTooBig, "peer's decompressed message exceeds the runner's limit")
			return
		case err != nil:
			c.compressionViolation(CloseInvalidPayload, fmt.Sprintf("peer sent an %v", err))
			return
		}
		payload = out
	}
	if c.msgOp == OpText && !utf8.Valid(payload) {
		c.fail(CloseInvalidPayload, "peer sent a text message that ends inside a UTF-8 sequence")
		return
	}
	if !c.msgCompressed {
		payload = bytes.Clone(payload)
	}
	c.record(Event{Kind: EventMessage, Binary: c.msgOp == OpBinary, Payload: payload})
	if cap(c.msgBuf) > 1<<20 {
		c.msgBuf = nil // do not pin a 16 MiB buffer for the rest of the case
	}
}

// rsv1 is the RSV1 bit in frame.RSV: "compressed" for permessage-deflate.
const rsv1 = 4

// rsvAllowed checks the RSV bits of a frame once permessage-deflate is in
// use (RFC 7692 §6): RSV1 may be set on the first frame of a data message
// only; RSV2 and RSV3 stay reserved. It fails the connection otherwise.
func (c *conn) rsvAllowed(f *frame) bool {
	switch {
	case f.RSV&^rsv1 != 0:
		c.compressionViolation(CloseProtocolError, fmt.Sprintf("peer set RSV bits %03b; only RSV1 is negotiated", f.RSV))
	case f.Opcode == OpContinuation:
		c.compressionViolation(CloseProtocolError, "peer set RSV1 on a continuation frame; it belongs on the first frame of a message only")
	case f.Opcode.isControl():
		c.compressionViolation(CloseProtocolError, fmt.Sprintf("peer set RSV1 on a %s frame; control frames are never compressed", f.Opcode))
	default:
		return true
	}
	return false
}

// compressionViolation fails the connection for a broken compression rule
// and remembers the first one: it makes the case FAILED.
func (c *conn) compressionViolation(code int, why string) {
	if c.violation == "" {
		c.violation = why
		// The verdict is FAILED already; a peer that echoes our close
		// code closes correctly.
		if !slices.Contains(c.expectClose.Codes, code) {
			c.expectClose.Codes = append(c.expectClose.Codes, code)
		}
	}
	c.fail(code, why)
}

// sendCompressed sends payload as one compressed message (RSV1 on its first
// frame), split into frames of at most fragSize compressed bytes when
// fragSize > 0, as the suite's auto-fragmentation does.
func (c *conn) sendCompressed(op Opcode, payload []byte, fragSize int) {
	z := c.pmd.compress(payload)
	if fragSize <= 0 || len(z) <= fragSize {
		c.sendFrame(op, z, sendOpts{fin: true, rsv: rsv1})
		return
	}
	for i := 0; i < len(z); i += fragSize {
		end := min(i+fragSize, len(z))
		o, rsv := op, byte(rsv1)
		if i > 0 {
			o, rsv = OpContinuation, 0
		}
		c.sendFrame(o, z[i:end], sendOpts{fin: end == len(z), rsv: rsv})
	}
}

// elide drops the payload of received event i once the script has checked
// it, keeping its length for the report.
func (c *conn) elide(i int) {
	if e := &c.received[i]; e.Kind == EventMessage && len(e.Payload) > 0 {
		e.elided, e.Payload = len(e.Payload), nil
	}
}

// expect adds an acceptable outcome.
func (c *conn) expect(b Behavior, events ...Event) {
	c.expected = append(c.expected, expectation{Behavior: b, Events: events})
}

// expectEnd says how the connection must end.
func (c *conn) expectEnd(closedByMe, requireClean bool, codes ...int) {
	c.expectClose = closeExpectation{ClosedByMe: closedByMe, RequireClean: requireClean, Codes: codes}
}

func (c *conn) record(e Event) {
	c.received = append(c.received, e)
	c.finishWhenDone()
}

// finishWhenDone starts the closing handshake once what was received equals
// every expected outcome, when the case wants the runner to close.
func (c *conn) finishWhenDone() {
	if len(c.expected) == 0 {
		return
	}
	for _, e := range c.expected {
		if !eventsEqual(c.received, e.Events) {
			return
		}
	}
	if c.expectClose.ClosedByMe && !c.suppressClose && len(c.expectClose.Codes) > 0 {
		c.sendClose(c.expectClose.Codes[0], nil)
	}
}

func (c *conn) onClose(p []byte) {
	c.closeRecv = true
	if len(p) >= 2 {
		code := int(binary.BigEndian.Uint16(p))
		c.remoteCode = &code
		c.remoteReason = string(p[2:])
	}
	if msg := closeError(p); msg != "" {
		c.note("peer's close frame is invalid: %s", msg)
	}
	if !c.closeSent {
		// Echo the peer's code when it is one that may be sent; otherwise
		// answer with a bare close.
		code := -1
		if c.remoteCode != nil && validCloseCode(*c.remoteCode) {
			code = *c.remoteCode
		}
		c.sendClose(code, nil)
	}
	// The closing handshake is complete. A server closes TCP now (§7.1.1);
	// a client waits for the server to do it, in finish.
	if c.role == RoleServer {
		c.wasClean = true
		c.drop("close handshake complete")
	}
}

// fail reacts to a protocol violation by the peer the way a conformant
// endpoint does: it starts the closing handshake with code.
func (c *conn) fail(code int, why string) {
	c.note("%s", why)
	c.failedByMe = true
	c.inMsg = false
	if !c.closeSent {
		c.sendClose(code, nil)
	} else {
		c.drop("protocol violation while closing")
	}
}

// tcpLost records the end of the TCP connection as seen by the reader.
func (c *conn) tcpLost(err error) {
	c.tcpClosed = true
	if c.closeSent && c.closeRecv {
		c.wasClean = true
	} else if c.wasNotCleanReason == "" {
		c.wasNotCleanReason = "peer dropped the TCP connection without a completed closing handshake"
	}
	if !errors.Is(err, net.ErrClosed) {
		c.log(wireEntry{Dir: "note", Text: "TCP closed by peer: " + err.Error()})
	}
	c.nc.Close()
}

// drop closes TCP from our side.
func (c *conn) drop(why string) {
	if c.tcpClosed {
		return
	}
	c.droppedByMe = true
	c.tcpClosed = true
	if !(c.closeSent && c.closeRecv) && c.wasNotCleanReason == "" {
		c.wasNotCleanReason = "runner dropped the TCP connection: " + why
	}
	c.log(wireEntry{Dir: "note", Text: "runner drops TCP: " + why})
	c.nc.Close()
}

// killAfter ends a script the way the suite's kill timer does: wait d for
// the case to finish on its own, then fail the connection with a close frame
// (1001), then wait for the end.
func (c *conn) killAfter(d float64) {
	// Unlike the suite, a closing handshake already under way when the timer
	// fires gets the full close timeout (in finish) rather than a drop: with
	// a shortened TimeUnit a busy machine would otherwise judge a conformant
	// peer UNCLEAN.
	if c.waitUntil(time.Now().Add(c.opts.scale(d)), func() bool { return c.closeSent }); !c.tcpClosed && !c.closeSent {
		c.log(wireEntry{Dir: "note", Text: "kill timer fired"})
		c.failedByMe = true
		c.sendClose(CloseGoingAway, []byte("Going Away"))
	}
	c.finish()
}

// closeAfter waits d, then starts a closing handshake without status code
// if the connection is still up, then waits for the end.
func (c *conn) closeAfter(d float64) {
	if c.waitUntil(time.Now().Add(c.opts.scale(d)), func() bool { return false }); !c.tcpClosed {
		c.log(wireEntry{Dir: "note", Text: "close timer fired"})
		c.sendClose(-1, nil)
	}
	c.finish()
}

// finish waits for the closing handshake and the TCP close, bounded by the
// close timeout, and drops TCP if they do not come.
func (c *conn) finish() {
	if !c.tcpClosed {
		c.waitUntil(time.Now().Add(c.opts.closeTimeout()), func() bool { return c.tcpClosed })
	}
	if !c.tcpClosed {
		switch {
		case c.closeSent && c.closeRecv:
			c.wasNotCleanReason = "peer did not close TCP after the closing handshake (in time)"
		case c.closeSent:
			c.wasNotCleanReason = "peer did not answer the close frame (in time)"
		}
		c.drop("close timeout")
	}
	c.nc.Close()
	<-c.done
}
