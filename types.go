package websocket

// The types and constants of this file are shared by the native build and
// the browser build (GOOS=js), so that code using them compiles for both.

import (
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/session"
)

// CloseError reports the close code and reason a connection ended with.
type CloseError = session.CloseError

// MessageType is the type of a data message: TextMessage or BinaryMessage.
type MessageType = frame.Opcode

// Message types.
const (
	TextMessage   = frame.OpText
	BinaryMessage = frame.OpBinary
)

// StatusCode is a close status code (RFC 6455 §7.4).
type StatusCode = frame.StatusCode

// Close status codes.
const (
	StatusNormalClosure           = frame.StatusNormalClosure
	StatusGoingAway               = frame.StatusGoingAway
	StatusProtocolError           = frame.StatusProtocolError
	StatusUnsupportedData         = frame.StatusUnsupportedData
	StatusNoStatusReceived        = frame.StatusNoStatusReceived
	StatusAbnormalClosure         = frame.StatusAbnormalClosure
	StatusInvalidFramePayloadData = frame.StatusInvalidFramePayloadData
	StatusPolicyViolation         = frame.StatusPolicyViolation
	StatusMessageTooBig           = frame.StatusMessageTooBig
	StatusMandatoryExtension      = frame.StatusMandatoryExtension
	StatusInternalError           = frame.StatusInternalError
	StatusServiceRestart          = frame.StatusServiceRestart
	StatusTryAgainLater           = frame.StatusTryAgainLater
)

// Stats is a snapshot of a connection's counters (Conn.Stats).
type Stats = conn.Stats
