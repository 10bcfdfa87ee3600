//go:build linux

package main

import (
	"context"
	"sync"
	"time"
)

// The compression bomb: a raw DEFLATE stream (RFC 1951) of zeros, written
// bit by bit here rather than with compress/flate, whose encoder gives
// about 1:1000 at best and takes seconds per GiB. One dynamic-Huffman block
// whose literal/length code gives the longest match (length 258, symbol
// 285) one bit and whose distance code gives distance 1 one bit inflates
// 258 bytes per 2 bits: 1 GiB of zeros from about 1 MiB.

// bitWriter writes a DEFLATE bit stream: fields least significant bit
// first, Huffman codes most significant bit first (RFC 1951 §3.1.1).
type bitWriter struct {
	buf   []byte
	nbits uint64 // bits written so far
}

// bits writes the n low bits of v, least significant first.
func (w *bitWriter) bits(v uint64, n uint) {
	for i := range n {
		w.bit(v >> i & 1)
	}
}

// code writes an n-bit Huffman code, most significant bit first.
func (w *bitWriter) code(c uint64, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.bit(c >> uint(i) & 1)
	}
}

func (w *bitWriter) bit(b uint64) {
	if b != 0 {
		w.grow()
		w.buf[w.nbits/8] |= 1 << (w.nbits % 8)
	}
	w.nbits++
}

// zeros writes n zero bits.
func (w *bitWriter) zeros(n uint64) { w.nbits += n }

// align skips to the next byte boundary.
func (w *bitWriter) align() { w.nbits = (w.nbits + 7) &^ 7 }

// grow makes buf cover the bit at nbits.
func (w *bitWriter) grow() { w.extend(w.nbits/8 + 1) }

// extend makes buf n bytes long, the new ones zero.
func (w *bitWriter) extend(n uint64) {
	if more := int(n) - len(w.buf); more > 0 {
		w.buf = append(w.buf, make([]byte, more)...)
	}
}

// bytes returns the stream, whole bytes up to the last bit written.
func (w *bitWriter) bytes() []byte {
	w.extend((w.nbits + 7) / 8)
	return w.buf
}

// The fixed parts of the bomb's block header: the code-length alphabet's
// order (RFC 1951 §3.2.7) and the three lengths the header needs, which
// make a complete prefix code: symbol 18 (a run of zero lengths) "0",
// length 1 "10", length 2 "11".
var clOrder = [...]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

const (
	clRunZeros = 18 // code-length symbol: 11-138 zero lengths, 7 extra bits
	bombLitLen = 286
	bombDists  = 2
)

// deflateZeros returns a DEFLATE stream that inflates to n zero bytes and
// ends the way permessage-deflate wants a message to end (RFC 7692
// §7.2.1): with a sync flush (an empty stored block) whose last four
// bytes, 00 00 ff ff, are removed; the receiver puts them back. The stream
// has no final block, as a message under context takeover would not.
//
// The one dynamic block has literal/length code lengths 0: 2, 256 (end of
// block): 2, 285 (length 258): 1, and two distance codes of length 1, so
// that the canonical codes are 285 "0", literal 0 "10", end "11", distance
// 1 "0". The data is literal 0 and then (n-1)/258 matches of length 258 at
// distance 1, which are all zero bits, then the remainder as literals.
func deflateZeros(n int64) []byte {
	w := &bitWriter{buf: make([]byte, 0, n/1032+64)}
	if n > 0 {
		w.bits(0, 1) // BFINAL: not the last block
		w.bits(2, 2) // BTYPE 10: dynamic Huffman codes
		w.bits(bombLitLen-257, 5)
		w.bits(bombDists-1, 5)
		clLen := map[int]uint64{clRunZeros: 1, 1: 2, 2: 2}
		w.bits(uint64(len(clOrder)-1-4), 4) // HCLEN: up to symbol 1, the 18th in clOrder
		for _, sym := range clOrder[:len(clOrder)-1] {
			w.bits(clLen[sym], 3)
		}
		lenOne := func() { w.code(0b10, 2) }
		lenTwo := func() { w.code(0b11, 2) }
		runZeros := func(k uint64) { w.code(0, 1); w.bits(k-11, 7) }
		lenTwo()        // literal 0
		runZeros(138)   // literals 1-138
		runZeros(117)   // literals 139-255
		lenTwo()        // 256, end of block
		runZeros(28)    // lengths 257-284
		lenOne()        // 285, length 258
		lenOne()        // distance code 0: distance 1
		lenOne()        // distance code 1: unused, completes the code
		w.code(0b10, 2) // literal 0, the history the matches copy
		rest := uint64(n - 1)
		w.zeros(rest / 258 * 2) // each match: "0" (length 258), "0" (distance 1)
		for range rest % 258 {
			w.code(0b10, 2) // literal 0
		}
		w.code(0b11, 2) // end of block
	}
	// The sync flush: a stored block's header, then LEN 0000 and NLEN
	// ffff on the next byte boundary; those four bytes are left off.
	w.bits(0, 3)
	w.align()
	return w.bytes()
}

