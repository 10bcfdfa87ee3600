package conformance

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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

	// permessage-deflate. By default the test server accepts the first
	// offer as the runner made it, and the test client offers
	// clientOffer (or "permessage-deflate; client_max_window_bits").
	noDeflate   bool   // never negotiates compression
	clientOffer string // the test client's Sec-WebSocket-Extensions
	rsvOnCont   bool   // sets RSV1 on every frame of a compressed echo
	farDistance bool   // echoes with a back-reference beyond the agreed window
	respond     string // a server that answers any offer with this extension header
}

type peer struct {
	nc     net.Conn
	br     *bufio.Reader
	client bool
	d      defects
	z      *peerDeflate // nil: no compression negotiated
}

// peerDeflate is the test peer's permessage-deflate state, written with
// compress/flate alone. It compresses at level 1 (the runner uses 6), or
// Huffman-only when the agreed window is under 15 bits, and fragments
// compressed echoes into frames of 4 KiB.
type peerDeflate struct {
	sendTakeover bool
	sendBits     int
	recvTakeover bool

	fw   *flate.Writer
	fbuf bytes.Buffer
	hist []byte
}

func newPeerDeflate(sendNoTakeover bool, sendBits int, recvNoTakeover bool) *peerDeflate {
	if sendBits == 0 {
		sendBits = 15
	}
	return &peerDeflate{sendTakeover: !sendNoTakeover, sendBits: sendBits, recvTakeover: !recvNoTakeover}
}

func (z *peerDeflate) compress(msg []byte) []byte {
	z.fbuf.Reset()
	if z.fw == nil || !z.sendTakeover {
		level := flate.BestSpeed
		if z.sendBits < 15 {
			level = flate.HuffmanOnly
		}
		z.fw, _ = flate.NewWriter(&z.fbuf, level)
	}
	z.fw.Write(msg)
	z.fw.Flush()
	return bytes.Clone(bytes.TrimSuffix(z.fbuf.Bytes(), []byte{0, 0, 0xff, 0xff}))
}

func (z *peerDeflate) decompress(msg []byte) ([]byte, error) {
	var dict []byte
	if z.recvTakeover {
		dict = z.hist
	}
	in := append(bytes.Clone(msg), 0, 0, 0xff, 0xff, 0x01, 0, 0, 0xff, 0xff)
	out, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(in), dict))
	if err != nil {
		return nil, err
	}
	if z.recvTakeover {
		z.hist = append(z.hist, out...)
		if len(z.hist) > 1<<15 {
			z.hist = z.hist[len(z.hist)-1<<15:]
		}
	}
	return out, nil
}

