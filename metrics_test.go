package websocket_test

import (
	"encoding/json"
	"errors"
	"expvar"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// codeCounter counts the close codes Hooks.OnClose reports.
type codeCounter struct {
	mu    sync.Mutex
	codes map[websocket.StatusCode]uint64
}

func (cc *codeCounter) onClose(_ *websocket.Conn, code websocket.StatusCode) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.codes == nil {
		cc.codes = make(map[websocket.StatusCode]uint64)
	}
	cc.codes[code]++
}

func (cc *codeCounter) get() map[websocket.StatusCode]uint64 {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return maps.Clone(cc.codes)
}

// TestServerStatsTraffic: in both I/O modes Open goes up with each
// connection and down as each ends; messages and bytes each way are the
// sums of the connections' own counters while they are open and after
// they ended; Closed counts each close code, alike with Hooks.OnClose.
func TestServerStatsTraffic(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		var cc codeCounter
		var opens atomic.Int32
		srv, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Hooks.OnOpen = func(*websocket.Conn) { opens.Add(1) }
			s.Hooks.OnClose = cc.onClose
		})
		ctx := testCtx(t)
		const clients, msgs = 3, 10
		var cs []*websocket.Conn
		for i := range clients {
			c, err := websocket.Dial(ctx, "ws://"+addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			cs = append(cs, c)
			waitFor(t, func() bool { return srv.Stats().Open == int64(i+1) })
		}
		for _, c := range cs {
			for j := range msgs {
				echoOnce(t, c, strings.Repeat("m", 10*j))
			}
		}
		// The server's counts are the clients' mirrored. A frame's bytes
		// are counted when its write returns, which can be after the
		// client has read them (an event loop counts when it flushes), so
		// the counts are given until they agree, at most 5 s.
		mirrored := func(when string) {
			t.Helper()
			var in, out uint64
			var st websocket.ServerStats
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				in, out = 0, 0
				for _, c := range cs {
					in += c.Stats().BytesIn
					out += c.Stats().BytesOut
				}
				st = srv.Stats()
				agree := st.MessagesIn == clients*msgs && st.MessagesOut == clients*msgs &&
					st.BytesIn == out && st.BytesOut == in
				if agree || time.Now().After(deadline) {
					break
				}
			}
			if st.MessagesIn != clients*msgs || st.MessagesOut != clients*msgs {
				t.Errorf("%s: messages in %d, out %d; want %d each", when, st.MessagesIn, st.MessagesOut, clients*msgs)
			}
			if st.BytesIn != out || st.BytesOut != in {
				t.Errorf("%s: bytes in %d, out %d; want the clients' %d out, %d in", when, st.BytesIn, st.BytesOut, out, in)
			}
		}
		mirrored("open")

		cs[0].Close(websocket.StatusNormalClosure, "")
		cs[1].Close(4000, "bye")
		cs[2].CloseNow()
		waitFor(t, func() bool { return srv.Stats().Open == 0 })
		mirrored("ended")
		want := map[websocket.StatusCode]uint64{1000: 1, 4000: 1, 1006: 1}
		waitFor(t, func() bool { return maps.Equal(cc.get(), want) }) // OnClose runs after the count
		st := srv.Stats()
		if !maps.Equal(st.Closed, want) {
			t.Errorf("Closed = %v, want %v", st.Closed, want)
		}
		if st.Accepted != clients || opens.Load() != clients {
			t.Errorf("Accepted %d, OnOpen called %d times; want %d", st.Accepted, opens.Load(), clients)
		}
		if len(st.Refused) != 0 || st.Failed != 0 || st.Dropped != 0 || st.PongTimeouts != 0 {
			t.Errorf("counted events that did not happen: %+v", st)
		}
	})
}

