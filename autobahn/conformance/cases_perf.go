package conformance

import (
	"bytes"
	"fmt"
	"time"
)

// Group 9: limits and performance. These cases judge themselves: OK when the
// echo arrives intact before the case's deadline. Their duration is the
// measurement, so they are marked timed.

func group9() []*Case {
	const kib, mib = 1 << 10, 1 << 20
	sizeName := func(n int) string {
		if n >= mib {
			return fmt.Sprintf("%dM", n/mib)
		}
		return fmt.Sprintf("%dk", n/kib)
	}
	var out []*Case
	kinds := []struct {
		op      Opcode
		name    string
		pattern string
	}{{OpText, "text", "BAsd7&jh23"}, {OpBinary, "binary", "\xfe"}}

	// 9.1 and 9.2: one big message in one frame.
	for k, kind := range kinds {
		for i, n := range []int{64 * kib, 256 * kib, 1 * mib, 4 * mib, 8 * mib, 16 * mib} {
			wait := 100.0
			if n <= 256*kib {
				wait = 10
			}
			out = append(out, echoCase(fmt.Sprintf("9.%d.%d", 1+k, i+1),
				fmt.Sprintf("Send %s message message with payload of length %d (%s).", kind.name, n, sizeName(n)),
				kind.op, repeatTo(kind.pattern, n), 0, 0, wait))
		}
	}
	// 9.3 and 9.4: a 4M message in fragments of various sizes.
	for k, kind := range kinds {
		pattern := "*"
		if kind.op == OpBinary {
			pattern = "\xfe"
		}
		for i, f := range []int{64, 256, 1 * kib, 4 * kib, 16 * kib, 64 * kib, 256 * kib, 1 * mib, 4 * mib} {
			out = append(out, echoCase(fmt.Sprintf("9.%d.%d", 3+k, i+1),
				fmt.Sprintf("Send fragmented %s message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of %d.", kind.name, f),
				kind.op, repeatTo(pattern, 4*mib), f, 0, 100))
		}
	}
	// 9.5 and 9.6: a 1M message written in chops of various sizes.
	for k, kind := range kinds {
		for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
			out = append(out, echoCase(fmt.Sprintf("9.%d.%d", 5+k, i+1),
				fmt.Sprintf("Send %s message message with payload of length 1 * 2**20 (1M). Sent out data in chops of %d octets.", kind.name, chop),
				kind.op, repeatTo(kind.pattern, 1*mib), 0, chop, 100))
		}
	}
	// 9.7 and 9.8: 1000 round trips of small messages, one at a time.
	for k, kind := range kinds {
		pattern := "*"
		if kind.op == OpBinary {
			pattern = "\xfe"
		}
		for i, t := range []struct {
			size int
			wait float64
		}{{0, 60}, {16, 60}, {64, 60}, {256, 120}, {1024, 240}, {4096, 480}} {
			out = append(out, roundTripCase(fmt.Sprintf("9.%d.%d", 7+k, i+1), kind.name, kind.op, repeatTo(pattern, t.size), 1000, t.wait))
		}
	}
	return out
}

// echoCase sends one message (in frames of frag bytes and TCP writes of chop
// bytes when > 0) and waits up to wait time units for its echo.
func echoCase(id, desc string, op Opcode, payload []byte, frag, chop int, wait float64) *Case {
	kind := "text"
	if op == OpBinary {
		kind = "binary"
	}
	return &Case{ID: id, Description: desc, timed: true,
		Expectation: fmt.Sprintf("Receive echo'ed %s message (with payload as sent).", kind),
		run: func(c *conn) {
			c.behavior = Failed
			c.result = fmt.Sprintf("Did not receive message within %g seconds.", wait)
			c.expectCleanNormal()
			if frag > 0 {
				c.sendMessage(op, payload, frag)
			} else {
				c.sendFrame(op, payload, sendOpts{fin: true, chop: chop})
			}
			if ev, ok := c.next(0, c.opts.scale(wait)); ok {
				c.result = checkEcho(ev, op, payload)
				if c.result == "" {
					c.behavior = OK
					c.result = fmt.Sprintf("Received %s message of length %d.", kind, len(payload))
				}
				c.sendClose(CloseNormal, nil)
				c.finish()
				return
			}
			c.closeAfter(0)
		}}
}

// checkEcho returns what is wrong with an echo of payload, or "".
func checkEcho(ev Event, op Opcode, payload []byte) string {
	switch {
	case ev.Kind != EventMessage:
		return fmt.Sprintf("Expected a message, but got %s.", ev)
	case ev.Binary != (op == OpBinary):
		return fmt.Sprintf("Expected a %s message, but got %s.", op, ev)
	case len(ev.Payload) != len(payload):
		return fmt.Sprintf("Expected payload of length %d, but got %d.", len(payload), len(ev.Payload))
	case !bytes.Equal(ev.Payload, payload):
		return "Echo'ed payload differs from what was sent."
	}
	return ""
}

// roundTripCase sends count messages one after another, each after the echo
// of the previous one, to measure round-trip latency.
func roundTripCase(id, kind string, op Opcode, payload []byte, count int, wait float64) *Case {
	return &Case{ID: id, timed: true,
		Description: fmt.Sprintf("Send %d %s messages of payload size %d to measure implementation/network RTT (round trip time) / latency.", count, kind, len(payload)),
		Expectation: fmt.Sprintf("Receive echo'ed %s messages (with payload as sent). Timeout case after %g secs.", kind, wait),
		run: func(c *conn) {
			c.behavior = Failed
			c.result = fmt.Sprintf("Case did not finish within %g seconds.", wait)
			c.expectCleanNormal()
			deadline := time.Now().Add(c.opts.scale(wait))
			for i := range count {
				c.send(op, payload)
				ev, ok := c.next(i, time.Until(deadline))
				if !ok {
					c.closeAfter(0)
					return
				}
				if msg := checkEcho(ev, op, payload); msg != "" {
					c.result = fmt.Sprintf("Message %d: %s", i+1, msg)
					c.sendClose(CloseNormal, nil)
					c.finish()
					return
				}
			}
			c.behavior, c.result = OK, "Ok, received all echo'ed messages in time."
			c.sendClose(CloseNormal, nil)
			c.finish()
		}}
}