// deflateParamsOf splits a permessage-deflate element into its parameters
// ("name" or "name=value"); ok is false for another extension.
func deflateParamsOf(element string) (map[string]string, bool) {
	parts := strings.Split(element, ";")
	if strings.TrimSpace(parts[0]) != "permessage-deflate" {
		return nil, false
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		m[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return m, true
}

// serverAccept answers the first permessage-deflate offer with what it
// asks of the server and nothing else.
func serverAccept(offers string) (resp string, z *peerDeflate) {
	for _, e := range strings.Split(offers, ",") {
		m, ok := deflateParamsOf(e)
		if !ok {
			continue
		}
		resp = "permessage-deflate"
		_, noTakeover := m["server_no_context_takeover"]
		if noTakeover {
			resp += "; server_no_context_takeover"
		}
		bits := 0
		if v, ok := m["server_max_window_bits"]; ok {
			bits, _ = strconv.Atoi(v)
			resp += "; server_max_window_bits=" + v
		}
		return resp, newPeerDeflate(noTakeover, bits, false)
	}
	return "", nil
}

// clientAgreed reads the server's response as the test client.
func clientAgreed(resp string) *peerDeflate {
	m, ok := deflateParamsOf(resp)
	if !ok {
		return nil
	}
	_, sendNoTakeover := m["client_no_context_takeover"]
	_, recvNoTakeover := m["server_no_context_takeover"]
	bits, _ := strconv.Atoi(m["client_max_window_bits"])
	return newPeerDeflate(sendNoTakeover, bits, recvNoTakeover)
}

func (p *peer) write(op Opcode, payload []byte) { p.writeFrame(op, payload, true, 0) }

func (p *peer) writeFrame(op Opcode, payload []byte, fin bool, rsv byte) {
	f := frame{Fin: fin, RSV: rsv, Opcode: op, Payload: payload}
	if p.client != p.d.wrongMasking {
		f.Masked = true
		f.MaskKey = [4]byte{0x11, 0x22, 0x33, 0x44}
	}
	p.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	p.nc.Write(appendFrame(nil, &f))
}

// echo sends msg back, compressed when compression is in use.
func (p *peer) echo(op Opcode, msg []byte) {
	if p.z == nil {
		p.write(op, msg)
		return
	}
	var z []byte
	if p.d.farDistance {
		z = farStream(msg, 1<<p.z.sendBits)
	}
	if z == nil {
		z = p.z.compress(msg)
	}
	const frag = 4096
	for i := 0; i == 0 || i < len(z); i += frag {
		end := min(i+frag, len(z))
		o, rsv := op, byte(rsv1)
		if i > 0 {
			o = OpContinuation
			if !p.d.rsvOnCont {
				rsv = 0
			}
		}
		p.writeFrame(o, z[i:end], end == len(z), rsv)
	}
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
		inMsg      bool
		msgOp      Opcode
		msg        []byte
		checked    int
		compressed bool
		buf        = make([]byte, 32<<10)
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
		rsvOK := rsv == 0 || p.d.ignoreRSV || (p.z != nil && rsv == rsv1 && (op == OpText || op == OpBinary))
		switch {
		case !rsvOK, !op.isDefined(),
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
			compressed = rsv == rsv1 && p.z != nil
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
			if msgOp == OpText && !p.d.noUTF8 && !p.d.utf8AtEnd && !compressed {
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
			if compressed {
				out, err := p.z.decompress(msg)
				if err != nil {
					p.fail(CloseInvalidPayload)
					return
				}
				msg = out
			}
			if msgOp == OpText && !p.d.noUTF8 && !utf8.Valid(msg) {
				p.fail(CloseInvalidPayload)
				return
			}
			p.echo(msgOp, msg)
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
				p := &peer{nc: nc, br: br, d: d}
				ext := ""
				if !d.noDeflate {
					ext, p.z = serverAccept(strings.Join(req.Header.Values("Sec-WebSocket-Extensions"), ","))
				}
				if d.respond != "" {
					ext = d.respond
				}
				if ext != "" {
					ext = "Sec-WebSocket-Extensions: " + ext + "\r\n"
				}
				fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
					acceptKey(req.Header.Get("Sec-WebSocket-Key")), ext)
				p.run()
			})
		}
	})
	return "ws://" + ln.Addr().String() + "/"
}

// dialTest opens a WebSocket connection to addr+path as the test client,
// offering extensions when ext is not empty.
func dialTest(addr, path, ext string) (*peer, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	key := newKey()
	if ext != "" {
		ext = "Sec-WebSocket-Extensions: " + ext + "\r\n"
	}
	fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n", path, addr, key, ext)
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
	return &peer{nc: nc, br: br, client: true, z: clientAgreed(resp.Header.Get("Sec-WebSocket-Extensions"))}, nil
}

// offer is the test client's extension offer under defects d.
func (d defects) offer() string {
	switch {
	case d.noDeflate:
		return ""
	case d.clientOffer != "":
		return d.clientOffer
	}
	return "permessage-deflate; client_max_window_bits"
}

// runTestClient plays a client under test against a runner serving on addr:
// case count, every case, then the report update.
func runTestClient(t *testing.T, addr, agent string, d defects) {
	t.Helper()
	p, err := dialTest(addr, "/getCaseCount", "")
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
		p, err := dialTest(addr, fmt.Sprintf("/runCase?case=%d&agent=%s", i, url.QueryEscape(agent)), d.offer())
		if err != nil {
			// A refused handshake is the runner's verdict on a bad offer.
			t.Logf("case %d: %v", i, err)
			continue
		}
		p.d = d
		p.run()
	}
	p, err = dialTest(addr, "/updateReports?agent="+url.QueryEscape(agent), "")
	if err != nil {
		t.Fatal(err)
	}
	p.run()
}

func validUTF8(s string) bool { return utf8.ValidString(s) }
