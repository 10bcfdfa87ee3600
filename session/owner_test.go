package session

import (
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/testutil"
)

// embedded stands for a type that embeds a Session, as the root package's
// Conn does.
type embedded struct {
	s Session
}

// TestInitEmbedded: a Session initialised in place works like one from
// New (messages, heartbeat, compression state), and its callbacks find
// their owner through Owner.
func TestInitEmbedded(t *testing.T) {
	a, b := testutil.LoopbackPair(t)
	cc, sc := conn.New(a, conn.Client, nil), conn.New(b, conn.Server, nil)
	cc.Open(nil)
	sc.Open(nil)
	owner := new(embedded)
	got := make(chan any, 1)
	Init(&owner.s, sc, &Options{
		PingInterval: time.Hour,
		OnMessage:    func(s *Session, _ frame.Opcode, data []byte) { got <- s.Owner() },
		Compression:  &Compression{},
	}, owner)
	client := New(cc, nil)
	t.Cleanup(func() { client.CloseNow(); owner.s.CloseNow() })
	if owner.s.ID() == 0 || owner.s.ID() == client.ID() {
		t.Errorf("IDs %d and %d", owner.s.ID(), client.ID())
	}
	if owner.s.hb == nil || !owner.s.Compressed() {
		t.Error("Init skipped the heartbeat or the compression state")
	}
	if client.Owner() != nil {
		t.Errorf("a session from New has owner %v", client.Owner())
	}
	go owner.s.Serve(bg)
	if err := client.WriteMessage(bg, frame.OpText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if o := <-got; o != owner {
		t.Errorf("OnMessage's session has owner %v, want %p", o, owner)
	}
}
