package session

import (
	"context"
	"errors"
	"unsafe"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/stack"
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
//
// While it waits for the socket between messages, Serve holds no message
// buffer.
func (s *Session) Serve(ctx context.Context) error {
	s.setDriving(true)
	defer s.setDriving(false)
	_, err := s.drive(ctx, waitBlock)
	return err
}

// setDriving records that a driver (Serve, ServeDetached) reads the
// session, so that the heartbeat leaves the reading to it (readControl)
// even while it is between two messages.
func (s *Session) setDriving(on bool) {
	if s.hb == nil || !s.hb.reads {
		return
	}
	s.lockRead()
	s.driving = on
	s.readMu.Unlock()
}

// ServeReady handles everything an event loop's connection has ready
// (conn.Conn.Evented): it reads without waiting, hands each whole message
// to Options.OnMessage, and returns when it would have to wait, or when
// the socket says it would (an event loop's socket does so once it has had
// its share of the loop's turn, and the loop calls again for the rest).
// The loop calls it whenever bytes arrive (or a deadline passes). It reports
// whether the session has ended, and then what Serve would return.
//
// Replies written by OnMessage are held until the batch is handled, as
// in Serve. A message still arriving is kept in a pooled buffer between
// calls; an idle session holds none. Only the loop may call it.
func (s *Session) ServeReady() (ended bool, err error) {
	end, err := s.drive(context.Background(), waitLoop)
	return end == driveEnded, err
}

// waitMode is how the message driver waits for bytes between messages: the
// one thing in which Serve, ServeDetached and ServeReady differ.
type waitMode uint8

const (
	// waitBlock waits for the socket on the calling goroutine (Serve).
	waitBlock waitMode = iota
	// waitDetached waits on a goroutine of the session's own, and moves to
	// a fresh goroutine once its stack has grown (ServeDetached; see
	// detached.go).
	waitDetached
	// waitLoop never waits: the driver returns when the transport says it
	// would block, and the event loop calls again when bytes arrive
	// (ServeReady).
	waitLoop
)

// driveEnd is why drive returned.
type driveEnd uint8

const (
	driveEnded      driveEnd = iota // the session ended, or ctx did
	driveWouldBlock                 // waitLoop: nothing more has arrived
	driveMove                       // waitDetached: go on from a fresh goroutine
)

// drive is the message driver of every I/O mode. It waits for the next
// message as mode says, reads it into the driver's buffer (readNext),
// holds writes while more frames wait in the read buffer (corkIfMore),
// hands the message to OnMessage, and goes on until the session ends, the
// loop's transport would block, or a detached driver moves. The close
// handshake and decompression happen inside the read, the same in every
// mode. When it returns for good (not to move), held writes go out.
//
// The message buffer, one policy for all modes: a pooled buffer
// (s.lmsg), sized like the last message (up to 4 MiB) so that a stream
// of large messages does not regrow a small one every batch, kept while
// messages keep coming, and given back to the pool as soon as the next
// read would wait for the socket. An idle session, whoever serves it,
// holds no message buffer; a busy one reuses its buffer and does not
// allocate. The pool files a buffer by its size, so one that grew for a
// large message serves a large message next, and no session keeps a huge
// buffer after the message that needed it.
//
// The error is what Serve returns (see serveResult); it is nil unless the
// driver ended.
func (s *Session) drive(ctx context.Context, mode waitMode) (driveEnd, error) {
	// The runtime moves a stack to grow it. Comparing a local's address
	// now and later tells whether this goroutine's stack grew, without
	// asking the runtime; only a detached driver looks.
	var marker byte
	start := uintptr(unsafe.Pointer(&marker))
	for {
		grown := start != uintptr(unsafe.Pointer(&marker))
		if s.waitIdle(ctx, mode, grown) {
			return driveMove, nil
		}
		if mode == waitDetached && !grown {
			// Work ahead, on a fresh stack too small for reading and
			// answering a message: grow it now, while it is shallow.
			stack.Grow()
		}
		typ, data, err := s.readNext(ctx, mode)
		if err != nil {
			s.releaseWrites()
			if err == conn.ErrWouldBlock {
				return driveWouldBlock, nil
			}
			if err == errStarved {
				if err = s.pauseForBudget(); err == nil {
					return driveWouldBlock, nil
				}
			}
			return driveEnded, serveResult(err)
		}
		if f := s.opts.OnMessage; f != nil {
			s.corkIfMore()
			f(s, typ, data)
		}
		s.lmsg.B = data[:0] // grown for a large message: the pool files it by size
		s.msgHint = int32(min(cap(data), 4<<20))
	}
}

// waitIdle waits, as mode says, for bytes while the reader is idle (between
// messages, nothing buffered: the next read would wait for the socket),
// first giving back the message buffer, and reports whether a
// detached driver is to move to a fresh goroutine. grown tells a detached
// driver that its stack has grown.
func (s *Session) waitIdle(ctx context.Context, mode waitMode, grown bool) (move bool) {
	switch mode {
	case waitBlock:
		s.lockRead()
		defer s.readMu.Unlock()
		if s.betweenMessagesLocked() && s.c.Buffered() == 0 {
			s.dropMessageBuffer()
			if ctx.Err() == nil {
				// Errors are left for the read to meet and report.
				s.readWatch(ctx)
				s.c.WaitReadable()
			}
		}
		return false
	case waitDetached:
		return s.waitDetached(ctx, grown)
	}
	// waitLoop: the read says whether bytes have come, and a read that
	// finds none gives the buffer back (readNext).
	return false
}

// readNext reads the next message into the driver's buffer, s.lmsg, taken
// from the pool if none is held, or the start of a message that a
// cancelled read left in s.partial. A message cut short by
// conn.ErrWouldBlock stays in s.lmsg for the loop's next call; one cut
// short by a cancelled context moves to s.partial, where any later read,
// pull or push, goes on with it. On every other error, and when nothing
// of a message has arrived, the buffer goes back to the pool.
func (s *Session) readNext(ctx context.Context, mode waitMode) (frame.Opcode, []byte, error) {
	s.lockRead()
	defer s.readMu.Unlock()
	if err := s.readable(ctx, mode != waitLoop); err != nil {
		s.dropMessageBuffer()
		return 0, nil, err
	}
	if s.lmsg == nil {
		s.lmsg, s.partial = s.partial, nil
		if s.lmsg == nil {
			size := max(512, int(s.msgHint))
			if size > budgetFree && !s.reserveHint(size) {
				size = 512 // a hint is not worth waiting for
			}
			s.lmsg = bufpool.Get(size)
		}
	}
	s.readWatch(ctx)
	typ, data, err := s.readMessage(ctx, s.lmsg.B, 0)
	if err == nil {
		s.lmsg.B = data // grown: what the budget was charged for
		return typ, data, nil
	}
	if s.readErr == nil && len(data) > 0 {
		s.lmsg.B = data // the start of a message: keep it
		if err != conn.ErrWouldBlock && err != errStarved {
			s.partial, s.lmsg = s.lmsg, nil
		}
		return 0, nil, err
	}
	s.dropMessageBuffer()
	if s.readErr != nil {
		s.releaseReadMemory()
	}
	return 0, nil, err
}

// dropMessageBuffer gives the driver's message buffer back to the pool,
// and the budget what it was charged for it.
func (s *Session) dropMessageBuffer() {
	if s.lmsg != nil {
		s.putBuffer(s.lmsg)
		s.lmsg = nil
		s.settle()
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

// betweenMessagesLocked reports whether the reader is between messages,
// with nothing half read and the session alive. readMu is held.
func (s *Session) betweenMessagesLocked() bool {
	return s.readErr == nil && !s.inFrame && !s.streamOn && s.partial == nil && !s.inflating
}

// corkIfMore holds writes while more frames wait in the read buffer (see
// Serve). The read state is the reader's, and Close may read too: readMu.
func (s *Session) corkIfMore() {
	s.lockRead()
	if s.c.Buffered() > 0 {
		s.c.CorkUntilRead()
	}
	s.readMu.Unlock()
}

// releaseWrites ends the hold of corkIfMore, under readMu like it.
func (s *Session) releaseWrites() {
	s.lockRead()
	s.c.ReleaseWrites()
	s.readMu.Unlock()
}

// waitReadable parks an idle detached driver, so that the runtime can
// shrink the stacks of idle connections. Errors are left for the read to
// meet and report; waitReadable returns them only so that a detached
// driver can tell an interruption.
func (s *Session) waitReadable(ctx context.Context) error {
	s.lockRead()
	defer s.readMu.Unlock()
	if s.betweenMessagesLocked() && ctx.Err() == nil {
		s.readWatch(ctx)
		return s.c.WaitReadable()
	}
	return nil
}
