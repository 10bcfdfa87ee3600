//go:build !unix && !js

package websocket

import "errors"

var errTooManyFiles = errors.New("too many open files")
