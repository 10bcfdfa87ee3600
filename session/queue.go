package session

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

// SlowPolicy is what Enqueue does when a session's send queue is full: the
// peer reads more slowly than the application sends.
type SlowPolicy uint8

const (
	// PolicyBlock waits up to Options.SlowTimeout for room in the queue,
	// then drops the message and returns an error wrapping ErrQueueFull
	// (match it with errors.Is). It suits peers
	// that are briefly slow; the sender waits, so a broadcaster waits too
	// (at most SlowTimeout in all, however many sessions are slow).
	PolicyBlock SlowPolicy = iota
	// PolicyDrop drops the message at once and returns ErrQueueFull. It
	// suits streams where a newer message replaces an older one (prices,
	// positions); the peer misses messages without being told.
	PolicyDrop
	// PolicyClose closes the session with Options.SlowCloseCode and
	// returns ErrSlowConsumer: a peer that cannot keep up is asked to
	// reconnect rather than fed an incomplete stream.
	PolicyClose
)

// String returns "block", "drop" or "close".
func (p SlowPolicy) String() string {
	switch p {
	case PolicyBlock:
		return "block"
	case PolicyDrop:
		return "drop"
	case PolicyClose:
		return "close"
	}
	return "slowpolicy(" + strconv.Itoa(int(p)) + ")"
}

// errFull is the internal "no room right now" of offer.
var errFull = errors.New("websocket: send queue full")

// qItem is one queued message: a data message to frame, or a prepared frame.
type qItem struct {
	typ  frame.Opcode
	data []byte
	p    *conn.Prepared
}

// sendQueue is a session's bounded queue and the state of the goroutine
// that drains it.
type sendQueue struct {
	ch chan qItem

	running atomic.Bool // the writer was started: the fast path of Enqueue
	mu      sync.Mutex  // orders starting the writer against joining it
	stopped bool        // the session ended: no writer may start
	wg      sync.WaitGroup

	slowOnce  sync.Once
	slowFired atomic.Bool
	slow      chan struct{} // closed when PolicyClose fires
}

// initQueue creates the queue; the writer goroutine starts at the first
// Enqueue.
func (s *Session) initQueue() {
	if s.opts.SendQueueSize > 0 {
		s.q = &sendQueue{ch: make(chan qItem, s.opts.SendQueueSize), slow: make(chan struct{})}
	}
}

// Enqueue sends data as one message of type typ through the session's send
// queue and returns without waiting for it to be written, unless the queue
// is full (see Options.SlowPolicy). data must not be modified after the
// call: the writer goroutine reads it later. Messages enqueued by one
// goroutine leave in the order they were enqueued; they are not ordered
// against messages written directly with WriteMessage.
//
// A nil error means the message was queued; a write error later ends the
// session (see Err). Messages still queued when the session ends are
// discarded. Without a queue (Options.SendQueueSize 0), Enqueue is
// WriteMessage: it writes synchronously and returns the write's error.
func (s *Session) Enqueue(typ frame.Opcode, data []byte) error {
	if typ != frame.OpText && typ != frame.OpBinary {
		return errMessageType
	}
	if s.q == nil {
		return s.WriteMessage(context.Background(), typ, data)
	}
	return s.enqueue(qItem{typ: typ, data: data})
}

// enqueuePrepared is Enqueue for a frame encoded once with conn.Prepare, as
// Manager.Broadcast does: the frame is written as it is, whatever
// Options.FragmentSize. Its opcode must be frame.OpText or frame.OpBinary.
func (s *Session) enqueuePrepared(p *conn.Prepared) error {
	if op := p.Opcode(); op != frame.OpText && op != frame.OpBinary {
		return errMessageType
	}
	if s.q == nil {
		return s.writePrepared(p)
	}
	return s.enqueue(qItem{p: p})
}

func (s *Session) enqueue(it qItem) error {
	err := s.offer(it)
	if err == errFull {
		err = s.onFull(it, time.Now().Add(s.opts.SlowTimeout))
	}
	return err
}

// offer queues it if there is room now, and returns errFull if not.
func (s *Session) offer(it qItem) error {
	q := s.q
	if q.slowFired.Load() {
		if err := s.closedErr(); err != nil {
			return err // its Err is ErrSlowConsumer
		}
		return ErrSlowConsumer
	}
	select {
	case <-s.Done():
		return s.endedErr()
	default:
	}
	if !q.running.Load() {
		if err := s.startWriter(); err != nil {
			return err
		}
	}
	select {
	case q.ch <- it:
		return nil
	default:
		return errFull
	}
}

