package session

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/conn"
)

// ServeDetached serves the session like Serve, but on goroutines of its
// own, and returns at once; done, if not nil, is called with what Serve
// would have returned once the session has ended.
//
// It is for servers holding many mostly idle connections. A goroutine's
// stack grows while it handles messages and does not shrink back while it
// waits; so when the session runs out of bytes on a grown stack, it moves
// to a fresh goroutine with a minimal stack, at most once a second, and
// otherwise once it has waited through a second or two; it holds no
// message buffer while it waits. A busy session moves at most once a
// second, which costs a goroutine start.
func (s *Session) ServeDetached(ctx context.Context, done func(error)) {
	s.det = new(detached)
	watchDetached(s)
	s.setDriving(true)
	go s.serveHop(ctx, func(err error) {
		s.setDriving(false)
		unwatchDetached(s)
		if done != nil {
			done(err)
		}
	})
}

// serveHop runs the driver on this goroutine until the session ends, or
// until the driver moves to a fresh goroutine, which goes on from here.
func (s *Session) serveHop(ctx context.Context, done func(error)) {
	if end, err := s.drive(ctx, waitDetached); end != driveMove {
		done(err)
		return
	}
	go s.serveHop(ctx, done)
}

// waitDetached is the wait of a detached driver whose reader is idle: on
// a stack that has not grown, it waits for bytes here; on one that has,
// it moves to a fresh goroutine at once the first time in a janitor tick
// (a session that handles a message now and then never holds a grown
// stack, and one that is busy moves at most once a tick), and otherwise
// waits where the janitor sees it and moves once the janitor interrupts
// the wait. It reports whether to move. The message buffer goes back to
// the pool first: an idle session holds none.
func (s *Session) waitDetached(ctx context.Context, grown bool) (move bool) {
	s.lockRead()
	idle := s.betweenMessagesLocked() && s.c.Buffered() == 0
	if idle {
		s.dropMessageBuffer() // under readMu: its charge is the read side's
	}
	s.readMu.Unlock()
	if !idle {
		return false
	}
	if !grown {
		s.waitReadable(ctx)
		return false
	}
	if e := janitorEpoch.Load() + 1; e != s.det.moveEpoch {
		s.det.moveEpoch = e
		stackMoves.Add(1)
		return true
	}
	if s.parkGrown(ctx) {
		// Idle long enough on a grown stack: go on from a fresh one.
		stackMoves.Add(1)
		return true
	}
	return false
}

// detached is the state of a ServeDetached loop that the janitor sees:
// parked is set while the loop waits for bytes on a stack that has grown;
// parkSeq counts such waits, and kickSeen is the count the janitor saw at
// its last tick.
type detached struct {
	parkSeq, kickSeen atomic.Uint32
	moveEpoch         uint32 // janitorEpoch+1 when the loop last moved
	parked            atomic.Bool
}

// parkGrown waits for bytes like waitReadable, where the janitor can see
// it, and reports whether the janitor interrupted the wait.
func (s *Session) parkGrown(ctx context.Context) bool {
	s.det.parkSeq.Add(1)
	s.det.parked.Store(true)
	err := s.waitReadable(ctx)
	s.det.parked.Store(false)
	return err == conn.ErrInterrupted
}

// The janitor wakes detached sessions that have waited on grown stacks
// through a whole tick, so that they move to fresh ones. One goroutine
// serves the process; it runs while detached sessions exist.
const janitorTick = time.Second

// stackMoves counts the moves to fresh goroutines, for tests.
var stackMoves atomic.Int64

// janitorEpoch counts the janitor's ticks.
var janitorEpoch atomic.Uint32

var janitor struct {
	mu       sync.Mutex
	sessions map[*Session]struct{}
	running  bool
}

func watchDetached(s *Session) {
	janitor.mu.Lock()
	defer janitor.mu.Unlock()
	if janitor.sessions == nil {
		janitor.sessions = make(map[*Session]struct{})
	}
	janitor.sessions[s] = struct{}{}
	if !janitor.running {
		janitor.running = true
		go runJanitor()
	}
}

func unwatchDetached(s *Session) {
	janitor.mu.Lock()
	delete(janitor.sessions, s)
	janitor.mu.Unlock()
}

func runJanitor() {
	t := time.NewTicker(janitorTick)
	defer t.Stop()
	for range t.C {
		janitorEpoch.Add(1)
		janitor.mu.Lock()
		if len(janitor.sessions) == 0 {
			janitor.running = false
			janitor.mu.Unlock()
			return
		}
		for s := range janitor.sessions {
			// Parked since the last tick: the same wait, a tick long.
			if s.det.parked.Load() {
				if seq := s.det.parkSeq.Load(); s.det.kickSeen.Swap(seq) == seq {
					s.c.Interrupt()
				}
			}
		}
		janitor.mu.Unlock()
	}
}
