package handshake

import (
	"strconv"
)

// This file negotiates the permessage-deflate extension of RFC 7692 (§5 and
// §7.1). The rules, in short:
//
//   - server_no_context_takeover (no value): in an offer, the client asks
//     the server to compress every message on its own; a server that accepts
//     the offer echoes it. A server may also send it unasked.
//   - client_no_context_takeover (no value): in an offer, a promise by the
//     client; in a response, an order the client must follow. The server may
//     send it unasked.
//   - server_max_window_bits=N (8..15): in an offer, the largest LZ77 window
//     the server may compress with; a server that accepts echoes it with N or
//     less. A server may also send it unasked, to announce a smaller window.
//   - client_max_window_bits[=N]: in an offer, that the client can limit its
//     own window (and, with N, a promise to use at most N); only then may the
//     response carry it, with a value, and no more than N.
//
// An offer with an unknown, repeated or ill-formed parameter is declined (the
// server goes on to the next one); a response like that fails the connection.

// deflateName is the name of the permessage-deflate extension (RFC 7692 §7).
// Names are compared exactly, as [ReadResponse] does.
const deflateName = "permessage-deflate"

// The parameters of permessage-deflate (RFC 7692 §7.1).
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// Bounds of a window size in bits: 2^8 = 256 bytes to 2^15 = 32 KiB.
const (
	minWindowBits = 8
	maxWindowBits = 15
)

// DeflateParams are the parameters of one permessage-deflate offer or of the
// agreement a response settles on. The zero value is the bare
// "permessage-deflate": both sides keep their context between messages and
// use windows of up to 15 bits.
type DeflateParams struct {
	// ServerNoContextTakeover is set when the server compresses each
	// message on its own, starting with an empty window.
	ServerNoContextTakeover bool

	// ClientNoContextTakeover is the same for the client's messages.
	ClientNoContextTakeover bool

	// ServerMaxWindowBits limits the LZ77 window of the server's messages
	// to 2^ServerMaxWindowBits bytes: 8..15, or 0 when the parameter is
	// absent (15 then applies).
	ServerMaxWindowBits int

	// ClientMaxWindowBits is the same for the client's messages. In an
	// offer, 0 means the parameter is absent or has no value.
	ClientMaxWindowBits int

	// ClientMaxWindowBitsAllowed, in an offer only, is set when
	// client_max_window_bits is present, with or without a value: the
	// client lets the server choose the client's window. It is never set
	// in an agreement.
	ClientMaxWindowBitsAllowed bool
}

// WindowBits returns the size in bits of the LZ77 window in force for the
// messages the server sends (server=true) or those the client sends: the
// negotiated value, or 15 without one.
func (p DeflateParams) WindowBits(server bool) int {
	n := p.ClientMaxWindowBits
	if server {
		n = p.ServerMaxWindowBits
	}
	if n == 0 {
		return maxWindowBits
	}
	return n
}

// ContextTakeover reports whether the server (server=true) or the client
// compresses each message with the window its previous messages left, which
// the receiver must then keep too.
func (p DeflateParams) ContextTakeover(server bool) bool {
	if server {
		return !p.ServerNoContextTakeover
	}
	return !p.ClientNoContextTakeover
}

// extension returns p as a permessage-deflate extension, with the parameters
// p sets in the order server_no_context_takeover, client_no_context_takeover,
// server_max_window_bits, client_max_window_bits. client_max_window_bits has
// no value when only ClientMaxWindowBitsAllowed is set. parseDeflate of the
// result gives p back when p's window sizes are 0 or 8..15.
func (p DeflateParams) extension() Extension {
	e := Extension{Name: deflateName}
	n := 0
	for _, set := range [...]bool{
		p.ServerNoContextTakeover,
		p.ClientNoContextTakeover,
		p.ServerMaxWindowBits != 0,
		p.ClientMaxWindowBits != 0 || p.ClientMaxWindowBitsAllowed,
	} {
		if set {
			n++
		}
	}
	if n == 0 {
		return e // Params stays nil, as parseExtensions leaves it
	}
	e.Params = make([]Param, 0, n)
	if p.ServerNoContextTakeover {
		e.Params = append(e.Params, Param{Name: paramServerNoContextTakeover})
	}
	if p.ClientNoContextTakeover {
		e.Params = append(e.Params, Param{Name: paramClientNoContextTakeover})
	}
	if p.ServerMaxWindowBits != 0 {
		e.Params = append(e.Params, Param{Name: paramServerMaxWindowBits, Value: strconv.Itoa(p.ServerMaxWindowBits), HasValue: true})
	}
	switch {
	case p.ClientMaxWindowBits != 0:
		e.Params = append(e.Params, Param{Name: paramClientMaxWindowBits, Value: strconv.Itoa(p.ClientMaxWindowBits), HasValue: true})
	case p.ClientMaxWindowBitsAllowed:
		e.Params = append(e.Params, Param{Name: paramClientMaxWindowBits})
	}
	return e
}

