package netpoll

// Which ready sockets a turn serves. A socket that spent its whole share
// of its last turn (readShare full reads: its peer keeps sending) is
// heavy, and a turn serves at most heavyQuota heavy sockets, each once
// per round, while it serves every other ready socket. Without the quota
// a turn serves every ready socket, and a well-behaved peer whose socket
// becomes ready behind 250 flooding ones waits for all their shares:
// about 7 ms of echo work here, the loop's p99 under a pipeline flood.
// With it the wait is about heavyQuota shares, and every heavy socket is
// still served once in a round of turns.
//
// A heavy socket left out of a turn keeps its bytes in the kernel, so
// its level-triggered readiness brings it back in the next wait: nothing
// is lost by skipping it. The one readiness the kernel does not hold, a
// socket whose reading resumed after its backlog drained (its handler
// may hold whole frames), is always served (the loop's resumed case).
//
// A round ends when a turn finds only heavy sockets that this round has
// served: the next round begins at once, in that same turn's place.

// heavyQuota is how many heavy sockets a turn serves: a 16th of the
// loop's 256 events, some 16 shares of work (a few hundred microseconds).
const heavyQuota = 16

// turnState is a loop's count of heavy sockets served in the current turn
// and round.
type turnState struct {
	round  uint16 // the current round; a socket's round says it was served in it
	served int    // heavy sockets served in this turn
	again  bool   // this turn met a heavy socket this round had served
}

// takeTurn reports whether the turn serves s now.
func (l *loop) takeTurn(s *Socket) bool {
	if !s.heavy {
		return true
	}
	t := &l.turn
	if s.round == t.round {
		t.again = true
		return false
	}
	if t.served >= heavyQuota {
		return false
	}
	t.served++
	s.round = t.round
	return true
}

// serve gives s its share of the turn, and notes whether it spent it.
func (l *loop) serve(s *Socket) {
	s.reads = readShare
	s.spent = false
	s.h.Ready()
	s.heavy = s.spent
}

// endTurn closes a turn: one that served no heavy socket because all it
// met were served in this round begins the next round.
func (l *loop) endTurn() {
	t := &l.turn
	if t.served == 0 && t.again {
		t.round++
	}
	t.served, t.again = 0, false
}