// TestServerStatsRefusals: in both I/O modes refusals are counted by
// status (400 for a bad request, OnRequest's 401, MaxConnections' 503),
// a client that goes away before its request is ended counts as Failed,
// and the expvar.Var is Stats as JSON.
func TestServerStatsRefusals(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		srv, addr := startPush(t, mode, func(s *websocket.Server) {
			s.MaxConnections = 1
			s.Options.OnRequest = func(r *websocket.Request) (any, error) {
				if r.RequestURI == "/private" {
					return nil, &websocket.HandshakeError{StatusCode: http.StatusUnauthorized, Reason: "who are you"}
				}
				return nil, nil
			}
		})
		refusedBy(t, addr, "hello\r\n\r\n", 400, "", "")
		refusedBy(t, addr, hookRequest(addr, "/private"), 401, "", "")
		p := connectRaw(t, addr)
		p.nc.Close() // before sending anything
		waitFor(t, func() bool { return srv.Stats().Failed == 1 })

		ctx := testCtx(t)
		c, err := websocket.Dial(ctx, "ws://"+addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		waitFor(t, func() bool { return srv.Stats().Open == 1 })
		refusedBy(t, addr, upgradeRequest(addr), 503, "Retry-After", "1")

		st := srv.Stats()
		if want := map[int]uint64{400: 1, 401: 1, 503: 1}; !maps.Equal(st.Refused, want) {
			t.Errorf("Refused = %v, want %v", st.Refused, want)
		}
		if st.Accepted != 1 || st.Failed != 1 {
			t.Errorf("Accepted %d, Failed %d; want 1, 1", st.Accepted, st.Failed)
		}

		var v expvar.Var = srv.Expvar()
		var got struct {
			Open, Accepted, Failed, MessagesIn, BytesIn uint64
			Refused                                     map[string]uint64
			Closed                                      map[string]uint64
		}
		if err := json.Unmarshal([]byte(v.String()), &got); err != nil {
			t.Fatalf("Expvar().String() is not JSON: %v\n%s", err, v.String())
		}
		if got.Open != 1 || got.Accepted != 1 || got.Failed != 1 || got.Refused["401"] != 1 || got.Refused["503"] != 1 {
			t.Errorf("Expvar: %s", v.String())
		}
		for _, field := range []string{`"Closed"`, `"MessagesOut"`, `"BytesOut"`, `"Dropped"`, `"PongTimeouts"`} {
			if !strings.Contains(v.String(), field) {
				t.Errorf("Expvar has no %s: %s", field, v.String())
			}
		}
	})
}

// TestServerStatsPongTimeout: a peer that answers no ping ends with
// ErrPongTimeout, counted once in PongTimeouts and as 1006 in Closed, and
// reported to Hooks.OnPongTimeout, in both I/O modes.
func TestServerStatsPongTimeout(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		var hooked atomic.Int32
		var closeErr atomic.Value
		srv, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Options.PingInterval = 30 * time.Millisecond
			s.Options.PongTimeout = 60 * time.Millisecond
			s.Options.OnClose = func(_ *websocket.Conn, err error) { closeErr.Store(err) }
			s.Hooks.OnPongTimeout = func(*websocket.Conn) { hooked.Add(1) }
		})
		dialRaw(t, addr) // reads nothing, answers nothing
		waitFor(t, func() bool { return srv.Stats().PongTimeouts == 1 })
		st := srv.Stats()
		if st.Closed[websocket.StatusAbnormalClosure] != 1 || st.Open != 0 {
			t.Errorf("Closed %v, Open %d; want one 1006 and none open", st.Closed, st.Open)
		}
		if n := hooked.Load(); n != 1 {
			t.Errorf("Hooks.OnPongTimeout called %d times", n)
		}
		if err, _ := closeErr.Load().(error); !errors.Is(err, websocket.ErrPongTimeout) {
			t.Errorf("Options.OnClose got %v, want ErrPongTimeout (the user's OnClose still runs)", err)
		}
	})
}

// TestServerStatsDrops: messages a send queue drops are counted in
// Dropped and reported to Hooks.OnDrop, as many as Broadcast reports, in
// both I/O modes.
func TestServerStatsDrops(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		var hooked atomic.Int32
		srv, addr := startPushOn(t, mode, listenSmall(t), func(s *websocket.Server) {
			s.Options.SendQueueSize = 2
			s.Options.SlowPolicy = websocket.PolicyDrop
			s.Hooks.OnDrop = func(*websocket.Conn) { hooked.Add(1) }
		})
		dialRawSmall(t, addr) // reads nothing
		waitFor(t, func() bool { return srv.Len() == 1 })
		msg := make([]byte, 64<<10)
		dropped := 0
		for i := 0; i < 1000 && dropped < 3; i++ {
			dropped += srv.Broadcast(websocket.BinaryMessage, msg).Dropped
			time.Sleep(time.Millisecond)
		}
		if dropped < 3 {
			t.Fatalf("Broadcast dropped %d messages to a peer that does not read", dropped)
		}
		if st := srv.Stats(); st.Dropped != uint64(dropped) {
			t.Errorf("Stats().Dropped = %d, Broadcast dropped %d", st.Dropped, dropped)
		}
		if n := hooked.Load(); int(n) != dropped {
			t.Errorf("Hooks.OnDrop called %d times, Broadcast dropped %d", n, dropped)
		}
	})
}