// String returns p in the syntax of Sec-WebSocket-Extensions, e.g.
// "permessage-deflate; client_max_window_bits=10".
func (p DeflateParams) String() string {
	return p.extension().String()
}

// deflateError reports a permessage-deflate offer or response that breaks the
// rules of RFC 7692. A server declines such an offer; a client that gets such
// a response must fail the WebSocket connection.
type deflateError struct {
	// Param is the parameter at fault, "" if the fault is not with one.
	Param string

	// Reason says what is wrong, in a few words.
	Reason string
}

// Error returns "websocket: handshake: permessage-deflate: <param>: <reason>",
// without "<param>: " when Param is empty.
func (e *deflateError) Error() string {
	s := "websocket: handshake: " + deflateName + ": "
	if e.Param != "" {
		s += e.Param + ": "
	}
	return s + e.Reason
}

// Reasons of a deflateError.
const (
	reasonDeflateName        = "extension is not " + deflateName
	reasonDeflateUnknown     = "unknown parameter"
	reasonDeflateTwice       = "parameter given twice"
	reasonDeflateHasValue    = "parameter must not have a value"
	reasonDeflateNoValue     = "parameter must have a value"
	reasonDeflateBits        = "value is not a window size from 8 to 15"
	reasonDeflateBadOffer    = "offer is malformed"
	reasonDeflateNotOffered  = "parameter in the response but not in the offer"
	reasonDeflateOverOffer   = "value larger than the offer's"
	reasonDeflateNotHonoured = "parameter in the offer but not in the response"
)

// parseDeflate checks e, an offer (isResponse false) or a response
// (isResponse true) of permessage-deflate, and returns its parameters.
//
// e must be named deflateName and have only the four parameters of
// RFC 7692 §7.1, each at most once: server_no_context_takeover and
// client_no_context_takeover without a value, server_max_window_bits with a
// value, and client_max_window_bits with a value in a response and with or
// without one in an offer. A value is a window size from 8 to 15 written in
// decimal without leading zeros; parseExtensions has already removed the
// quotes of a quoted-string, which RFC 7692 allows as well (RFC 6455 §9.1).
// Anything else is an error naming the parameter at fault.
func parseDeflate(e Extension, isResponse bool) (DeflateParams, error) {
	var p DeflateParams
	if e.Name != deflateName {
		return DeflateParams{}, &deflateError{Reason: reasonDeflateName}
	}
	var seen [4]bool // by parameter, in the order of the constants
	for _, q := range e.Params {
		var i int
		switch q.Name {
		case paramServerNoContextTakeover:
			i = 0
		case paramClientNoContextTakeover:
			i = 1
		case paramServerMaxWindowBits:
			i = 2
		case paramClientMaxWindowBits:
			i = 3
		default:
			return DeflateParams{}, &deflateError{Param: q.Name, Reason: reasonDeflateUnknown}
		}
		if seen[i] {
			return DeflateParams{}, &deflateError{Param: q.Name, Reason: reasonDeflateTwice}
		}
		seen[i] = true
		switch i {
		case 0, 1:
			if q.HasValue {
				return DeflateParams{}, &deflateError{Param: q.Name, Reason: reasonDeflateHasValue}
			}
			if i == 0 {
				p.ServerNoContextTakeover = true
			} else {
				p.ClientNoContextTakeover = true
			}
		case 2:
			n, err := parseWindowBits(q)
			if err != nil {
				return DeflateParams{}, err
			}
			p.ServerMaxWindowBits = n
		case 3:
			if !q.HasValue && !isResponse {
				// In an offer the bare form means "choose my
				// window for me" (RFC 7692 §7.1.2.2).
				p.ClientMaxWindowBitsAllowed = true
				continue
			}
			n, err := parseWindowBits(q)
			if err != nil {
				return DeflateParams{}, err
			}
			p.ClientMaxWindowBits = n
			p.ClientMaxWindowBitsAllowed = !isResponse
		}
	}
	return p, nil
}

