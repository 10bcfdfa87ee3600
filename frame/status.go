package frame

import "strconv"

// StatusCode is a close status code (RFC 6455 §7.4), carried in the first
// two bytes of a close frame's payload.
type StatusCode uint16

// Status codes defined by RFC 6455 §7.4.1 and registered with IANA
// (§11.7). Codes 1005 and 1006 are reserved for reporting conditions
// locally and must never be sent in a close frame. The registry's 1014 (bad
// gateway) and 1015 (TLS handshake failed, local only) have no name here:
// this library neither sends nor reports them, though it accepts 1014 from a
// peer and names both in String.
const (
	StatusNormalClosure           StatusCode = 1000 // the purpose of the connection has been fulfilled
	StatusGoingAway               StatusCode = 1001 // server shutting down or browser leaving the page
	StatusProtocolError           StatusCode = 1002 // the peer broke the protocol
	StatusUnsupportedData         StatusCode = 1003 // a message type the endpoint cannot accept
	StatusNoStatusReceived        StatusCode = 1005 // local only: the close frame had no code
	StatusAbnormalClosure         StatusCode = 1006 // local only: closed without a close frame
	StatusInvalidFramePayloadData StatusCode = 1007 // message data inconsistent with its type (bad UTF-8)
	StatusPolicyViolation         StatusCode = 1008 // a generic policy violation
	StatusMessageTooBig           StatusCode = 1009 // a message too big to process
	StatusMandatoryExtension      StatusCode = 1010 // client: the server did not negotiate an extension
	StatusInternalError           StatusCode = 1011 // server: an unexpected condition
	StatusServiceRestart          StatusCode = 1012 // server restarting
	StatusTryAgainLater           StatusCode = 1013 // server overloaded, try again later
)

var statusNames = [...]string{
	StatusNormalClosure - 1000:           "normal closure",
	StatusGoingAway - 1000:               "going away",
	StatusProtocolError - 1000:           "protocol error",
	StatusUnsupportedData - 1000:         "unsupported data",
	1004 - 1000:                          "reserved",
	StatusNoStatusReceived - 1000:        "no status received",
	StatusAbnormalClosure - 1000:         "abnormal closure",
	StatusInvalidFramePayloadData - 1000: "invalid frame payload data",
	StatusPolicyViolation - 1000:         "policy violation",
	StatusMessageTooBig - 1000:           "message too big",
	StatusMandatoryExtension - 1000:      "mandatory extension",
	StatusInternalError - 1000:           "internal error",
	StatusServiceRestart - 1000:          "service restart",
	StatusTryAgainLater - 1000:           "try again later",
	1014 - 1000:                          "bad gateway",
	1015 - 1000:                          "TLS handshake",
}

// String returns the code followed by its meaning, for example
// "1000 (normal closure)". Codes without a registered name are described by
// their range: "1016 (reserved)", "3000 (application)", "4000 (private)",
// "999 (invalid)".
func (c StatusCode) String() string {
	return strconv.Itoa(int(c)) + " (" + c.name() + ")"
}

func (c StatusCode) name() string {
	switch {
	case c >= 1000 && int(c-1000) < len(statusNames):
		return statusNames[c-1000]
	case c >= 1000 && c < 3000:
		// Reserved for future revisions of the protocol and for extensions.
		return "reserved"
	case c >= 3000 && c < 4000:
		// Registered with IANA by libraries, frameworks and applications.
		return "application"
	case c >= 4000 && c < 5000:
		return "private"
	}
	return "invalid"
}

// ValidOnWire reports whether c may appear in a close frame received from a
// peer: 1000 to 1003, 1007 to 1014, and 3000 to 4999. The codes reserved for
// local use (1005, 1006, 1015), the unassigned 1004 and 1016 to 2999, and
// everything below 1000 or from 5000 up are protocol errors (§7.4).
func (c StatusCode) ValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}
