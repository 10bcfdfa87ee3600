package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// conn is one connection of the idle and handshake modes, used
// synchronously: write a frame, read until the answer is complete.
type conn struct {
	nc   net.Conn
	br   []byte
	rest []byte
	msg  message
	ps   parser
	seq  uint64
}

func newConn(cfg *config, pattern []byte) (*conn, error) {
	nc, rest, err := dial(cfg)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, rest: rest, msg: message{size: 16, salt: randomUint64(), pattern: pattern}}
	c.ps.msg = &c.msg
	return c, nil
}

// echo sends one 16-byte message and waits for its checked echo.
func (c *conn) echo(timeout time.Duration) error {
	var frame [64]byte
	b := c.msg.appendFrame(frame[:0], c.seq, uint32(randomUint64()))
	c.seq++
	c.nc.SetDeadline(time.Now().Add(timeout))
	defer c.nc.SetDeadline(time.Time{})
	if _, err := c.nc.Write(b); err != nil {
		return err
	}
	return c.readUntil(func() bool { return c.ps.seq == c.seq })
}

// readUntil feeds the parser until cond holds.
func (c *conn) readUntil(cond func() bool) error {
	if c.br == nil {
		c.br = make([]byte, 512)
	}
	for !cond() {
		p := c.rest
		c.rest = nil
		if len(p) == 0 {
			n, err := c.nc.Read(c.br)
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
			p = c.br[:n]
		}
		if _, err := c.ps.feed(p); err != nil {
			return err
		}
	}
	c.br = nil // idle connections keep no read buffer
	return nil
}

// closeHandshake sends close 1000, expects the server's close frame (1000
// or no code) and then the end of the stream: the server closes TCP first
// (RFC 6455 §7.1.1).
func (c *conn) closeHandshake(timeout time.Duration) error {
	var frame [16]byte
	key := uint32(randomUint64())
	b := appendHeader(frame[:0], opClose, 2, key)
	b = binary.BigEndian.AppendUint16(b, 1000)
	maskXor(b[len(b)-2:], b[len(b)-2:], key, 0)
	c.nc.SetDeadline(time.Now().Add(timeout))
	if _, err := c.nc.Write(b); err != nil {
		return err
	}
	c.ps.closeOK = true
	if err := c.readUntil(func() bool { return c.ps.gotClose }); err != nil {
		return fmt.Errorf("waiting for the server's close frame: %w", err)
	}
	if c.ps.code != 1000 && c.ps.code != 0 {
		return fmt.Errorf("server answered close 1000 with code %d", c.ps.code)
	}
	var one [1]byte
	n, err := c.nc.Read(one[:])
	if n > 0 {
		return errors.New("server sent data after its close frame")
	}
	if err != io.EOF {
		return fmt.Errorf("waiting for the server to close TCP: %w", err)
	}
	return nil
}

func closeAll(conns []*conn) {
	for _, c := range conns {
		if c != nil {
			c.nc.Close()
		}
	}
}
