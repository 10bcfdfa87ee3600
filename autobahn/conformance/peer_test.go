package conformance

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// This file holds a small echo peer written for the tests: a conformant
// server or client by default, with switchable defects, so the tests can
// assert which cases each defect makes fail, and how.

type defects struct {
	noUTF8       bool // never validates UTF-8 (messages or close reasons)
	utf8AtEnd    bool // validates UTF-8 only when a message is complete
	wrongCode    bool // fails connections with 1000 instead of 1002/1007
	noPong       bool // ignores pings
	ignoreRSV    bool // accepts frames with RSV bits set
	wrongMasking bool // a server that masks its frames; a client that does not
	noCloseReply bool // drops TCP on a close frame without answering it
	keepTCP      bool // a server that waits for the client to close TCP
}

type peer struct {
	nc     net.Conn
	br     *bufio.Reader
	client bool
	d      defects
}

func (p *peer) write(op Opcode, payload []byte) {
	f := frame{Fin: true, Opcode: op, Payload: payload}
	if p.client != p.d.wrongMasking {
		f.Masked = true
		f.MaskKey = [4]byte{0x11, 0x22, 0x33, 0x44}
	}
	p.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	p.nc.Write(appendFrame(nil, &f))
}

// fail fails the connection: a close frame with code, then the lingering
// close. The caller returns from run.
func (p *peer) fail(code int) {
	if p.d.wrongCode {
		code = CloseNormal
	}
	p.write(OpClose, encodeClose(code, nil))
	p.linger()
}

// linger ends the connection after our close frame went out. A server
// half-closes and drains, so that unread input cannot turn its FIN into a
// reset; a client (or a server with the keepTCP defect) waits for the other
// side to close TCP.
func (p *peer) linger() {
	if !p.client && !p.d.keepTCP {
		if tc, ok := p.nc.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}
	p.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	io.Copy(io.Discard, p.br)
}

// run echoes until the connection ends. It reads payloads in whatever
// pieces arrive, so that UTF-8 can be checked before a frame is complete.
func (p *peer) run() {
	defer p.nc.Close()
	p.nc.SetDeadline(time.Now().Add(60 * time.Second))
	var (
		inMsg   bool
		msgOp   Opcode
		msg     []byte
		checked int
		buf     = make([]byte, 32<<10)
	)
	for {
		var h [14]byte
		if _, err := io.ReadFull(p.br, h[:2]); err != nil {
			return
		}
		fin, rsv, op, masked := h[0]&0x80 != 0, (h[0]>>4)&7, Opcode(h[0]&0xF), h[1]&0x80 != 0
		n := uint64(h[1] & 0x7F)
		switch n {
		case 126:
			if _, err := io.ReadFull(p.br, h[2:4]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(h[2:4]))
		case 127:
			if _, err := io.ReadFull(p.br, h[2:10]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(h[2:10])
		}
		var key [4]byte
		if masked {
			if _, err := io.ReadFull(p.br, key[:]); err != nil {
				return
			}
		}
		protocolError := false
		switch {
		case rsv != 0 && !p.d.ignoreRSV, !op.isDefined(),
			!p.client && !masked, p.client && masked,
			op.isControl() && (!fin || n > 125),
			op == OpContinuation && !inMsg,
			(op == OpText || op == OpBinary) && inMsg:
			protocolError = true
		}
		if protocolError || n > 32<<20 {
			p.fail(CloseProtocolError)
			return
		}
		if op == OpText || op == OpBinary {
			inMsg, msgOp, msg, checked = true, op, msg[:0], 0
		}
		var payload []byte
		pos := 0
		for remaining := int(n); remaining > 0; {
			m, err := p.br.Read(buf[:min(remaining, len(buf))])
			if err != nil {
				return
			}
			piece := buf[:m]
			if masked {
				pos = maskBytes(key, pos, piece)
			}
			remaining -= m
			if op.isControl() {
				payload = append(payload, piece...)
				continue
			}
			msg = append(msg, piece...)
			if msgOp == OpText && !p.d.noUTF8 && !p.d.utf8AtEnd {
				var ok bool
				if checked, ok = utf8From(msg, checked); !ok {
					p.fail(CloseInvalidPayload) // at once, mid-frame: fail fast
					return
				}
			}
		}
		switch op {
		case OpClose:
			p.onClose(payload)
			return
		case OpPing:
			if !p.d.noPong {
				p.write(OpPong, payload)
			}
		case OpPong:
		default:
			if !fin {
				continue
			}
			inMsg = false
			if msgOp == OpText && !p.d.noUTF8 && !utf8.Valid(msg) {
				p.fail(CloseInvalidPayload)
				return
			}
			p.write(msgOp, msg)
		}
	}
}

func (p *peer) onClose(payload []byte) {
	if p.d.noCloseReply {
		return
	}
	code := -1
	if len(payload) == 1 {
		p.fail(CloseProtocolError)
		return
	} else if len(payload) >= 2 {
		code = int(binary.BigEndian.Uint16(payload))
		switch {
		case !validCloseCode(code):
			p.fail(CloseProtocolError)
			return
		case !p.d.noUTF8 && !utf8.Valid(payload[2:]):
			p.fail(CloseInvalidPayload)
			return
		}
	}
	p.write(OpClose, encodeClose(code, nil))
	p.linger()
}

// startServer runs a test echo server with defects d on loopback.
func startServer(t *testing.T, d defects) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				br := bufio.NewReader(nc)
				nc.SetDeadline(time.Now().Add(5 * time.Second))
				req, err := http.ReadRequest(br)
				if err != nil {
					nc.Close()
					return
				}
				fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
					acceptKey(req.Header.Get("Sec-WebSocket-Key")))
				(&peer{nc: nc, br: br, d: d}).run()
			})
		}
	})
	return "ws://" + ln.Addr().String() + "/"
}

// dialTest opens a WebSocket connection to addr+path as the test client.
func dialTest(addr, path string) (*peer, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	key := newKey()
	fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr, key)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key) {
		nc.Close()
		return nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	return &peer{nc: nc, br: br, client: true}, nil
}

// runTestClient plays a client under test against a runner serving on addr:
// case count, every case, then the report update.
func runTestClient(t *testing.T, addr, agent string, d defects) {
	t.Helper()
	p, err := dialTest(addr, "/getCaseCount")
	if err != nil {
		t.Fatal(err)
	}
	f, err := readFrame(p.br, 1<<10)
	if err != nil || f.Opcode != OpText {
		t.Fatalf("getCaseCount: %v %v", f, err)
	}
	count, err := strconv.Atoi(string(f.Payload))
	if err != nil {
		t.Fatalf("getCaseCount payload %q", f.Payload)
	}
	p.run()
	for i := 1; i <= count; i++ {
		p, err := dialTest(addr, fmt.Sprintf("/runCase?case=%d&agent=%s", i, url.QueryEscape(agent)))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		p.d = d
		p.run()
	}
	p, err = dialTest(addr, "/updateReports?agent="+url.QueryEscape(agent))
	if err != nil {
		t.Fatal(err)
	}
	p.run()
}

func validUTF8(s string) bool { return utf8.ValidString(s) }
