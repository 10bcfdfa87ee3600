package interop

import (
	"context"
	"testing"

	"github.com/rfc6455/websocket"
)

// Our client, real servers. Each peer server listens on 127.0.0.1:0, prints
// its port, serves one connection and exits with its verdict; our client
// runs the scenario and closes with 4000 "bye".

func dialScenario(ctx context.Context, t *testing.T, p *peer) {
	t.Helper()
	url := "ws://" + p.listenAddr(ctx, t) + "/interop"
	c, err := websocket.Dial(ctx, url, &websocket.DialOptions{Options: options()})
	if err != nil {
		t.Fatalf("dial %s: %v\n%s said:\n%s", url, err, p.name, p.out)
	}
	defer c.CloseNow()
	report(t, "our client", clientScenario(ctx, c, scenario()))
	checkFrames(t, c, true)
	p.verdict(ctx, t)
}

func TestClientNodeWS(t *testing.T) {
	node := needNode(t, "node ws server", "ws")
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	dialScenario(ctx, t, startPeer(ctx, t, "node ws server", node, "ws_server.mjs"))
}

func TestClientPythonWebsockets(t *testing.T) {
	py := needPython(t, "python websockets server", "websockets")
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	dialScenario(ctx, t, startPeer(ctx, t, "python websockets server", py, "websockets_server.py"))
}
