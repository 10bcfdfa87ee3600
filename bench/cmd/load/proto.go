package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"slices"
	"strings"
	"time"
)

// This file is the load generator's own, deliberately tiny, client side of
// RFC 6455: the opening handshake, masked binary frames, and a streaming
// parser that checks every echoed byte. It does not use the library under
// test, so a bug there cannot hide itself by being symmetric.

// websocketGUID is the constant of RFC 6455 §1.3 hashed into
// Sec-WebSocket-Accept.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Opcodes of RFC 6455 §5.2 that the load generator sends or expects.
const (
	opContinuation = 0x0
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// upgrade performs the client side of the opening handshake on nc and
// returns the bytes the server sent after its response head (normally none).
func upgrade(nc net.Conn, host, path string, timeout time.Duration) ([]byte, error) {
	var raw [16]byte
	rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])
	req := "GET " + path + " HTTP/1.1\r\n" +
		"Host: " + host + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	nc.SetDeadline(time.Now().Add(timeout))
	defer nc.SetDeadline(time.Time{})
	if _, err := nc.Write([]byte(req)); err != nil {
		return nil, fmt.Errorf("write handshake: %w", err)
	}
	buf := make([]byte, 0, 1024)
	for {
		if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			if err := checkResponse(string(buf[:i]), key); err != nil {
				return nil, err
			}
			return buf[i+4:], nil
		}
		if len(buf) == cap(buf) {
			if len(buf) >= 16<<10 {
				return nil, errors.New("handshake response head over 16 KiB")
			}
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
		n, err := nc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return nil, fmt.Errorf("read handshake response (%q so far): %w", buf, err)
		}
	}
}

// checkResponse checks a response head (without its final empty line)
// against RFC 6455 §4.1: status 101, Upgrade, Connection and the accept
// hash of key.
func checkResponse(head, key string) error {
	lines := strings.Split(head, "\r\n")
	status := strings.Fields(lines[0])
	if len(status) < 2 || status[1] != "101" {
		return fmt.Errorf("handshake refused: %q", lines[0])
	}
	sum := sha1.Sum([]byte(key + websocketGUID))
	wantAccept := base64.StdEncoding.EncodeToString(sum[:])
	var upgrade, connection, accept bool
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return fmt.Errorf("malformed response header line %q", l)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "upgrade":
			upgrade = strings.EqualFold(value, "websocket")
		case "connection":
			for _, tok := range strings.Split(value, ",") {
				if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
					connection = true
				}
			}
		case "sec-websocket-accept":
			accept = value == wantAccept
		}
	}
	switch {
	case !upgrade:
		return errors.New("handshake response lacks Upgrade: websocket")
	case !connection:
		return errors.New("handshake response lacks Connection: Upgrade")
	case !accept:
		return errors.New("handshake response has a missing or wrong Sec-WebSocket-Accept")
	}
	return nil
}

// appendHeader appends a client frame header: FIN, opcode, the MASK bit,
// the shortest length encoding, and key.
func appendHeader(dst []byte, op byte, length int, key uint32) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case length <= 125:
		dst = append(dst, 0x80|byte(length))
	case length <= 0xFFFF:
		dst = append(dst, 0x80|126, byte(length>>8), byte(length))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(length))
	}
	return binary.LittleEndian.AppendUint32(dst, key)
}

// maskXor stores src XOR the masking key into dst (RFC 6455 §5.3), starting
// at payload position pos, and returns the position after the last byte.
// dst and src may be the same slice. The load generator masks everything it
// sends and unmasks what the TCP baseline echoes, so this is its hottest
// loop: beyond a few dozen bytes it XORs with a block of repeated key bytes
// through crypto/subtle.XORBytes, which is vectorised, instead of a word at
// a time.
func maskXor(dst, src []byte, key uint32, pos int) int {
	n := len(src)
	dst = dst[:n]
	if n < 64 {
		for i := range n {
			dst[i] = src[i] ^ byte(key>>(8*((pos+i)&3)))
		}
		return pos + n
	}
	var ks [keyBlock]byte
	fillKey(ks[:min(n, keyBlock)], key, pos)
	xorBlocks(dst, src, ks[:min(n, keyBlock)])
	return pos + n
}

