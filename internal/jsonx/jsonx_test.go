package jsonx

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzString: String equals encoding/json for any string.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "<&>", "\xff", "\u2028", "\x00\x1f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := String(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}
