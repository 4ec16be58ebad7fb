package web

import (
	"container/list"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxThrottleKeys bounds the login throttle's memory.
const maxThrottleKeys = 100_000

// loginThrottle is a token bucket per key (address, IP): limit attempts,
// refilled evenly over window. It holds at most maxThrottleKeys buckets and
// makes room only by forgetting the least recently used one once it has
// refilled, which changes nothing; when none can go, new keys share one
// overflow bucket. So a spray of keys throttles itself and frees nobody.
type loginThrottle struct {
	mu       sync.Mutex
	limit    float64
	window   time.Duration
	maxKeys  int
	byKey    map[string]*list.Element // of *throttleBucket
	lru      *list.List               // front: most recently used
	overflow throttleBucket
}

type throttleBucket struct {
	key    string
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func newLoginThrottle(limit int, window time.Duration) *loginThrottle {
	return &loginThrottle{limit: float64(limit), window: window, maxKeys: maxThrottleKeys,
		byKey: map[string]*list.Element{}, lru: list.New()}
}

// allow spends an attempt from every key's bucket that has one and says
// whether all had one.
func (t *loginThrottle) allow(now time.Time, keys ...string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	ok := true
	for _, k := range keys {
		b := t.bucket(now, k)
		t.refill(b, now)
		if b.tokens < 1 {
			ok = false
			continue
		}
		b.tokens--
	}
	return ok
}

// bucket finds or makes k's bucket; t.mu is held.
func (t *loginThrottle) bucket(now time.Time, k string) *throttleBucket {
	if e, found := t.byKey[k]; found {
		t.lru.MoveToFront(e)
		return e.Value.(*throttleBucket)
	}
	if len(t.byKey) >= t.maxKeys {
		oldest := t.lru.Back().Value.(*throttleBucket)
		if t.refill(oldest, now); oldest.tokens < t.limit {
			return &t.overflow
		}
		t.lru.Remove(t.lru.Back())
		delete(t.byKey, oldest.key)
	}
	b := &throttleBucket{key: k, tokens: t.limit, at: now}
	t.byKey[k] = t.lru.PushFront(b)
	return b
}

func (t *loginThrottle) refill(b *throttleBucket, now time.Time) {
	if b.at.IsZero() {
		b.tokens, b.at = t.limit, now
		return
	}
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(t.limit, b.tokens+t.limit*elapsed.Seconds()/t.window.Seconds())
		b.at = now
	}
}

// size is how many keys have a bucket of their own.
func (t *loginThrottle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byKey)
}

// clientIP is the address sign-in attempts are counted against: the
// connection's, or behind a proxy the last address in the header the
// operator named (TRUSTED_PROXY_HEADER), which is the one that proxy wrote.
// Any other forwarding header is the client's word and ignored.
func (s *Server) clientIP(r *http.Request) string {
	if h := s.opts.TrustedProxyHeader; h != "" {
		if v := r.Header.Values(h); len(v) > 0 {
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := strings.TrimSpace(last); ip != "" {
				return ip
			}
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
