package jobs

import "testing"

// An empty audience says why, the largest reason first.
func TestSkippedList(t *testing.T) {
	if got := skippedList(map[string]int{"blocked": 1, "opted_out": 3, "duplicate": 1}); got != "opted_out 3, blocked 1, duplicate 1" {
		t.Errorf("got %q", got)
	}
	if got := skippedList(nil); got != "none" {
		t.Errorf("got %q", got)
	}
}
