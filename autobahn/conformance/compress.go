package conformance

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// pmdState is the runner's end of a permessage-deflate connection (RFC 7692
// §7.2): a compressor for what it sends and a decompressor plus window
// checker for what it receives. It is built on compress/flate, never on the
// library under test.
//
// Sending. The suite's compressor is zlib at its default level (6), so with
// a 15-bit window the runner uses flate.NewWriter at level 6. compress/flate
// always searches a 32 KiB window and cannot be told to stay within a
// smaller one, so when the testee asked for fewer than 15 bits the runner
// sends Huffman-only blocks (flate.HuffmanOnly): a stream with no
// back-references at all is valid for every window. Without context takeover
// each message is a fresh stream; with it one writer carries on across
// messages, each ended by a sync flush.
//
// Receiving. compress/flate decodes, with the last 32 KiB of earlier output
// as dictionary when the peer keeps its context. The checker of inflate.go
// then parses the same bytes for back-references beyond the agreed window
// or before the start of the message (no takeover) or connection.
type pmdState struct {
	agreed DeflateParams

	sendTakeover bool
	sendLevel    int
	fw           *flate.Writer
	fbuf         bytes.Buffer

	recvTakeover bool
	recvWindow   int
	fr           io.ReadCloser
	hist         []byte // last 32 KiB of received output (takeover only)
	histTotal    int64  // all bytes received so far (takeover only)
	in           []byte // scratch: payload plus tail
}

// suiteLevel is the compression level of the suite's compressor.
const suiteLevel = 6

// flateWindow is compress/flate's window, the largest RFC 7692 allows.
const flateWindow = 1 << 15

func newPMD(p DeflateParams, role Role) *pmdState {
	s := &pmdState{agreed: p}
	sendNoTakeover, sendBits := p.ClientNoContextTakeover, p.ClientMaxWindowBits
	recvNoTakeover, recvBits := p.ServerNoContextTakeover, p.ServerMaxWindowBits
	if role == RoleServer {
		sendNoTakeover, sendBits, recvNoTakeover, recvBits = recvNoTakeover, recvBits, sendNoTakeover, sendBits
	}
	s.sendTakeover = !sendNoTakeover
	s.sendLevel = suiteLevel
	if sendBits < 15 {
		s.sendLevel = flate.HuffmanOnly
	}
	s.recvTakeover = !recvNoTakeover
	s.recvWindow = 1 << recvBits
	return s
}

// syncTail is what a sync flush ends with and what RFC 7692 §7.2.1 strips.
var syncTail = []byte{0x00, 0x00, 0xff, 0xff}

// compress returns msg compressed as one permessage-deflate message.
func (s *pmdState) compress(msg []byte) []byte {
	s.fbuf.Reset()
	switch {
	case s.fw == nil:
		s.fw, _ = flate.NewWriter(&s.fbuf, s.sendLevel) // the level is valid
	case !s.sendTakeover:
		s.fw.Reset(&s.fbuf)
	}
	s.fw.Write(msg) // a bytes.Buffer does not fail
	s.fw.Flush()
	out := s.fbuf.Bytes()
	if !bytes.HasSuffix(out, syncTail) {
		panic("conformance: compress/flate did not end a flush with 00 00 ff ff")
	}
	return bytes.Clone(out[:len(out)-len(syncTail)])
}

// finalEmpty is an empty stored block with BFINAL set: appended after the
// tail, it lets compress/flate end with io.EOF instead of running out of
// input inside the stream.
var finalEmpty = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

// errBadDeflate wraps the reasons a compressed message is refused.
var errBadDeflate = errors.New("undecodable compressed message")

// decompress inflates one received message (its payload without the tail)
// and checks it against the agreed window and context takeover. limit
// bounds the decompressed size.
func (s *pmdState) decompress(payload []byte, limit int64) ([]byte, error) {
	s.in = append(append(s.in[:0], payload...), syncTail...)
	var hist int64
	if s.recvTakeover {
		hist = s.histTotal
	}
	if _, err := checkDeflate(s.in, s.recvWindow, hist, limit); err != nil {
		if errors.Is(err, errTooLong) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", errBadDeflate, err)
	}
	var dict []byte
	if s.recvTakeover {
		dict = s.hist
	}
	src := bytes.NewReader(append(s.in, finalEmpty...))
	if s.fr == nil {
		s.fr = flate.NewReaderDict(src, dict)
	} else {
		s.fr.(flate.Resetter).Reset(src, dict)
	}
	out, err := io.ReadAll(io.LimitReader(s.fr, limit+1))
	switch {
	case err != nil:
		// The checker accepted what compress/flate refuses: report it as
		// the peer's fault, but name both.
		return nil, fmt.Errorf("%w: compress/flate: %w", errBadDeflate, err)
	case int64(len(out)) > limit:
		return nil, errTooLong
	}
	if s.recvTakeover {
		s.histTotal += int64(len(out))
		s.hist = append(s.hist, out...)
		if len(s.hist) > flateWindow {
			s.hist = append(s.hist[:0], s.hist[len(s.hist)-flateWindow:]...)
		}
	}
	return out, nil
}
