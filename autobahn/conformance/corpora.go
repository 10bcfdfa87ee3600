package conformance

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
)

// The suite's compression cases cut their messages from five files it
// ships (a JSON document, a greyscale bitmap, a German play as plain text,
// an HTML page and a PDF). The runner generates stand-ins of the same kind
// and the same size instead, deterministically from fixed seeds, so that
// every run sends the same bytes. What matters for the cases is the kind of
// redundancy: structured ASCII text, smooth image data, natural-language
// text with multi-byte characters, markup, and mostly incompressible binary.
// The text corpora are pure ASCII, so that a message cut anywhere is valid
// UTF-8; the German text goes out as binary messages, as in the suite.

// corpus is one generated payload source.
type corpus struct {
	name   string // short, for test and benchmark names
	title  string // for case descriptions
	binary bool   // sent as binary messages
	bytes  func() []byte
}

func newCorpus(name, title string, binary bool, size int, gen func(r *rand.Rand, b *strings.Builder)) *corpus {
	kind := "utf8"
	if binary {
		kind = "binary"
	}
	return &corpus{name: name, title: fmt.Sprintf("%s (%s, %d bytes)", title, kind, size),
		binary: binary,
		bytes: sync.OnceValue(func() []byte {
			r := rand.New(rand.NewPCG(uint64(size), 0x5eed))
			var b strings.Builder
			b.Grow(size + 4096)
			for b.Len() < size {
				gen(r, &b)
			}
			return []byte(b.String()[:size])
		})}
}

// corpora returns the payload sources of 12.1 to 12.5, in the suite's order.
var corpora = sync.OnceValue(func() []*corpus {
	return []*corpus{
		jsonCorpus(),
		newCorpus("bitmap", "a 512x512 greyscale bitmap", true, 263222, genBitmap),
		newCorpus("german", "German verse drama as plain text", true, 222218, genGerman),
		newCorpus("html", "a large HTML page", false, 263527, genHTML),
		newCorpus("pdf", "a PDF document, mostly compressed streams", true, 1042328, genPDF),
	}
})

// jsonCorpus is 12.1's source and the only one of group 13.
var jsonCorpus = sync.OnceValue(func() *corpus {
	return newCorpus("json", "a large JSON document", false, 194056, genJSON)
})

