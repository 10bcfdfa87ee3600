package handshake

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestCapturedRequests reads the opening handshakes of real clients in
// testdata/handshake through both paths, readRequest and net/http +
// FromHTTP, and checks that they give the same Request and the same verdict,
// and that the verdict and the WebSocket fields are the expected ones.
func TestCapturedRequests(t *testing.T) {
	pmdBits := []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}}}
	pmd := []Extension{{Name: "permessage-deflate"}}
	tests := []struct {
		file       string
		host       string
		origin     string
		key        string
		protocols  []string
		extensions []Extension
		status     int // 0 when accepted under the default origin policy
	}{
		{"chromium.http", "localhost:8080", "http://localhost:8080", "Q3iPOYfPNdKfWv+Ukx0q0A==", []string{"chat", "superchat"}, pmdBits, 0},
		{"firefox.http", "localhost:8080", "http://localhost:8080", "2+9y4lEHr0wIdQ5ap3UVzg==", nil, pmd, 0},
		{"safari.http", "chat.example.com", "https://chat.example.com", "lg1I1XgTb7ZEw0+rGn5Ziw==", []string{"v2.chat", "v1.chat"}, pmd, 0},
		{"node-ws.http", "127.0.0.1:8080", "", "xA5bxhlU7Qtd4xgCV8fOCw==", nil, pmdBits, 0},
		{"python-websockets.http", "127.0.0.1:8080", "", "bdpXQ8mbcwoyBNAiFh5F8g==", nil, pmdBits, 0},
		{"curl.http", "[::1]:8080", "", "WUQbnHBaprGUZ8YKq81qXA==", nil, nil, 0},
		// RFC 6455 §1.2: the page at example.com talks to
		// server.example.com, a different origin.
		{"rfc6455.http", "server.example.com", "http://example.com", "dGhlIHNhbXBsZSBub25jZQ==", []string{"chat", "superchat"}, nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "testdata", "handshake", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
				t.Fatalf("%s does not end with CRLF CRLF; was it converted to LF?", tt.file)
			}
			mine, err := readRequestString(string(raw), 0)
			if err != nil {
				t.Fatalf("readRequest: %v", err)
			}
			theirs, err := viaNetHTTP(string(raw))
			if err != nil {
				t.Fatalf("net/http + FromHTTP: %v", err)
			}
			if d := requestDiff(mine, theirs); d != "" {
				t.Errorf("readRequest and FromHTTP disagree:%s", d)
			}
			v1, v2 := verdict(mine, nil), verdict(theirs, nil)
			if !reflect.DeepEqual(v1, v2) {
				t.Errorf("verdicts differ: %v vs %v", v1, v2)
			}
			var he *Error
			switch {
			case tt.status == 0 && v1 != nil:
				t.Errorf("refused: %v", v1)
			case tt.status != 0 && (!errors.As(v1, &he) || he.StatusCode != tt.status):
				t.Errorf("verdict %v, want status %d", v1, tt.status)
			}
			if mine.Host != tt.host || mine.Origin != tt.origin || mine.Key != tt.key || mine.Version != "13" ||
				!reflect.DeepEqual(mine.Protocols, tt.protocols) || !reflect.DeepEqual(mine.Extensions, tt.extensions) {
				t.Errorf("got Host %q Origin %q Key %q Version %q Protocols %q Extensions %+v",
					mine.Host, mine.Origin, mine.Key, mine.Version, mine.Protocols, mine.Extensions)
			}
		})
	}
}