// onFull applies the slow-consumer policy to it, which found the queue
// full. PolicyBlock waits until deadline. A drop is reported to OnDrop.
func (s *Session) onFull(it qItem, deadline time.Time) (err error) {
	defer func() {
		if f := s.opts.OnDrop; f != nil && (err == ErrQueueFull || err == errQueueTimeout) {
			f(s)
		}
	}()
	switch s.opts.SlowPolicy {
	case PolicyDrop:
		return ErrQueueFull
	case PolicyClose:
		s.slowClose()
		return ErrSlowConsumer
	}
	d := time.Until(deadline)
	if d <= 0 {
		return errQueueTimeout
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case s.q.ch <- it:
		return nil
	case <-t.C:
		return errQueueTimeout
	case <-s.Done():
		return s.endedErr()
	}
}

// endedErr is what sending on an ended session returns: how it ended.
func (s *Session) endedErr() error {
	if err := s.Err(); err != nil {
		return err
	}
	return net.ErrClosed
}

// slowClose starts closing a slow session: the writer goroutine sends the
// close frame, and the write deadline bounds how long that (and the write
// the writer may be stuck in) can take.
func (s *Session) slowClose() {
	q := s.q
	q.slowOnce.Do(func() {
		s.setResult(&CloseError{Code: s.opts.SlowCloseCode, Reason: "slow consumer", Err: ErrSlowConsumer})
		q.slowFired.Store(true)
		s.c.SetWriteDeadline(time.Now().Add(s.opts.SlowTimeout))
		close(q.slow)
	})
}

func (s *Session) startWriter() error {
	q := s.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return s.endedErr()
	}
	if !q.running.Load() {
		q.wg.Add(1)
		go s.writeLoop()
		q.running.Store(true)
	}
	return nil
}

// joinWriter waits for the writer goroutine, once the session has ended,
// and keeps another from starting.
func (s *Session) joinWriter() {
	q := s.q
	if q == nil {
		return
	}
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	q.wg.Wait()
}

// writeLoop is the writer goroutine: it drains the queue until the session
// ends. Messages that are already waiting are written corked, so a burst
// leaves in as few system calls as the write buffer allows.
func (s *Session) writeLoop() {
	q := s.q
	defer q.wg.Done()
	done := s.Done()
	for {
		select {
		case <-done:
			return
		case <-q.slow:
			// Best effort: the close frame gets out if the peer reads
			// before the deadline slowClose set; it is not waited for.
			s.sendClose(s.opts.SlowCloseCode, "slow consumer")
			s.endFrom(nil, endClose, false)
			return
		case it := <-q.ch:
			batch := len(q.ch) // only this goroutine receives: they stay there
			if batch > 0 {
				s.c.Cork()
			}
			err := s.writeItem(it)
			for i := 0; i < batch && err == nil && !q.slowFired.Load(); i++ {
				err = s.writeItem(<-q.ch)
			}
			if batch > 0 {
				if uerr := s.c.Uncork(); err == nil {
					err = uerr
				}
			}
			if err != nil && !errors.Is(err, conn.ErrCloseSent) {
				// After our close frame, queued messages are discarded.
				s.endFrom(err, endAbort, false)
				return
			}
		}
	}
}

// writeItem writes one queued message whole. It returns the connection's
// error as it is: the writer goroutine ends the session itself, without
// waiting for itself as writeError would.
func (s *Session) writeItem(it qItem) error {
	s.msgMu.Lock()
	defer s.msgMu.Unlock()
	s.dropWriteWatch() // no context: a WriteMessage's must not end this write
	if it.p != nil {
		return s.c.WritePrepared(it.p)
	}
	return s.writeFrames(frame.Opcode(it.typ), it.data)
}

// writePrepared writes p synchronously, for sessions without a queue.
func (s *Session) writePrepared(p *conn.Prepared) error {
	s.msgMu.Lock()
	defer s.msgMu.Unlock()
	s.dropWriteWatch()
	return s.writeError(context.Background(), s.c.WritePrepared(p))
}
