package websocket

// The helpers of this file are compiled by the native build and the
// browser build (GOOS=js) alike, as the types of types.go are.

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// parseURL parses a ws:// or wss:// URL (the scheme in any case), the
// check both builds make first (dialURL, one per build, adds what each
// needs). Its errors wrap ErrBadURL.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	if s := strings.ToLower(u.Scheme); s != "ws" && s != "wss" {
		return nil, fmt.Errorf("%w: scheme %q is not ws or wss", ErrBadURL, u.Scheme)
	}
	return u, nil
}

// durationOr returns d if it is set (positive), else def: how a duration
// option's zero value means its default.
func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
