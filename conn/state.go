package conn

import "strconv"

// Role says which end of the connection this is. It decides masking: a
// client masks every frame it sends and requires unmasked frames; a server
// requires masked frames and sends unmasked ones (RFC 6455 §5.1).
type Role uint8

const (
	// Server is the end that accepted the opening handshake.
	Server Role = iota
	// Client is the end that sent the opening handshake.
	Client
)

// String returns "server" or "client".
func (r Role) String() string {
	switch r {
	case Server:
		return "server"
	case Client:
		return "client"
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// State is the life-cycle state of a connection.
type State int32

const (
	// unstarted is the zero State, before New or NewTransport returns:
	// no Conn is seen in it.
	unstarted State = iota
	// Connecting is the state while the opening handshake runs.
	Connecting
	// Connected is the state of an open connection.
	Connected
	// Closing is the state once a close frame was sent or received.
	Closing
	// Closed is the final state: the socket is closed.
	Closed
)

var stateNames = [...]string{"unstarted", "connecting", "connected", "closing", "closed"}

// String returns the state's name in lower case.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// canTransition reports whether a connection may move from state from to
// state to. States only move forward, and any state may go straight to
// Closed (an abortive close or a failed handshake).
func canTransition(from, to State) bool {
	switch to {
	case Connecting:
		return from == unstarted
	case Connected:
		return from == Connecting
	case Closing:
		return from == Connected
	case Closed:
		return from != Closed
	}
	return false
}
