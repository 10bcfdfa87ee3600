package session

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/defaults"
)

// ManagerOptions configures a Manager. A nil *ManagerOptions gives the
// defaults.
type ManagerOptions struct {
	// OnAdd and OnRemove, if set, are called after a session joins or
	// leaves the registry, with no lock held: they may call the Manager.
	// A session that ends leaves every registry before its Done channel is
	// closed, so OnRemove runs before Done is closed too. Default: none.
	OnAdd, OnRemove func(s *Session)

	// DirectWriters bounds the goroutines Broadcast uses to write to
	// sessions that have no send queue (Options.SendQueueSize 0). Default
	// 64. Such sessions are written synchronously, so a stalled one delays
	// Broadcast's return (bounded only by the connection's write timeout);
	// give sessions a queue to avoid that.
	DirectWriters int
}

// Manager is a registry of live sessions by ID, with a broadcast that
// encodes a message once for all of them. A session leaves the registry by
// itself when it ends. All methods are safe for concurrent use; no lock is
// held while user code (Range's fn, the callbacks) runs.
//
// Broadcast relies on per-session send queues (Options.SendQueueSize) so
// that one slow peer never stalls the others: each session's slow-consumer
// policy decides what happens when its queue is full.
type Manager struct {
	opts ManagerOptions

	mu       sync.RWMutex
	sessions map[uint64]*Session

	snaps sync.Pool // *[]*Session, reused snapshots
}

// NewManager returns an empty Manager. opts may be nil.
func NewManager(opts *ManagerOptions) *Manager {
	m := &Manager{sessions: make(map[uint64]*Session)}
	if opts != nil {
		m.opts = *opts
	}
	if m.opts.DirectWriters <= 0 {
		m.opts.DirectWriters = defaults.BroadcastWriters
	}
	return m
}

// Add registers s under s.ID(). A session that has already ended is not
// added; adding a session twice does nothing.
func (m *Manager) Add(s *Session) {
	m.mu.Lock()
	if m.sessions[s.id] == s {
		m.mu.Unlock()
		return
	}
	// Joining under m.mu: a session that ends from here on removes itself
	// only after it is in the map.
	if !s.joinManager(m) {
		m.mu.Unlock()
		return
	}
	m.sessions[s.id] = s
	m.mu.Unlock()
	if f := m.opts.OnAdd; f != nil {
		f(s)
	}
}

// Remove takes s out of the registry, if it is there. It does not close it.
func (m *Manager) Remove(s *Session) {
	s.leaveManager(m)
	m.drop(s)
}

// drop removes s from the map and reports it to OnRemove.
func (m *Manager) drop(s *Session) {
	m.mu.Lock()
	found := m.sessions[s.id] == s
	if found {
		delete(m.sessions, s.id)
	}
	m.mu.Unlock()
	if f := m.opts.OnRemove; found && f != nil {
		f(s)
	}
}

// Get returns the session with the given ID.
func (m *Manager) Get(id uint64) (*Session, bool) {
	m.mu.RLock()
	s, ok := m.sessions[id]
	m.mu.RUnlock()
	return s, ok
}

// Len returns the number of sessions registered.
func (m *Manager) Len() int {
	m.mu.RLock()
	n := len(m.sessions)
	m.mu.RUnlock()
	return n
}

// Range calls fn for each session registered when Range was called, until
// fn returns false. It iterates over a snapshot, so fn may add, remove or
// close sessions; a session may have ended by the time fn sees it.
func (m *Manager) Range(fn func(*Session) bool) {
	snap := m.snapshot()
	defer m.release(snap)
	for _, s := range *snap {
		if !fn(s) {
			return
		}
	}
}

func (m *Manager) snapshot() *[]*Session {
	p, _ := m.snaps.Get().(*[]*Session)
	if p == nil {
		p = new([]*Session)
	}
	m.mu.RLock()
	for _, s := range m.sessions {
		*p = append(*p, s)
	}
	m.mu.RUnlock()
	return p
}

func (m *Manager) release(p *[]*Session) {
	clear(*p) // let ended sessions be collected
	*p = (*p)[:0]
	m.snaps.Put(p)
}

// BroadcastResult counts what a broadcast did with each session.
type BroadcastResult struct {
	Sent    int // queued (or, without a queue, written)
	Dropped int // dropped by PolicyDrop or PolicyBlock's timeout
	Closed  int // closed by PolicyClose, or already ended or failed
}

