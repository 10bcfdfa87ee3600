package graceful

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/testutil"
)

func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }

// TestServeShutsDown: Serve answers HTTP until its context ends, then
// stops accepting and calls closeAll, and returns what closeAll returns.
func TestServeShutsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up") })
	ctx, stop := context.WithCancel(t.Context())
	closed := errors.New("closeAll ran")
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, "test", ln, h, func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("closeAll got a context without the shutdown's deadline")
			}
			return closed
		})
	}()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "up" {
		t.Fatalf("before the shutdown the server answered %q", body)
	}

	stop()
	select {
	case err := <-done:
		if err != closed {
			t.Errorf("Serve returned %v, want closeAll's error", err)
		}
	case <-time.After(Timeout + 5*time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts after the shutdown")
	}
}

// TestServeFails: a server that cannot serve returns its error at once,
// without calling closeAll.
func TestServeFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = Serve(t.Context(), "test", ln, http.NotFoundHandler(), func(context.Context) error {
		t.Error("closeAll called for a server that never served")
		return nil
	})
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve on a closed listener returned %v, want the accept error", err)
	}
}