// parseWindowBits returns the window size in q's value: "8" to "15", no sign,
// no leading zero, no spaces (RFC 7692 §7.1.2.1 and §7.1.2.2).
func parseWindowBits(q Param) (int, error) {
	if !q.HasValue {
		return 0, &deflateError{Param: q.Name, Reason: reasonDeflateNoValue}
	}
	v := q.Value
	switch {
	case len(v) == 1 && (v[0] == '8' || v[0] == '9'):
		return int(v[0] - '0'), nil
	case len(v) == 2 && v[0] == '1' && '0' <= v[1] && v[1] <= '5':
		return 10 + int(v[1]-'0'), nil
	}
	return 0, &deflateError{Param: q.Name, Reason: reasonDeflateBits + ": " + strconv.Quote(v)}
}

// DeflateConfig is what one side is willing to do with permessage-deflate.
// The same fields serve both roles; what each means for a client and for a
// server is told below. The zero value asks nothing and allows everything:
// context takeover and 15-bit windows in both directions, unless the peer
// asks for less.
//
// Window sizes are in bits: 0 means 15 (32 KiB, the most DEFLATE allows);
// other values outside 8..15 are brought to the nearest end of that range.
type DeflateConfig struct {
	// ServerNoContextTakeover, for a client, asks the server to compress
	// each message on its own, so the client keeps no window between the
	// server's messages; a server that accepts must comply. For a server,
	// it makes the server compress each message on its own (and say so),
	// so it keeps no compressor state between messages.
	ServerNoContextTakeover bool

	// ClientNoContextTakeover, for a client, makes it compress each
	// message on its own, and tells the server so. For a server, it
	// requires that of the client, so the server keeps no window between
	// the client's messages; RFC 7692 lets the server impose it.
	ClientNoContextTakeover bool

	// ServerMaxWindowBits, for a client, limits the window the server may
	// compress with (and so the window the client must keep); a server
	// that accepts must comply. For a server, it limits the server's own
	// window, and the server announces it.
	ServerMaxWindowBits int

	// ClientMaxWindowBits, for a client, limits the window it compresses
	// with. For a server, it asks the client for at most this window;
	// RFC 7692 lets the server ask only when the client's offer has
	// client_max_window_bits, so against an offer without it the client
	// keeps 15 bits. The offer is accepted all the same.
	ClientMaxWindowBits int
}

// windowBits brings a configured window size into 8..15, 0 meaning 15.
func windowBits(n int) int {
	switch {
	case n == 0 || n > maxWindowBits:
		return maxWindowBits
	case n < minWindowBits:
		return minWindowBits
	}
	return n
}

// Offer returns the client's offer for c. It always has
// client_max_window_bits, with c's value when that is under 15 and bare
// otherwise: the client can compress with any window the server asks for.
// server_max_window_bits is there when c's value is under 15, and each
// no_context_takeover parameter when c sets it. With the zero DeflateConfig
// the offer is "permessage-deflate; client_max_window_bits", as browsers
// send it.
func (c DeflateConfig) Offer() Extension {
	p := DeflateParams{
		ServerNoContextTakeover:    c.ServerNoContextTakeover,
		ClientNoContextTakeover:    c.ClientNoContextTakeover,
		ClientMaxWindowBitsAllowed: true,
	}
	if n := windowBits(c.ServerMaxWindowBits); n < maxWindowBits {
		p.ServerMaxWindowBits = n
	}
	if n := windowBits(c.ClientMaxWindowBits); n < maxWindowBits {
		p.ClientMaxWindowBits = n
	}
	return p.extension()
}