// Broadcast sends one message of type typ to every session, framed once:
// every session writes the same bytes (see conn.Prepare). It returns once
// the message is queued for every session that has a send queue (and
// written to those without one). A session whose queue is full gets its
// own SlowPolicy; sessions with PolicyBlock wait together, so Broadcast
// waits at most the longest SlowTimeout among them. An invalid typ sends
// nothing and counts every session as Dropped. data is copied.
func (m *Manager) Broadcast(typ frame.Opcode, data []byte) BroadcastResult {
	if typ != frame.OpText && typ != frame.OpBinary {
		return BroadcastResult{Dropped: m.Len()}
	}
	return m.broadcastPrepared(conn.Prepare(frame.Opcode(typ), data))
}

// broadcastPrepared is Broadcast for a frame already prepared. (Topics
// that send one message through several registries will share a Prepared
// this way.)
func (m *Manager) broadcastPrepared(p *conn.Prepared) BroadcastResult {
	var res BroadcastResult
	if op := p.Opcode(); op != frame.OpText && op != frame.OpBinary {
		res.Dropped = m.Len()
		return res
	}
	snap := m.snapshot()
	defer m.release(snap)
	it := qItem{p: p}
	var blocked, direct []*Session // rare: allocated only when needed
	for _, s := range *snap {
		if s.q == nil {
			direct = append(direct, s)
			continue
		}
		err := s.offer(it)
		if err == errFull {
			if s.opts.SlowPolicy == PolicyBlock {
				blocked = append(blocked, s)
				continue
			}
			err = s.onFull(it, time.Time{})
		}
		res.count(err)
	}
	// The blocked sessions wait one after the other, each until its own
	// deadline counted from the same start, so the wait is not the sum.
	if len(blocked) > 0 {
		start := time.Now()
		for _, s := range blocked {
			res.count(s.onFull(it, start.Add(s.opts.SlowTimeout)))
		}
	}
	if len(direct) > 0 {
		m.writeDirect(direct, p, &res)
	}
	return res
}

func (r *BroadcastResult) count(err error) {
	switch {
	case err == nil:
		r.Sent++
	case errors.Is(err, ErrQueueFull):
		r.Dropped++
	default:
		r.Closed++
	}
}

// writeDirect writes p to sessions without a queue from at most
// DirectWriters goroutines, and waits for them.
func (m *Manager) writeDirect(ss []*Session, p *conn.Prepared, res *BroadcastResult) {
	var next, sent, closed atomic.Int64
	var wg sync.WaitGroup
	for range min(len(ss), m.opts.DirectWriters) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ss) {
					return
				}
				if ss[i].writePrepared(p) == nil {
					sent.Add(1)
				} else {
					closed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res.Sent += int(sent.Load())
	res.Closed += int(closed.Load())
}

// CloseAll runs the close handshake with code and reason on every session
// registered, all at once (1001, going away, on shutdown), and waits for
// them. Each close is bounded by the session's CloseTimeout, which also
// bounds writing the close frame to a peer that does not read. If ctx ends
// first, the sessions still closing are closed at once without a handshake
// and CloseAll returns ctx's error after they are. Messages still queued
// are discarded, and sessions added while CloseAll runs are not closed.
func (m *Manager) CloseAll(ctx context.Context, code frame.StatusCode, reason string) error {
	snap := m.snapshot()
	defer m.release(snap)
	var wg sync.WaitGroup
	for _, s := range *snap {
		wg.Go(func() {
			// A peer that does not read must not hold its close frame up
			// for ever.
			s.c.SetWriteDeadline(time.Now().Add(s.opts.CloseTimeout))
			s.Close(code, reason)
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, s := range *snap {
			s.CloseNow()
		}
		<-done
		return ctx.Err()
	}
}

// joinManager records that m holds s, so that s leaves m when it ends. It
// reports false if s has ended already. Most sessions belong to one
// manager, which takes no map.
func (s *Session) joinManager(m *Manager) bool {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.gone {
		return false
	}
	switch {
	case s.mgr == nil || s.mgr == m:
		s.mgr = m
	default:
		if s.mgrs == nil {
			s.mgrs = make(map[*Manager]struct{}, 1)
		}
		s.mgrs[m] = struct{}{}
	}
	return true
}

func (s *Session) leaveManager(m *Manager) {
	s.closeMu.Lock()
	if s.mgr == m {
		s.mgr = nil
	}
	delete(s.mgrs, m)
	s.closeMu.Unlock()
}

// leaveManagers takes an ended session out of every manager holding it.
func (s *Session) leaveManagers() {
	s.closeMu.Lock()
	s.gone = true
	first, mgrs := s.mgr, s.mgrs
	s.mgr, s.mgrs = nil, nil
	s.closeMu.Unlock()
	if first != nil {
		first.drop(s)
	}
	for m := range mgrs {
		m.drop(s)
	}
}
