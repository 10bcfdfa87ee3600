package conformance

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file holds the runner's own permessage-deflate negotiation (RFC 7692
// §5 and §7.1) on top of its own Sec-WebSocket-Extensions parser (RFC 6455
// §9.1). Like the rest of the runner it shares no code with the library
// under test.

// deflateName is the registered extension name of RFC 7692.
const deflateName = "permessage-deflate"

// DeflateParams are the permessage-deflate parameters in force on a
// connection once the handshake is done (RFC 7692 §7.1). Window sizes are
// the effective ones: 15 when the parameter was not negotiated.
type DeflateParams struct {
	// ServerNoContextTakeover: the server compresses each message on its own.
	ServerNoContextTakeover bool `json:"serverNoContextTakeover"`
	// ClientNoContextTakeover: the client compresses each message on its own.
	ClientNoContextTakeover bool `json:"clientNoContextTakeover"`
	// ServerMaxWindowBits bounds the LZ77 window of the server's compressor.
	ServerMaxWindowBits int `json:"serverMaxWindowBits"`
	// ClientMaxWindowBits bounds the LZ77 window of the client's compressor.
	ClientMaxWindowBits int `json:"clientMaxWindowBits"`
}

// String renders p compactly, e.g. "server: takeover, 15 bits; client: no takeover, 9 bits".
func (p DeflateParams) String() string {
	side := func(noTakeover bool, bits int) string {
		if noTakeover {
			return fmt.Sprintf("no takeover, %d bits", bits)
		}
		return fmt.Sprintf("takeover, %d bits", bits)
	}
	return "server: " + side(p.ServerNoContextTakeover, p.ServerMaxWindowBits) +
		"; client: " + side(p.ClientNoContextTakeover, p.ClientMaxWindowBits)
}

// Negotiation records how permessage-deflate was negotiated for a case of
// groups 12 and 13. It appears in the case's report.
type Negotiation struct {
	// Offer is the Sec-WebSocket-Extensions value of the client's request.
	Offer string `json:"offer"`
	// Response is the server's Sec-WebSocket-Extensions value; empty when
	// the server declined.
	Response string `json:"response"`
	// Agreed holds the parameters in force; nil when the extension is not in use.
	Agreed *DeflateParams `json:"agreed"`
}

// --- Sec-WebSocket-Extensions syntax (RFC 6455 §9.1) ----------------------

// extParam is one extension parameter; hasValue tells "x" from "x=..".
type extParam struct {
	name, value string
	hasValue    bool
}

// extension is one element of an extension list: a name and its parameters.
type extension struct {
	name   string
	params []extParam
}

// isTokenChar reports whether b may appear in an RFC 7230 token (tchar).
func isTokenChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// extScanner walks a header value byte by byte.
type extScanner struct {
	s string
	i int
}

func (sc *extScanner) skipSpace() {
	for sc.i < len(sc.s) && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\t') {
		sc.i++
	}
}

func (sc *extScanner) token() string {
	start := sc.i
	for sc.i < len(sc.s) && isTokenChar(sc.s[sc.i]) {
		sc.i++
	}
	return sc.s[start:sc.i]
}

// quoted reads a quoted-string starting at the opening quote and returns
// it unescaped.
func (sc *extScanner) quoted() (string, error) {
	sc.i++ // opening quote
	var b strings.Builder
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		sc.i++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if sc.i >= len(sc.s) {
				return "", errors.New("unterminated quoted-string")
			}
			b.WriteByte(sc.s[sc.i])
			sc.i++
		case c < 0x20 && c != '\t', c == 0x7f:
			return "", fmt.Errorf("control byte 0x%02x in quoted-string", c)
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("unterminated quoted-string")
}

