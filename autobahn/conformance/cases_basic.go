package conformance

import (
	"bytes"
	"fmt"
)

// This file holds groups 1-5, 7 and 10. Each case's script reproduces what
// the public Autobahn case description says is sent and expected; the
// numbering is the suite's.

// repeatTo repeats pattern up to exactly n bytes.
func repeatTo(pattern string, n int) []byte {
	if n == 0 {
		return []byte{}
	}
	b := bytes.Repeat([]byte(pattern), n/len(pattern)+1)
	return b[:n]
}

// Common close expectations.
func (c *conn) expectCleanNormal() { c.expectEnd(true, true, CloseNormal) }
func (c *conn) expectFailed(code int) {
	c.expectEnd(false, false, code)
}

// --- group 1: framing ---------------------------------------------------

func group1() []*Case {
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536, 65536}
	var out []*Case
	for sub, binary := range []bool{false, true} {
		for i, n := range sizes {
			kind, op, pattern := "text", OpText, "*"
			if binary {
				kind, op, pattern = "binary", OpBinary, "\xfe"
			}
			chop := 0
			desc := fmt.Sprintf("Send %s message with payload length %d.", kind, n)
			if i == 7 {
				chop = 997
				desc = fmt.Sprintf("Send %s message message with payload of length %d. Sent out data in chops of %d octets.", kind, n, chop)
			}
			out = append(out, &Case{
				ID:          fmt.Sprintf("1.%d.%d", sub+1, i+1),
				Description: desc,
				Expectation: fmt.Sprintf("Receive echo'ed %s message (with empty payload or payload as sent). Clean close with normal code.", kind),
				run: func(c *conn) {
					p := repeatTo(pattern, n)
					if binary {
						c.expect(OK, binMsg(p))
					} else {
						c.expect(OK, Event{Kind: EventMessage, Payload: p})
					}
					c.expectCleanNormal()
					c.sendFrame(op, p, sendOpts{fin: true, chop: chop})
					c.killAfter(killFor(n))
				},
			})
		}
	}
	return out
}

// killFor gives big payloads more time, as the suite does.
func killFor(n int) float64 {
	if n > 1000 {
		return 10
	}
	return 1
}

// --- group 2: pings and pongs -------------------------------------------