// runBomb has every connection negotiate permessage-deflate and then, all
// at once, send one message of about 1 MiB that inflates to bombSize bytes
// of zeros. Each must be closed (1009, past the message limit; or 1013,
// refused by a memory budget) within 5 s, and the server's RSS must come
// back once the bombers have gone.
func runBomb(ctx context.Context, e *env, r *result) {
	n := e.cfg.bombConns
	payload := deflateZeros(e.cfg.bombSize)
	msg := appendFrame(nil, finBit|rsv1Bit|opBinary, payload)
	conns, errs := openAll(ctx, e, n, true)
	var codes tally
	var lat latencies
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, w := range conns {
		wg.Go(func() {
			defer reset(w.c)
			<-start
			t0 := time.Now()
			w.c.SetDeadline(t0.Add(30 * time.Second))
			// The server may refuse before it has read the whole
			// message, so the reading does not wait for the writing.
			var writer sync.WaitGroup
			defer writer.Wait()
			writer.Go(func() { w.c.Write(msg) })
			code, err := w.readClose()
			codes.add(outcome(code, err))
			if err == nil {
				lat.add(time.Since(t0))
			}
			reset(w.c) // ends the writer, if it still writes
		})
	}
	close(start)
	wg.Wait()
	left := time.Now()

	// RSS back within 64 MiB of the baseline, and how soon.
	const within = 64 << 20
	back := time.Duration(-1)
	var last int64
	gone := false
	for deadline := left.Add(e.cfg.rssReturn); ctx.Err() == nil; {
		st, err := e.srv.sample()
		if err != nil {
			gone = true
			break
		}
		last = st.RSS
		if st.RSS-e.base.RSS < within {
			back = time.Since(left)
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	s := lat.sorted()
	r.fig("%d bombs of %s MiB inflating to %s MiB each: %s, closed after %s", len(conns), mib(int64(len(payload))), mib(e.cfg.bombSize), &codes, spread(s))
	switch {
	case gone:
		r.fig("no server left to measure after the bombers")
	case back >= 0:
		r.fig("RSS within 64 MiB of the baseline %s after the bombers left", fmtDur(back))
	default:
		r.fig("RSS %s MiB %s after the bombers left", mib(last), fmtDur(time.Since(left)))
	}
	r.check(errs.count() == 0, "every bomber negotiated permessage-deflate (%s)", errs)
	r.check(codes.count("1009")+codes.count("1013") == n, "every bomber closed 1009 or 1013 (%s)", &codes)
	r.check(len(s) > 0 && s[len(s)-1] <= 5*time.Second, "every bomber closed within 5s (last after %s)", fmtDur(quantile(s, 1)))
	r.check(back >= 0, "RSS back within 64 MiB of the baseline within %s of the bombers leaving", fmtDur(e.cfg.rssReturn))
}
