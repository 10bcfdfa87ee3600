package main

import (
	"math/rand/v2"
	"net"
)

// flushAt is how many bytes of frames the sender gathers at most before
// it writes them.
const flushAt = 64 << 10

// sender writes a connection's messages: it owns the sequence numbers, the
// mask key sequence and the write buffer. The writer goroutine uses it, or
// with -sync-write the reader.
type sender struct {
	c   *client
	rng *rand.Rand
	buf []byte
	seq uint64
	iov [][]byte // premasked: heads and bodies, for writev
}

func (c *client) newSender() *sender {
	frameSize := c.cfg.size + 14
	// At most -inflight frames are ever pending (credit is never more), and
	// a write goes out once flushAt is reached: size the buffer to the
	// smaller, so that 10,000 connections with one small message in
	// flight do not hold 64 KiB each.
	return &sender{
		c:   c,
		rng: rand.New(rand.NewPCG(c.seed[0], c.seed[1])),
		buf: make([]byte, 0, min(c.cfg.inflight*frameSize, max(flushAt, frameSize)+frameSize)),
	}
}

// send writes the next n messages, as few write calls as flushAt allows.
func (s *sender) send(n int64) error {
	c := s.c
	if c.pre != nil {
		return s.sendPremasked(n)
	}
	k := uint64(c.cfg.inflight)
	t := now()
	for ; n > 0; n-- {
		c.sent[s.seq%k].Store(t)
		s.buf = c.msg.appendFrame(s.buf, s.seq, uint32(s.rng.Uint64()))
		s.seq++
		if len(s.buf) >= flushAt {
			if _, err := c.nc.Write(s.buf); err != nil {
				return err
			}
			s.buf = s.buf[:0]
			t = now()
		}
	}
	if len(s.buf) > 0 {
		if _, err := c.nc.Write(s.buf); err != nil {
			return err
		}
		s.buf = s.buf[:0]
	}
	return nil
}

// premaskBatch is how many large messages go out in one writev at most.
const premaskBatch = 16

// sendPremasked is send for large messages: each frame is its head, made
// now, and a body masked in advance, written together with writev.
func (s *sender) sendPremasked(n int64) error {
	c := s.c
	k := uint64(c.cfg.inflight)
	for n > 0 {
		batch := min(n, premaskBatch)
		if cap(s.buf) < premaskBatch*maxHead {
			s.buf = make([]byte, 0, premaskBatch*maxHead)
		}
		heads, iov := s.buf[:0], s.iov[:0]
		t := now()
		for range batch {
			v := s.seq % premaskVariants
			c.sent[s.seq%k].Store(t)
			start := len(heads)
			heads = c.msg.appendHead(heads, s.seq, c.pre.keys[v])
			iov = append(iov, heads[start:], c.pre.bodies[v])
			s.seq++
		}
		s.iov = iov
		bufs := net.Buffers(iov)
		if _, err := bufs.WriteTo(c.nc); err != nil {
			return err
		}
		n -= batch
	}
	return nil
}