// parseExtensions parses Sec-WebSocket-Extensions values (several header
// lines are one comma-separated list). Empty list elements are skipped, as
// RFC 7230 §7 asks of recipients. A quoted value must be a token once
// unescaped (RFC 6455 §9.1).
func parseExtensions(values ...string) ([]extension, error) {
	var out []extension
	for _, v := range values {
		sc := &extScanner{s: v}
		for {
			sc.skipSpace()
			if sc.i == len(sc.s) {
				break
			}
			if sc.s[sc.i] == ',' {
				sc.i++
				continue
			}
			name := sc.token()
			if name == "" {
				return nil, fmt.Errorf("extension name expected at offset %d of %q", sc.i, v)
			}
			e := extension{name: name}
			for {
				sc.skipSpace()
				if sc.i == len(sc.s) || sc.s[sc.i] == ',' {
					break
				}
				if sc.s[sc.i] != ';' {
					return nil, fmt.Errorf("unexpected %q at offset %d of %q", sc.s[sc.i], sc.i, v)
				}
				sc.i++
				sc.skipSpace()
				p := extParam{name: sc.token()}
				if p.name == "" {
					return nil, fmt.Errorf("parameter name expected at offset %d of %q", sc.i, v)
				}
				sc.skipSpace()
				if sc.i < len(sc.s) && sc.s[sc.i] == '=' {
					sc.i++
					sc.skipSpace()
					p.hasValue = true
					if sc.i < len(sc.s) && sc.s[sc.i] == '"' {
						q, err := sc.quoted()
						if err != nil {
							return nil, err
						}
						if !isToken(q) {
							return nil, fmt.Errorf("quoted value %q of %s is not a token", q, p.name)
						}
						p.value = q
					} else if p.value = sc.token(); p.value == "" {
						return nil, fmt.Errorf("value expected for %s in %q", p.name, v)
					}
				}
				e.params = append(e.params, p)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// String formats e in the canonical form: "name; a; b=1".
func (e extension) String() string {
	var b strings.Builder
	b.WriteString(e.name)
	for _, p := range e.params {
		b.WriteString("; ")
		b.WriteString(p.name)
		if p.hasValue {
			b.WriteByte('=')
			if isToken(p.value) {
				b.WriteString(p.value)
			} else {
				b.WriteString(strconv.Quote(p.value))
			}
		}
	}
	return b.String()
}

// --- permessage-deflate parameters (RFC 7692 §7.1) ------------------------

// pmdParams is one permessage-deflate offer or response as written on the
// wire: zero window bits mean "parameter absent".
type pmdParams struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	serverMaxWindowBits     int
	clientMaxWindowBits     int
	// clientMaxWindowBitsOffered: an offer carried client_max_window_bits,
	// with or without a value (the value, if any, is clientMaxWindowBits).
	clientMaxWindowBitsOffered bool
}

// parseWindowBits checks the value syntax of RFC 7692 §7.1.2: a decimal
// integer from 8 to 15 without leading zeroes.
func parseWindowBits(v string) (int, bool) {
	if len(v) == 0 || len(v) > 2 || v[0] < '1' || v[0] > '9' || v[len(v)-1] < '0' || v[len(v)-1] > '9' {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 8 || n > 15 {
		return 0, false
	}
	return n, true
}

// parseDeflate validates the parameters of one permessage-deflate element.
// response selects the rules for a server's response, where
// client_max_window_bits must carry a value. Unknown and duplicate
// parameters and bad values are errors (RFC 7692 §5.1, §7.1).
func parseDeflate(e extension, response bool) (pmdParams, error) {
	var p pmdParams
	seen := map[string]bool{}
	for _, q := range e.params {
		name := strings.ToLower(q.name)
		if seen[name] {
			return p, fmt.Errorf("duplicate parameter %s", q.name)
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if q.hasValue {
				return p, fmt.Errorf("%s takes no value", q.name)
			}
			if name == "server_no_context_takeover" {
				p.serverNoContextTakeover = true
			} else {
				p.clientNoContextTakeover = true
			}
		case "server_max_window_bits":
			n, ok := parseWindowBits(q.value)
			if !q.hasValue || !ok {
				return p, fmt.Errorf("server_max_window_bits needs a value from 8 to 15, got %q", q.value)
			}
			p.serverMaxWindowBits = n
		case "client_max_window_bits":
			if !q.hasValue {
				if response {
					return p, errors.New("client_max_window_bits needs a value in a response")
				}
				p.clientMaxWindowBitsOffered = true
				continue
			}
			n, ok := parseWindowBits(q.value)
			if !ok {
				return p, fmt.Errorf("client_max_window_bits needs a value from 8 to 15, got %q", q.value)
			}
			p.clientMaxWindowBits = n
			p.clientMaxWindowBitsOffered = !response
		default:
			return p, fmt.Errorf("unknown parameter %s", q.name)
		}
	}
	return p, nil
}

// offerString formats an offer the way the suite's client writes it:
// client parameters first.
func (p pmdParams) offerString() string {
	s := deflateName
	if p.clientNoContextTakeover {
		s += "; client_no_context_takeover"
	}
	if p.clientMaxWindowBitsOffered {
		s += "; client_max_window_bits"
		if p.clientMaxWindowBits != 0 {
			s += "=" + strconv.Itoa(p.clientMaxWindowBits)
		}
	}
	if p.serverNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if p.serverMaxWindowBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(p.serverMaxWindowBits)
	}
	return s
}

// responseString formats a response the way the suite's server writes it:
// server parameters first.
func (p pmdParams) responseString() string {
	s := deflateName
	if p.serverNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if p.serverMaxWindowBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(p.serverMaxWindowBits)
	}
	if p.clientNoContextTakeover {
		s += "; client_no_context_takeover"
	}
	if p.clientMaxWindowBits != 0 {
		s += "; client_max_window_bits=" + strconv.Itoa(p.clientMaxWindowBits)
	}
	return s
}

// agreed turns a response into the parameters in force.
func (p pmdParams) agreed() DeflateParams {
	bits := func(n int) int {
		if n == 0 {
			return 15
		}
		return n
	}
	return DeflateParams{
		ServerNoContextTakeover: p.serverNoContextTakeover,
		ClientNoContextTakeover: p.clientNoContextTakeover,
		ServerMaxWindowBits:     bits(p.serverMaxWindowBits),
		ClientMaxWindowBits:     bits(p.clientMaxWindowBits),
	}
}

// answers reports why resp is not a legal answer to offer, or "":
//   - server_no_context_takeover offered: the response must carry it;
//   - server_max_window_bits=N offered: the response must carry a value <= N;
//   - client_max_window_bits in the response only if the offer had it, and
//     no larger than the offer's value when it had one.
//
// server_no_context_takeover, server_max_window_bits and
// client_no_context_takeover may otherwise appear on the server's initiative.
func (resp pmdParams) answers(offer pmdParams) string {
	switch {
	case offer.serverNoContextTakeover && !resp.serverNoContextTakeover:
		return "server_no_context_takeover was offered but is missing from the response"
	case offer.serverMaxWindowBits != 0 && resp.serverMaxWindowBits == 0:
		return fmt.Sprintf("server_max_window_bits=%d was offered but is missing from the response", offer.serverMaxWindowBits)
	case offer.serverMaxWindowBits != 0 && resp.serverMaxWindowBits > offer.serverMaxWindowBits:
		return fmt.Sprintf("server_max_window_bits=%d exceeds the offered %d", resp.serverMaxWindowBits, offer.serverMaxWindowBits)
	case resp.clientMaxWindowBits != 0 && !offer.clientMaxWindowBitsOffered:
		return "client_max_window_bits in the response, but the offer did not allow it"
	case resp.clientMaxWindowBits != 0 && offer.clientMaxWindowBits != 0 && resp.clientMaxWindowBits > offer.clientMaxWindowBits:
		return fmt.Sprintf("client_max_window_bits=%d exceeds the offered %d", resp.clientMaxWindowBits, offer.clientMaxWindowBits)
	}
	return ""
}

// checkResponse validates the server's Sec-WebSocket-Extensions answer to
// offers (the runner as client). An empty answer declines. Otherwise it must
// be a single, well-formed permessage-deflate element that is a legal answer
// to at least one offer (RFC 7692 §7.1: with several offers the server picks
// one).
func checkResponse(offers []pmdParams, header string) (*DeflateParams, error) {
	exts, err := parseExtensions(header)
	if err != nil {
		return nil, fmt.Errorf("malformed Sec-WebSocket-Extensions: %v", err)
	}
	switch {
	case len(exts) == 0:
		return nil, nil
	case len(exts) > 1:
		return nil, fmt.Errorf("%d extensions in the response, but only %s was offered", len(exts), deflateName)
	case !strings.EqualFold(exts[0].name, deflateName):
		return nil, fmt.Errorf("extension %q was not offered", exts[0].name)
	}
	resp, err := parseDeflate(exts[0], true)
	if err != nil {
		return nil, fmt.Errorf("invalid %s response: %v", deflateName, err)
	}
	var why []string
	for i, o := range offers {
		w := resp.answers(o)
		if w == "" {
			a := resp.agreed()
			return &a, nil
		}
		if len(offers) > 1 {
			w = fmt.Sprintf("offer %d: %s", i+1, w)
		}
		why = append(why, w)
	}
	return nil, fmt.Errorf("response %q answers no offer: %s", header, strings.Join(why, "; "))
}

// parseOffers extracts the permessage-deflate offers of a client's request
// (the runner as server). Other extensions are ignored; a malformed
// permessage-deflate element is an error, which the suite's server answers
// by failing the handshake.
func parseOffers(values []string) ([]pmdParams, error) {
	exts, err := parseExtensions(values...)
	if err != nil {
		return nil, fmt.Errorf("malformed Sec-WebSocket-Extensions: %v", err)
	}
	var offers []pmdParams
	for i, e := range exts {
		if !strings.EqualFold(e.name, deflateName) {
			continue
		}
		o, err := parseDeflate(e, false)
		if err != nil {
			return nil, fmt.Errorf("invalid %s offer (element %d, %q): %v", deflateName, i+1, e, err)
		}
		offers = append(offers, o)
	}
	return offers, nil
}

// acceptRule is how the runner, as server, answers the offers of a client
// under test in a case of groups 12 and 13. Like the suite's server it
// always honours what the client asks of the server (server_* parameters)
// and adds its own requests for the client's side.
type acceptRule struct {
	// clientNoContextTakeover asks the client to compress each message on
	// its own. The suite's server may always do so: the parameter is legal
	// in any response.
	clientNoContextTakeover bool
	// clientMaxWindowBits, when non-zero, asks for a smaller client window;
	// it needs an offer that carries client_max_window_bits.
	clientMaxWindowBits int
}

// accept returns the response to the first offer the rule can answer.
func (a acceptRule) accept(offers []pmdParams) (pmdParams, bool) {
	for _, o := range offers {
		if a.clientMaxWindowBits != 0 && !o.clientMaxWindowBitsOffered {
			continue
		}
		r := pmdParams{
			serverNoContextTakeover: o.serverNoContextTakeover,
			serverMaxWindowBits:     o.serverMaxWindowBits,
			clientNoContextTakeover: a.clientNoContextTakeover,
			clientMaxWindowBits:     a.clientMaxWindowBits,
		}
		// A client's value is a limit on what we may ask for (RFC 7692
		// §7.1.2.2); the suite ignores it, we honour it so that a strict
		// client does not fail the handshake over it.
		if o.clientMaxWindowBits != 0 && r.clientMaxWindowBits > o.clientMaxWindowBits {
			r.clientMaxWindowBits = o.clientMaxWindowBits
		}
		return r, true
	}
	return pmdParams{}, false
}

// deflateSpec is what a compression case negotiates in either role.
type deflateSpec struct {
	offers []pmdParams  // the runner as client sends these, in order
	accept []acceptRule // the runner as server tries these rules, in order
	label  string       // for descriptions
}

// offerHeader is the Sec-WebSocket-Extensions value of the spec's offers.
func (d *deflateSpec) offerHeader() string {
	s := make([]string, len(d.offers))
	for i, o := range d.offers {
		s[i] = o.offerString()
	}
	return strings.Join(s, ", ")
}

// answer applies the spec's rules in order to a client's offers.
func (d *deflateSpec) answer(offers []pmdParams) (pmdParams, bool) {
	for _, a := range d.accept {
		if r, ok := a.accept(offers); ok {
			return r, true
		}
	}
	return pmdParams{}, false
}
