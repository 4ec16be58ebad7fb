package metasim

import (
	"math/rand/v2"
	"testing"
	"time"
)

// simulateCaller runs a caller at rate r against a bucket for the given simulated time,
// with arrival jitter up to ±jitter; the clock is simulated, so nothing here measures time.
func simulateCaller(capMPS int, r float64, jitter, length time.Duration) (accepted, refused int) {
	var b tokenBucket
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.configure(float64(capMPS), burstTokens(capMPS, 200*time.Millisecond), start)
	rng := rand.New(rand.NewPCG(1, 2))
	n := int(r * length.Seconds())
	last := start
	for i := range n {
		at := start.Add(time.Duration(float64(i) / r * float64(time.Second)))
		if jitter > 0 {
			at = at.Add(time.Duration(rng.Int64N(int64(2*jitter))) - jitter)
		}
		if at.Before(last) {
			at = last // arrivals are observed in order
		}
		last = at
		if b.allow(at) {
			accepted++
		} else {
			refused++
		}
	}
	return accepted, refused
}

func TestBucketHoldsAWellBehavedCallerAtTheCap(t *testing.T) {
	// A campaign pacing itself at 99% of a 1,000 mps cap, arrivals jittered by ±20 ms.
	accepted, refused := simulateCaller(1000, 990, 20*time.Millisecond, 30*time.Second)
	if refused*1000 > accepted { // at most 0.1% refused
		t.Fatalf("%d of %d refused", refused, accepted+refused)
	}
	if float64(accepted) < 0.97*1000*30 {
		t.Fatalf("only %d accepted in 30 s at a 1,000 mps cap", accepted)
	}
}

func TestBucketCapsAGreedyCaller(t *testing.T) {
	accepted, refused := simulateCaller(1000, 2000, 0, 30*time.Second)
	burst := int(burstTokens(1000, 200*time.Millisecond))
	if accepted > 1000*30+burst || accepted < 1000*30 {
		t.Fatalf("greedy caller got %d through a 1,000 mps cap in 30 s", accepted)
	}
	if refused == 0 {
		t.Fatal("nothing refused")
	}
}

func TestInboundCountsAgainstTheCap(t *testing.T) {
	var b tokenBucket
	now := time.Now()
	b.configure(10, 2, now)
	b.charge(now)
	b.charge(now)
	if b.allow(now) {
		t.Fatal("two inbound messages left room for an outbound one in a burst of two")
	}
	b.charge(now)
	b.charge(now)
	b.charge(now)
	if b.tokens < -b.burst {
		t.Fatalf("inbound debt %v exceeds one burst", b.tokens)
	}
	if !b.allow(now.Add(time.Second)) {
		t.Fatal("the bucket never refills")
	}
}

func TestUnlimitedBucket(t *testing.T) {
	var b tokenBucket
	for range 1000 {
		if !b.allow(time.Time{}) {
			t.Fatal("a bucket without a rate refused")
		}
	}
}
