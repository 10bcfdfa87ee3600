package deflate

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Deterministic payload generators: each takes a seed and a size and
// returns the same bytes every time.

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

var words = strings.Fields(`the of and to in is was for on that with as by at from his her
	an are were which be this has had not but have it its they their one two new first
	user order status price total items name email created updated active pending
	shipped delivered account message channel event payload session request response`)

// jsonPayload returns about n bytes of JSON-like text: records with
// repeated keys, varying numbers and words, as an API would send.
func jsonPayload(seed uint64, n int) []byte {
	r := newRand(seed)
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"type":"%s","user":{"id":%d,"name":"%s %s","email":"%s%d@example.com"},`,
			1000+i*7+r.IntN(5), words[r.IntN(len(words))], r.IntN(100000),
			words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(1000))
		fmt.Fprintf(&b, `"amount":%d.%02d,"active":%t,"tags":["%s","%s"],"ts":"2024-%02d-%02dT%02d:%02d:%02dZ"}`,
			r.IntN(10000), r.IntN(100), r.IntN(2) == 0, words[r.IntN(len(words))], words[r.IntN(len(words))],
			1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))
	}
	b.WriteString(`]}`)
	return []byte(b.String())[:n]
}

// htmlPayload returns about n bytes of HTML-like markup with prose.
func htmlPayload(seed uint64, n int) []byte {
	r := newRand(seed)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Report</title></head>\n<body>\n")
	for b.Len() < n {
		fmt.Fprintf(&b, "<div class=\"row %s\" id=\"r%d\">\n  <h2>%s %s</h2>\n  <p>", words[r.IntN(len(words))], r.IntN(10000),
			capitalize(words[r.IntN(len(words))]), words[r.IntN(len(words))])
		for range 10 + r.IntN(30) {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "</p>\n  <a href=\"/items/%d?ref=%s\">more</a>\n</div>\n", r.IntN(100000), words[r.IntN(len(words))])
	}
	return []byte(b.String())[:n]
}

func capitalize(w string) string { return strings.ToUpper(w[:1]) + w[1:] }

// randomPayload returns n incompressible bytes.
func randomPayload(seed uint64, n int) []byte {
	r := newRand(seed)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// binaryPayload returns n bytes of semi-structured binary data: fixed-size
// records of small integers, flags and a few random bytes, like a game or
// telemetry protocol.
func binaryPayload(seed uint64, n int) []byte {
	r := newRand(seed)
	b := make([]byte, 0, n+32)
	for i := 0; len(b) < n; i++ {
		b = append(b, 0xA5, byte(i), byte(i>>8), 0, 0)             // magic, sequence
		b = append(b, byte(r.IntN(4)), 0, byte(r.IntN(200)), 0x40) // type, small values
		x := uint32(1000 + i*3 + r.IntN(3))
		b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
		for range 4 {
			b = append(b, byte(r.Uint32()))
		}
		b = append(b, make([]byte, r.IntN(6))...)
	}
	return b[:n]
}

// runPayload returns n copies of one byte.
func runPayload(c byte, n int) []byte {
	return []byte(strings.Repeat(string([]byte{c}), n))
}

// mixedPayload alternates text, random and runs, so that blocks change
// kind (stored, fixed, dynamic) within a message.
func mixedPayload(seed uint64, n int) []byte {
	r := newRand(seed)
	var b []byte
	for len(b) < n {
		k := 1 + r.IntN(3000)
		switch r.IntN(4) {
		case 0:
			b = append(b, jsonPayload(r.Uint64(), k)...)
		case 1:
			b = append(b, randomPayload(r.Uint64(), k)...)
		case 2:
			b = append(b, runPayload(byte(r.IntN(256)), k)...)
		default:
			b = append(b, htmlPayload(r.Uint64(), k)...)
		}
	}
	return b[:n]
}
