package frame

import "testing"

func TestOpcode(t *testing.T) {
	tests := []struct {
		op                      Opcode
		name                    string
		control, data, reserved bool
	}{
		{0x0, "continuation", false, true, false},
		{0x1, "text", false, true, false},
		{0x2, "binary", false, true, false},
		{0x3, "reserved(0x3)", false, false, true},
		{0x7, "reserved(0x7)", false, false, true},
		{0x8, "close", true, false, false},
		{0x9, "ping", true, false, false},
		{0xA, "pong", true, false, false},
		{0xB, "reserved(0xB)", true, false, true},
		{0xF, "reserved(0xF)", true, false, true},
		{0x10, "reserved(0x10)", false, false, true},
		{0x18, "reserved(0x18)", false, false, true},
		{0xFF, "reserved(0xFF)", false, false, true},
	}
	for _, tt := range tests {
		if got := tt.op.String(); got != tt.name {
			t.Errorf("Opcode(%#x).String() = %q, want %q", uint8(tt.op), got, tt.name)
		}
		if got := tt.op.IsControl(); got != tt.control {
			t.Errorf("Opcode(%#x).IsControl() = %v", uint8(tt.op), got)
		}
		if got := tt.op.IsData(); got != tt.data {
			t.Errorf("Opcode(%#x).IsData() = %v", uint8(tt.op), got)
		}
		if got := tt.op.isReserved(); got != tt.reserved {
			t.Errorf("Opcode(%#x).isReserved() = %v", uint8(tt.op), got)
		}
	}
	// Every value is exactly one of data, defined control, or reserved.
	for i := range 256 {
		op := Opcode(i)
		n := 0
		for _, b := range []bool{op.IsData(), op.IsControl() && !op.isReserved(), op.isReserved()} {
			if b {
				n++
			}
		}
		if n != 1 {
			t.Errorf("Opcode(%#x) is in %d classes", i, n)
		}
	}
}

func TestStatusCode(t *testing.T) {
	tests := []struct {
		code  StatusCode
		name  string
		valid bool
	}{
		{0, "0 (invalid)", false},
		{999, "999 (invalid)", false},
		{1000, "1000 (normal closure)", true},
		{1001, "1001 (going away)", true},
		{1002, "1002 (protocol error)", true},
		{1003, "1003 (unsupported data)", true},
		{1004, "1004 (reserved)", false},
		{1005, "1005 (no status received)", false},
		{1006, "1006 (abnormal closure)", false},
		{1007, "1007 (invalid frame payload data)", true},
		{1008, "1008 (policy violation)", true},
		{1009, "1009 (message too big)", true},
		{1010, "1010 (mandatory extension)", true},
		{1011, "1011 (internal error)", true},
		{1012, "1012 (service restart)", true},
		{1013, "1013 (try again later)", true},
		{1014, "1014 (bad gateway)", true},
		{1015, "1015 (TLS handshake)", false},
		{1016, "1016 (reserved)", false},
		{2999, "2999 (reserved)", false},
		{3000, "3000 (application)", true},
		{3999, "3999 (application)", true},
		{4000, "4000 (private)", true},
		{4999, "4999 (private)", true},
		{5000, "5000 (invalid)", false},
		{65535, "65535 (invalid)", false},
	}
	for _, tt := range tests {
		if got := tt.code.String(); got != tt.name {
			t.Errorf("StatusCode(%d).String() = %q, want %q", uint16(tt.code), got, tt.name)
		}
		if got := tt.code.ValidOnWire(); got != tt.valid {
			t.Errorf("StatusCode(%d).ValidOnWire() = %v, want %v", uint16(tt.code), got, tt.valid)
		}
	}
	// 1000-1003, 1007-1014 and 3000-4999: 4 + 8 + 2000 codes.
	n := 0
	for c := range 1 << 16 {
		if StatusCode(c).ValidOnWire() {
			n++
		}
	}
	if n != 2012 {
		t.Errorf("%d codes valid on the wire, want 2012", n)
	}
}
