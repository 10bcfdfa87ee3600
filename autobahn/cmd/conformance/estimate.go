package main

import (
	"time"

	"github.com/rfc6455/websocket/autobahn/conformance"
)

// Measured figures for the estimate: one role of make conformance (the
// goroutine-mode echoserver, -compression-messages 50) on a 2-core
// x86-64 Linux machine shared with other work, both processes at nice 19:
// 517 cases in 45.6 s wall, the sum of the case durations 44.5 s. Groups
// 1-10 took 12.7 s in all, almost all of it the scripted pauses of groups
// 2 and 5 and the large messages of groups 6 and 9; groups 12 and 13 took
// 2.2 to 4.5 ms per message, 3.2 ms on average in group 12 and 2.7 ms in
// group 13, and scale with the message count (1000 by default). At the
// default 1000 messages that is about 11 minutes per role, which matches
// the 32 minutes the three roles of make autobahn took one after another
// on such a machine.
var (
	// msPerCase is the mean duration of a case in groups 1-10.
	msPerCase = map[string]float64{"2": 183, "5": 201, "6": 28, "9": 50}
	// msPerMessage is the mean time per message of groups 12 and 13.
	msPerMessage = map[string]float64{"12": 3.2, "13": 2.7}
)

// msOverhead is the time per case outside its duration: the connection,
// the opening handshake and the report (45.6 s wall for 44.5 s of cases).
const msOverhead = 2

// caseCost is the expected time of one case by the figures above, given
// the message cap of groups 12 and 13 (0: the suite's 1000).
func caseCost(c *conformance.Case, compressionMessages int) time.Duration {
	ms := float64(msOverhead)
	if per, ok := msPerMessage[c.Group()]; ok {
		n := 1000
		if compressionMessages > 0 {
			n = min(compressionMessages, n)
		}
		ms += per * float64(n)
	} else {
		ms += msPerCase[c.Group()]
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// estimate is the expected time of cases played one at a time.
func estimate(cases []*conformance.Case, compressionMessages int) time.Duration {
	var d time.Duration
	for _, c := range cases {
		d += caseCost(c, compressionMessages)
	}
	return d
}
