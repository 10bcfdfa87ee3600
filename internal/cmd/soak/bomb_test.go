//go:build linux

package main

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"testing"
)

// zeroCounter counts what is written to it and fails on a byte other
// than zero.
type zeroCounter struct{ n int64 }

func (z *zeroCounter) Write(p []byte) (int, error) {
	for i, c := range p {
		if c != 0 {
			return i, fmt.Errorf("byte %d is %#x, want 0", z.n+int64(i), c)
		}
	}
	z.n += int64(len(p))
	return len(p), nil
}

// inflate inflates a permessage-deflate message as a receiver does
// (RFC 7692 §7.2.2): with 00 00 ff ff put back at its end.
func inflate(t *testing.T, msg []byte) int64 {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(msg), bytes.NewReader([]byte{0, 0, 0xff, 0xff})))
	var z zeroCounter
	_, err := io.Copy(&z, r)
	// The stream has no final block, as a message's has not: the reader
	// runs out of input after the sync flush.
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("inflating: %v after %d bytes, want io.ErrUnexpectedEOF at the end of the input", err, z.n)
	}
	return z.n
}

func TestDeflateZerosInflates(t *testing.T) {
	for _, n := range []int64{0, 1, 2, 3, 258, 259, 260, 516, 517, 1000, 1<<20 + 3, 16<<20 + 5} {
		msg := deflateZeros(n)
		if got := inflate(t, msg); got != n {
			t.Errorf("deflateZeros(%d) (%d bytes) inflates to %d bytes", n, len(msg), got)
		}
	}
}

// The bomb is about 1 MiB on the wire for 1 GiB: 2 bits per 258 bytes.
func TestDeflateZerosRatio(t *testing.T) {
	msg := deflateZeros(1 << 30)
	want := (1<<30 - 1) / 258 * 2 / 8
	if len(msg) < want || len(msg) > want+200 {
		t.Errorf("deflateZeros(1 GiB) is %d bytes, want about %d", len(msg), want)
	}
	// Everything between the block's header and its end is the
	// matches' zero bits.
	if i := bytes.IndexFunc(msg[64:len(msg)-64], func(r rune) bool { return r != 0 }); i >= 0 {
		t.Errorf("non-zero byte in the matches at %d", 64+i)
	}
}
