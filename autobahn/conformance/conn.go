package conformance

import (
	"bufio"
	"fmt"
	"net"
	"sync"
	"time"
)

// Role says which side of the WebSocket connection the runner plays.
type Role int

const (
	// RoleClient: the runner dials and tests a server; it masks its frames.
	RoleClient Role = iota
	// RoleServer: the runner listens and tests a client; it does not mask,
	// and it requires the client's frames to be masked.
	RoleServer
)

// String returns "client" or "server".
func (r Role) String() string {
	if r == RoleServer {
		return "server"
	}
	return "client"
}

// wireEntry is one line of the per-case wire log.
type wireEntry struct {
	At      int64  `json:"at_ms"`
	Dir     string `json:"dir"` // "tx" or "rx" frame, "tx-bytes" for a raw write, "note"
	Opcode  string `json:"opcode,omitempty"`
	Fin     bool   `json:"fin,omitempty"`
	RSV     byte   `json:"rsv,omitempty"`
	Masked  bool   `json:"masked,omitempty"`
	Len     int    `json:"len"`
	Payload string `json:"payload,omitempty"`
	Chop    int    `json:"chop,omitempty"`
	Text    string `json:"text,omitempty"`
}

// maxWirelog bounds the wire log so the 1000-message cases stay readable.
const maxWirelog = 400

// inItem is what the reader goroutine hands to the script goroutine.
type inItem struct {
	f   *frame
	err error
}

// conn is the raw connection a case script drives. It is used by one
// goroutine (the case's), plus an internal reader goroutine that only decodes
// frames and queues them; all protocol reactions (pong, close reply,
// recording, judging input) happen on the case goroutine when it waits, so
// the state has a single owner.
type conn struct {
	role  Role
	nc    net.Conn
	br    *bufio.Reader
	opts  *Runner
	start time.Time

	// incoming queue (filled by the reader goroutine)
	mu     sync.Mutex
	queue  []inItem
	signal chan struct{}
	done   chan struct{}

	// expectations, set by the script
	expected      []expectation
	expectClose   closeExpectation
	suppressClose bool

	received []Event
	wirelog  []wireEntry
	notes    []string

	// override, set by scripts that judge themselves (group 9)
	behavior Behavior
	result   string

	// state
	closeSent, closeRecv bool
	tcpClosed            bool
	closedByMe           bool
	droppedByMe          bool
	failedByMe           bool
	wasClean             bool
	remoteCode           *int
	remoteReason         string
	localCode            *int
	localReason          string
	wasNotCleanReason    string

	// message reassembly
	inMsg       bool
	msgOp       Opcode
	msgBuf      []byte
	utf8Checked int // msgBuf[:utf8Checked] is valid UTF-8 ending on a boundary

	// script-level frame counters (10.1.1 checks its own fragmentation)
	txFrames map[Opcode]int

	// permessage-deflate (groups 12 and 13): nil when not negotiated.
	pmd           *pmdState
	negotiation   *Negotiation
	msgCompressed bool   // the message being received has RSV1 set
	violation     string // the first compression rule the peer broke

	writeErr error
	batching bool
	pending  []byte
}

func newConn(role Role, nc net.Conn, br *bufio.Reader, opts *Runner) *conn {
	c := &conn{
		role:     role,
		nc:       nc,
		br:       br,
		opts:     opts,
		start:    time.Now(),
		signal:   make(chan struct{}, 1),
		done:     make(chan struct{}),
		txFrames: map[Opcode]int{},
	}
	go c.readLoop()
	return c
}

func (c *conn) readLoop() {
	defer close(c.done)
	for {
		f, err := readFrame(c.br, c.opts.maxMessage())
		c.mu.Lock()
		c.queue = append(c.queue, inItem{f, err})
		c.mu.Unlock()
		select {
		case c.signal <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// open reports whether the WebSocket connection is open: no close frame has
// been sent or received and TCP is up.
func (c *conn) open() bool { return !c.closeSent && !c.closeRecv && !c.tcpClosed }

func (c *conn) ms() int64 { return time.Since(c.start).Milliseconds() }

func (c *conn) log(e wireEntry) {
	if len(c.wirelog) < maxWirelog {
		e.At = c.ms()
		c.wirelog = append(c.wirelog, e)
	} else if len(c.wirelog) == maxWirelog {
		c.wirelog = append(c.wirelog, wireEntry{At: c.ms(), Dir: "note", Text: "wire log truncated"})
	}
}

func (c *conn) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	c.notes = append(c.notes, s)
	c.log(wireEntry{Dir: "note", Text: s})
}
