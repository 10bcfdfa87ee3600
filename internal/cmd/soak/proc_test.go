//go:build linux

package main

import (
	"os"
	"testing"
)

const statusSample = `Name:	echoserver
Umask:	0022
State:	S (sleeping)
Pid:	4242
VmPeak:	 1247512 kB
VmSize:	 1247512 kB
VmHWM:	   18024 kB
VmRSS:	   17512 kB
RssAnon:	    9216 kB
Threads:	7
SigQ:	0/95893
`

func TestParseStatus(t *testing.T) {
	rss, threads, err := parseStatus([]byte(statusSample))
	if err != nil {
		t.Fatal(err)
	}
	if rss != 17512<<10 || threads != 7 {
		t.Errorf("parseStatus: rss %d threads %d, want %d and 7", rss, threads, 17512<<10)
	}
}

func TestParseStatusErrors(t *testing.T) {
	for _, s := range []string{
		"Name:\tzombie\nState:\tZ (zombie)\nThreads:\t1\n", // no VmRSS
		"VmRSS:\t12 MB\nThreads:\t1\n",                     // not kB
		"VmRSS:\t12 kB\nThreads:\tmany\n",
		"VmRSS:\t12 kB\n",
	} {
		if _, _, err := parseStatus([]byte(s)); err == nil {
			t.Errorf("parseStatus(%q): no error", s)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	got, err := parseMeminfo([]byte("MemTotal:       24684000 kB\nMemFree:        24000000 kB\nMemAvailable:   24196608 kB\n"))
	if err != nil || got != 24196608<<10 {
		t.Errorf("parseMeminfo = %d, %v; want %d", got, err, int64(24196608)<<10)
	}
	if _, err := parseMeminfo([]byte("MemTotal: 1 kB\n")); err == nil {
		t.Error("parseMeminfo without MemAvailable: no error")
	}
}

// readProc on this very process: its descriptors change by the ones the
// test opens.
func TestReadProcSelf(t *testing.T) {
	before, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if before.RSS <= 0 || before.Threads <= 0 || before.FDs <= 0 {
		t.Fatalf("readProc(self) = %+v", before)
	}
	var files []*os.File
	for range 5 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	during, err := readProc(os.Getpid())
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if during.FDs < before.FDs+5 {
		t.Errorf("fds %d with 5 more files open, %d before", during.FDs, before.FDs)
	}
}