func group2() []*Case {
	pingCase := func(id, desc string, payload []byte, chop int) *Case {
		return &Case{ID: id, Description: desc,
			Expectation: "Pong (with payload as sent) is sent in reply to Ping. Clean close with normal code.",
			run: func(c *conn) {
				c.expect(OK, Event{Kind: EventPong, Payload: payload})
				c.expectCleanNormal()
				c.sendFrame(OpPing, payload, sendOpts{fin: true, chop: chop})
				c.closeAfter(1)
			}}
	}
	unsolicited := func(id, desc string, payload []byte) *Case {
		return &Case{ID: id, Description: desc,
			Expectation: "Nothing. Clean close with normal code.",
			run: func(c *conn) {
				c.expect(OK)
				c.expectCleanNormal()
				c.send(OpPong, payload)
				c.closeAfter(1)
			}}
	}
	tenPings := func(id, desc string, chop int) *Case {
		return &Case{ID: id, Description: desc,
			Expectation: "Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. but we check for this behaviour anyway. Clean close with normal code.",
			run: func(c *conn) {
				var want []Event
				for i := range 10 {
					want = append(want, pongEv(fmt.Sprintf("payload-%d", i)))
				}
				c.expect(OK, want...)
				c.expectCleanNormal()
				for i := range 10 {
					c.sendFrame(OpPing, fmt.Appendf(nil, "payload-%d", i), sendOpts{fin: true, chop: chop})
				}
				c.closeAfter(3)
			}}
	}
	return []*Case{
		pingCase("2.1", "Send ping without payload.", []byte{}, 0),
		pingCase("2.2", "Send ping with small text payload.", []byte("Hello, world!"), 0),
		pingCase("2.3", "Send ping with small binary (non UTF-8) payload.", []byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff"), 0),
		pingCase("2.4", "Send ping with binary payload of 125 octets.", repeatTo("\xfe", 125), 0),
		{ID: "2.5", Description: "Send ping with binary payload of 126 octets.",
			Expectation: "Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have payload up to and including 125 octets..",
			run: func(c *conn) {
				c.expect(OK)
				c.expectFailed(CloseProtocolError)
				c.send(OpPing, repeatTo("\xfe", 126))
				c.killAfter(1)
			}},
		pingCase("2.6", "Send ping with binary payload of 125 octets, send in octet-wise chops.", repeatTo("\xfe", 125), 1),
		unsolicited("2.7", "Send unsolicited pong without payload. Verify nothing is received. Clean close with normal code.", []byte{}),
		unsolicited("2.8", "Send unsolicited pong with payload. Verify nothing is received. Clean close with normal code.", []byte("unsolicited pong payload")),
		{ID: "2.9", Description: "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.",
			Expectation: "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping. Clean close with normal code.",
			run: func(c *conn) {
				c.expect(OK, pongEv("ping payload"))
				c.expectCleanNormal()
				c.send(OpPong, []byte("unsolicited pong payload"))
				c.send(OpPing, []byte("ping payload"))
				c.closeAfter(1)
			}},
		tenPings("2.10", "Send 10 Pings with payload.", 0),
		tenPings("2.11", "Send 10 Pings with payload. Send out octets in octet-wise chops.", 1),
	}
}

// --- group 3: reserved bits ---------------------------------------------

func group3() []*Case {
	const hello = "Hello, world!"
	// echoThenRSV: a valid message, the same with RSV bits, then a ping.
	echoThenRSV := func(id, desc string, rsv byte, mode chopMode) *Case {
		return &Case{ID: id, Description: desc,
			Expectation: "Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.",
			run: func(c *conn) {
				c.expect(OK, textMsg(hello))
				c.expect(NonStrict)
				c.expectFailed(CloseProtocolError)
				mode.send(c, []wireFrame{
					{op: OpText, fin: true, payload: []byte(hello)},
					{op: OpText, fin: true, rsv: rsv, payload: []byte(hello)},
					{op: OpPing, fin: true},
				})
				c.killAfter(1)
			}}
	}
	single := func(id, desc string, op Opcode, rsv byte, payload []byte) *Case {
		return &Case{ID: id, Description: desc,
			Expectation: "The connection is failed immediately, since RSV must be 0.",
			run: func(c *conn) {
				c.expect(OK)
				c.expectFailed(CloseProtocolError)
				c.sendFrame(op, payload, sendOpts{fin: true, rsv: rsv})
				c.killAfter(1)
			}}
	}
	return []*Case{
		single("3.1", "Send small text message with RSV = 1.", OpText, 1, []byte(hello)),
		echoThenRSV("3.2", "Send small text message, then send again with RSV = 2, then send Ping.", 2, oneChop),
		echoThenRSV("3.3", "Send small text message, then send again with RSV = 3, then send Ping. Octets are sent in frame-wise chops.", 3, frameChops),
		echoThenRSV("3.4", "Send small text message, then send again with RSV = 4, then send Ping. Octets are sent in octet-wise chops.", 4, octetChops),
		single("3.5", "Send small binary message with RSV = 5.", OpBinary, 5, []byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")),
		single("3.6", "Send Ping with RSV = 6.", OpPing, 6, []byte(hello)),
		single("3.7", "Send Close with RSV = 7.", OpClose, 7, encodeClose(CloseNormal, nil)),
	}
}

// wireFrame is a frame in a multi-frame send.
type wireFrame struct {
	op      Opcode
	fin     bool
	rsv     byte
	payload []byte
}

// chopMode is how a run of frames is cut into TCP writes.
type chopMode int

const (
	oneChop    chopMode = iota // all frames in one write
	frameChops                 // one write per frame
	octetChops                 // one write per byte
)

func (m chopMode) send(c *conn, frames []wireFrame) {
	one := func() {
		for _, f := range frames {
			o := sendOpts{fin: f.fin, rsv: f.rsv}
			if m == octetChops {
				o.chop = 1
			}
			c.sendFrame(f.op, f.payload, o)
		}
	}
	if m == oneChop {
		c.batch(one)
	} else {
		one()
	}
}

// --- group 4: opcodes ---------------------------------------------------

func group4() []*Case {
	const hello = "Hello, world!"
	const reservedPayload = "reserved opcode payload"
	alone := func(id string, op Opcode, payload string, kind string) *Case {
		desc := fmt.Sprintf("Send frame with reserved %s Opcode = %d.", kind, byte(op))
		if payload != "" {
			desc = fmt.Sprintf("Send frame with reserved %s Opcode = %d and non-empty payload.", kind, byte(op))
		}
		return &Case{ID: id, Description: desc,
			Expectation: "The connection is failed immediately.",
			run: func(c *conn) {
				c.expect(OK)
				c.expectFailed(CloseProtocolError)
				c.send(op, []byte(payload))
				c.killAfter(1)
			}}
	}
	between := func(id string, op Opcode, payload string, kind string) *Case {
		desc := fmt.Sprintf("Send small text message, then send frame with reserved %s Opcode = %d, then send Ping.", kind, byte(op))
		if payload != "" {
			desc = fmt.Sprintf("Send small text message, then send frame with reserved %s Opcode = %d and non-empty payload, then send Ping.", kind, byte(op))
		}
		return &Case{ID: id, Description: desc,
			Expectation: "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
			run: func(c *conn) {
				c.expect(OK, textMsg(hello))
				c.expect(NonStrict)
				c.expectFailed(CloseProtocolError)
				oneChop.send(c, []wireFrame{
					{op: OpText, fin: true, payload: []byte(hello)},
					{op: op, fin: true, payload: []byte(payload)},
					{op: OpPing, fin: true},
				})
				c.killAfter(1)
			}}
	}
	return []*Case{
		alone("4.1.1", 3, "", "non-control"),
		alone("4.1.2", 4, reservedPayload, "non-control"),
		between("4.1.3", 5, "", "non-control"),
		between("4.1.4", 6, reservedPayload, "non-control"),
		between("4.1.5", 7, reservedPayload, "non-control"),
		alone("4.2.1", 11, "", "control"),
		alone("4.2.2", 12, reservedPayload, "control"),
		between("4.2.3", 13, "", "control"),
		between("4.2.4", 14, reservedPayload, "control"),
		between("4.2.5", 15, reservedPayload, "control"),
	}
}

// --- group 5: fragmentation ---------------------------------------------

func group5() []*Case {
	modeText := map[chopMode]string{oneChop: "", frameChops: ", octets are sent in frame-wise chops", octetChops: ", octets are sent in octet-wise chops"}
	fragControl := func(id string, op Opcode) *Case {
		return &Case{ID: id,
			Description: fmt.Sprintf("Send %s fragmented into 2 fragments.", map[Opcode]string{OpPing: "Ping", OpPong: "Pong"}[op]),
			Expectation: "Connection is failed immediately, since control message MUST NOT be fragmented.",
			run: func(c *conn) {
				c.expect(OK)
				c.expectFailed(CloseProtocolError)
				oneChop.send(c, []wireFrame{
					{op: op, payload: []byte("fragment1")},
					{op: OpContinuation, fin: true, payload: []byte("fragment2")},
				})
				c.killAfter(1)
			}}
	}
	twoFrags := func(id string, m chopMode) *Case {
		return &Case{ID: id,
			Description: "Send text Message fragmented into 2 fragments" + modeText[m] + ".",
			Expectation: "Message is processed and echo'ed back to us.",
			run: func(c *conn) {
				c.expect(OK, textMsg("fragment1fragment2"))
				c.expectCleanNormal()
				m.send(c, []wireFrame{
					{op: OpText, payload: []byte("fragment1")},
					{op: OpContinuation, fin: true, payload: []byte("fragment2")},
				})
				c.killAfter(1)
			}}
	}
	pingBetween := func(id string, m chopMode) *Case {
		return &Case{ID: id,
			Description: "Send text Message fragmented into 2 fragments, one ping with payload in-between" + modeText[m] + ".",
			Expectation: "A pong is received, then the message is echo'ed back to us.",
			run: func(c *conn) {
				c.expect(OK, pongEv("ping payload"), textMsg("fragment1fragment2"))
				c.expectCleanNormal()
				m.send(c, []wireFrame{
					{op: OpText, payload: []byte("fragment1")},
					{op: OpPing, fin: true, payload: []byte("ping payload")},
					{op: OpContinuation, fin: true, payload: []byte("fragment2")},
				})
				c.killAfter(1)
			}}
	}
	nothingToContinue := func(id string, fin bool, m chopMode) *Case {
		how := map[chopMode]string{oneChop: "sent in one chop", frameChops: "sent in per-frame chops", octetChops: "sent in octet-wise chops"}[m]
		return &Case{ID: id,
			Description: fmt.Sprintf("Send unfragmented Text Message after Continuation Frame with FIN = %t, where there is nothing to continue, %s.", fin, how),
			Expectation: "The connection is failed immediately, since there is no message to continue.",
			run: func(c *conn) {
				c.expect(OK)
				c.expectFailed(CloseProtocolError)
				m.send(c, []wireFrame{
					{op: OpContinuation, fin: fin, payload: []byte("non-continuation payload")},
					{op: OpText, fin: true, payload: []byte("Hello, world!")},
				})
				c.killAfter(1)
			}}
	}
	repeated := func(id string, fin bool) *Case {
		return &Case{ID: id,
			Description: fmt.Sprintf("Repeated 2x: Continuation Frame with FIN = %t (where there is nothing to continue), then text Message fragmented into 2 fragments.", fin),
			Expectation: "The connection is failed immediately, since there is no message to continue.",
			run: func(c *conn) {
				c.expect(OK)
				c.expectFailed(CloseProtocolError)
				var fs []wireFrame
				for range 2 {
					fs = append(fs,
						wireFrame{op: OpContinuation, fin: fin, payload: []byte("fragment1")},
						wireFrame{op: OpText, payload: []byte("fragment2")},
						wireFrame{op: OpContinuation, fin: true, payload: []byte("fragment3")})
				}
				oneChop.send(c, fs)
				c.killAfter(1)
			}}
	}
	withPings := func(id string, sync bool) *Case {
		desc := "Send text Message fragmented into 5 fragments, with 2 pings in-between (with pauses)."
		if sync {
			desc = "Same as Case 5.19, but send all frames with SYNC = True (each frame in its own write). This does not change the octets sent, only how the stream is chopped up on the wire."
		}
		return &Case{ID: id, Description: desc,
			Expectation: "A pong is received for each ping, then the message is echo'ed back to us. Implementations must be agnostic to how the octet stream is chopped up on the wire.",
			run: func(c *conn) {
				frags := []string{"fragment1", "fragment2", "fragment3", "fragment4", "fragment5"}
				c.expect(OK, pongEv("pongme 1!"), pongEv("pongme 2!"), textMsg("fragment1fragment2fragment3fragment4fragment5"))
				c.expectCleanNormal()
				m := oneChop
				if sync {
					m = frameChops
				}
				m.send(c, []wireFrame{
					{op: OpText, payload: []byte(frags[0])},
					{op: OpContinuation, payload: []byte(frags[1])},
					{op: OpPing, fin: true, payload: []byte("pongme 1!")},
				})
				c.pause(1)
				if c.tcpClosed {
					c.finish()
					return
				}
				m.send(c, []wireFrame{
					{op: OpContinuation, payload: []byte(frags[2])},
					{op: OpContinuation, payload: []byte(frags[3])},
					{op: OpPing, fin: true, payload: []byte("pongme 2!")},
				})
				c.pause(1)
				if c.tcpClosed {
					c.finish()
					return
				}
				m.send(c, []wireFrame{{op: OpContinuation, fin: true, payload: []byte(frags[4])}})
				c.closeAfter(1)
			}}
	}
	return []*Case{
		fragControl("5.1", OpPing),
		fragControl("5.2", OpPong),
		twoFrags("5.3", oneChop),
		twoFrags("5.4", frameChops),
		twoFrags("5.5", octetChops),
		pingBetween("5.6", oneChop),
		pingBetween("5.7", frameChops),
		pingBetween("5.8", octetChops),
		nothingToContinue("5.9", true, oneChop),
		nothingToContinue("5.10", true, frameChops),
		nothingToContinue("5.11", true, octetChops),
		nothingToContinue("5.12", false, oneChop),
		nothingToContinue("5.13", false, frameChops),
		nothingToContinue("5.14", false, octetChops),
		{ID: "5.15",
			Description: "Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where there is nothing to continue, then unfragmented Text Message, all sent in one chop.",
			Expectation: "The connection is failed immediately, since there is no message to continue.",
			run: func(c *conn) {
				c.expect(OK, textMsg("fragment1fragment2"))
				c.expect(NonStrict)
				c.expectFailed(CloseProtocolError)
				oneChop.send(c, []wireFrame{
					{op: OpText, payload: []byte("fragment1")},
					{op: OpContinuation, fin: true, payload: []byte("fragment2")},
					{op: OpContinuation, payload: []byte("fragment3")},
					{op: OpText, fin: true, payload: []byte("fragment4")},
				})
				c.killAfter(1)
			}},
		repeated("5.16", false),
		repeated("5.17", true),
		{ID: "5.18",
			Description: "Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in one chop.",
			Expectation: "The connection is failed immediately, since all data frames after the initial data frame must have opcode 0.",
			run: func(c *conn) {
				c.expect(OK)
				c.expectFailed(CloseProtocolError)
				oneChop.send(c, []wireFrame{
					{op: OpText, payload: []byte("fragment1")},
					{op: OpText, fin: true, payload: []byte("fragment2")},
				})
				c.killAfter(1)
			}},
		withPings("5.19", false),
		withPings("5.20", true),
	}
}

// --- group 7: close handling --------------------------------------------

func group7() []*Case {
	const hello = "Hello World!"
	closeCase := func(id, desc, exp string, run func(c *conn)) *Case {
		return &Case{ID: id, Description: desc, Expectation: exp, judge: wrongCodeFails,
			run: func(c *conn) {
				c.suppressClose = true
				run(c)
				c.killAfter(1)
			}}
	}
	out := []*Case{
		closeCase("7.1.1", "Send a message followed by a close frame", "Echoed message followed by clean close with normal code.", func(c *conn) {
			c.expect(OK, textMsg(hello))
			c.expectCleanNormal()
			c.send(OpText, []byte(hello))
			c.sendClose(CloseNormal, nil)
		}),
		closeCase("7.1.2", "Send two close frames", "Clean close with normal code. Second close frame ignored.", func(c *conn) {
			c.expect(OK)
			c.expectCleanNormal()
			c.sendClose(CloseNormal, nil)
			c.send(OpClose, nil)
		}),
		closeCase("7.1.3", "Send a ping after close message", "Clean close with normal code, no pong.", func(c *conn) {
			c.expect(OK)
			c.expectCleanNormal()
			c.sendClose(CloseNormal, nil)
			c.send(OpPing, []byte(hello))
		}),
		closeCase("7.1.4", "Send text message after sending a close frame", "Clean close with normal code. Text message ignored.", func(c *conn) {
			c.expect(OK)
			c.expectCleanNormal()
			c.sendClose(CloseNormal, nil)
			c.send(OpText, []byte(hello))
		}),
		closeCase("7.1.5", "Send message fragment1 followed by close then fragment", "Clean close with normal code.", func(c *conn) {
			c.expect(OK)
			c.expectCleanNormal()
			c.sendFrame(OpText, []byte("fragment1"), sendOpts{})
			c.sendClose(CloseNormal, nil)
			c.sendFrame(OpContinuation, []byte("fragment2"), sendOpts{fin: true})
		}),
		{ID: "7.1.6", Description: "Send 256K message followed by close then a ping",
			Expectation: "Case outcome depends on implementation defined close behavior. Message and close frame are sent back to back. If the close frame is processed before the text message write is complete (as can happen in asynchronous processing models) the close frame is processed first and the text message may not be received or may only be partially received.",
			judge:       informational,
			run: func(c *conn) {
				c.suppressClose = true
				c.expect(OK, textMsg(hello))
				c.expect(NonStrict)
				c.expectCleanNormal()
				c.send(OpText, repeatTo("BAsd7&jh23", 256<<10))
				c.send(OpText, []byte(hello))
				c.sendClose(CloseNormal, nil)
				c.send(OpPing, nil)
				c.killAfter(1)
			}},
		closeCase("7.3.1", "Send a close frame with payload length 0 (no close code, no close reason)", "Clean close with normal code.", func(c *conn) {
			c.expect(OK)
			c.expectCleanNormal()
			c.sendCloseRaw(nil)
		}),
		closeCase("7.3.2", "Send a close frame with payload length 1", "Clean close with protocol error or drop TCP.", func(c *conn) {
			c.expect(OK)
			c.expectEnd(true, false, CloseProtocolError)
			c.sendCloseRaw([]byte("a"))
		}),
		closeCase("7.3.3", "Send a close frame with close code and no close reason", "Clean close with normal code.", func(c *conn) {
			c.expect(OK)
			c.expectCleanNormal()
			c.sendClose(CloseNormal, nil)
		}),
		closeCase("7.3.4", "Send a close frame with close code and close reason", "Clean close with normal code.", func(c *conn) {
			c.expect(OK)
			c.expectCleanNormal()
			c.sendClose(CloseNormal, []byte(hello))
		}),
		closeCase("7.3.5", "Send a close frame with close code and close reason of maximum length (123)", "Clean close with normal code.", func(c *conn) {
			c.expect(OK)
			c.expectCleanNormal()
			c.sendClose(CloseNormal, repeatTo("*", 123))
		}),
		closeCase("7.3.6", "Send a close frame with close code and close reason which is too long (124) - total frame payload 126 octets", "Clean close with protocol error code or dropped TCP connection.", func(c *conn) {
			c.expect(OK)
			c.expectEnd(true, false, CloseProtocolError)
			c.sendClose(CloseNormal, repeatTo("*", 124))
		}),
		closeCase("7.5.1", "Send a close frame with invalid UTF8 payload", "Clean close with protocol error or invalid utf8 code or dropped TCP.", func(c *conn) {
			c.expect(OK)
			c.expectEnd(true, false, CloseProtocolError, CloseInvalidPayload)
			c.sendClose(CloseNormal, []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"))
		}),
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		out = append(out, closeCase(fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("Send close with valid close code %d", code), "Clean close with normal or echoed code", func(c *conn) {
			c.expect(OK)
			c.expectEnd(true, true, CloseNormal, code)
			c.sendClose(code, nil)
		}))
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		out = append(out, closeCase(fmt.Sprintf("7.9.%d", i+1), fmt.Sprintf("Send close with invalid close code %d", code), "Clean close with protocol error code or drop TCP", func(c *conn) {
			c.expect(OK)
			c.expectEnd(true, false, CloseProtocolError)
			c.sendClose(code, nil)
		}))
	}
	for i, code := range []int{5000, 65535} {
		out = append(out, &Case{ID: fmt.Sprintf("7.13.%d", i+1), Description: fmt.Sprintf("Send close with close code %d", code),
			Expectation: "Actual events are undefined by the spec.",
			judge: func(_ *conn, r *Result) {
				r.Behavior, r.BehaviorClose = Informational, Informational
				r.Result = "Actual events are undefined by the spec."
			},
			run: func(c *conn) {
				c.suppressClose = true
				c.expect(OK)
				c.expectEnd(true, false, CloseNormal, code, CloseProtocolError)
				c.sendClose(code, nil)
				c.killAfter(1)
			}})
	}
	return out
}

// --- group 10: miscellaneous --------------------------------------------

func group10() []*Case {
	const size, frag = 65536, 1300
	return []*Case{{ID: "10.1.1",
		Description: fmt.Sprintf("Send text message with payload of length %d auto-fragmented with autoFragmentSize = %d.", size, frag),
		Expectation: "Receive echo'ed text message (with payload as sent and transmitted frame counts as expected). Clean close with normal code.",
		judge: func(c *conn, r *Result) {
			wantCont, wantText := size/frag, 1
			if c.txFrames[OpContinuation] != wantCont || c.txFrames[OpText] != wantText {
				r.Behavior = Failed
				r.Result = fmt.Sprintf("Frames transmitted (text %d, continuation %d) do not match what we expected (text %d, continuation %d).",
					c.txFrames[OpText], c.txFrames[OpContinuation], wantText, wantCont)
			}
		},
		run: func(c *conn) {
			p := repeatTo("*", size)
			c.expect(OK, Event{Kind: EventMessage, Payload: p})
			c.expectCleanNormal()
			c.sendMessage(OpText, p, frag)
			c.killAfter(10)
		}}}
}