var (
	syllables = []string{"ka", "lo", "mi", "ren", "tas", "vel", "dor", "shi", "pa", "qua", "ne", "bro", "lin", "gar", "tu", "es", "om", "ri", "zan", "fel"}
	firstName = []string{"Ada", "Bruno", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kiri", "Lena", "Marco", "Nora", "Omar", "Paula"}
	lastName  = []string{"Berger", "Castillo", "Dunn", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau"}
	tagWords  = []string{"alpha", "beta", "gamma", "delta", "sed", "minim", "aute", "irure", "dolor", "veniam", "culpa", "fugiat", "nulla", "magna"}
)

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

func word(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(3) {
		b.WriteString(pick(r, syllables))
	}
	return b.String()
}

// capitalize upper-cases the first letter of an ASCII word.
func capitalize(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func sentence(r *rand.Rand, words int) string {
	w := make([]string, words)
	for i := range w {
		w[i] = word(r)
	}
	return capitalize(strings.Join(w, " ")) + "."
}

// genJSON appends one record of an array of people, the shape of a typical
// generated JSON test document.
func genJSON(r *rand.Rand, b *strings.Builder) {
	if b.Len() == 0 {
		b.WriteString("[\n")
	}
	first, last := pick(r, firstName), pick(r, lastName)
	fmt.Fprintf(b, "  {\n    \"id\": %d,\n    \"guid\": \"%08x-%04x-%04x-%04x-%012x\",\n", r.IntN(1000000), r.Uint32(), r.IntN(1<<16), r.IntN(1<<16), r.IntN(1<<16), r.Uint64()&(1<<48-1))
	fmt.Fprintf(b, "    \"isActive\": %v,\n    \"balance\": \"$%d,%03d.%02d\",\n    \"age\": %d,\n", r.IntN(2) == 1, r.IntN(10), r.IntN(1000), r.IntN(100), 20+r.IntN(50))
	fmt.Fprintf(b, "    \"name\": \"%s %s\",\n    \"email\": \"%s.%s@%s.com\",\n", first, last, strings.ToLower(first), strings.ToLower(last), word(r))
	fmt.Fprintf(b, "    \"phone\": \"+1 (%03d) %03d-%04d\",\n    \"address\": \"%d %s Street, %s, %05d\",\n", r.IntN(1000), r.IntN(1000), r.IntN(10000), r.IntN(999), capitalize(word(r)), capitalize(word(r)), r.IntN(100000))
	fmt.Fprintf(b, "    \"about\": \"%s %s\",\n    \"registered\": \"20%02d-%02d-%02dT%02d:%02d:%02d -0%d:00\",\n", sentence(r, 8+r.IntN(10)), sentence(r, 6+r.IntN(8)), r.IntN(25), 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(10))
	// Coordinates from integers: floating point could round differently
	// where the compiler fuses multiply and add.
	fmt.Fprintf(b, "    \"latitude\": %d.%06d,\n    \"longitude\": %d.%06d,\n    \"tags\": [", r.IntN(180)-90, r.IntN(1000000), r.IntN(360)-180, r.IntN(1000000))
	for i := range 3 + r.IntN(5) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "\"%s\"", pick(r, tagWords))
	}
	b.WriteString("],\n    \"friends\": [\n")
	n := 1 + r.IntN(3)
	for i := range n {
		fmt.Fprintf(b, "      {\"id\": %d, \"name\": \"%s %s\"}", i, pick(r, firstName), pick(r, lastName))
		if i < n-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("    ]\n  },\n")
}

// genHTML appends one section of an HTML page; the first call writes the
// head with a style sheet.
func genHTML(r *rand.Rand, b *strings.Builder) {
	if b.Len() == 0 {
		b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Archive</title>\n<style>\n")
		for _, c := range []string{"header", "nav", "article", "aside", "footer", "card", "meta", "lead"} {
			fmt.Fprintf(b, ".%s { margin: %dpx %dpx; padding: %dpx; color: #%06x; font-size: %d%%; }\n", c, r.IntN(20), r.IntN(20), r.IntN(16), r.IntN(1<<24), 80+r.IntN(60))
		}
		b.WriteString("</style>\n</head>\n<body>\n")
	}
	fmt.Fprintf(b, "<div class=\"card\" id=\"item-%d\">\n  <h2 class=\"lead\"><a href=\"/articles/%s-%d.html\" title=\"%s\">%s</a></h2>\n",
		r.IntN(100000), word(r), r.IntN(10000), word(r), sentence(r, 3+r.IntN(5)))
	fmt.Fprintf(b, "  <p class=\"meta\">Posted by <a href=\"/users/%s\">%s %s</a> on <time datetime=\"2013-%02d-%02d\">%d days ago</time></p>\n",
		strings.ToLower(pick(r, firstName)), pick(r, firstName), pick(r, lastName), 1+r.IntN(12), 1+r.IntN(28), r.IntN(400))
	for range 1 + r.IntN(3) {
		fmt.Fprintf(b, "  <p>%s %s <em>%s</em> %s</p>\n", sentence(r, 10+r.IntN(15)), sentence(r, 5+r.IntN(10)), word(r), sentence(r, 8+r.IntN(12)))
	}
	if r.IntN(4) == 0 {
		b.WriteString("  <table class=\"data\">\n")
		for range 2 + r.IntN(4) {
			fmt.Fprintf(b, "    <tr><td>%s</td><td>%d</td><td>%d.%02d</td></tr>\n", word(r), r.IntN(10000), r.IntN(100), r.IntN(100))
		}
		b.WriteString("  </table>\n")
	}
	fmt.Fprintf(b, "  <ul class=\"tags\"><li><a href=\"/tag/%s\">%s</a></li><li><a href=\"/tag/%s\">%s</a></li></ul>\n</div>\n",
		pick(r, tagWords), pick(r, tagWords), pick(r, tagWords), pick(r, tagWords))
}

var (
	germanSmall = []string{"und", "der", "die", "das", "ich", "nicht", "mit", "sich", "des", "ist", "zu", "ein", "mir", "mich", "du", "so",
		"was", "wie", "doch", "noch", "auf", "dem", "den", "ihr", "wir", "nur", "mein", "dein", "wohl", "hier", "schon", "für", "über"}
	germanOnset = []string{"b", "br", "d", "f", "fl", "g", "gr", "h", "k", "kl", "l", "m", "n", "p", "r", "s", "sch", "schw", "st", "str", "t", "tr", "w", "z", "zw"}
	germanVowel = []string{"a", "e", "i", "o", "u", "ä", "ö", "ü", "au", "ei", "ie", "eu"}
	germanCoda  = []string{"", "n", "r", "t", "ch", "cht", "ng", "s", "ß", "ld", "nd", "rz", "ck", "ff", "m"}
	germanEnd   = []string{"", "en", "e", "er", "es", "ung", "heit", "lich", "te", "ten"}
	speakers    = []string{"FAUST.", "MEPHISTOPHELES.", "MARGARETE.", "WAGNER.", "MARTHE.", "VALENTIN.", "CHOR DER ENGEL.", "DER HERR."}
)

// germanWord makes up a German-looking word, capitalized like a noun one
// time in four.
func germanWord(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return pick(r, germanSmall)
	}
	var b strings.Builder
	for range 1 + r.IntN(2) {
		b.WriteString(pick(r, germanOnset) + pick(r, germanVowel) + pick(r, germanCoda))
	}
	b.WriteString(pick(r, germanEnd))
	w := b.String()
	if r.IntN(4) == 0 {
		rs := []rune(w)
		return strings.ToUpper(string(rs[0])) + string(rs[1:])
	}
	return w
}

// genGerman appends a speech of a verse drama: a speaker's name, then lines
// of verse (CRLF line ends, as in plain-text e-books).
func genGerman(r *rand.Rand, b *strings.Builder) {
	fmt.Fprintf(b, "\r\n%s\r\n\r\n", pick(r, speakers))
	for range 2 + r.IntN(10) {
		w := make([]string, 5+r.IntN(5))
		for i := range w {
			w[i] = germanWord(r)
		}
		rs := []rune(strings.Join(w, " "))
		line := strings.ToUpper(string(rs[0])) + string(rs[1:])
		fmt.Fprintf(b, "  %s%s\r\n", line, [...]string{",", ";", ".", "!", "?", ","}[r.IntN(6)])
	}
}

// genBitmap writes the whole bitmap on its first call: a Windows BMP with
// an 8-bit greyscale palette and 512x512 pixels of smooth shading with a
// little noise, like a photograph. Integer arithmetic only, so the bytes are
// the same on every platform.
func genBitmap(r *rand.Rand, b *strings.Builder) {
	const w, h, palette = 512, 512, 256 * 4
	const offset = 14 + 40 + palette
	var hdr []byte
	hdr = append(hdr, 'B', 'M')
	hdr = binary.LittleEndian.AppendUint32(hdr, offset+w*h)
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	hdr = binary.LittleEndian.AppendUint32(hdr, offset)
	hdr = binary.LittleEndian.AppendUint32(hdr, 40) // BITMAPINFOHEADER
	hdr = binary.LittleEndian.AppendUint32(hdr, w)
	hdr = binary.LittleEndian.AppendUint32(hdr, h)
	hdr = binary.LittleEndian.AppendUint16(hdr, 1)
	hdr = binary.LittleEndian.AppendUint16(hdr, 8)
	hdr = binary.LittleEndian.AppendUint32(hdr, 0) // no compression
	hdr = binary.LittleEndian.AppendUint32(hdr, w*h)
	hdr = binary.LittleEndian.AppendUint32(hdr, 2835)
	hdr = binary.LittleEndian.AppendUint32(hdr, 2835)
	hdr = binary.LittleEndian.AppendUint32(hdr, 256)
	hdr = binary.LittleEndian.AppendUint32(hdr, 256)
	for i := range 256 {
		hdr = append(hdr, byte(i), byte(i), byte(i), 0)
	}
	b.Write(hdr)
	// Value noise: random levels on a coarse and a fine grid, bilinearly
	// interpolated and added, then a little per-pixel noise.
	grid := func(cell int) func(x, y int) int {
		n := w/cell + 1
		g := make([]int, n*n)
		for i := range g {
			g[i] = r.IntN(256)
		}
		return func(x, y int) int {
			gx, gy, fx, fy := x/cell, y/cell, x%cell, y%cell
			top := g[gy*n+gx]*(cell-fx) + g[gy*n+gx+1]*fx
			bot := g[(gy+1)*n+gx]*(cell-fx) + g[(gy+1)*n+gx+1]*fx
			return (top*(cell-fy) + bot*fy) / (cell * cell)
		}
	}
	coarse, fine := grid(64), grid(8)
	px := make([]byte, w*h)
	for y := range h {
		for x := range w {
			v := (3*coarse(x, y)+fine(x, y))/4 + r.IntN(9) - 4
			px[y*w+x] = byte(max(0, min(255, v)))
		}
	}
	b.Write(px)
}

// genPDF appends one PDF object; most are content streams of
// incompressible bytes, as the compressed streams of a real PDF are.
func genPDF(r *rand.Rand, b *strings.Builder) {
	if b.Len() == 0 {
		b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	}
	n := b.Len()/4000 + 1
	if r.IntN(5) == 0 {
		fmt.Fprintf(b, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 %d 0 R >> >> /MediaBox [0 0 612 792] /Contents %d 0 R >>\nendobj\n", n, n+1, n+2)
		return
	}
	size := 1000 + r.IntN(12000)
	fmt.Fprintf(b, "%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", n, size)
	buf := make([]byte, size)
	for i := 0; i < size; i += 8 {
		var u [8]byte
		binary.LittleEndian.PutUint64(u[:], r.Uint64())
		copy(buf[i:], u[:])
	}
	b.Write(buf)
	b.WriteString("\nendstream\nendobj\n")
}
