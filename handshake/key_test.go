package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"testing"
)

// acceptKey is the Sec-WebSocket-Accept value for key, as a string.
func acceptKey(key string) string { return string(appendAcceptKey(nil, key)) }

func TestAcceptKey(t *testing.T) {
	tests := []struct{ key, want string }{
		// RFC 6455 §1.3 and §4.2.2.
		{"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		// The example pair of the Wikipedia article on WebSocket.
		{"x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="},
		{"AAAAAAAAAAAAAAAAAAAAAA==", reference("AAAAAAAAAAAAAAAAAAAAAA==")},
		// Keys of the wrong length still hash deterministically.
		{"", reference("")},
		{"short", reference("short")},
	}
	for _, tt := range tests {
		if got := acceptKey(tt.key); got != tt.want {
			t.Errorf("appendAcceptKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

// reference is the definition of the accept value, written the obvious way.
func reference(key string) string {
	sum := sha1.Sum([]byte(key + keyGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestAcceptKeyAllocs(t *testing.T) {
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	var buf [64]byte
	if n := testing.AllocsPerRun(100, func() { appendAcceptKey(buf[:0], key) }); n != 0 {
		t.Errorf("appendAcceptKey allocates %v times", n)
	}
}

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := NewKey()
		if !validKey(k) {
			t.Fatalf("NewKey() = %q, not a valid key", k)
		}
		if seen[k] {
			t.Fatalf("NewKey() repeated %q", k)
		}
		seen[k] = true
	}
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"dGhlIHNhbXBsZSBub25jZQ==", true},
		{"AAAAAAAAAAAAAAAAAAAAAA==", true},
		{"dGhlIHNhbXBsZSBub25jZR==", true}, // non-zero padding bits: lenient, as most servers are
		{"", false},
		{"dGhlIHNhbXBsZSBub25jZQ=", false},   // 23 characters
		{"dGhlIHNhbXBsZSBub25jZQ===", false}, // 25 characters
		{"dGhlIHNhbXBsZSBub25jZQ", false},    // unpadded
		{"dGhlIHNhbXBsZSBub25jZQ1=", false},  // 17 bytes
		{"dGhlIHNhbXBsZSBub25jZQ\r\n", false},
		{"dGhlIHNhbXBsZSBu\nb25jZQ==", false}, // the decoder would skip the LF
		{"dGhlIHNhbXBsZSBub25j====", false},
		{"dGhlIHNhbXBsZSBub25jZ-_", false},
	}
	for _, tt := range tests {
		if got := validKey(tt.key); got != tt.want {
			t.Errorf("validKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}