// Accept is the server's side of the negotiation. It goes through the
// client's offers in order (all the extensions of the request, as in
// [Request.Extensions]), skips those of other extensions, declines those
// that break the rules of RFC 7692 §7.1 for an offer, and accepts the first
// other one. It returns
// the parameters agreed and the extension to put in the response, or
// ok=false when no offer is acceptable: the response then carries no
// permessage-deflate and the connection runs uncompressed.
//
// The response grants what the offer asked and adds what c requires:
//   - server_no_context_takeover if the offer or c has it;
//   - client_no_context_takeover if c has it, or if the offer promised it
//     (echoing the promise binds the client, so the server may drop the
//     client's window between messages);
//   - server_max_window_bits with the smaller of the offer's value and c's,
//     if the offer has one or c's is under 15;
//   - client_max_window_bits, if the offer allows it, with the smaller of
//     the offer's value and c's, when either is under 15 or the offer has
//     a value.
//
// The agreement returned is the response's parameters: the client must
// follow them exactly as the server does.
func (c DeflateConfig) Accept(offers []Extension) (agreed DeflateParams, resp Extension, ok bool) {
	for _, e := range offers {
		if e.Name != deflateName {
			continue
		}
		offer, err := parseDeflate(e, false)
		if err != nil {
			continue // RFC 7692 §7: decline it, try the next
		}
		agreed = DeflateParams{
			ServerNoContextTakeover: offer.ServerNoContextTakeover || c.ServerNoContextTakeover,
			ClientNoContextTakeover: offer.ClientNoContextTakeover || c.ClientNoContextTakeover,
		}
		if n := windowBits(c.ServerMaxWindowBits); offer.ServerMaxWindowBits != 0 {
			agreed.ServerMaxWindowBits = min(n, offer.ServerMaxWindowBits)
		} else if n < maxWindowBits {
			agreed.ServerMaxWindowBits = n
		}
		if offer.ClientMaxWindowBitsAllowed {
			if n := windowBits(c.ClientMaxWindowBits); offer.ClientMaxWindowBits != 0 {
				agreed.ClientMaxWindowBits = min(n, offer.ClientMaxWindowBits)
			} else if n < maxWindowBits {
				agreed.ClientMaxWindowBits = n
			}
		}
		return agreed, agreed.extension(), true
	}
	return DeflateParams{}, Extension{}, false
}

// Agreed is the client's side of the negotiation: it checks resp, the
// server's permessage-deflate response (the element of
// [Response.Extensions] with offer's Name), against offer, the offer it
// accepts (normally c.Offer()), and returns the parameters in force. When the client
// sent several permessage-deflate offers, the response is good if Agreed
// accepts it for one of them.
//
// A response with a parameter that RFC 7692 §7.1 does not define, repeats
// one or gives one a bad value, or that does not answer the offer as §7.1
// requires, gives an error naming the parameter at fault, and the client
// must then fail the WebSocket connection. The response must:
//   - echo server_no_context_takeover if the offer has it;
//   - have server_max_window_bits if the offer has it, with a value no
//     larger than the offer's;
//   - have client_max_window_bits only if the offer has it, and with a value
//     no larger than the offer's value, if that has one.
//
// Everything else the server may add on its own. The agreement returned is
// the response's parameters, narrowed by what the client committed to: the
// offer's client_no_context_takeover and client_max_window_bits value, and
// c's ClientNoContextTakeover and ClientMaxWindowBits. c's other fields play
// no part, as offer carries what the client asked of the server.
func (c DeflateConfig) Agreed(offer, resp Extension) (DeflateParams, error) {
	o, err := parseDeflate(offer, false)
	if err != nil {
		return DeflateParams{}, &deflateError{Reason: reasonDeflateBadOffer + ": " + err.Error()}
	}
	p, err := parseDeflate(resp, true)
	if err != nil {
		return DeflateParams{}, err
	}
	if o.ServerNoContextTakeover && !p.ServerNoContextTakeover {
		return DeflateParams{}, &deflateError{Param: paramServerNoContextTakeover, Reason: reasonDeflateNotHonoured}
	}
	if o.ServerMaxWindowBits != 0 {
		if p.ServerMaxWindowBits == 0 {
			return DeflateParams{}, &deflateError{Param: paramServerMaxWindowBits, Reason: reasonDeflateNotHonoured}
		}
		if p.ServerMaxWindowBits > o.ServerMaxWindowBits {
			return DeflateParams{}, &deflateError{Param: paramServerMaxWindowBits, Reason: reasonDeflateOverOffer}
		}
	}
	if p.ClientMaxWindowBits != 0 {
		if !o.ClientMaxWindowBitsAllowed {
			return DeflateParams{}, &deflateError{Param: paramClientMaxWindowBits, Reason: reasonDeflateNotOffered}
		}
		if o.ClientMaxWindowBits != 0 && p.ClientMaxWindowBits > o.ClientMaxWindowBits {
			return DeflateParams{}, &deflateError{Param: paramClientMaxWindowBits, Reason: reasonDeflateOverOffer}
		}
	}

	// The client's own commitments hold whatever the server said: they only
	// make its messages simpler to decode, never harder.
	p.ClientNoContextTakeover = p.ClientNoContextTakeover || o.ClientNoContextTakeover || c.ClientNoContextTakeover
	n := p.WindowBits(false)
	if o.ClientMaxWindowBits != 0 {
		n = min(n, o.ClientMaxWindowBits)
	}
	n = min(n, windowBits(c.ClientMaxWindowBits))
	if n < p.WindowBits(false) {
		p.ClientMaxWindowBits = n
	}
	return p, nil
}
