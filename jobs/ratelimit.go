package jobs

import (
	"context"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
)

// Meta's published send rates (https://developers.facebook.com/documentation/business-messaging/messenger-platform/overview/rate-limiting,
// https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput): per Page, per
// Instagram account, per WhatsApp number (80 until Meta raises it; channels.mps
// overrides), and Messenger's and Instagram's separate cap on audio and video.
const (
	messengerMPS  = 300
	instagramMPS  = 100
	whatsappMPS   = 80
	heavyMediaMPS = 10
)

// bucketDepth is how much traffic a bucket lets through at once, as time at
// its rate: well under the 200 ms Meta is seen to forgive, so that a burst
// after a stall, the sends of a lease and the jitter between a token and its
// request together stay under it.
const bucketDepth = 100 * time.Millisecond

// spacingTolerance is how far ahead of its even spacing one replica lets a
// request leave (spacer): requests whose tokens were granted over a while but
// held up together (the leaving mark's round trip, the in-flight bound, a
// pause of the process) leave at the rate again, not in one bunch.
const spacingTolerance = 80 * time.Millisecond

// slowDownPause is the debt a throughput refusal puts on a bucket: enough for
// Meta's own bucket to refill a little, short enough not to waste the rate.
const slowDownPause = 25 * time.Millisecond

// rateSpec names one shared token bucket and its refill.
type rateSpec struct {
	key     string
	rate    float64 // tokens per second
	burst   float64
	inbound int64 // WhatsApp channel whose inbound messages are charged to this bucket
}

// channelRates are the buckets a send on the channel draws from: the channel's
// own, and for Messenger and Instagram audio or video also the media cap.
// WhatsApp's mark-read is not a message and draws nothing.
func channelRates(ch *models.Channel, out adapters.Outbound, headroom float64) []rateSpec {
	if ch.App == models.AppWhatsApp && (out.Kind == adapters.OutMarkSeen || out.Kind == adapters.OutTypingOn) {
		return nil
	}
	mps := ch.MPS
	if mps <= 0 {
		switch ch.App {
		case models.AppMessenger:
			mps = messengerMPS
		case models.AppInstagram:
			mps = instagramMPS
		default:
			mps = whatsappMPS
		}
	}
	key := "channel:" + strconv.FormatInt(ch.ID, 10)
	specs := []rateSpec{bucket(key, float64(mps), headroom)}
	if ch.App == models.AppWhatsApp {
		specs[0].inbound = ch.ID
	}
	if ch.App != models.AppWhatsApp && out.Media != nil && (out.Media.Type == "audio" || out.Media.Type == "video") {
		specs = append(specs, bucket(key+":av", heavyMediaMPS, headroom))
	}
	return specs
}

func bucket(key string, mps, headroom float64) rateSpec {
	rate := mps * (1 - headroom)
	return rateSpec{key: key, rate: rate, burst: math.Max(1, rate*bucketDepth.Seconds())}
}

// limiter paces sends against token buckets kept in PostgreSQL, so every
// worker of every replica shares one budget per channel. The fast path is
// local: one goroutine per bucket draws a lease of tokens (about 20 ms worth)
// in one statement and hands them out; leased tokens expire unused after a
// short while, so a replica never sits on a burst.
type limiter struct {
	store *models.Store
	m     *metrics
	lease time.Duration
	ttl   time.Duration

	mu      sync.Mutex
	buckets map[string]*localBucket
	spacers map[string]*spacer
}

// spacer spaces one replica's requests of a bucket at its rate right before
// they leave (a virtual-scheduling GCRA): each request reserves the next
// slot, 1/rate after the previous one, and waits until spacingTolerance
// before it. The shared bucket already bounds the rate across replicas; this
// only smooths what the bucket granted, so it rarely waits long.
type spacer struct {
	mu  sync.Mutex
	tat time.Time // theoretical arrival time of the next request
}

// localBucket hands a replica's leased tokens to its waiting requests in the
// order they asked: a job's sends, queued together, are served together, so
// jobs finish one after another while the next are claimed, instead of all
// advancing evenly and ending at once, leaving the rate unused while the
// next wave is fetched and claimed.
type localBucket struct {
	mu      sync.Mutex
	tokens  int
	expires time.Time
	queue   []*tokenWaiter // in arrival order; its head draws while drawing is set
	drawing bool
}

// tokenWaiter is a request waiting for a token: wake gets true when it is
// granted one, false when it is its turn to draw a lease for the queue. Only
// the entry of a first waiter and the drawer serve or appoint, so a waiter
// gets one message at most.
type tokenWaiter struct {
	wake chan bool
}

func newLimiter(store *models.Store, m *metrics) *limiter {
	return &limiter{store: store, m: m, lease: 20 * time.Millisecond, ttl: 50 * time.Millisecond,
		buckets: map[string]*localBucket{}, spacers: map[string]*spacer{}}
}

