package main

import (
	"errors"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	cfg := &config{
		scenarios:   []scenario{scenarios[0], scenarios[5]}, // echo-16B, idle
		contestants: []string{ours, "gorilla", "gws", tcp},
		rounds:      3,
	}
	ok := func(v ...float64) []result {
		var rs []result
		for _, x := range v {
			rs = append(rs, result{value: x})
		}
		return rs
	}
	results := map[string]map[string][]result{
		"echo-16B": {
			ours:      ok(300e3, 100e3, 200e3), // median 200k
			"gorilla": ok(150e3, 160e3, 170e3),
			"gws": {{value: 1}, {err: errors.New("load: FAIL: connection 3: message 7: payload byte 9 is 0x00, sent 0x01\nmore")},
				{value: 2}},
			tcp: ok(1e6, 1e6, 1e6),
		},
		"idle": {
			ours:      ok(5, 6, 7),
			"gorilla": ok(17, 17, 17),
			"gws":     ok(10, 11, 12),
		},
	}
	got := render(cfg, results)
	for _, want := range []string{
		"| echo-16B (16 B, 64 conns x 16 in flight) | round trips/s | 200k | 160k | FAIL | 1.00M | 1.25 (gorilla) | 0.20 |",
		"| idle (idle upgraded connections) | KiB RSS per connection (lower is better) | 6.0 | 17.0 | 11.0 | - | 0.55 (gws) | - |",
		"- echo-16B, gws, round 2: load: FAIL: connection 3: message 7: payload byte 9 is 0x00, sent 0x01 / more",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("render output lacks\n%s\ngot:\n%s", want, got)
		}
	}
}

func TestMedianAndSI(t *testing.T) {
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", m)
	}
	for v, want := range map[float64]string{1.5e6: "1.50M", 171234: "171k", 2900: "2.90k", 36400: "36.4k", 950: "950", 1.91: "1.91"} {
		if got := si(v); got != want {
			t.Errorf("si(%v) = %q, want %q", v, got, want)
		}
	}
}
