// Package netpoll is the poller layer: event loops (Loops) that own
// non-blocking sockets (Socket), their timers and their listeners, and the
// goroutine mode's raw socket streams (Stream). It knows nothing of
// frames, connections or sessions: it hands bytes up through the handler
// the layer above gives it (Handler), and its sockets satisfy
// conn.Transport structurally, without importing conn. The system calls
// themselves are in the leaf package sys.
//
// # Loops
//
// Each loop is a goroutine waiting on an epoll instance, through the
// runtime's poller (so a waiting loop holds no thread), or in epoll_wait
// on a thread of its own when pinned to a CPU (Loops.Affinity). A socket
// that waits for bytes costs its state and nothing else: no goroutine, no
// buffer. When bytes arrive, the socket's loop calls its Handler's Ready,
// which reads what is there without blocking (a read with nothing there
// returns 0, nil); what the socket cannot take at once is kept and written
// by the loop when the socket becomes writable. Timers (Socket.AfterFunc,
// read deadlines) live in a heap per loop. Listen puts a listening socket
// in every loop's epoll set, so the loops accept for themselves. Each turn
// of a loop takes its queues (sockets to start, to close, listeners),
// waits, then runs the ready sockets' handlers, the accepts left over from
// the last turn and the due timers.
//
// # Fairness
//
// A socket gets a share of each turn: a few reads (readShare), after
// which Read says "would block" and the loop goes on to the next ready
// socket. The epoll set is level-triggered, so a socket that stopped for
// its share, with bytes left in the kernel, is reported again by the next
// wait: the kernel's ready list is the loop's, and no wake-up is lost.
// (Nothing whole is left above the socket: conn reads from the socket only
// once it has no whole frame buffered.) A socket whose replies back up
// past the high-water mark (64 KiB) is not read at all until they drain
// to 16 KiB, so a peer that sends without reading costs a bounded queue.
// A socket that spent its whole share last turn is heavy, and a turn
// serves at most 16 heavy sockets (heavyQuota), each once per round of
// turns, while it serves every other ready socket: a well-behaved peer
// behind hundreds of floods waits for a few quotas, not for all their
// shares (fair_linux.go). Accepts are bounded at 32 per listener per turn.
//
// # Ownership
//
// The loop owns its epoll set, its socket table, a socket's share of the
// turn and paused flag, and the reading of its sockets: only a handler it
// calls reads. A socket's write side (what is pending, the interest set) is
// shared by its writers and its loop under the socket's mutex; the loop's
// queues and timer heap are shared under the loop's mutex. Any goroutine
// may write to a socket, set its deadlines, arm its timers or close it;
// the loop closes the descriptor and calls the handler's Closed, once.
// No code asks which goroutine it runs on: WaitRoom decides who waits
// from whether the socket's loop is running callbacks (see there).
//
// # Wake-ups
//
// Whoever gives a loop work (Socket.Start, a Close, a timer due sooner
// than the loop's wait, Listen) queues it under the loop's mutex and, if
// the loop is parked, writes to its eventfd, which is in the epoll set:
// one write per wait, however many wake it. A loop running callbacks
// looks at its queues before it waits again, so it is not woken.
package netpoll