func (l *limiter) local(key string) *localBucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &localBucket{}
		l.buckets[key] = b
	}
	return b
}

// wait takes one token from every bucket, blocking until they are granted or ctx ends.
func (l *limiter) wait(ctx context.Context, specs []rateSpec) error {
	for _, s := range specs {
		if err := l.take(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func (l *limiter) take(ctx context.Context, s rateSpec) error {
	b := l.local(s.key)
	b.mu.Lock()
	if len(b.queue) == 0 && b.tokens > 0 && time.Now().Before(b.expires) {
		b.tokens--
		b.mu.Unlock()
		return nil
	}
	w := &tokenWaiter{wake: make(chan bool, 1)}
	b.queue = append(b.queue, w)
	if !b.drawing {
		b.drawing = true
		b.serve(time.Now()) // a lease still unexpired serves the queue first
		b.appoint()
	}
	b.mu.Unlock()
	for {
		select {
		case granted := <-w.wake:
			if granted {
				return nil
			}
			n, err := l.draw(ctx, s)
			b.mu.Lock()
			if n > 0 {
				if now := time.Now(); now.Before(b.expires) {
					b.tokens += n // with those given back meanwhile
				} else {
					b.tokens = n
				}
				b.expires = time.Now().Add(l.ttl)
			}
			b.serve(time.Now())
			if err != nil && b.remove(w) {
				b.appoint()
				b.mu.Unlock()
				return err
			}
			b.appoint()
			b.mu.Unlock()
		case <-ctx.Done():
			b.mu.Lock()
			if !b.remove(w) { // granted meanwhile: the token goes back, to the drawer's next serve or the fast path
				<-w.wake
				b.tokens++
			} else if len(w.wake) > 0 && !<-w.wake { // appointed to draw: the next in line does
				b.appoint()
			}
			b.mu.Unlock()
			return ctx.Err()
		}
	}
}

// serve hands the unexpired tokens to the queue's head onwards. Called with b.mu held.
func (b *localBucket) serve(now time.Time) {
	if !now.Before(b.expires) {
		b.tokens = 0
	}
	for b.tokens > 0 && len(b.queue) > 0 {
		b.queue[0].wake <- true
		b.queue = b.queue[1:]
		b.tokens--
	}
}

// appoint makes the queue's head the drawer, or ends the drawing when no one
// waits. Called with b.mu held, by the drawer or whoever stops drawing.
func (b *localBucket) appoint() {
	if len(b.queue) == 0 {
		b.drawing = false
		return
	}
	b.drawing = true
	b.queue[0].wake <- false
}

// remove takes w out of the queue and reports whether it was there (not yet granted).
func (b *localBucket) remove(w *tokenWaiter) bool {
	for i, q := range b.queue {
		if q == w {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			return true
		}
	}
	return false
}

// draw asks PostgreSQL for a lease, sleeping as long as it says until one comes.
func (l *limiter) draw(ctx context.Context, s rateSpec) (int, error) {
	want := max(1, int(s.rate*l.lease.Seconds()))
	for {
		granted, wait, err := l.store.TakeRateTokens(ctx, s.key, s.rate, s.burst, want, s.inbound)
		if err != nil {
			return 0, err
		}
		if granted > 0 {
			l.m.draws.WithLabelValues("granted").Inc()
			return granted, nil
		}
		l.m.draws.WithLabelValues("empty").Inc()
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		}
	}
}

// space waits until each bucket's next slot for a request that is about to
// leave (its tokens already taken).
func (l *limiter) space(ctx context.Context, specs []rateSpec) error {
	var until time.Time
	for _, s := range specs {
		if at := l.reserveSlot(s, time.Now()); at.After(until) {
			until = at
		}
	}
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reserveSlot books the bucket's next slot at or after now and returns when
// the request may leave.
func (l *limiter) reserveSlot(s rateSpec, now time.Time) time.Time {
	if s.rate <= 0 {
		return now
	}
	l.mu.Lock()
	sp := l.spacers[s.key]
	if sp == nil {
		sp = &spacer{}
		l.spacers[s.key] = sp
	}
	l.mu.Unlock()
	interval := time.Duration(float64(time.Second) / s.rate)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.tat.Before(now) {
		sp.tat = now
	}
	at := sp.tat.Add(-spacingTolerance)
	sp.tat = sp.tat.Add(interval)
	if at.Before(now) {
		return now
	}
	return at
}

// slowDown answers Meta's throughput refusal: this replica drops its lease and
// the shared bucket goes into debt, so every replica pauses for a moment.
func (l *limiter) slowDown(ctx context.Context, specs []rateSpec) {
	for _, s := range specs {
		b := l.local(s.key)
		b.mu.Lock()
		b.tokens = 0
		b.mu.Unlock()
		_ = l.store.DrainRateBucket(ctx, s.key, s.rate, slowDownPause)
	}
}
