package session

import (
	"context"
	"errors"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/pool"
)

// Serve reads messages until the session ends, handing each to
// Options.OnMessage (which may be nil to discard them). It returns nil when
// the session ended with a close handshake and the cause otherwise; how it
// ended is in Err.
//
// While frames that have already arrived wait in the read buffer, writes
// are held (conn.Conn.CorkUntilRead) and go out together when Serve next
// waits for the socket: replies to a batch of pipelined messages cost one
// system call, and the added latency is at most the time OnMessage takes
// for the messages already received. Call Flush to send at once.
func (s *Session) Serve(ctx context.Context) error {
	var buf []byte
	defer s.releaseWrites()
	for {
		s.waitReadable(ctx)
		typ, data, err := s.AppendMessage(ctx, buf[:0])
		if err != nil {
			return serveResult(err)
		}
		if f := s.opts.OnMessage; f != nil {
			s.corkIfMore()
			f(s, typ, data)
		}
		if cap(data) <= 1<<20 {
			buf = data // keep a reasonable buffer for the next message
		}
	}
}

// ServeReady handles everything an event loop's connection has ready
// (conn.Conn.Evented): it reads without waiting, hands each whole message
// to Options.OnMessage, and returns when it would have to wait. The loop
// calls it whenever bytes arrive (or a deadline passes). It reports
// whether the session has ended, and then what Serve would return.
//
// Replies written by OnMessage are held until the batch is handled, as
// in Serve. A message still arriving is kept in a pooled buffer between
// calls; an idle session holds none. Only the loop may call it.
func (s *Session) ServeReady() (ended bool, err error) {
	defer s.releaseWrites()
	for {
		if s.lmsg == nil {
			s.lmsg = pool.GetBuffer(max(512, int(s.msgHint)))
		}
		s.readMu.Lock()
		var (
			typ  MessageType
			data []byte
		)
		if s.readErr != nil {
			err = s.readErr
		} else {
			typ, data, err = s.readMessage(context.Background(), s.lmsg.B, 0)
		}
		s.readMu.Unlock()
		if err != nil {
			if err == conn.ErrWouldBlock && len(data) > 0 {
				s.lmsg.B = data // the start of a message: keep it
				return false, nil
			}
			pool.PutBuffer(s.lmsg)
			s.lmsg = nil
			if err == conn.ErrWouldBlock {
				return false, nil
			}
			return true, serveResult(err)
		}
		if f := s.opts.OnMessage; f != nil {
			s.corkIfMore()
			f(s, typ, data)
		}
		s.lmsg.B = data[:0] // grown for a large message: the pool files it by size
		s.msgHint = int32(min(cap(data), 4<<20))
	}
}

// serveResult is what Serve returns for the error that ended its loop.
func serveResult(err error) error {
	var ce *CloseError
	if errors.As(err, &ce) && ce.Code != frame.StatusAbnormalClosure && ce.Err == nil {
		return nil
	}
	return err
}

// readIdle reports whether the reader has nothing buffered and nothing
// half read: the next read would wait for the socket.
func (s *Session) readIdle() bool {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	return s.betweenMessagesLocked() && s.c.Buffered() == 0
}

// betweenMessagesLocked reports whether the reader is between messages,
// with nothing half read and the session alive. readMu is held.
func (s *Session) betweenMessagesLocked() bool {
	return s.readErr == nil && !s.inFrame && !s.streamOn && s.partial == nil
}

// corkIfMore holds writes while more frames wait in the read buffer (see
// Serve). The read state is the reader's, and Close may read too: readMu.
func (s *Session) corkIfMore() {
	s.readMu.Lock()
	if s.c.Buffered() > 0 {
		s.c.CorkUntilRead()
	}
	s.readMu.Unlock()
}

// releaseWrites ends the hold of corkIfMore, under readMu like it.
func (s *Session) releaseWrites() {
	s.readMu.Lock()
	s.c.ReleaseWrites()
	s.readMu.Unlock()
}

// waitReadable parks an idle Serve loop with a shallow stack, so that the
// runtime can shrink the stacks of idle connections. Errors are left for
// AppendMessage to meet and report; waitReadable returns them only so
// that a detached loop can tell an interruption.
func (s *Session) waitReadable(ctx context.Context) error {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.betweenMessagesLocked() && ctx.Err() == nil {
		s.readWatch(ctx)
		return s.c.WaitReadable()
	}
	return nil
}
