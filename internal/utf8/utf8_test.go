package utf8

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// checker compares the Validator with the references on one input and
// stops the test after a handful of mismatches instead of flooding the log.
type checker struct {
	t      testing.TB
	errors int
}

func (c *checker) check(s []byte) {
	c.t.Helper()
	wantFail, wantComplete := refFail(s)
	if std := utf8.Valid(s); wantComplete != std {
		c.fail("% x: reference complete=%v, unicode/utf8.Valid=%v (reference is wrong)", s, wantComplete, std)
		return
	}
	if got := Valid(s); got != wantComplete {
		c.fail("Valid(% x) = %v, want %v", s, got, wantComplete)
	}
	fail, complete, sticky := bytewiseFail(s)
	if fail != wantFail || complete != wantComplete || !sticky {
		c.fail("% x fed bytewise: fails at %d, complete=%v, sticky=%v; want fail at %d, complete=%v, sticky",
			s, fail, complete, sticky, wantFail, wantComplete)
	}
	var v Validator
	if got := v.Write(s); got != (wantFail < 0) {
		c.fail("Write(% x) in one call = %v, want %v", s, got, wantFail < 0)
	}
	if got := v.Complete(); got != wantComplete {
		c.fail("Complete after Write(% x) = %v, want %v", s, got, wantComplete)
	}
}

func (c *checker) fail(format string, args ...any) {
	c.t.Helper()
	c.t.Errorf(format, args...)
	if c.errors++; c.errors >= 10 {
		c.t.FailNow()
	}
}

// kosme is "κόσμε" as Autobahn spells it, with U+1F79 GREEK SMALL LETTER
// OMICRON WITH OXIA (3 bytes), not the look-alike U+03CC (2 bytes).
const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

