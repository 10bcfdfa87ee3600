// Package defaults holds the default value of every setting of every
// layer, each documented once: what it bounds, why this value, and what it
// costs. The public packages document their option fields as "Default X"
// and take X from here whenever a field is zero (or a whole configuration
// is nil), so that a default is changed in one place and no two layers can
// disagree about it.
//
// Two defaults are rules rather than values and have no constant:
//
//   - a frame may be as large as a message: MaxFrameSize defaults to the
//     message limit in effect (MaxMessageSize or the user's), so that the
//     frame limit only matters to a user who lowers it to refuse a message
//     sent in one huge frame;
//   - a ping may stay unanswered for one PingInterval: PongTimeout
//     defaults to PingInterval, so that at most one ping is outstanding
//     and a dead peer is noticed within two intervals. There is no
//     heartbeat by default (PingInterval 0): it costs a timer and a frame
//     each way per interval on every connection, and idle connections
//     are the application's to judge.
//
// Every other zero means "none": no write timeout, no idle timeout, no send
// queue, no compression.
//
// This package is a leaf: it imports nothing, so that every layer, the
// handshake leaf included, can import it.
package defaults

import "time"

// Transport (package conn and the event loops' sockets).
const (
	// ReadBufferSize is the buffer a connection reads frames into. 4 KiB
	// is a page: small frames that arrive together are parsed from one
	// read. It is held by every connection that is waiting for the rest
	// of a frame (an idle connection on an event loop holds none); larger
	// buffers help large messages a little and cost memory on every
	// connection.
	ReadBufferSize = 4096

	// WriteBufferSize is the pooled buffer frames are encoded into before
	// one write. 4 KiB holds many small frames; larger payloads are
	// written from the caller's memory, not copied. It is held only while
	// writing.
	WriteBufferSize = 4096

	// MaxMessageSize bounds a received message, after decompression; past
	// it the connection fails with 1009 before the offending payload is
	// read (a compressed one, as soon as its output passes it). 1 MiB, as
	// Python's websockets has: it is a production default, not the test
	// suite's. Messages that applications exchange over WebSocket (JSON
	// events, chat, RPC, game state) are bytes to kilobytes, and what is
	// larger (files, media) is better sent in pieces that the application
	// can resume and pace. The limit is what one peer can make a
	// connection hold for one message, and so how much of the server's
	// memory budget (session.Budget) a single message may take: 1 MiB lets
	// a server with the default budget of a small machine (16 MiB) serve
	// sixteen largest messages at once, and caps a compression bomb at
	// 1 MiB of output. coder/websocket's 32 KiB refuses ordinary payloads
	// (a page of JSON); Node's ws allows 100 MiB, which a hundred peers
	// turn into 10 GB. The Autobahn testsuite sends 16 MiB messages
	// (cases 9.x): its testees set 32 MiB explicitly.
	MaxMessageSize = 1 << 20

	// CloseFlushTimeout bounds how long closing a connection waits for
	// its peer to take what was written before (the close frame among
	// it), on both kinds of socket. 2 s lets a slow but live peer get the
	// close frame; a peer that reads nothing holds the socket that long.
	CloseFlushTimeout = 2 * time.Second

	// CloseLinger bounds a lingering close: how long a server that fails
	// a connection (a refused message, a protocol error) goes on reading
	// and discarding what its peer still sends after the close frame and
	// a FIN. Closing a socket with unread bytes makes TCP reset the
	// connection, and a peer reset while it is still writing may never
	// read the close frame that says why. 1 s covers the tail of a
	// message in flight on a fast link, as Go's net/http waits half a
	// second before closing after an error; a peer that goes on sending
	// holds the socket that long, and then gets the reset.
	CloseLinger = time.Second
)

// Session (package session).
const (
	// CloseTimeout bounds the close handshake: how long Close waits for
	// the peer's close frame, and a client for the server to close TCP
	// afterwards. 5 s is a few round trips on the slowest links; a peer
	// that never answers holds the connection that long before it is
	// dropped with 1006.
	CloseTimeout = 5 * time.Second

	// FragmentSize is the largest frame an outgoing message is sent in.
	// 1 MiB keeps the per-frame cost (2 to 14 bytes and a header parse at
	// the peer) negligible while letting a ping or a close frame through
	// between two fragments of a long message.
	FragmentSize = 1 << 20

	// SlowTimeout is how long a full send queue's PolicyBlock waits for
	// room, and how long PolicyClose lets the close frame take to get out
	// before the connection is dropped. 5 s, like CloseTimeout: a
	// broadcaster waits at most that long for one slow peer.
	SlowTimeout = 5 * time.Second

	// SlowCloseCode is the close code PolicyClose sends to a peer that
	// does not read fast enough: 1013, try again later (RFC 6455 §7.4.1,
	// registered by IANA), since the peer did nothing wrong but be slow.
	SlowCloseCode = 1013

	// CompressionLevel is the DEFLATE level of permessage-deflate. Level
	// 1 is the fastest; higher levels cost much more CPU per message for
	// a few percent of ratio on typical WebSocket payloads.
	CompressionLevel = 1

	// CompressionThreshold is the message size under which messages are
	// sent uncompressed: under 128 bytes, DEFLATE's block headers and the
	// work of compressing cost more than the bytes it saves.
	CompressionThreshold = 128
)

