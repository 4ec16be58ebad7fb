package inbound_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/inbound"
)

// Stripping NUL escapes keeps a valid document valid and changes nothing but
// the NUL characters in its strings.
func FuzzStripNULEscapes(f *testing.F) {
	for _, s := range []string{`{"a":"x\u0000y"}`, `{"a":"\\u0000"}`, `["\\\u0000", "\u00001"]`, `{"\u0000k":1}`, `"plain"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var want any
		if json.Unmarshal(body, &want) != nil {
			return
		}
		out := inbound.StripNULEscapes(body)
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q became invalid: %q: %v", body, out, err)
		}
		want, ok := withoutNUL(want)
		if !ok {
			return // two keys differ only by NUL: which one wins is the decoder's choice
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, want %#v", body, got, want)
		}
	})
}

func withoutNUL(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "\x00", ""), true
	case []any:
		for i := range x {
			var ok bool
			if x[i], ok = withoutNUL(x[i]); !ok {
				return nil, false
			}
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			k = strings.ReplaceAll(k, "\x00", "")
			if _, dup := out[k]; dup {
				return nil, false
			}
			var ok bool
			if out[k], ok = withoutNUL(e); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return v, true
}
