package handshake

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadRequest parses Chromium's opening handshake (13 fields,
// 532 bytes) off a reused bufio.Reader, as a server does per connection.
func BenchmarkReadRequest(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "handshake", "chromium.http"))
	if err != nil {
		b.Fatal(err)
	}
	rd := bytes.NewReader(raw)
	br := bufio.NewReader(rd)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(raw)
		br.Reset(rd)
		r, err := readRequest(br, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := Check(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequestParser reads the same handshake with a reused
// RequestParser and parses it in place, as the event loops do.
func BenchmarkRequestParser(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "handshake", "chromium.http"))
	if err != nil {
		b.Fatal(err)
	}
	rd := bytes.NewReader(raw)
	var p RequestParser
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(raw)
		p.Reset(0)
		if done, err := p.Fill(rd); !done || err != nil {
			b.Fatal(done, err)
		}
		r, err := p.Request()
		if err != nil {
			b.Fatal(err)
		}
		if err := Check(r); err != nil {
			b.Fatal(err)
		}
	}
	p.Reset(0)
}

func BenchmarkAcceptKey(b *testing.B) {
	b.ReportAllocs()
	var buf [acceptLen]byte
	for b.Loop() {
		appendAcceptKey(buf[:0], "dGhlIHNhbXBsZSBub25jZQ==")
	}
}

func BenchmarkAppendResponse(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResponse(buf[:0], "dGhlIHNhbXBsZSBub25jZQ==", "chat", "permessage-deflate", nil)
	}
}

func BenchmarkReadResponse(b *testing.B) {
	raw := []byte(goodResponse)
	c := goldenClient(b)
	rd := bytes.NewReader(raw)
	br := bufio.NewReader(rd)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(raw)
		br.Reset(rd)
		if _, err := ReadResponse(br, 0, c); err != nil {
			b.Fatal(err)
		}
	}
}
