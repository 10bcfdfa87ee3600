package conformance

import (
	"fmt"
	"strings"
	"time"
)

// Groups 12 and 13: permessage-deflate (RFC 7692). Every case negotiates
// the extension, then sends a series of compressed messages one at a time,
// each after the echo of the previous one, and checks every echo. A case is
// UNIMPLEMENTED when the peer does not agree to compression, FAILED when an
// echo differs, a compressed message breaks a rule (RSV1 placement, window,
// context takeover, DEFLATE syntax) or the series does not finish in time,
// and OK otherwise. The runner closes with 1000 at the end.
//
// Group 12 varies the payload (five corpora) with the default offer; group
// 13 varies the negotiated parameters with the JSON corpus. Within each
// subgroup the 18 cases vary message size and fragmentation the same way.

// compressionRun is one row of the suite's size table: message size, how
// many messages, the case's time budget (in scripted seconds) and the
// fragment size of the compressed payload (0: one frame per message).
type compressionRun struct {
	size, count int
	wait        float64
	frag        int
}

var compressionRuns = []compressionRun{
	{16, 1000, 60, 0},
	{64, 1000, 60, 0},
	{256, 1000, 120, 0},
	{1024, 1000, 240, 0},
	{4096, 1000, 480, 0},
	{8192, 1000, 480, 0},
	{16384, 1000, 480, 0},
	{32768, 1000, 480, 0},
	{65536, 1000, 480, 0},
	{131072, 1000, 480, 0},
	{8192, 1000, 480, 256},
	{16384, 1000, 480, 256},
	{32768, 1000, 480, 256},
	{65536, 1000, 480, 256},
	{131072, 1000, 480, 256},
	{131072, 1000, 480, 1024},
	{131072, 1000, 480, 4096},
	{131072, 1000, 480, 32768},
}

// smallWindowBits is the reduced window of cases 13.3, 13.5 and 13.7. The
// suite's reports title these subgroups with 9 bits; older versions of its
// source used 8, which zlib stopped accepting for raw deflate streams.
const smallWindowBits = 9

// defaultOffer is the suite client's offer: it lets the server ask for
// client_no_context_takeover and a smaller client_max_window_bits.
var defaultOffer = pmdParams{clientNoContextTakeover: true, clientMaxWindowBitsOffered: true}

// offerWith is the default offer plus requests for the server's side.
func offerWith(serverNoContextTakeover bool, serverMaxWindowBits int) pmdParams {
	o := defaultOffer
	o.serverNoContextTakeover, o.serverMaxWindowBits = serverNoContextTakeover, serverMaxWindowBits
	return o
}

// describeRequests renders what one side asks of the other, e.g. "[no
// context takeover, 9-bit window]".
func describeRequests(noTakeover bool, bits int) string {
	var r []string
	if noTakeover {
		r = append(r, "no context takeover")
	}
	if bits != 0 {
		r = append(r, fmt.Sprintf("%d-bit window", bits))
	}
	if len(r) == 0 {
		return "[nothing]"
	}
	return "[" + strings.Join(r, ", ") + "]"
}

func group12() []*Case {
	spec := &deflateSpec{offers: []pmdParams{defaultOffer}, accept: []acceptRule{{}},
		label: "the client's default offer, which asks the server for [nothing]; the server asks the client for [nothing]"}
	var out []*Case
	for j, ds := range corpora() {
		for i, run := range compressionRuns {
			out = append(out, compressionCase(fmt.Sprintf("12.%d.%d", j+1, i+1), ds, run, spec))
		}
	}
	return out
}

func group13() []*Case {
	type param struct {
		noTakeover bool
		bits       int
	}
	sets := [][]param{
		{{false, 0}},
		{{true, 0}},
		{{false, smallWindowBits}},
		{{false, 15}},
		{{true, smallWindowBits}},
		{{true, 15}},
		{{true, smallWindowBits}, {true, 0}, {false, 0}},
	}
	var out []*Case
	for j, set := range sets {
		spec := &deflateSpec{}
		var asks []string
		for _, p := range set {
			// The client asks this of the server; the server asks the
			// same of the client.
			spec.offers = append(spec.offers, offerWith(p.noTakeover, p.bits))
			spec.accept = append(spec.accept, acceptRule{clientNoContextTakeover: p.noTakeover, clientMaxWindowBits: p.bits})
			asks = append(asks, describeRequests(p.noTakeover, p.bits))
		}
		spec.label = "the client asks the server for " + strings.Join(asks, " or ") +
			"; the server grants it and asks the client for the same (the first that the client's offer allows)"
		for i, run := range compressionRuns {
			out = append(out, compressionCase(fmt.Sprintf("13.%d.%d", j+1, i+1), jsonCorpus(), run, spec))
		}
	}
	return out
}

func compressionCase(id string, ds *corpus, run compressionRun, spec *deflateSpec) *Case {
	op, kind := OpText, "text"
	if ds.binary {
		op, kind = OpBinary, "binary"
	}
	frag := "one frame per message"
	if run.frag > 0 {
		frag = fmt.Sprintf("compressed payload in frames of %d octets", run.frag)
	}
	return &Case{
		ID: id,
		Description: fmt.Sprintf("Send %d compressed %s messages of %d bytes each, cut in turn from %s; %s. Negotiation: %s.",
			run.count, kind, run.size, ds.title, frag, spec.label),
		Expectation: fmt.Sprintf("Each message echoed with the payload as sent, before the next is sent; the case times out after %g seconds.", run.wait),
		Extensions:  spec.offerHeader(),
		deflate:     spec,
		timed:       true,
		run: func(c *conn) {
			c.expectCleanNormal()
			if c.pmd == nil {
				c.behavior, c.result = Unimplemented, "permessage-deflate was not negotiated"
				c.sendClose(CloseNormal, nil)
				c.finish()
				return
			}
			count := run.count
			if n := c.opts.CompressionMessages; n > 0 && n < count {
				count = n
				c.note("message count capped at %d (the suite sends %d)", n, run.count)
			}
			c.behavior = Failed
			c.result = fmt.Sprintf("Case did not finish within %g seconds.", run.wait)
			deadline := time.Now().Add(c.opts.scale(run.wait))
			data, pos := ds.bytes(), 0
			for i := range count {
				var msg []byte
				msg, pos = cyclicSlice(data, pos, run.size)
				c.sendCompressed(op, msg, run.frag)
				ev, ok := c.next(i, time.Until(deadline))
				if !ok {
					c.closeAfter(0)
					return
				}
				if m := checkEcho(ev, op, msg); m != "" {
					c.result = fmt.Sprintf("Message %d: %s", i+1, m)
					c.sendClose(CloseNormal, nil)
					c.finish()
					return
				}
				c.elide(i)
			}
			c.behavior, c.result = OK, fmt.Sprintf("Received all %d echoed messages in time.", count)
			c.sendClose(CloseNormal, nil)
			c.finish()
		},
	}
}

// cyclicSlice returns the n bytes of data starting at pos, wrapping around
// the end, and the position after them: the suite walks its corpus this
// way, message after message.
func cyclicSlice(data []byte, pos, n int) ([]byte, int) {
	end := (pos + n) % len(data)
	if end > pos {
		return data[pos:end], end
	}
	msg := make([]byte, 0, n)
	msg = append(msg, data[pos:]...)
	return append(msg, data[:end]...), end
}
