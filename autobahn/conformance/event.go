package conformance

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

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
