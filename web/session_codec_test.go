package web

import (
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// A remembered decode is the gob decode, and a session changing its values
// does not change what the next request decodes.
func TestDecodedSessionsAreCopies(t *testing.T) {
	d := newDecodedSessions(scs.GobCodec{})
	deadline := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	b, err := d.Encode(deadline, map[string]any{sessionUserID: int64(7), "flash": "composer.sent"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, values, err := d.Decode(b)
		if err != nil || !got.Equal(deadline) || values[sessionUserID] != int64(7) || values["flash"] != "composer.sent" {
			t.Fatalf("decode %d: %v %v %v", i, got, values, err)
		}
		delete(values, "flash") // as PopString does
		values[sessionUserID] = int64(8)
	}
	if _, _, err := d.Decode([]byte("not gob")); err == nil {
		t.Error("garbage decoded")
	}
}