// Autobahn TestSuite section 6 (UTF-8 handling) and Markus Kuhn's UTF-8
// stress test, with the index of the byte at which a fail-fast endpoint
// must give up. Legend: fail is the 0-based index of the first byte that
// no continuation can make valid (-1: none); complete is the verdict at
// the end of the message. "κόσμε" is ce ba | e1 bd b9 | cf 83 | ce bc | ce b5
// (11 bytes), so the byte after it is at index 11.
var vectors = []struct {
	name     string
	in       string
	fail     int
	complete bool
}{
	{"6.1 empty", "", -1, true},
	{"6.2 Hello-µ@ßöäüàá-UTF-8!!", "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!", -1, true},
	{"6.3.1 κόσμε ed a0 80 edited", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", 12, false},
	{"6.4.1 κόσμε f4 90 80 80 edited", kosme + "\xf4\x90\x80\x80edited", 12, false},
	{"6.4.3 κόσμε f4 (message cut)", kosme + "\xf4", -1, false},
	{"6.4.3 κόσμε f4 then 90", kosme + "\xf4\x90", 12, false},
	{"6.5.1 κόσμε", kosme, -1, true},
	{"6.6 κόσμε cut after ce", "\xce", -1, false},
	{"6.6 κόσμε cut after ce ba e1 bd", "\xce\xba\xe1\xbd", -1, false},
	{"6.7.1 first 1-byte U+0000", "\x00", -1, true},
	{"6.7.2 first 2-byte U+0080", "\xc2\x80", -1, true},
	{"6.7.3 first 3-byte U+0800", "\xe0\xa0\x80", -1, true},
	{"6.7.4 first 4-byte U+10000", "\xf0\x90\x80\x80", -1, true},
	{"6.8.1 first 5-byte (obsolete)", "\xf8\x88\x80\x80\x80", 0, false},
	{"6.8.2 first 6-byte (obsolete)", "\xfc\x84\x80\x80\x80\x80", 0, false},
	{"6.9.1 last 1-byte U+007F", "\x7f", -1, true},
	{"6.9.2 last 2-byte U+07FF", "\xdf\xbf", -1, true},
	{"6.9.3 last 3-byte U+FFFF", "\xef\xbf\xbf", -1, true},
	{"6.9.4 last 4-byte U+10FFFF", "\xf4\x8f\xbf\xbf", -1, true},
	{"6.10.1 4-byte U+1FFFFF", "\xf7\xbf\xbf\xbf", 0, false},
	{"6.10.2 5-byte U+3FFFFFF", "\xfb\xbf\xbf\xbf\xbf", 0, false},
	{"6.10.3 6-byte U+7FFFFFFF", "\xfd\xbf\xbf\xbf\xbf\xbf", 0, false},
	{"6.11.1 U+D7FF before surrogates", "\xed\x9f\xbf", -1, true},
	{"6.11.2 U+E000 after surrogates", "\xee\x80\x80", -1, true},
	{"6.11.3 U+FFFD", "\xef\xbf\xbd", -1, true},
	{"6.11.4 U+10FFFF", "\xf4\x8f\xbf\xbf", -1, true},
	{"6.11.5 U+110000", "\xf4\x90\x80\x80", 1, false},
	{"6.12.1 lone continuation 80", "\x80", 0, false},
	{"6.12.2 lone continuation bf", "\xbf", 0, false},
	{"6.12.3 continuations 80 bf", "\x80\xbf", 0, false},
	{"6.12.8 continuations after ASCII", "abc\x80\xbf\x80", 3, false},
	{"6.13.1 lonely c2 then space", "\xc2\x20", 1, false},
	{"6.13.2 lonely e0 then space", "\xe0\x20", 1, false},
	{"6.13.3 lonely f0 then space", "\xf0\x20", 1, false},
	{"6.13.4 lonely f8 then space", "\xf8\x20", 0, false},
	{"6.13.5 lonely fc then space", "\xfc\x20", 0, false},
	{"6.14.1 c0 (overlong lead)", "\xc0", 0, false},
	{"6.14.2 e0 80 (overlong 3-byte)", "\xe0\x80", 1, false},
	{"6.14.3 f0 80 80 (overlong 4-byte)", "\xf0\x80\x80", 1, false},
	{"6.14.6 df (last cont. missing)", "\xdf", -1, false},
	{"6.14.7 ef bf (last cont. missing)", "\xef\xbf", -1, false},
	{"6.14.8 f4 8f bf (last cont. missing)", "\xf4\x8f\xbf", -1, false},
	{"6.14.9 f7 bf bf", "\xf7\xbf\xbf", 0, false},
	{"6.15.1 concatenated incomplete", "\xc0\xe0\x80\xf0\x80\x80\xf8\x88\x80\x80\xdf\xef\xbf\xf7\xbf\xbf", 0, false},
	{"6.16.1 fe", "\xfe", 0, false},
	{"6.16.2 ff", "\xff", 0, false},
	{"6.16.3 fe fe ff ff", "\xfe\xfe\xff\xff", 0, false},
	{"6.17.1 overlong '/' c0 af", "\xc0\xaf", 0, false},
	{"6.17.2 overlong '/' e0 80 af", "\xe0\x80\xaf", 1, false},
	{"6.17.3 overlong '/' f0 80 80 af", "\xf0\x80\x80\xaf", 1, false},
	{"6.17.4 overlong '/' f8 80 80 80 af", "\xf8\x80\x80\x80\xaf", 0, false},
	{"6.18.1 max overlong c1 bf", "\xc1\xbf", 0, false},
	{"6.18.2 max overlong e0 9f bf", "\xe0\x9f\xbf", 1, false},
	{"6.18.3 max overlong f0 8f bf bf", "\xf0\x8f\xbf\xbf", 1, false},
	{"6.19.1 overlong NUL c0 80", "\xc0\x80", 0, false},
	{"6.19.2 overlong NUL e0 80 80", "\xe0\x80\x80", 1, false},
	{"6.19.3 overlong NUL f0 80 80 80", "\xf0\x80\x80\x80", 1, false},
	{"6.20.1 surrogate U+D800", "\xed\xa0\x80", 1, false},
	{"6.20.2 surrogate U+DB7F", "\xed\xad\xbf", 1, false},
	{"6.20.3 surrogate U+DB80", "\xed\xae\x80", 1, false},
	{"6.20.4 surrogate U+DBFF", "\xed\xaf\xbf", 1, false},
	{"6.20.5 surrogate U+DC00", "\xed\xb0\x80", 1, false},
	{"6.20.6 surrogate U+DF80", "\xed\xbe\x80", 1, false},
	{"6.20.7 surrogate U+DFFF", "\xed\xbf\xbf", 1, false},
	{"6.21.1 surrogate pair U+D800 U+DC00", "\xed\xa0\x80\xed\xb0\x80", 1, false},
	{"6.21.8 surrogate pair U+DBFF U+DFFF", "\xed\xaf\xbf\xed\xbf\xbf", 1, false},
	{"6.22.1 noncharacter U+FFFE", "\xef\xbf\xbe", -1, true},
	{"6.22.2 noncharacter U+FFFF", "\xef\xbf\xbf", -1, true},
	{"6.22.3 noncharacter U+1FFFE", "\xf0\x9f\xbf\xbe", -1, true},
	{"6.22.34 noncharacter U+10FFFF", "\xf4\x8f\xbf\xbf", -1, true},
	{"6.23.1 U+FFFD", "\xef\xbf\xbd", -1, true},
	{"6.23.7 U+FFFD after text", "\x65\x64\x69\x74\x65\x64\xef\xbf\xbd", -1, true},
	{"ASCII then bad byte past the 8-byte fast path", "0123456789abcdef\xff", 16, false},
	{"ASCII word then cut 4-byte code point", "01234567\xf0\x9f\x98", -1, false},
}

func TestVectors(t *testing.T) {
	for _, tt := range vectors {
		t.Run(tt.name, func(t *testing.T) {
			s := []byte(tt.in)
			// Keep the table honest against the brute-force reference.
			if fail, complete := refFail(s); fail != tt.fail || complete != tt.complete {
				t.Fatalf("table says fail=%d complete=%v, reference says fail=%d complete=%v", tt.fail, tt.complete, fail, complete)
			}
			fail, complete, sticky := bytewiseFail(s)
			if fail != tt.fail || complete != tt.complete || !sticky {
				t.Errorf("bytewise: fail=%d complete=%v sticky=%v, want fail=%d complete=%v sticky", fail, complete, sticky, tt.fail, tt.complete)
			}
			// Every split into two writes must give the same verdicts.
			for cut := 0; cut <= len(s); cut++ {
				var v Validator
				ok1, ok2 := v.Write(s[:cut]), v.Write(s[cut:])
				want1 := tt.fail < 0 || tt.fail >= cut
				want2 := tt.fail < 0
				if ok1 != want1 || ok2 != want2 || v.Complete() != tt.complete {
					t.Errorf("split at %d: Write=%v,%v Complete=%v; want %v,%v,%v", cut, ok1, ok2, v.Complete(), want1, want2, tt.complete)
				}
			}
			if got := Valid(s); got != tt.complete {
				t.Errorf("Valid = %v, want %v", got, tt.complete)
			}
		})
	}
}

func TestExhaustiveOneAndTwoBytes(t *testing.T) {
	c := &checker{t: t}
	var s [2]byte
	for a := range 256 {
		s[0] = byte(a)
		c.check(s[:1])
		for b := range 256 {
			s[1] = byte(b)
			c.check(s[:2])
		}
	}
}

// TestExhaustiveThreeBytes checks all 2^24 three-byte inputs, split by
// first byte across parallel subtests to use both cores. It is the checker
// above unrolled over the last byte: the state after the first two bytes
// is computed once and copied, and an input whose first two bytes already
// failed fails at the same index (a failed prefix stays failed).
func TestExhaustiveThreeBytes(t *testing.T) {
	reference() // build once, before the parallel subtests
	for a := range 256 {
		t.Run(fmt.Sprintf("%02x", a), func(t *testing.T) {
			t.Parallel()
			errors := 0
			s := []byte{byte(a), 0, 0}
			for b := range 256 {
				s[1] = byte(b)
				var prefix Validator
				prefix.Write(s[0:1])
				prefix.Write(s[1:2])
				fail2, _ := refFail(s[:2])
				for c := range 256 {
					s[2] = byte(c)
					wantFail, wantComplete := fail2, false
					if fail2 < 0 {
						wantFail, wantComplete = refFail(s)
					}
					v := prefix
					ok := v.Write(s[2:3])
					std, whole := utf8.Valid(s), Valid(s)
					if ok == (wantFail < 0) && v.Complete() == wantComplete && whole == wantComplete && std == wantComplete {
						continue
					}
					t.Errorf("% x: last Write=%v Complete=%v Valid=%v unicode/utf8.Valid=%v; want fail at %d, complete=%v",
						s, ok, v.Complete(), whole, std, wantFail, wantComplete)
					if errors++; errors >= 10 {
						t.FailNow()
					}
				}
			}
		})
	}
}

// TestRandomFourBytes samples four-byte inputs, drawing each byte from the
// classes that matter (ASCII, each continuation sub-range, each lead
// class, the invalid bytes) so that most samples get past the first byte.
func TestRandomFourBytes(t *testing.T) {
	n := 1 << 18
	if testing.Short() {
		n = 1 << 14
	}
	r := rand.New(rand.NewPCG(6455, 3629))
	c := &checker{t: t}
	var s [4]byte
	for range n {
		for i := range s {
			s[i] = interestingByte(r)
		}
		c.check(s[:])
	}
}

// byteClasses covers every range at which a UTF-8 decision changes.
var byteClasses = []byteRange{
	{0x00, 0x7F}, // ASCII
	{0x80, 0x8F}, // continuation, the only ones allowed after F4
	{0x90, 0x9F}, // continuation, allowed after F0 and ED but not F4 or E0
	{0xA0, 0xBF}, // continuation, allowed after E0 and F0 but not ED
	{0xC0, 0xC1}, // overlong 2-byte leads
	{0xC2, 0xDF}, // 2-byte leads
	{0xE0, 0xE0},
	{0xE1, 0xEC},
	{0xED, 0xED},
	{0xEE, 0xEF},
	{0xF0, 0xF0},
	{0xF1, 0xF3},
	{0xF4, 0xF4},
	{0xF5, 0xFF}, // never valid
}

func interestingByte(r *rand.Rand) byte {
	c := byteClasses[r.IntN(len(byteClasses))]
	return c.lo + byte(r.IntN(int(c.hi-c.lo)+1))
}

// TestSplitAnywhere is the round-trip property for streams: valid text cut
// into any chunks is accepted, and Complete is true exactly at code point
// boundaries.
func TestSplitAnywhere(t *testing.T) {
	for _, text := range []string{mixedText(300), heavyText(300), kosme, "a\U0010FFFFb\u0800\u07ff"} {
		s := []byte(text)
		for step := 1; step <= 9; step++ {
			var v Validator
			for i := 0; i < len(s); i += step {
				end := min(i+step, len(s))
				if !v.Write(s[i:end]) {
					t.Fatalf("step %d: Write rejected valid text at [%d:%d]", step, i, end)
				}
				if got, want := v.Complete(), utf8.Valid(s[:end]); got != want {
					t.Fatalf("step %d: Complete after %d bytes = %v, want %v", step, end, got, want)
				}
			}
		}
	}
}

func TestStickyAndReset(t *testing.T) {
	var v Validator
	if !v.Write([]byte("ok \xe2\x82")) { // "€" cut after two bytes
		t.Fatal("valid prefix rejected")
	}
	if v.Write([]byte("A")) {
		t.Fatal("ASCII accepted where a continuation byte was needed")
	}
	if v.Write([]byte("plain")) || v.Write(nil) || v.Complete() {
		t.Fatal("validator recovered from a failure without Reset")
	}
	v.Reset()
	if v != (Validator{}) {
		t.Fatalf("Reset left state %+v", v)
	}
	// After Reset, 0xac is a stray continuation: it must fail, not finish
	// the "€" from before.
	if v.Write([]byte("\xac")) {
		t.Fatal("Reset did not forget the open code point")
	}
	v.Reset()
	if !v.Write([]byte("€")) || !v.Complete() {
		t.Fatal("valid text rejected after Reset")
	}
	// An empty Write changes nothing, in the middle of a code point too.
	v.Reset()
	if !v.Write([]byte("\xe2")) || !v.Write(nil) || !v.Write([]byte("\x82\xac")) || !v.Complete() {
		t.Fatal("empty Write disturbed an open code point")
	}
}

func TestAllocs(t *testing.T) {
	s := []byte(mixedText(4096))
	var v Validator
	if n := testing.AllocsPerRun(100, func() {
		v.Reset()
		v.Write(s[:1001])
		v.Write(s[1001:])
		_ = Valid(s)
	}); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

func FuzzValidator(f *testing.F) {
	for _, tt := range vectors {
		f.Add([]byte(tt.in), []byte{1})
		f.Add([]byte(tt.in), []byte{3, 0, 7})
	}
	f.Add([]byte(mixedText(200)), []byte{5, 16, 1})
	f.Add([]byte(heavyText(100)), []byte{2, 9})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		wantFail, wantComplete := refFail(data)
		if got, want := Valid(data), utf8.Valid(data); got != want {
			t.Fatalf("Valid(% x) = %v, unicode/utf8.Valid = %v", data, got, want)
		}
		if wantComplete != utf8.Valid(data) {
			t.Fatalf("reference disagrees with unicode/utf8 on % x", data)
		}
		// Feed data in chunks whose sizes (0..16) the fuzzer picks. Write
		// must return false exactly from the chunk holding the first byte
		// no continuation can save.
		var v Validator
		for i, j := 0, 0; i < len(data); j++ {
			size := len(data) - i
			if len(cuts) > 0 {
				size = int(cuts[j%len(cuts)] % 17)
			}
			if size == 0 {
				if got, want := v.Write(data[i:i]), wantFail < 0 || wantFail >= i; got != want {
					t.Fatalf("% x: empty Write at %d = %v, want %v", data, i, got, want)
				}
				size = 1
			}
			end := min(i+size, len(data))
			if got, want := v.Write(data[i:end]), wantFail < 0 || wantFail >= end; got != want {
				t.Fatalf("% x: Write(data[%d:%d]) = %v, want %v (first bad byte at %d)", data, i, end, got, want, wantFail)
			}
			i = end
		}
		if got := v.Complete(); got != wantComplete {
			t.Fatalf("% x: Complete = %v, want %v", data, got, wantComplete)
		}
	})
}

