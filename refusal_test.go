package websocket_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// refusalSeen is a refusal as a client sees it, Date aside.
type refusalSeen struct {
	status int
	header http.Header
	body   string
}

// exchange sends raw to addr and reads the response.
func exchange(t *testing.T, addr, raw string) refusalSeen {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Header.Del("Date")
	if resp.Close {
		resp.Header.Set("Connection", "close")
	}
	return refusalSeen{resp.StatusCode, resp.Header, string(body)}
}

// TestRefusalsAlike: Accept (on net/http), Upgrade through a Server in the
// goroutine mode and the event loops refuse a bad request with the same
// status, fields and body.
func TestRefusalsAlike(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		websocket.Accept(w, r, nil)
	}))
	defer hs.Close()
	accept := strings.TrimPrefix(hs.URL, "http://")
	servers := map[string]string{}
	for _, mode := range ioModes {
		if mode == websocket.IOEventLoop && loopsProbe() != nil {
			continue
		}
		_, addr := startPush(t, mode, nil)
		servers[mode.String()] = addr
	}
	for _, tc := range []struct {
		name   string
		extra  []string
		drop   string
		status int
	}{
		{"no version", nil, "Sec-WebSocket-Version: 13\r\n", 400},
		{"version 8", []string{"Sec-WebSocket-Version: 8"}, "Sec-WebSocket-Version: 13\r\n", 426},
		{"no key", nil, "Sec-WebSocket-Key: ", 400},
		{"foreign origin", []string{"Origin: https://evil.example"}, "", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			build := func(addr string) string {
				raw := upgradeRequest(addr, tc.extra...)
				if tc.drop != "" {
					var kept []string
					for _, line := range strings.SplitAfter(raw, "\r\n") {
						if !strings.HasPrefix(line, tc.drop) {
							kept = append(kept, line)
						}
					}
					raw = strings.Join(kept, "")
				}
				return raw
			}
			want := exchange(t, accept, build(accept))
			if want.status != tc.status {
				t.Fatalf("Accept: status %d, want %d", want.status, tc.status)
			}
			for mode, addr := range servers {
				if got := exchange(t, addr, build(addr)); !reflect.DeepEqual(got, want) {
					t.Errorf("%s refuses with %+v, Accept with %+v", mode, got, want)
				}
			}
		})
	}
}
