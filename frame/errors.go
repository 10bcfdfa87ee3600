package frame

import (
	"errors"
	"strconv"
)

// ProtocolError reports a violation of RFC 6455 by the peer. The connection
// must be failed (§7.1.7): send a close frame with Code, then close.
type ProtocolError struct {
	Code   StatusCode // close status to send: 1002, 1007 or 1009
	Reason string     // what went wrong, for logs and the close frame
}

// Error returns "websocket: protocol error: <reason> (close <code>)".
func (e *ProtocolError) Error() string {
	return "websocket: protocol error: " + e.Reason + " (close " + strconv.Itoa(int(e.Code)) + ")"
}

// The errors below are allocated once so that rejecting a frame, the path a
// hostile peer controls, costs no allocation either. Callers must not modify
// them; they match with errors.As like any other *ProtocolError.
var (
	errLengthTopBit      = protocolError(StatusProtocolError, "64-bit payload length has its most significant bit set")
	errNegativeLength    = protocolError(StatusProtocolError, "negative payload length")
	errReservedOpcode    = protocolError(StatusProtocolError, "reserved opcode")
	errControlRsv        = protocolError(StatusProtocolError, "RSV bit set on a control frame")
	errDataRsv           = protocolError(StatusProtocolError, "RSV bit set without a negotiated extension")
	errContinuationRsv   = protocolError(StatusProtocolError, "RSV bit set on a continuation frame")
	errControlFragmented = protocolError(StatusProtocolError, "fragmented control frame")
	errControlTooLong    = protocolError(StatusProtocolError, "control frame payload longer than 125 bytes")
	errUnmaskedClient    = protocolError(StatusProtocolError, "unmasked frame from a client")
	errMaskedServer      = protocolError(StatusProtocolError, "masked frame from a server")
	errUnexpectedCont    = protocolError(StatusProtocolError, "continuation frame without a message in progress")
	errExpectedCont      = protocolError(StatusProtocolError, "new data message before the previous one ended")
	errFrameTooBig       = protocolError(StatusMessageTooBig, "frame exceeds the size limit")
	errMessageTooBig     = protocolError(StatusMessageTooBig, "message exceeds the size limit")
	errCloseOneByte      = protocolError(StatusProtocolError, "close payload of one byte")
	errCloseTooLong      = protocolError(StatusProtocolError, "close payload longer than 125 bytes")
	errCloseCode         = protocolError(StatusProtocolError, "invalid close status code")
	errCloseReasonUTF8   = protocolError(StatusInvalidFramePayloadData, "close reason is not valid UTF-8")
)

// errPayloadPending reports a misuse of Decoder, not a fault of the peer.
var errPayloadPending = errors.New("websocket: frame: Decoder.ParseHeader called before the previous payload was consumed")

func protocolError(code StatusCode, reason string) *ProtocolError {
	return &ProtocolError{Code: code, Reason: reason}
}
