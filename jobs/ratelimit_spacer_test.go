package jobs

import (
	"testing"
	"time"
)

// The spacer lets requests held up together leave at the bucket's rate again:
// at most spacingTolerance ahead of even spacing, never a bunch.
func TestSpacerSpacesBunchedRequests(t *testing.T) {
	l := newLimiter(nil, nil)
	s := rateSpec{key: "channel:1", rate: 1000}
	now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	interval := time.Millisecond
	free := int(spacingTolerance/interval) + 1 // those within the tolerance leave at once
	for i := range 100 {                       // 100 requests ready at the same instant
		at := l.reserveSlot(s, now)
		want := now
		if i >= free {
			want = now.Add(time.Duration(i)*interval - spacingTolerance)
		}
		if !at.Equal(want) {
			t.Fatalf("request %d leaves at +%v, want +%v", i, at.Sub(now), want.Sub(now))
		}
	}
	// After a quiet second the slots start again from the present: no credit is kept.
	later := now.Add(time.Second)
	for i := range free {
		if at := l.reserveSlot(s, later); !at.Equal(later) {
			t.Fatalf("after a pause request %d waits until +%v", i, at.Sub(later))
		}
	}
	if at := l.reserveSlot(s, later); !at.After(later) {
		t.Fatalf("the request past the tolerance after a pause leaves at once")
	}
	// Another bucket is spaced on its own.
	if at := l.reserveSlot(rateSpec{key: "channel:2", rate: 1000}, now); !at.Equal(now) {
		t.Fatalf("another channel's first request waits until +%v", at.Sub(now))
	}
}
