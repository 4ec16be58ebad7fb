package metasim

import (
	"sync"
	"time"
)

// tokenBucket is Meta's throughput cap as the simulator models it: rate tokens per second,
// holding at most burst. A caller pacing itself at or under the rate is never refused; one
// that sends faster gets the rate and a refusal for the rest. No request is refused "early".
//
// Assumption: Meta documents the caps (80/1,000 mps, 300/s, 100/s) but not the algorithm or
// how much burst it forgives; the bucket holds Config.RateBurst worth of traffic (200 ms).
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second; ≤ 0 means no cap
	burst  float64
	tokens float64
	last   time.Time
}

// configure resets the bucket full at the new rate.
func (b *tokenBucket) configure(rate, burst float64, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rate, b.burst, b.tokens, b.last = rate, burst, burst, now
}

// refill adds what has accrued since the last call; the caller holds mu.
func (b *tokenBucket) refill(now time.Time) {
	if b.last.IsZero() {
		b.last = now
		return
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed*b.rate)
		b.last = now
	}
}

// allow takes one token if there is one.
func (b *tokenBucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rate <= 0 {
		return true
	}
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// charge counts a message Meta cannot refuse (an inbound one) against the cap: WhatsApp's
// throughput counts inbound and outbound together. The debt is bounded by one burst.
func (b *tokenBucket) charge(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rate <= 0 {
		return
	}
	b.refill(now)
	b.tokens = max(b.tokens-1, -b.burst)
}
