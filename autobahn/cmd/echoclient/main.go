// Command echoclient is the WebSocket client that conformance runs test: it
// speaks the Autobahn testsuite's fuzzing-server protocol, echoing every
// message of every case.
//
//	echoclient -url ws://127.0.0.1:9001 -agent rfc6455
//
// It asks /getCaseCount, runs /runCase?case=N&agent=NAME for each case, then
// /updateReports?agent=NAME so the server writes its reports.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/rfc6455/websocket"
)

func main() {
	base := flag.String("url", "ws://127.0.0.1:9001", "fuzzing server URL")
	agent := flag.String("agent", "rfc6455", "agent name in the reports")
	caseTimeout := flag.Duration("case-timeout", 5*time.Minute, "upper bound for one case")
	deflate := flag.Bool("deflate", false, "offer permessage-deflate (RFC 7692) on every case")
	flag.Parse()
	if *deflate {
		// Every message compressed, whatever its size: the cases are
		// there to exercise compression.
		caseOptions.Compression = &websocket.CompressionOptions{Threshold: -1}
	}
	if err := run(*base, *agent, *caseTimeout); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

// caseOptions are the options each case's connection is dialled with:
// a message limit for the testsuite's largest messages (cases 9.x send
// 16 MiB, past the library's production default of 1 MiB).
var caseOptions = websocket.DialOptions{Options: websocket.Options{MaxMessageSize: 32 << 20}}

func run(base, agent string, caseTimeout time.Duration) error {
	ctx := context.Background()
	count, err := caseCount(ctx, base+"/getCaseCount")
	if err != nil {
		return fmt.Errorf("getCaseCount: %w", err)
	}
	log.Printf("echoclient: %d cases", count)
	for i := 1; i <= count; i++ {
		u := fmt.Sprintf("%s/runCase?case=%d&agent=%s", base, i, url.QueryEscape(agent))
		cctx, cancel := context.WithTimeout(ctx, caseTimeout)
		err := echoCase(cctx, u)
		cancel()
		if err != nil {
			log.Printf("echoclient: case %d: %v", i, err)
		}
	}
	c, err := websocket.Dial(ctx, base+"/updateReports?agent="+url.QueryEscape(agent), nil)
	if err != nil {
		return fmt.Errorf("updateReports: %w", err)
	}
	c.Close(websocket.StatusNormalClosure, "")
	return nil
}

func caseCount(ctx context.Context, u string) (int, error) {
	c, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return 0, err
	}
	defer c.CloseNow()
	_, data, err := c.ReadMessage(ctx)
	if err != nil {
		return 0, err
	}
	c.Close(websocket.StatusNormalClosure, "")
	return strconv.Atoi(string(data))
}

// echoCase echoes every message until the server closes. Errors that end
// the case (the server failing the connection on purpose) are expected.
func echoCase(ctx context.Context, u string) error {
	c, err := websocket.Dial(ctx, u, &caseOptions)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	var buf []byte
	for {
		typ, data, err := c.AppendMessage(ctx, buf[:0])
		if err != nil {
			return nil
		}
		if err := c.WriteMessage(ctx, typ, data); err != nil {
			return nil
		}
		buf = data
	}
}
