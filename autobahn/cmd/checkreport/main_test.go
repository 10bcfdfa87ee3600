package main

import "testing"

func TestFormatCounts(t *testing.T) {
	got := formatCounts(map[string]int{"INFORMATIONAL": 3, "OK": 514, "NEW": 1, "FAILED": 0, "ALSO NEW": 2})
	if want := "OK 514, INFORMATIONAL 3, ALSO NEW 2, NEW 1"; got != want {
		t.Errorf("formatCounts = %q, want %q", got, want)
	}
}
