package handshake

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
)

// keyGUID is the globally unique identifier that RFC 6455 §1.3 appends to
// the client's key before hashing. It proves that the server read the key
// and speaks WebSocket rather than echoing bytes back.
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// keyLen is the length of a valid Sec-WebSocket-Key: 16 bytes in padded
// base64 are 24 characters.
const keyLen = 24

// acceptLen is the length of a Sec-WebSocket-Accept value: a 20-byte SHA-1
// digest in padded base64.
const acceptLen = 28

// appendAcceptKey appends the Sec-WebSocket-Accept value for the client's
// Sec-WebSocket-Key to dst: the base64 of the SHA-1 of key followed by
// keyGUID (RFC 6455 §4.2.2). The key is used as given; callers validate it
// first (see [Check]). It does not allocate for keys of a sane length: the
// hash input is built in a stack array.
func appendAcceptKey(dst []byte, key string) []byte {
	var in [keyLen + len(keyGUID)]byte
	var sum [sha1.Size]byte
	if len(key) == keyLen {
		n := copy(in[:], key)
		copy(in[n:], keyGUID)
		sum = sha1.Sum(in[:])
	} else {
		// Not a valid key, but answer something deterministic anyway;
		// this path may allocate.
		h := sha1.New()
		h.Write([]byte(key))
		h.Write([]byte(keyGUID))
		h.Sum(sum[:0])
	}
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// NewKey returns a fresh Sec-WebSocket-Key: 16 bytes from crypto/rand in
// padded base64 (RFC 6455 §4.1). The key is a nonce, so it must be
// unpredictable and never reused.
func NewKey() string {
	var raw [16]byte
	rand.Read(raw[:]) // never fails; see crypto/rand.Read
	var b [keyLen]byte
	return string(base64.StdEncoding.AppendEncode(b[:0], raw[:]))
}

// validKey reports whether key is the padded base64 encoding of exactly 16
// bytes, as RFC 6455 §4.2.1 item 5 requires of Sec-WebSocket-Key.
func validKey(key string) bool {
	if len(key) != keyLen {
		return false
	}
	// The standard decoder skips '\r' and '\n'; none may be in a key, and
	// with them the decoded length below would come up short anyway.
	var raw [18]byte
	n, err := base64.StdEncoding.Decode(raw[:], []byte(key))
	return err == nil && n == 16
}