// Texts for tests and benchmarks.

const (
	mixedSample = "The quick brown fox jumps over the lazy dog. " +
		"Ἡ γλῶσσα μοῦ ἔδωσαν ἑλληνική. " +
		"Съешь же ещё этих мягких французских булок. " +
		"いろはにほへとちりぬるを。 " +
		"天地玄黄，宇宙洪荒。 " +
		"ऋषियों को सताने वाले दुष्ट राक्षसों। " +
		"نص حكيم له سر قاطع. " +
		"Emoji: 🙂🚀🎉. "
	heavySample = "𝄞😀🎉🙂🚀🌍𠀀𠀁𠀂𝕬𝖇𝖈🧪🦀"
)

// fill repeats sample up to n bytes and cuts it back to a code point
// boundary, so the result is valid.
func fill(sample string, n int) string {
	b := bytes.Repeat([]byte(sample), n/len(sample)+1)[:n]
	for !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(b)
}

func asciiText(n int) string { return fill("The quick brown fox jumps over the lazy dog. ", n) }
func mixedText(n int) string { return fill(mixedSample, n) }
func heavyText(n int) string { return fill(heavySample, n) }

func BenchmarkValid(b *testing.B) {
	for _, kind := range []struct {
		name string
		text func(int) string
	}{{"ascii", asciiText}, {"mixed", mixedText}, {"4byte", heavyText}} {
		for _, size := range []int{1 << 10, 64 << 10} {
			s := []byte(kind.text(size))
			name := fmt.Sprintf("%s/%dKiB", kind.name, size>>10)
			b.Run(name+"/Validator", func(b *testing.B) {
				b.SetBytes(int64(len(s)))
				b.ReportAllocs()
				var v Validator
				for b.Loop() {
					v.Reset()
					if !v.Write(s) || !v.Complete() {
						b.Fatal("rejected")
					}
				}
			})
			b.Run(name+"/unicode-utf8", func(b *testing.B) {
				b.SetBytes(int64(len(s)))
				b.ReportAllocs()
				for b.Loop() {
					if !utf8.Valid(s) {
						b.Fatal("rejected")
					}
				}
			})
		}
	}
}

// BenchmarkWriteChunked measures the streaming path: 64 KiB of mixed text
// in 1000-byte writes, so code points straddle chunk boundaries.
func BenchmarkWriteChunked(b *testing.B) {
	s := []byte(mixedText(64 << 10))
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	var v Validator
	for b.Loop() {
		v.Reset()
		for i := 0; i < len(s); i += 1000 {
			if !v.Write(s[i:min(i+1000, len(s))]) {
				b.Fatal("rejected")
			}
		}
	}
}
