// Package handshake implements the WebSocket opening handshake of RFC 6455
// §4, for both roles, as pure functions over bytes and parsed values.
//
// The opening handshake is an HTTP/1.1 exchange. The client sends a GET with
// "Upgrade: websocket", "Connection: Upgrade", a random Sec-WebSocket-Key and
// "Sec-WebSocket-Version: 13", and optionally the subprotocols and extensions
// it offers. A server that agrees answers "101 Switching Protocols" with
// Sec-WebSocket-Accept, a hash of the key that proves it understood the
// request, and the subprotocol and extensions it picked. After the empty line
// that ends each head, the connection carries WebSocket frames.
//
// # Server
//
// A server gets a [Request] from one of two places. A [RequestParser] reads
// the head off a connection (no net/http involved) as its bytes arrive,
// from a blocking read loop or an event loop alike, refusing a head past its
// limit as soon as it passes it, and parses it in place. [FromHTTP] takes a
// request net/http already parsed. Both fill the Request the same way.
// Then:
//
//   - [Check] validates it as an opening handshake;
//   - [OriginPolicy.Check] decides whether the browser origin may connect;
//   - [SelectProtocol] picks the subprotocol;
//   - [AppendResponse] writes the 101 response, or [AppendErrorResponse]
//     (on a raw connection) or [WriteError] (through net/http) the refusal
//     described by the [*Error] any of the above returned, or by one a
//     server makes for reasons of its own.
//
// # Client
//
// A client fills a [ClientRequest] (with a key from [NewKey]), writes the
// bytes of [ClientRequest.Append], and reads the answer with [ReadResponse],
// which checks it against the request and returns a [*ResponseError] if the
// server refused or answered wrongly.
//
// # Extensions
//
// [Request.Extensions] and [Response.Extensions] hold the
// Sec-WebSocket-Extensions lists (RFC 6455 §9.1) parsed into [Extension]
// values, and [Extension.String] writes one back; what the parameters mean
// is for each extension to decide. For permessage-deflate (RFC 7692) the
// package decides it: [DeflateConfig.Offer] builds a client's offer,
// [DeflateConfig.Accept] picks the first acceptable offer for a server, and
// [DeflateConfig.Agreed] checks a server's answer on the client, giving the
// [DeflateParams] both sides then follow, or an error naming the parameter
// at fault.
//
// # Boundaries
//
// The package starts no goroutines and does no I/O beyond the readers it
// is handed; timeouts are the caller's, through the connection's deadlines.
// The bufio readers never consume a byte past the empty line that ends a
// head, so frames the peer sent early remain buffered for the caller; a
// RequestParser hands them back as [RequestParser.Rest]. Every head is read
// under a size limit (16 KiB by default), checked before a
// byte past it is held.
package handshake
