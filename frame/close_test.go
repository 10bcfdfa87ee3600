package frame

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseClosePayload(t *testing.T) {
	tests := []struct {
		name   string
		p      []byte
		code   StatusCode
		reason string
		err    int // expected error code, 0 for none
	}{
		{"empty", nil, StatusNoStatusReceived, "", 0},
		{"one byte", []byte{0x03}, 0, "", 1002},
		{"1000 no reason", []byte{0x03, 0xE8}, StatusNormalClosure, "", 0},
		{"1000 with reason", []byte{0x03, 0xE8, 'b', 'y', 'e'}, StatusNormalClosure, "bye", 0},
		{"1003", []byte{0x03, 0xEB}, StatusUnsupportedData, "", 0},
		{"1007", []byte{0x03, 0xEF}, StatusInvalidFramePayloadData, "", 0},
		{"1014", []byte{0x03, 0xF6}, 1014, "", 0},
		{"3000", []byte{0x0B, 0xB8}, 3000, "", 0},
		{"4999", []byte{0x13, 0x87, 'x'}, 4999, "x", 0},
		{"UTF-8 reason", []byte{0x0F, 0xA0, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80}, 4000, "é€😀", 0},

		{"0", []byte{0x00, 0x00}, 0, "", 1002},
		{"999", []byte{0x03, 0xE7}, 0, "", 1002},
		{"1004 reserved", []byte{0x03, 0xEC}, 0, "", 1002},
		{"1005 local only", []byte{0x03, 0xED}, 0, "", 1002},
		{"1006 local only", []byte{0x03, 0xEE}, 0, "", 1002},
		{"1015 local only", []byte{0x03, 0xF7}, 0, "", 1002},
		{"1016 unassigned", []byte{0x03, 0xF8}, 0, "", 1002},
		{"2999 unassigned", []byte{0x0B, 0xB7}, 0, "", 1002},
		{"5000", []byte{0x13, 0x88}, 0, "", 1002},
		{"65535", []byte{0xFF, 0xFF}, 0, "", 1002},
		{"invalid code before invalid UTF-8", []byte{0x03, 0xEC, 0xFF}, 0, "", 1002},

		{"reason with 0xFF", []byte{0x03, 0xE8, 0xFF}, 0, "", 1007},
		{"truncated rune", []byte{0x03, 0xE8, 'a', 0xE2, 0x82}, 0, "", 1007},
		{"surrogate", []byte{0x03, 0xE8, 0xED, 0xA0, 0x80}, 0, "", 1007},
		{"overlong", []byte{0x03, 0xE8, 0xC0, 0xAF}, 0, "", 1007},

		{"125 bytes", concat([]byte{0x03, 0xE8}, bytes.Repeat([]byte{'a'}, 123)), 1000, strings.Repeat("a", 123), 0},
		{"126 bytes", concat([]byte{0x03, 0xE8}, bytes.Repeat([]byte{'a'}, 124)), 0, "", 1002},
	}
	for _, tt := range tests {
		code, reason, err := ParseClosePayload(tt.p)
		if codeOf(err) != tt.err || code != tt.code || reason != tt.reason {
			t.Errorf("%s: ParseClosePayload = %v, %q, %v; want %v, %q, error code %d", tt.name, code, reason, err, tt.code, tt.reason, tt.err)
		}
	}
}

func TestAppendClosePayload(t *testing.T) {
	long := strings.Repeat("a", 122) // one byte short of the room for a reason
	tests := []struct {
		name   string
		code   StatusCode
		reason string
		want   []byte
	}{
		{"no status", StatusNoStatusReceived, "ignored", nil},
		{"zero", 0, "ignored", nil},
		{"code only", StatusGoingAway, "", []byte{0x03, 0xE9}},
		{"code and reason", 4000, "bye", []byte{0x0F, 0xA0, 'b', 'y', 'e'}},
		{"exactly 125", StatusNormalClosure, long + "b", concat([]byte{0x03, 0xE8}, []byte(long+"b"))},
		{"ASCII cut", StatusNormalClosure, long + "bcd", concat([]byte{0x03, 0xE8}, []byte(long+"b"))},
		// "é" is C3 A9: it would straddle byte 125, so it goes whole.
		{"2-byte rune cut", StatusNormalClosure, long + "é", concat([]byte{0x03, 0xE8}, []byte(long))},
		// "€" is E2 82 AC, starting at reason byte 121.
		{"3-byte rune cut", StatusNormalClosure, long[:121] + "€", concat([]byte{0x03, 0xE8}, []byte(long[:121]))},
		{"3-byte rune fits", StatusNormalClosure, long[:120] + "€x", concat([]byte{0x03, 0xE8}, []byte(long[:120]+"€"))},
		// "😀" is F0 9F 98 80, starting at reason byte 120.
		{"4-byte rune cut", StatusNormalClosure, long[:120] + "😀", concat([]byte{0x03, 0xE8}, []byte(long[:120]))},
		{"4-byte rune fits", StatusNormalClosure, long[:119] + "😀", concat([]byte{0x03, 0xE8}, []byte(long[:119]+"😀"))},
		// Not UTF-8 at all: no rune start nearby, cut at the limit.
		{"continuation bytes only", StatusNormalClosure, strings.Repeat("\x80", 130), concat([]byte{0x03, 0xE8}, bytes.Repeat([]byte{0x80}, 123))},
	}
	for _, tt := range tests {
		got := AppendClosePayload([]byte{0xEE}, tt.code, tt.reason)
		if !bytes.Equal(got, concat([]byte{0xEE}, tt.want)) {
			t.Errorf("%s: AppendClosePayload = % x, want ee % x", tt.name, got, tt.want)
			continue
		}
		if len(got)-1 > MaxControlPayload {
			t.Errorf("%s: payload of %d bytes", tt.name, len(got)-1)
		}
		// What is appended parses back, the reason a prefix of the input.
		code, reason, err := ParseClosePayload(got[1:])
		wantCode := tt.code
		if wantCode == 0 {
			wantCode = StatusNoStatusReceived
		}
		if !utf8.ValidString(tt.reason) {
			continue
		}
		if err != nil || code != wantCode || (len(got) > 1 && !strings.HasPrefix(tt.reason, reason)) {
			t.Errorf("%s: parses back as %v, %q, %v", tt.name, code, reason, err)
		}
	}
}

func TestAppendClosePayloadAllocs(t *testing.T) {
	var buf [MaxControlPayload]byte
	reason := strings.Repeat("é", 100)
	if allocs := testing.AllocsPerRun(100, func() {
		AppendClosePayload(buf[:0], StatusGoingAway, reason)
	}); allocs != 0 {
		t.Errorf("AppendClosePayload: %v allocations, want 0", allocs)
	}
}