// Opening handshake (package handshake and the root).
const (
	// HandshakeTimeout bounds the opening handshake: a server's reading
	// of the request and writing of the response, a client's dialing, TLS
	// and handshake together. 10 s covers a slow mobile link and a TLS
	// handshake on it; a client that sends nothing holds a connection
	// slot (and its MaxConnections place) that long.
	HandshakeTimeout = 10 * time.Second

	// MaxHeaderBytes bounds a request or response head: start line,
	// header fields and the blank line; past it a server answers 431
	// and a client gives up. 16 KiB holds a browser's handshake with a
	// generous load of cookies: the 8 KiB limit some servers used refused
	// real browsers' requests (Node.js raised its limit from 8 to 16 KiB
	// for that reason). The parser's buffer grows with what arrives, so
	// the limit is the worst case per pending handshake, not what each
	// one costs.
	MaxHeaderBytes = 16 << 10
)

// Server (the root package).
const (
	// MaxConnections bounds the connections a Server serves at once,
	// handshakes included; past it clients get 503 before the upgrade.
	// 10,000 is well within what one process handles (each idle
	// connection costs a few KiB in user space and as much in the
	// kernel), and stops a flood of clients from exhausting file
	// descriptors and memory.
	MaxConnections = 10000
)

// Memory budget (session.Budget; the root's AcceptOptions.Budget).
const (
	// BudgetWait is how long a connection waits for memory when the
	// budget is exhausted, its socket unread (TCP pushes back on the
	// peer), before it is closed with 1013 (try again later). 2 s rides
	// out a burst of large messages finishing elsewhere, and leaves room
	// within the 5 s a peer is given for a close handshake, so that a
	// flood of compression bombs is shed within seconds.
	BudgetWait = 2 * time.Second

	// BudgetShare is the share of the machine's memory (physical, or the
	// cgroup's limit if lower) that a server's default budget allows its
	// message buffers: 1/256, 96 MiB on a 24 GiB machine. Message buffers
	// are not all a process holds, and a heap's footprint is about twice
	// what is live between two collections (GOGC=100): a budget of 1/256
	// keeps a flood of hostile messages within about 1% of memory, while
	// leaving room for a hundred largest messages (MaxMessageSize) at
	// once on such a machine.
	BudgetShare = 256

	// MinBudget and MaxBudget bound the default budget: 16 MiB, sixteen
	// largest messages, on the smallest machines; 1 GiB on the largest,
	// where more would only let floods cost more. FallbackBudget is the
	// default where the memory cannot be read (not Linux): 64 MiB.
	MinBudget      = 16 << 20
	MaxBudget      = 1 << 30
	FallbackBudget = 64 << 20
)

// Registry and workers (session.Manager and package pool).
const (
	// BroadcastWriters bounds the goroutines a Manager's Broadcast uses to
	// write to sessions that have no send queue: 64 keeps a broadcast to
	// thousands of such sessions from starting thousands of goroutines,
	// while a few slow sockets do not hold up all the others.
	BroadcastWriters = 64

	// WorkerQueueSize is the room of each worker's queue in a pool: 1024
	// tasks absorb a burst of messages on a busy server (at a few hundred
	// bytes a queued task, under a MiB per worker), after which Post waits
	// and TryPost refuses, pushing back on the readers. The number of
	// workers defaults to the number of CPUs.
	WorkerQueueSize = 1024
)

// Dialing (package endpoint and the root's ReconnectingClient).
const (
	// DialAttemptDelay is how long a dial attempt may stay pending before
	// the next address is tried alongside it: the Connection Attempt
	// Delay that RFC 8305 §5 recommends (250 ms). Shorter reaches a
	// working address sooner when an earlier one hangs, at the cost of
	// more half-open connections to the server.
	DialAttemptDelay = 250 * time.Millisecond

	// MinBackoff is a ReconnectingClient's first wait before redialing.
	// 100 ms lets a server that restarts quickly be reached again at
	// once, without a tight loop of dials.
	MinBackoff = 100 * time.Millisecond

	// MaxBackoff bounds the doubling wait between failed dials: 30 s,
	// so that a client comes back within half a minute of an outage's end
	// while a fleet of clients costs a server little during it.
	MaxBackoff = 30 * time.Second

	// Jitter is the fraction of each wait taken off at random: 0.2
	// spreads a fleet of clients that lost the same server over the last
	// fifth of the wait, so that they do not all redial at once, while
	// keeping each wait close to the backoff it was given.
	Jitter = 0.2
)
