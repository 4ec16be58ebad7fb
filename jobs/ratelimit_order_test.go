package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// Sends queued for tokens are all served although some give up while they
// wait (their wait budget ends, some right as a token comes to them, some
// while it is their turn to draw): the queue never stalls.
func TestRateLimitQueueSurvivesGivingUp(t *testing.T) {
	ctx := context.Background()
	db, err := models.Open(ctx, modelstest.URL(t), 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	cipher, _ := models.NewCipher(modelstest.SecretKey)
	l := newLimiter(models.NewStore(db, cipher), newMetrics())
	s := bucket("channel:order", 500, 0)

	const n = 300
	var mu sync.Mutex
	var served []int
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%7 == 3 { // gives up, at various points of the wait
				c, cancel := context.WithTimeout(ctx, time.Duration(i)*time.Millisecond)
				defer cancel()
				_ = l.take(c, s)
				return
			}
			if err := l.take(ctx, s); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			served = append(served, i)
			mu.Unlock()
		})
		time.Sleep(200 * time.Microsecond) // they ask one after another
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the queue stalled")
	}
	if want := n - (n+3)/7; len(served) < want {
		t.Fatalf("%d served, want %d", len(served), want)
	}
}
