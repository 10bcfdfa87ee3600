//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// reader returns a wsConn that reads b, as if the server had sent it.
func reader(b []byte) *wsConn {
	return &wsConn{br: bufio.NewReader(bytes.NewReader(b))}
}

// Frames the load writes are masked, and readFrame unmasks them, so a
// frame read back is the frame written, at every length encoding.
func TestFrameRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 70000} {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(i * 13)
		}
		wire := appendFrame(nil, finBit|opBinary, payload)
		if n > 4 && bytes.Contains(wire, payload) {
			t.Errorf("%d bytes: the payload went out unmasked", n)
		}
		b0, got, err := reader(wire).readFrame(1 << 20)
		if err != nil || b0 != finBit|opBinary || !bytes.Equal(got, payload) {
			t.Errorf("%d bytes: readFrame = %#x, %d bytes, %v", n, b0, len(got), err)
		}
	}
}

func TestReadFrameLimit(t *testing.T) {
	wire := appendFrame(nil, finBit|opBinary, make([]byte, 200))
	if _, _, err := reader(wire).readFrame(100); !errors.Is(err, errTooLarge) {
		t.Errorf("readFrame over the limit: %v, want errTooLarge", err)
	}
	hdr := appendHeader(nil, finBit|opBinary, 1<<30)
	if _, _, err := reader(hdr).readFrame(1 << 20); !errors.Is(err, errTooLarge) {
		t.Errorf("readFrame of a declared 1 GiB: %v, want errTooLarge", err)
	}
}

// A fragmented message, with a ping in the middle, reads back whole; a
// close frame after it gives its code.
func TestReadMessageAndClose(t *testing.T) {
	msg := []byte("fragmented, a byte a frame")
	wire := appendFrame(nil, opBinary, []byte("a"))
	wire = appendFrame(wire, finBit|opPing, []byte("p"))
	wire = appendFrame(wire, opCont, []byte("b"))
	wire = appendFrame(wire, finBit|opCont, []byte("c"))
	wire = append(wire, fragmented(msg)...)
	wire = appendFrame(wire, finBit|opClose, []byte{0x03, 0xf1, 'b', 'y', 'e'})
	r := reader(wire)
	for _, want := range []string{"abc", string(msg)} {
		got, err := r.readMessage(100)
		if err != nil || string(got) != want {
			t.Fatalf("readMessage = %q, %v; want %q", got, err, want)
		}
	}
	code, err := r.readClose()
	if err != nil || code != 1009 {
		t.Errorf("readClose = %d, %v; want 1009", code, err)
	}
	if _, err := reader(fragmented(msg)).readMessage(len(msg) - 1); !errors.Is(err, errTooLarge) {
		t.Errorf("readMessage over the limit: %v, want errTooLarge", err)
	}
	if _, err := reader(appendFrame(nil, finBit|opClose, nil)).readMessage(10); outcome(0, err) != "1005" {
		t.Errorf("an empty close frame: %v, want code 1005", err)
	}
}

// handshake against a listener that answers as a server would, once
// right and once wrong.
func TestHandshake(t *testing.T) {
	for _, c := range []struct {
		answer  string
		deflate bool
		want    string // "" for success, else part of the error
	}{
		{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + wsAccept + "\r\n\r\n", false, ""},
		{"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: " + wsAccept + "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", true, ""},
		{"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: " + wsAccept + "\r\n\r\n", true, "extensions"},
		{"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: wrong\r\n\r\n", false, "Accept"},
		{"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n", false, "503"},
	} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			s, err := l.Accept()
			if err != nil {
				got <- err.Error()
				return
			}
			defer s.Close()
			s.SetDeadline(time.Now().Add(5 * time.Second))
			br := bufio.NewReader(s)
			var head strings.Builder
			for {
				line, err := br.ReadString('\n')
				head.WriteString(line)
				if err != nil || line == "\r\n" {
					break
				}
			}
			got <- head.String()
			io.WriteString(s, c.answer)
		}()
		d := newDialer(l.Addr().String(), 1)
		w, err := d.open(context.Background(), c.deflate, 5*time.Second)
		head := <-got
		l.Close()
		if w != nil {
			w.c.Close()
		}
		if !strings.Contains(head, "Sec-WebSocket-Key: "+wsKey+"\r\n") || strings.Contains(head, "permessage-deflate") != c.deflate {
			t.Errorf("request head:\n%s", head)
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("answer %q: %v", c.answer, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("answer %q: error %v, want one about %s", c.answer, err, c.want)
		}
	}
}
