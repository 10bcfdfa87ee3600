package conformance

import (
	"fmt"
	"unicode/utf8"
)

// Group 6: UTF-8 handling. 6.1-6.4 are hand-written; 6.5-6.23 are generated
// from the byte sequences of Markus Kuhn's UTF-8 decoder stress test, in the
// order and grouping the suite uses, one case per sequence.

// kosme is "κόσμε", the stress test's sample of valid multi-byte UTF-8.
const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

type utf8Vector struct {
	valid   bool
	payload string
}

type utf8Group struct {
	title   string
	vectors []utf8Vector
}

func valid(s string) utf8Vector   { return utf8Vector{true, s} }
func invalid(s string) utf8Vector { return utf8Vector{false, s} }

// byteRun returns the bytes lo..hi-1, each followed by sep when sep >= 0.
func byteRun(lo, hi int, sep int) string {
	var b []byte
	for i := lo; i < hi; i++ {
		b = append(b, byte(i))
		if sep >= 0 {
			b = append(b, byte(sep))
		}
	}
	return string(b)
}

// utf8Groups lists the vectors of cases 6.5 onwards; group i is case 6.(5+i).
func utf8Groups() []utf8Group {
	var g []utf8Group
	g = append(g, utf8Group{"Some valid UTF-8 sequences", []utf8Vector{
		valid("hello\x24world"), valid("hello\xc2\xa2world"), valid("hello\xe2\x82\xacworld"),
		valid("hello\xf0\xa4\xad\xa2world"), valid(kosme),
	}})
	var prefixes []utf8Vector
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, utf8Vector{utf8.ValidString(kosme[:i]), kosme[:i]})
	}
	g = append(g, utf8Group{"All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes})
	g = append(g, utf8Group{"First possible sequence of a certain length", []utf8Vector{
		valid("\x00"), valid("\xc2\x80"), valid("\xe0\xa0\x80"), valid("\xf0\x90\x80\x80"),
	}})
	g = append(g, utf8Group{"First possible sequence length 5/6 (invalid codepoints)", []utf8Vector{
		invalid("\xf8\x88\x80\x80\x80"), invalid("\xfc\x84\x80\x80\x80\x80"),
	}})
	g = append(g, utf8Group{"Last possible sequence of a certain length", []utf8Vector{
		valid("\x7f"), valid("\xdf\xbf"), valid("\xef\xbf\xbf"), valid("\xf4\x8f\xbf\xbf"),
	}})
	g = append(g, utf8Group{"Last possible sequence length 4/5/6 (invalid codepoints)", []utf8Vector{
		invalid("\xf7\xbf\xbf\xbf"), invalid("\xfb\xbf\xbf\xbf\xbf"), invalid("\xfd\xbf\xbf\xbf\xbf\xbf"),
	}})
	g = append(g, utf8Group{"Other boundary conditions", []utf8Vector{
		valid("\xed\x9f\xbf"), valid("\xee\x80\x80"), valid("\xef\xbf\xbd"), valid("\xf4\x8f\xbf\xbf"), invalid("\xf4\x90\x80\x80"),
	}})
	g = append(g, utf8Group{"Unexpected continuation bytes", []utf8Vector{
		invalid("\x80"), invalid("\xbf"), invalid("\x80\xbf"), invalid("\x80\xbf\x80"), invalid("\x80\xbf\x80\xbf"),
		invalid("\x80\xbf\x80\xbf\x80"), invalid("\x80\xbf\x80\xbf\x80\xbf"), invalid(byteRun(0x80, 0xbf, -1)),
	}})
	g = append(g, utf8Group{"Lonely start characters", []utf8Vector{
		invalid(byteRun(0xc0, 0xdf, 0x20)), invalid(byteRun(0xe0, 0xef, 0x20)), invalid(byteRun(0xf0, 0xf7, 0x20)),
		invalid(byteRun(0xf8, 0xfb, 0x20)), invalid(byteRun(0xfc, 0xfd, 0x20)),
	}})
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	var miss []utf8Vector
	concat := ""
	for _, s := range missing {
		miss = append(miss, invalid(s))
		concat += s
	}
	g = append(g, utf8Group{"Sequences with last continuation byte missing", miss})
	g = append(g, utf8Group{"Concatenation of incomplete sequences", []utf8Vector{invalid(concat)}})
	g = append(g, utf8Group{"Impossible bytes", []utf8Vector{invalid("\xfe"), invalid("\xff"), invalid("\xfe\xfe\xff\xff")}})
	g = append(g, utf8Group{"Examples of an overlong ASCII character", []utf8Vector{
		invalid("\xc0\xaf"), invalid("\xe0\x80\xaf"), invalid("\xf0\x80\x80\xaf"), invalid("\xf8\x80\x80\x80\xaf"), invalid("\xfc\x80\x80\x80\x80\xaf"),
	}})
	g = append(g, utf8Group{"Maximum overlong sequences", []utf8Vector{
		invalid("\xc1\xbf"), invalid("\xe0\x9f\xbf"), invalid("\xf0\x8f\xbf\xbf"), invalid("\xf8\x87\xbf\xbf\xbf"), invalid("\xfc\x83\xbf\xbf\xbf\xbf"),
	}})
	g = append(g, utf8Group{"Overlong representation of the NUL character", []utf8Vector{
		invalid("\xc0\x80"), invalid("\xe0\x80\x80"), invalid("\xf0\x80\x80\x80"), invalid("\xf8\x80\x80\x80\x80"), invalid("\xfc\x80\x80\x80\x80\x80"),
	}})
	g = append(g, utf8Group{"Single UTF-16 surrogates", []utf8Vector{
		invalid("\xed\xa0\x80"), invalid("\xed\xad\xbf"), invalid("\xed\xae\x80"), invalid("\xed\xaf\xbf"),
		invalid("\xed\xb0\x80"), invalid("\xed\xbe\x80"), invalid("\xed\xbf\xbf"),
	}})
	var paired []utf8Vector
	for _, hi := range []string{"\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf"} {
		for _, lo := range []string{"\xed\xb0\x80", "\xed\xbf\xbf"} {
			paired = append(paired, invalid(hi+lo))
		}
	}
	g = append(g, utf8Group{"Paired UTF-16 surrogates", paired})
	// Noncharacters are valid UTF-8 (RFC 3629): U+FFFE, U+FFFF and the last
	// two code points of every supplementary plane. The 4-byte forms that
	// would be overlong (F0 8F ..) or above U+10FFFF (F4 9F.. and up) are
	// left out.
	nonchars := []utf8Vector{valid("\xef\xbf\xbe"), valid("\xef\xbf\xbf")}
	for _, b1 := range []byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4} {
		for _, b2 := range []byte{0x8f, 0x9f, 0xaf, 0xbf} {
			if b1 == 0xf4 && b2 != 0x8f {
				continue
			}
			for _, b4 := range []byte{0xbe, 0xbf} {
				if b1 == 0xf0 && b2 == 0x8f {
					continue
				}
				nonchars = append(nonchars, valid(string([]byte{b1, b2, 0xbf, b4})))
			}
		}
	}
	g = append(g, utf8Group{"Non-character code points (valid UTF-8)", nonchars})
	g = append(g, utf8Group{"Unicode specials (i.e. replacement char)", []utf8Vector{
		valid("\xef\xbf\xb9"), valid("\xef\xbf\xba"), valid("\xef\xbf\xbb"), valid("\xef\xbf\xbc"),
		valid("\xef\xbf\xbd"), valid("\xef\xbf\xbe"), valid("\xef\xbf\xbf"),
	}})
	return g
}

