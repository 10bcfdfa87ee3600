package conformance

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Behavior is a verdict, spelled as in the Autobahn reports. It is used both
// for the protocol behavior and for the closing behavior of a case.
type Behavior string

// Verdicts. FAILED, WRONG CODE and UNCLEAN are failures; NON-STRICT is a
// failure only in strict mode; INFORMATIONAL and UNIMPLEMENTED never are.
const (
	OK             Behavior = "OK"
	NonStrict      Behavior = "NON-STRICT"
	Informational  Behavior = "INFORMATIONAL"
	Unimplemented  Behavior = "UNIMPLEMENTED"
	Failed         Behavior = "FAILED"
	WrongCode      Behavior = "WRONG CODE"
	Unclean        Behavior = "UNCLEAN"
	FailedByClient Behavior = "FAILED BY CLIENT"
)

// String returns the verdict as it appears in reports.
func (b Behavior) String() string { return string(b) }

// IsFailure reports whether b fails a run; strict makes NON-STRICT fail too.
func (b Behavior) IsFailure(strict bool) bool {
	switch b {
	case Failed, WrongCode, Unclean, FailedByClient:
		return true
	case NonStrict:
		return strict
	}
	return false
}

// Case is one conformance test case. Its number means the same thing as in
// the Autobahn|Testsuite.
type Case struct {
	ID          string // dotted case number, e.g. "6.4.1"
	Description string // what the runner sends
	Expectation string // what a conformant peer does

	// Extensions is the Sec-WebSocket-Extensions offer the case makes when
	// the runner is the client: empty for groups 1-10, permessage-deflate
	// offers for groups 12 and 13. As the server, the runner answers a
	// client's offers by the case's accept rule (see the package doc).
	Extensions string

	// deflate is the permessage-deflate negotiation of groups 12 and 13.
	deflate *deflateSpec

	// timed marks cases whose duration is the point (groups 9, 12, 13).
	timed bool
	run   func(c *conn)
	// judge, when set, adjusts the verdict after the generic judging.
	judge func(c *conn, r *Result)
}

// Group returns the first component of the case number.
func (c *Case) Group() string {
	g, _, _ := strings.Cut(c.ID, ".")
	return g
}

// idKey turns "6.10.2" into numbers so that cases sort like the suite's.
func idKey(id string) []int {
	var k []int
	for s := range strings.SplitSeq(id, ".") {
		n, _ := strconv.Atoi(s)
		k = append(k, n)
	}
	return k
}

func compareIDs(a, b string) int { return slices.Compare(idKey(a), idKey(b)) }

// Cases returns every case the runner knows, in case-number order.
func Cases() []*Case {
	var all []*Case
	all = append(all, group1()...)
	all = append(all, group2()...)
	all = append(all, group3()...)
	all = append(all, group4()...)
	all = append(all, group5()...)
	all = append(all, group6()...)
	all = append(all, group7()...)
	all = append(all, group9()...)
	all = append(all, group10()...)
	all = append(all, group12()...)
	all = append(all, group13()...)
	slices.SortStableFunc(all, func(a, b *Case) int { return compareIDs(a.ID, b.ID) })
	return all
}