// xorBlocks stores src XOR ks, ks repeated, into dst; len(ks) must be a
// multiple of 4 or at least len(src).
func xorBlocks(dst, src, ks []byte) {
	for i := 0; i < len(src); i += len(ks) {
		e := min(i+len(ks), len(src))
		subtle.XORBytes(dst[i:e], src[i:e], ks[:e-i])
	}
}

// keyBlock is the length of the repeated-key block maskXor XORs with; a
// multiple of 4, so every block starts at the same key byte.
const keyBlock = 2048

// fillKey fills b with the key bytes for payload positions pos, pos+1, ...
func fillKey(b []byte, key uint32, pos int) {
	// Byte j of k is key byte (pos+j)&3 when key holds the four key bytes
	// in wire order as a little-endian word.
	k := bits.RotateLeft32(key, -8*(pos&3))
	var first [8]byte
	binary.LittleEndian.PutUint64(first[:], uint64(k)|uint64(k)<<32)
	// The bytes repeat every 4, so doubling copies keep the pattern.
	for n := copy(b, first[:]); n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

// message describes the payloads one connection sends: message seq is
// 8 bytes of seq^salt (little endian; cut short for sizes under 8) followed
// by pattern[off(seq):], so that consecutive messages, and the same
// sequence number on two connections, never carry the same bytes.
type message struct {
	size    int
	salt    uint64
	pattern []byte // shared by all connections; len >= size + patternSlack

	// variants, when not 0, limits the offsets into the pattern to that
	// many, taken in turn (message seq uses variant seq % variants): large
	// messages are sent from bodies masked once (see premasked).
	variants uint64
}

// patternSlack is how far into the pattern a message may start.
const patternSlack = 256

func (m *message) offset(seq uint64) int {
	if m.variants > 0 {
		seq %= m.variants
	}
	return int((seq*7 + m.salt) % patternSlack)
}

// premaskMin is the message size from which a connection masks its
// message bodies once, up front, instead of for every message: at 64 KiB
// masking took a tenth of the load generator's time, and the load
// generator is the limit of the large-message scenarios.
const premaskMin = 16 << 10

// premaskVariants is how many masked bodies a connection prepares.
const premaskVariants = 8

// premasked is a connection's message bodies masked once: variant v has
// its own random key and its own offset into the pattern, and message seq
// is variant seq % premaskVariants, so that consecutive messages still
// differ in key and content (and every message in its first 8 bytes, the
// sequence number, masked for each message).
type premasked struct {
	keys   [premaskVariants]uint32
	bodies [premaskVariants][]byte // payload bytes 8 to size, masked
}

// premask prepares m's bodies, and sets m.variants to match.
func (m *message) premask(key func() uint32) *premasked {
	m.variants = premaskVariants
	p := new(premasked)
	for v := range p.keys {
		p.keys[v] = key()
		off := m.offset(uint64(v))
		p.bodies[v] = make([]byte, m.size-8)
		maskXor(p.bodies[v], m.pattern[off:off+m.size-8], p.keys[v], 8)
	}
	return p
}

// maxHead is the longest frame head appendHead writes.
const maxHead = 14 + 8

// appendHead appends the frame header of message seq and its first 8
// payload bytes, masked with key; the rest of the frame is
// p.bodies[seq % premaskVariants].
func (m *message) appendHead(dst []byte, seq uint64, key uint32) []byte {
	dst = appendHeader(dst, opBinary, m.size, key)
	var id [8]byte
	binary.LittleEndian.PutUint64(id[:], seq^m.salt)
	start := len(dst)
	dst = append(dst, id[:]...)
	maskXor(dst[start:], dst[start:], key, 0)
	return dst
}

// appendFrame appends the masked binary frame carrying message seq.
func (m *message) appendFrame(dst []byte, seq uint64, key uint32) []byte {
	dst = appendHeader(dst, opBinary, m.size, key)
	start := len(dst)
	// Extend without append(dst, make(...)...), which would clear the
	// payload's bytes first: maskXor writes every one of them.
	dst = slices.Grow(dst, m.size)[:start+m.size]
	var id [8]byte
	binary.LittleEndian.PutUint64(id[:], seq^m.salt)
	n := min(8, m.size)
	pos := maskXor(dst[start:start+n], id[:n], key, 0)
	if m.size > 8 {
		off := m.offset(seq)
		maskXor(dst[start+8:], m.pattern[off:off+m.size-8], key, pos)
	}
	return dst
}

// mismatchError reports the first echoed byte that differs from what was
// sent.
type mismatchError struct {
	seq       uint64
	offset    int
	got, want byte
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("message %d: payload byte %d is %#02x, sent %#02x", e.seq, e.offset, e.got, e.want)
}

// check compares p with the payload bytes of message seq at offset off.
func (m *message) check(seq uint64, off int, p []byte) error {
	if off < 8 {
		var id [8]byte
		binary.LittleEndian.PutUint64(id[:], seq^m.salt)
		want := id[off:min(8, m.size)]
		n := min(len(want), len(p))
		if !bytes.Equal(p[:n], want[:n]) {
			return m.mismatch(seq, off, p[:n], want[:n])
		}
		p, off = p[n:], off+n
	}
	if len(p) == 0 {
		return nil
	}
	start := m.offset(seq) + off - 8
	want := m.pattern[start : start+len(p)]
	if !bytes.Equal(p, want) {
		return m.mismatch(seq, off, p, want)
	}
	return nil
}

// checkMasked is check for bytes still masked with key, as the TCP
// baseline echoes them (p starts at payload position off): it unmasks a
// block at a time into a scratch array and checks that.
func (m *message) checkMasked(seq uint64, off int, p []byte, key uint32) error {
	var u, ks [keyBlock]byte
	n := min(len(p), keyBlock)
	fillKey(ks[:n], key, off) // keyBlock is a multiple of 4: good for every block
	for len(p) > 0 {
		k := min(len(p), keyBlock)
		subtle.XORBytes(u[:k], p[:k], ks[:k])
		if err := m.check(seq, off, u[:k]); err != nil {
			return err
		}
		p, off = p[k:], off+k
	}
	return nil
}

func (m *message) mismatch(seq uint64, off int, got, want []byte) error {
	for i := range got {
		if got[i] != want[i] {
			return &mismatchError{seq: seq, offset: off + i, got: got[i], want: want[i]}
		}
	}
	panic("mismatch without a differing byte")
}

// parser reads the server's side of one connection, frame by frame, in
// whatever pieces the socket delivers, and checks every byte of every echo
// against the message that was sent: the type (binary), the flags, the
// length and the content, in order. Fragmented echoes are fine (servers
// that stream write several frames); anything else is an error that names
// the message and the byte.
//
// In raw mode (the TCP baseline) the echo is the client frame itself: one
// unfragmented, masked frame whose key must be the one that was sent, keys
// being replayed from the same pseudo-random sequence the writer draws them
// from.
type parser struct {
	msg  *message
	raw  bool
	keys func() uint32 // raw mode: the next key the writer used

	seq      uint64 // the message being received
	msgOff   int    // its payload bytes checked so far
	inMsg    bool   // a data frame of it without FIN was seen
	hdr      [14]byte
	hdrN     int
	inFrame  bool // a header was parsed, its payload is due
	fin      bool
	op       byte
	left     int64 // payload bytes due in the current frame
	key      uint32
	keyPos   int
	ctrl     []byte // payload of the current control frame
	closeOK  bool   // a close frame from the server is expected
	gotClose bool
	code     int // status code of the server's close frame, 0 if none
}

// feed consumes p and returns how many messages it completed.
func (ps *parser) feed(p []byte) (done int, err error) {
	for len(p) > 0 {
		if !ps.inFrame {
			n, err := ps.header(p)
			if err != nil {
				return done, err
			}
			p = p[n:]
			if !ps.inFrame {
				return done, nil // the header continues in the next read
			}
		} else {
			n := int(min(ps.left, int64(len(p))))
			if err := ps.payload(p[:n]); err != nil {
				return done, err
			}
			ps.left -= int64(n)
			p = p[n:]
		}
		if ps.inFrame && ps.left == 0 {
			ok, err := ps.endFrame()
			if err != nil {
				return done, err
			}
			if ok {
				done++
			}
		}
	}
	return done, nil
}

// header consumes header bytes from p and, once the header is complete,
// checks it and sets inFrame.
func (ps *parser) header(p []byte) (int, error) {
	used := 0
	need := 2
	for {
		if ps.hdrN >= 2 {
			need = 2
			switch ps.hdr[1] & 0x7F {
			case 126:
				need += 2
			case 127:
				need += 8
			}
			if ps.hdr[1]&0x80 != 0 {
				need += 4
			}
		}
		if ps.hdrN == need {
			break
		}
		n := copy(ps.hdr[ps.hdrN:need], p[used:])
		ps.hdrN += n
		used += n
		if ps.hdrN < need {
			return used, nil
		}
	}
	h := ps.hdr[:ps.hdrN]
	ps.hdrN = 0
	ps.fin = h[0]&0x80 != 0
	ps.op = h[0] & 0x0F
	masked := h[1]&0x80 != 0
	length := int64(h[1] & 0x7F)
	rest := h[2:]
	switch length {
	case 126:
		length = int64(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
	case 127:
		u := binary.BigEndian.Uint64(rest)
		if u > 1<<62 {
			return used, fmt.Errorf("message %d: frame length %d", ps.seq, u)
		}
		length = int64(u)
		rest = rest[8:]
	}
	if h[0]&0x70 != 0 {
		return used, fmt.Errorf("message %d: frame with RSV bits %#x (no extension was negotiated)", ps.seq, h[0]&0x70)
	}
	if ps.raw {
		if !masked {
			return used, fmt.Errorf("message %d: raw echo is not masked", ps.seq)
		}
	} else if masked {
		return used, fmt.Errorf("message %d: server frame is masked", ps.seq)
	}
	if masked {
		ps.key = binary.LittleEndian.Uint32(rest)
		ps.keyPos = 0
	}
	ps.left = length
	ps.inFrame = true
	if ps.op >= opClose {
		if !ps.fin || length > 125 {
			return used, fmt.Errorf("message %d: control frame %#x with FIN=%v and length %d", ps.seq, ps.op, ps.fin, length)
		}
		ps.ctrl = ps.ctrl[:0]
		return used, nil
	}
	want := byte(opBinary)
	if ps.inMsg {
		want = opContinuation
	}
	if ps.op != want {
		return used, fmt.Errorf("message %d: frame opcode %#x, want %#x (sent one binary message)", ps.seq, ps.op, want)
	}
	if ps.raw {
		if !ps.fin || length != int64(ps.msg.size) {
			return used, fmt.Errorf("message %d: raw echo frame FIN=%v length %d, sent FIN=true length %d", ps.seq, ps.fin, length, ps.msg.size)
		}
		if k := ps.keys(); ps.key != k {
			return used, fmt.Errorf("message %d: raw echo masking key %#08x, sent %#08x", ps.seq, ps.key, k)
		}
	}
	if int64(ps.msgOff)+length > int64(ps.msg.size) {
		return used, fmt.Errorf("message %d: echo is longer than the %d bytes sent (%d + frame of %d)", ps.seq, ps.msg.size, ps.msgOff, length)
	}
	if ps.fin && int64(ps.msgOff)+length != int64(ps.msg.size) {
		return used, fmt.Errorf("message %d: echo ends after %d bytes, sent %d", ps.seq, int64(ps.msgOff)+length, ps.msg.size)
	}
	ps.inMsg = !ps.fin
	return used, nil
}

// payload checks (or, for control frames, collects) payload bytes.
func (ps *parser) payload(p []byte) error {
	if ps.op >= opClose {
		ps.ctrl = append(ps.ctrl, p...)
		return nil
	}
	if ps.raw {
		if err := ps.msg.checkMasked(ps.seq, ps.msgOff, p, ps.key); err != nil {
			return err
		}
		ps.keyPos += len(p)
	} else if err := ps.msg.check(ps.seq, ps.msgOff, p); err != nil {
		return err
	}
	ps.msgOff += len(p)
	return nil
}

// endFrame finishes the current frame and reports whether it completed a
// message.
func (ps *parser) endFrame() (bool, error) {
	ps.inFrame = false
	switch ps.op {
	case opClose:
		code, reason := 0, ""
		if len(ps.ctrl) >= 2 {
			code = int(binary.BigEndian.Uint16(ps.ctrl))
			reason = string(ps.ctrl[2:])
		}
		if !ps.closeOK {
			return false, fmt.Errorf("message %d: server sent close (code %d, reason %q)", ps.seq, code, reason)
		}
		ps.gotClose, ps.code = true, code
		return false, nil
	case opPing, opPong:
		return false, fmt.Errorf("message %d: unexpected control frame %#x from the server", ps.seq, ps.op)
	case opContinuation, opBinary:
		if !ps.fin {
			return false, nil
		}
		ps.seq++
		ps.msgOff = 0
		return true, nil
	}
	return false, fmt.Errorf("message %d: opcode %#x", ps.seq, ps.op)
}