// utf8Case builds a single-frame text message case from a vector.
func utf8Case(id string, v utf8Vector) *Case {
	desc := "Send a text message with payload which is valid UTF-8 in one fragment."
	exp := "The message is echo'ed back to us."
	if !v.valid {
		desc = "Send a text message with payload which is not valid UTF-8 in one fragment."
		exp = "The connection is failed immediately, since the payload is not valid UTF-8."
	}
	return &Case{ID: id, Description: fmt.Sprintf("%s Payload: 0x%x", desc, v.payload), Expectation: exp,
		run: func(c *conn) {
			expectUTF8(c, v)
			c.send(OpText, []byte(v.payload))
			c.killAfter(0.5)
		}}
}

// expectUTF8 sets the expectations of a message that is valid (echo, clean
// close by us) or not (the peer fails the connection with 1007).
func expectUTF8(c *conn, v utf8Vector) {
	if v.valid {
		c.expect(OK, textMsg(v.payload))
		c.expectCleanNormal()
		return
	}
	c.expect(OK)
	c.expectClose = closeExpectation{Codes: []int{CloseInvalidPayload}, WrongEndpointFatal: true}
}

func group6() []*Case {
	const hello = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!"
	invalidPayload := kosme + "\xed\xa0\x80" + "edited"
	fragmented := func(id, desc string, v utf8Vector, frags []string) *Case {
		exp := "The message is echo'ed back to us."
		if !v.valid {
			exp = "The connection is failed immediately, since the payload is not valid UTF-8."
		}
		return &Case{ID: id, Description: desc, Expectation: exp, run: func(c *conn) {
			expectUTF8(c, v)
			for i, f := range frags {
				op := OpText
				if i > 0 {
					op = OpContinuation
				}
				c.sendFrame(op, []byte(f), sendOpts{fin: i == len(frags)-1})
			}
			c.killAfter(1)
		}}
	}
	bytewise := func(s string) []string {
		var out []string
		for i := range len(s) {
			out = append(out, s[i:i+1])
		}
		return out
	}
	// failFast: part 2 makes the message invalid; a peer that validates as
	// bytes arrive fails before part 3 (OK), one that validates at message
	// end fails after it (NON-STRICT).
	failFast := func(id string, frames bool, p1, p2, p3 string) *Case {
		how := "in 3 fragments (frames)"
		if !frames {
			how = "in 3 chops of the same message frame"
		}
		return &Case{ID: id,
			Description: fmt.Sprintf("Send invalid UTF-8 text message %s. The first part is valid, then wait, then the 2nd part makes the sequence invalid, then wait, then the 3rd part with the rest. PART1 = 0x%x, PART2 = 0x%x, PART3 = 0x%x", how, p1, p2, p3),
			Expectation: "The first part is accepted, we expect to timeout on the first wait. The 2nd part should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.",
			run: func(c *conn) {
				c.expect(OK, timeoutEv("A"))
				c.expect(NonStrict, timeoutEv("A"), timeoutEv("B"))
				c.expectClose = closeExpectation{Codes: []int{CloseInvalidPayload}, WrongEndpointFatal: true}
				var raw *rawFrame
				if frames {
					c.sendFrame(OpText, []byte(p1), sendOpts{})
				} else {
					raw = c.beginFrame(OpText, len(p1)+len(p2)+len(p3))
					raw.write([]byte(p1))
				}
				if !c.checkpoint(1, "A") {
					c.finish()
					return
				}
				if frames {
					c.sendFrame(OpContinuation, []byte(p2), sendOpts{})
				} else {
					raw.write([]byte(p2))
				}
				if !c.checkpoint(1, "B") {
					c.finish()
					return
				}
				if frames {
					c.sendFrame(OpContinuation, []byte(p3), sendOpts{fin: true})
				} else {
					raw.write([]byte(p3))
				}
				c.killAfter(1)
			}}
	}
	out := []*Case{
		fragmented("6.1.1", "Send text message of length 0.", valid(""), []string{""}),
		fragmented("6.1.2", "Send fragmented text message, 3 fragments each of length 0.", valid(""), []string{"", "", ""}),
		fragmented("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.", valid("middle frame payload"), []string{"", "middle frame payload", ""}),
		fragmented("6.2.1", "Send a valid UTF-8 text message in one fragment. MESSAGE: "+hello, valid(hello), []string{hello}),
		fragmented("6.2.2", "Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.", valid(hello), []string{hello[:17], hello[17:]}),
		fragmented("6.2.3", "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.", valid(hello), bytewise(hello)),
		fragmented("6.2.4", "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends. MESSAGE: 0x"+fmt.Sprintf("%x", kosme), valid(kosme), bytewise(kosme)),
		fragmented("6.3.1", fmt.Sprintf("Send invalid UTF-8 text message unfragmented. MESSAGE: 0x%x", invalidPayload), invalid(invalidPayload), []string{invalidPayload}),
		fragmented("6.3.2", fmt.Sprintf("Send invalid UTF-8 text message in fragments of 1 octet. MESSAGE: 0x%x", invalidPayload), invalid(invalidPayload), bytewise(invalidPayload)),
		failFast("6.4.1", true, kosme, "\xf4\x90\x80\x80", "edited"),
		failFast("6.4.2", true, kosme+"\xf4", "\x90", "\x80\x80edited"),
		failFast("6.4.3", false, kosme, "\xf4\x90\x80\x80", "edited"),
		failFast("6.4.4", false, kosme+"\xf4", "\x90", "\x80\x80edited"),
	}
	for i, g := range utf8Groups() {
		for j, v := range g.vectors {
			out = append(out, utf8Case(fmt.Sprintf("6.%d.%d", i+5, j+1), v))
		}
	}
	return out
}
