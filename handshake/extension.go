package handshake

import (
	"errors"
	"strconv"
	"strings"
)

// Extension is one element of a Sec-WebSocket-Extensions list: an extension
// name and its parameters, in the order they were written (RFC 6455 §9.1),
// e.g. "permessage-deflate; client_max_window_bits".
type Extension struct {
	Name   string
	Params []Param // nil when there are none
}

// Param is an extension parameter. A parameter may have no value
// ("client_max_window_bits"), which HasValue tells apart from an empty one.
// Value holds the value after quoted-string unescaping.
type Param struct {
	Name     string
	Value    string
	HasValue bool
}

// errExtensionSyntax is wrapped by the errors of parseExtensions.
var errExtensionSyntax = errors.New("websocket: handshake: malformed extension list")

// extensionError reports where an extension list stopped making sense.
type extensionError struct {
	value string // the field value being parsed
	pos   int    // byte offset of the problem in value
	what  string
}

func (e *extensionError) Error() string {
	return errExtensionSyntax.Error() + ": " + e.what + " at offset " + strconv.Itoa(e.pos) + " in " + strconv.Quote(e.value)
}

func (e *extensionError) Unwrap() error { return errExtensionSyntax }

// parseExtensions parses the values of Sec-WebSocket-Extensions fields, one
// string per field line, into the extensions they list in order. The grammar
// is RFC 6455 §9.1:
//
//	extension-list = 1#extension
//	extension      = token *( ";" param )
//	param          = token [ "=" ( token / quoted-string ) ]
//
// with optional whitespace around the separators. Commas inside quoted
// strings do not split the list. As §9.1 requires, a quoted value must be a
// token once unescaped. Empty list elements are skipped (RFC 9110 §5.6.1), so
// empty input yields nil. The names and values returned are substrings of
// values unless unescaping changed them.
func parseExtensions(values []string) ([]Extension, error) {
	var exts []Extension
	for _, v := range values {
		var err error
		if exts, err = parseExtensionList(exts, v); err != nil {
			return nil, err
		}
	}
	return exts, nil
}

// extensionParser walks one field value.
type extensionParser struct {
	s   string
	pos int
}

func (p *extensionParser) skipOWS() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// peek returns the next byte, or 0 at the end.
func (p *extensionParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *extensionParser) token() string {
	start := p.pos
	for p.pos < len(p.s) && tchar[p.s[p.pos]] {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *extensionParser) fail(what string) error {
	return &extensionError{value: p.s, pos: p.pos, what: what}
}

// quoted reads a quoted-string whose opening DQUOTE is at p.pos and returns
// its content unescaped.
func (p *extensionParser) quoted() (string, error) {
	p.pos++ // opening DQUOTE
	start := p.pos
	escaped := false
	for p.pos < len(p.s) {
		switch c := p.s[p.pos]; {
		case c == '"':
			raw := p.s[start:p.pos]
			p.pos++
			if !escaped {
				return raw, nil
			}
			return unquote(raw), nil
		case c == '\\':
			if p.pos+1 >= len(p.s) || !validFieldValueByte(p.s[p.pos+1]) {
				return "", p.fail("bad quoted-pair")
			}
			escaped = true
			p.pos += 2
		case validFieldValueByte(c):
			p.pos++
		default:
			return "", p.fail("bad character in quoted-string")
		}
	}
	return "", p.fail("unterminated quoted-string")
}

// unquote removes the backslashes of quoted-pairs from a quoted-string's
// content that is known to be well formed.
func unquote(raw string) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' {
			i++
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// parseExtensionList appends the extensions of one field value to exts.
func parseExtensionList(exts []Extension, s string) ([]Extension, error) {
	p := extensionParser{s: s}
	for {
		p.skipOWS()
		if p.pos == len(s) {
			return exts, nil
		}
		if s[p.pos] == ',' {
			p.pos++ // an empty list element
			continue
		}
		ext := Extension{Name: p.token()}
		if ext.Name == "" {
			return nil, p.fail("expected extension name")
		}
		for {
			p.skipOWS()
			if p.peek() != ';' {
				break
			}
			p.pos++
			p.skipOWS()
			param := Param{Name: p.token()}
			if param.Name == "" {
				return nil, p.fail("expected parameter name")
			}
			p.skipOWS()
			if p.peek() == '=' {
				p.pos++
				p.skipOWS()
				param.HasValue = true
				if p.peek() == '"' {
					start := p.pos
					v, err := p.quoted()
					if err != nil {
						return nil, err
					}
					if !isToken(v) {
						p.pos = start
						return nil, p.fail("quoted value is not a token")
					}
					param.Value = v
				} else if param.Value = p.token(); param.Value == "" {
					return nil, p.fail("expected parameter value")
				}
			}
			ext.Params = append(ext.Params, param)
		}
		exts = append(exts, ext)
		switch {
		case p.pos == len(s):
			return exts, nil
		case s[p.pos] == ',':
			p.pos++
		default:
			return nil, p.fail("expected ',' or ';'")
		}
	}
}

// String returns the extension in canonical form: the name, then
// "; name" or "; name=value" for each parameter. Values that are tokens are
// written bare; any other value is written as a quoted-string.
func (e Extension) String() string {
	return string(e.append(nil))
}

func (e Extension) append(b []byte) []byte {
	b = append(b, e.Name...)
	for _, p := range e.Params {
		b = append(b, "; "...)
		b = append(b, p.Name...)
		if !p.HasValue {
			continue
		}
		b = append(b, '=')
		if isToken(p.Value) {
			b = append(b, p.Value...)
			continue
		}
		b = append(b, '"')
		for i := 0; i < len(p.Value); i++ {
			if c := p.Value[i]; c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, p.Value[i])
		}
		b = append(b, '"')
	}
	return b
}

// appendExtensions appends exts to b as the value of a
// Sec-WebSocket-Extensions field: their canonical forms (see
// [Extension.String]) joined by ", ". For extensions that came from
// parseExtensions, parsing the result gives exts back.
func appendExtensions(b []byte, exts []Extension) []byte {
	for i, e := range exts {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = e.append(b)
	}
	return b
}

// validExtension reports why e cannot be sent, or "" if it can.
func validExtension(e Extension) string {
	if !isToken(e.Name) {
		return "extension name " + strconv.Quote(e.Name) + " is not a token"
	}
	for _, p := range e.Params {
		if !isToken(p.Name) {
			return "extension parameter name " + strconv.Quote(p.Name) + " is not a token"
		}
		if p.HasValue && !isToken(p.Value) {
			return "extension parameter value " + strconv.Quote(p.Value) + " is not a token"
		}
	}
	return ""
}