// Select returns the cases matching any include pattern and no exclude
// pattern, in case-number order. Patterns use '*' as a wildcard ("6.4.*",
// "9.*"); an empty include list selects everything.
func Select(cases []*Case, include, exclude []string) ([]*Case, error) {
	for _, p := range append(slices.Clone(include), exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("conformance: bad case pattern %q: %w", p, err)
		}
	}
	match := func(pats []string, id string) bool {
		for _, p := range pats {
			if ok, _ := path.Match(p, id); ok {
				return true
			}
		}
		return false
	}
	var out []*Case
	for _, c := range cases {
		if (len(include) == 0 || match(include, c.ID)) && !match(exclude, c.ID) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Result is the outcome of one case against one agent.
type Result struct {
	Agent         string   `json:"agent"`
	ID            string   `json:"id"`
	Description   string   `json:"description"`
	Expectation   string   `json:"expectation"`
	Role          string   `json:"runnerRole"`
	Behavior      Behavior `json:"behavior"`
	BehaviorClose Behavior `json:"behaviorClose"`
	Result        string   `json:"result"`
	ResultClose   string   `json:"resultClose"`
	DurationMS    int64    `json:"duration"`
	ReportTime    bool     `json:"reportTime"`

	Expected      map[string][]string `json:"expected"`
	ExpectedClose struct {
		ClosedByMe                   bool  `json:"closedByMe"`
		CloseCode                    []int `json:"closeCode"`
		RequireClean                 bool  `json:"requireClean"`
		ClosedByWrongEndpointIsFatal bool  `json:"closedByWrongEndpointIsFatal,omitempty"`
	} `json:"expectedClose"`
	Received []string `json:"received"`

	ClosedByMe        bool        `json:"closedByMe"`
	FailedByMe        bool        `json:"failedByMe"`
	DroppedByMe       bool        `json:"droppedByMe"`
	WasClean          bool        `json:"wasClean"`
	WasNotCleanReason string      `json:"wasNotCleanReason,omitempty"`
	LocalCloseCode    *int        `json:"localCloseCode"`
	LocalCloseReason  string      `json:"localCloseReason,omitempty"`
	RemoteCloseCode   *int        `json:"remoteCloseCode"`
	RemoteCloseReason string      `json:"remoteCloseReason,omitempty"`
	Notes             []string    `json:"notes,omitempty"`
	Wirelog           []wireEntry `json:"wirelog"`

	// Compression is the permessage-deflate negotiation of a case of
	// groups 12 and 13, with the parameters agreed; nil for other cases.
	Compression *Negotiation `json:"compression,omitempty"`
}

// Failed reports whether either verdict of r is a failure.
func (r *Result) Failed(strict bool) bool {
	return r.Behavior.IsFailure(strict) || r.BehaviorClose.IsFailure(strict)
}

// judge computes the verdicts from what happened on c, following the
// suite's rules in its order.
func judge(cs *Case, c *conn, agent string, durationMS int64) *Result {
	r := &Result{
		Agent: agent, ID: cs.ID, Description: cs.Description, Expectation: cs.Expectation,
		Role: c.role.String(), DurationMS: durationMS, ReportTime: cs.timed,
		Behavior: Failed, BehaviorClose: Failed,
		Result:      "Actual events differ from any expected.",
		Expected:    map[string][]string{},
		ClosedByMe:  c.closedByMe,
		FailedByMe:  c.failedByMe,
		DroppedByMe: c.droppedByMe,
		WasClean:    c.wasClean, WasNotCleanReason: c.wasNotCleanReason,
		LocalCloseCode: c.localCode, LocalCloseReason: c.localReason,
		RemoteCloseCode: c.remoteCode, RemoteCloseReason: c.remoteReason,
		Notes: c.notes, Wirelog: c.wirelog,
		Compression: c.negotiation,
	}
	for _, e := range c.expected {
		r.Expected[string(e.Behavior)] = eventStrings(e.Events)
	}
	r.Received = eventStrings(c.received)
	ec := c.expectClose
	r.ExpectedClose.ClosedByMe = ec.ClosedByMe
	r.ExpectedClose.CloseCode = ec.Codes
	r.ExpectedClose.RequireClean = ec.RequireClean
	r.ExpectedClose.ClosedByWrongEndpointIsFatal = ec.WrongEndpointFatal

	if c.behavior != "" {
		r.Behavior, r.Result = c.behavior, c.result
	} else {
		for _, e := range c.expected {
			if eventsEqual(c.received, e.Events) {
				r.Behavior, r.Result = e.Behavior, "Actual events match at least one expected."
				break
			}
		}
	}
	switch {
	case ec.ClosedByMe != c.closedByMe:
		r.BehaviorClose, r.ResultClose = Failed, "The connection was failed by the wrong endpoint"
	case ec.RequireClean && !c.wasClean:
		r.BehaviorClose, r.ResultClose = Unclean, "The spec requires the connection to be failed cleanly here"
	case c.remoteCode != nil && !slices.Contains(ec.Codes, *c.remoteCode):
		r.BehaviorClose = WrongCode
		r.ResultClose = fmt.Sprintf("The close code should have been %s or empty", joinInts(ec.Codes))
	case c.role == RoleClient && c.droppedByMe:
		r.BehaviorClose, r.ResultClose = FailedByClient, "It is preferred that the server close the TCP connection"
	default:
		r.BehaviorClose, r.ResultClose = OK, "Connection was properly closed"
	}
	if ec.WrongEndpointFatal && ec.ClosedByMe != c.closedByMe {
		r.Behavior = Failed
		r.Result = "The peer did not fail the connection itself"
	}
	if c.violation != "" {
		r.Behavior, r.Result = Failed, "The peer broke a permessage-deflate rule: "+c.violation
	}
	if cs.judge != nil {
		cs.judge(c, r)
	}
	return r
}

func eventStrings(ev []Event) []string {
	s := make([]string, 0, len(ev))
	for _, e := range ev {
		s = append(s, e.String())
	}
	return s
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// wrongCodeFails is the judge of the close-code cases: a wrong close code
// makes the whole case FAILED, not just its close verdict.
func wrongCodeFails(_ *conn, r *Result) {
	if r.BehaviorClose == WrongCode {
		r.Behavior, r.Result = Failed, r.ResultClose
	}
}

// informational is the judge of cases whose outcome the spec leaves open.
func informational(_ *conn, r *Result) {
	switch r.Behavior {
	case OK:
		r.Result = "Text message was processed before close."
	case NonStrict:
		r.Result = "Close was processed before text message could be returned."
	default:
		r.Result = "Actual events are undefined by the spec."
	}
	r.Behavior, r.BehaviorClose = Informational, Informational
}
