// Package jsonx appends JSON values to byte slices exactly as encoding/json
// renders them (HTML-safe string escaping, its float format, sorted map
// keys), for the hot objects that are rendered on every request and event —
// contacts — where encoding/json's reflection, and the re-validation of a
// MarshalJSON result, were a third of a search's CPU.
package jsonx

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// safe[b] reports whether ASCII byte b needs no escaping (encoding/json's
// htmlSafeSet: also <, > and & are escaped).
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return
}()

// String appends s as a JSON string.
func String(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '\\', '"':
				buf = append(buf, '\\', b)
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// StringPtr appends *s, or null.
func StringPtr(buf []byte, s *string) []byte {
	if s == nil {
		return append(buf, "null"...)
	}
	return String(buf, *s)
}

// IntPtr appends *n, or null.
func IntPtr(buf []byte, n *int64) []byte {
	if n == nil {
		return append(buf, "null"...)
	}
	return strconv.AppendInt(buf, *n, 10)
}

// Bool appends b.
func Bool(buf []byte, b bool) []byte { return strconv.AppendBool(buf, b) }

// Float appends f as encoding/json does (NaN and infinities are not JSON:
// they fall back to encoding/json, which reports the error).
func Float(buf []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b, err := json.Marshal(f)
		return append(buf, b...), err
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	buf = strconv.AppendFloat(buf, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(buf)
		if n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf, nil
}

// Value appends a scalar (string, bool, int64, float64, nil and their
// pointers are written directly; anything else through encoding/json).
func Value(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case string:
		return String(buf, x), nil
	case bool:
		return Bool(buf, x), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case float64:
		return Float(buf, x)
	case *string:
		return StringPtr(buf, x), nil
	case *int64:
		return IntPtr(buf, x), nil
	}
	b, err := json.Marshal(v)
	return append(buf, b...), err
}

// Map appends m as an object with sorted keys (nil: {}).
func Map(buf []byte, m map[string]any) ([]byte, error) {
	if len(m) == 0 {
		return append(buf, "{}"...), nil
	}
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = String(buf, k)
		buf = append(buf, ':')
		var err error
		if buf, err = Value(buf, m[k]); err != nil {
			return buf, err
		}
	}
	return append(buf, '}'), nil
}
