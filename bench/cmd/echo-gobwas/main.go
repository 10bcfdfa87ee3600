// Command echo-gobwas is a WebSocket echo server built on github.com/gobwas/ws
// and its wsutil package, for conformance runs and benchmarks side by side
// with this module's own echo server.
//
//	echo-gobwas -addr 127.0.0.1:9003
//
// It echoes every text and binary message at any path, written the way the
// gobwas README recommends for speed: the zero-copy ws.Upgrader on a plain
// net.Listener (no net/http), and per connection one wsutil.Reader and one
// wsutil.Writer, reused for every message (the README's "lower-level, but
// still high-level" echo). Each message is read into a buffer that is kept
// and reused, so the echo allocates nothing once the buffer has grown, and
// written back with one Write and Flush: a small message leaves in one
// frame and one write call, a large one (over the Writer's 4 KiB buffer)
// straight from the message buffer instead of in 4 KiB fragments, which is
// what the README's io.Copy from Reader to Writer would do. Control frames
// go to wsutil.ControlFrameHandler, and text is checked for UTF-8
// (Reader.CheckUTF8), as in the library's own Autobahn example. wsutil has no
// read limit by default (and never trusts a declared length for
// allocation), so none is set.
package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9003", "address to listen on")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("echo-gobwas: listening on %s", ln.Addr())
	var u ws.Upgrader // Accepts any path, any Origin: this is a test server.
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer conn.Close()
			if _, err := u.Upgrade(conn); err != nil {
				return // Upgrade has already written the HTTP error.
			}
			fail(conn, echo(conn))
		}()
	}
}

// echo copies every data message from conn back to conn until the peer
// closes or breaks the protocol, and returns why it stopped.
func echo(conn net.Conn) error {
	const state = ws.StateServerSide
	control := wsutil.ControlFrameHandler(conn, state)
	r := &wsutil.Reader{
		Source:         conn,
		State:          state,
		CheckUTF8:      true,
		OnIntermediate: control, // pings and closes between fragments
	}
	w := wsutil.NewWriter(conn, state, 0)
	var msg bytes.Buffer // reused for every message
	for {
		h, err := r.NextFrame()
		if err != nil {
			return err
		}
		if h.OpCode.IsControl() {
			if err := control(h, r); err != nil {
				return err
			}
			continue
		}
		msg.Reset()
		if _, err := msg.ReadFrom(r); err != nil {
			return err
		}
		w.Reset(conn, state, h.OpCode)
		if _, err := w.Write(msg.Bytes()); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// fail ends the connection after a protocol violation the way gobwas's
// Autobahn example does: send the matching close frame, half-close, and
// drain briefly so the peer reads the close before the socket goes away.
// wsutil only reports these errors; sending the close is left to the caller.
func fail(conn net.Conn, err error) {
	var frame []byte
	var perr ws.ProtocolError
	switch {
	case errors.As(err, &perr):
		frame = ws.CompiledCloseProtocolError
	case errors.Is(err, wsutil.ErrInvalidUTF8):
		frame = ws.CompiledCloseInvalidFramePayloadData
	default:
		return // a clean close (wsutil.ClosedError) or a network error
	}
	if _, err := conn.Write(frame); err != nil {
		return
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	io.Copy(io.Discard, conn)
}
