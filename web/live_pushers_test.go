package web

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// TestPushersIsolateBusinessesAndCoalesce: while one business's push is
// stuck, another business's events are still pushed; the stuck business's
// events that arrived meanwhile go out together, in order, in its next push.
func TestPushersIsolateBusinessesAndCoalesce(t *testing.T) {
	release := make(chan struct{})
	pushed := make(chan int64, 16)
	var mu sync.Mutex
	got := map[int64][][]int64{} // business → each push's message ids
	p := newLivePushers(func(businessID int64, events []liveEvent) {
		var ids []int64
		for _, ev := range events {
			ids = append(ids, ev.MessageID)
		}
		mu.Lock()
		got[businessID] = append(got[businessID], ids)
		first := len(got[businessID]) == 1
		mu.Unlock()
		pushed <- businessID
		if businessID == 1 && first {
			<-release // business 1's first push is slow
		}
	})
	ev := func(business, message int64) liveEvent {
		return liveEvent{models.Event{Type: "message", BusinessID: business, MessageID: message}, time.Now()}
	}
	add := func(e liveEvent) {
		if err := p.add(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	add(ev(1, 1))
	waitPushed(t, pushed, 1)
	for m := int64(2); m <= 4; m++ {
		add(ev(1, m)) // queued behind the stuck push
	}
	add(ev(2, 10))
	waitPushed(t, pushed, 2) // not held up by business 1
	close(release)
	p.wait()

	if want := [][]int64{{1}, {2, 3, 4}}; !slices.EqualFunc(got[1], want, slices.Equal) {
		t.Errorf("business 1's pushes = %v, want %v (the three queued events in one push, in order)", got[1], want)
	}
	if want := [][]int64{{10}}; !slices.EqualFunc(got[2], want, slices.Equal) {
		t.Errorf("business 2's pushes = %v, want %v", got[2], want)
	}
}

func waitPushed(t *testing.T, pushed <-chan int64, business int64) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case b := <-pushed:
			if b == business {
				return
			}
		case <-timeout:
			t.Fatalf("business %d was never pushed", business)
		}
	}
}
