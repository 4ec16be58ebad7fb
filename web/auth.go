package web

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// Session keys.
const (
	sessionUserID     = "user_id"
	sessionBusinessID = "business_id"
)

// Viewer is the signed-in user acting in one business.
type Viewer struct {
	User       *models.User
	BusinessID int64
	Role       string
}

// Can reports whether the viewer's role includes role (admin includes all).
func (v *Viewer) Can(role string) bool { return v.Role == models.RoleAdmin || v.Role == role }

type viewerKey struct{}

// viewerFrom returns the viewer requireUser stored, or nil.
func viewerFrom(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
}

// requireUser loads the session's user and membership, or sends them to sign in.
func (s *Server) requireUser(next http.Handler) http.Handler {
	s.coalesceSessionTouches()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.sessionViewer(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if v == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		ctx := context.WithValue(r.Context(), viewerKey{}, v)
		ctx = views.WithLocale(ctx, v.User.Locale)
		next.ServeHTTP(w, r.WithContext(ctx))
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// It may have changed a member, a label or a channel: the
			// next page of this business reloads them.
			s.hub.cache.invalidate(v.BusinessID)
		}
	})
}

// requireRole answers 403 unless the viewer has role (admins pass).
func (s *Server) requireRole(role string, next http.Handler) http.Handler {
	return s.requireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !viewerFrom(r.Context()).Can(role) {
			s.forbidden(w, r)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

func (s *Server) sessionViewer(r *http.Request) (*Viewer, error) {
	uid := s.sessions.GetInt64(r.Context(), sessionUserID)
	bid := s.sessions.GetInt64(r.Context(), sessionBusinessID)
	if uid == 0 || bid == 0 {
		return nil, nil
	}
	u, err := s.hub.cache.viewer(bid, uid, func() (*models.SignedIn, error) {
		return s.store.SignedInUser(r.Context(), bid, uid) // one query: user and role
	})
	if err != nil || u == nil {
		return nil, err
	}
	user := u.User // the cached value is shared; handlers get their own copy
	return &Viewer{User: &user, BusinessID: bid, Role: u.Role}, nil
}

// page builds the layout data for the viewer.
func (s *Server) page(r *http.Request, title, section string) views.Page {
	p := views.Page{Title: title, Section: section, RequestID: RequestID(r.Context())}
	if v := viewerFrom(r.Context()); v != nil {
		p.SignedIn, p.UserName, p.Role = true, v.User.Name, v.Role
		if p.UserName == "" {
			p.UserName = v.User.Email
		}
	}
	return p
}

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

// coalesceSessionTouches wraps the session store (once: it runs while the
// routes are built, before any request) so that scs's idle-timeout
// refresh stops writing the session row on every page; see
// touchCoalescingStore.
func (s *Server) coalesceSessionTouches() {
	if _, ok := s.sessions.Store.(*touchCoalescingStore); !ok {
		s.sessions.Store = newTouchCoalescingStore(s.sessions.Store, s.sessions.Codec)
	}
}

// sessionTouchEvery is how often an unchanged session's expiry is pushed
// forward in the store; the idle timeout (days) loses at most this much.
const sessionTouchEvery = time.Minute

// touchCoalescingStore is a session store that skips a commit when the
// session's data is what the store already holds and the stored expiry is
// less than sessionTouchEvery older than the new one. With an IdleTimeout
// scs commits every request (to extend the expiry): an INSERT … ON
// CONFLICT with its WAL flush for each page view. Any change of data,
// token renewal or deletion still goes straight through. It remembers
// only what this process read or wrote: a session changed by another
// replica reads as different, so its next commit is written.
type touchCoalescingStore struct {
	scs.Store
	codec scs.Codec

	mu    sync.Mutex
	known map[string]*storedSession
}

// storedSession is what the store holds for a token, as far as we know.
type storedSession struct {
	sum    [sha256.Size]byte // of the decoded deadline and values
	expiry time.Time         // zero: not known (read, not written, by us)
	// encodings seen for this content: gob writes a map in random order,
	// so one session has a few byte forms; a known one needs no decoding.
	encodings [][]byte
}

const maxEncodings = 4

func newTouchCoalescingStore(inner scs.Store, codec scs.Codec) *touchCoalescingStore {
	return &touchCoalescingStore{Store: inner, codec: codec, known: map[string]*storedSession{}}
}

// sum is a digest of the session's content independent of map order; ok
// is false when it cannot be decoded (then nothing is skipped).
func (t *touchCoalescingStore) sum(b []byte) (sum [sha256.Size]byte, ok bool) {
	deadline, values, err := t.codec.Decode(b)
	if err != nil {
		return sum, false
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%d\x00", deadline.UnixNano())
	for _, k := range keys {
		_, _ = fmt.Fprintf(h, "%q\x00%T\x00%#v\x00", k, values[k], values[k])
	}
	h.Sum(sum[:0])
	return sum, true
}

// holds reports whether e's content is b's, decoding b only when its
// byte form is new; a matching new form is remembered. t.mu is not held.
func (t *touchCoalescingStore) holds(e *storedSession, b []byte) (same bool, sum [sha256.Size]byte, ok bool) {
	t.mu.Lock()
	if e != nil && slices.ContainsFunc(e.encodings, func(known []byte) bool { return bytes.Equal(known, b) }) {
		sum = e.sum
		t.mu.Unlock()
		return true, sum, true
	}
	t.mu.Unlock()
	if sum, ok = t.sum(b); !ok || e == nil {
		return false, sum, ok
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.sum != sum {
		return false, sum, true
	}
	if len(e.encodings) < maxEncodings {
		e.encodings = append(e.encodings, bytes.Clone(b))
	}
	return true, sum, true
}

func (t *touchCoalescingStore) lookup(token string) *storedSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.known[token]
}

func (t *touchCoalescingStore) remember(token string, e *storedSession) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e == nil {
		delete(t.known, token)
		return
	}
	if len(t.known) >= 100_000 { // bound memory: forgetting only costs a write
		t.known = map[string]*storedSession{}
	}
	t.known[token] = e
}

// Find reads through and notes what the store holds.
func (t *touchCoalescingStore) Find(token string) ([]byte, bool, error) {
	b, found, err := t.Store.Find(token)
	if err != nil || !found {
		t.remember(token, nil)
		return b, found, err
	}
	e := t.lookup(token)
	if same, sum, ok := t.holds(e, b); !same {
		if !ok {
			t.remember(token, nil)
		} else {
			t.remember(token, &storedSession{sum: sum, encodings: [][]byte{bytes.Clone(b)}})
		}
	}
	return b, true, nil
}

// Commit writes unless the store already holds b with a recent enough expiry.
func (t *touchCoalescingStore) Commit(token string, b []byte, expiry time.Time) error {
	e := t.lookup(token)
	same, sum, ok := t.holds(e, b)
	if same {
		t.mu.Lock()
		fresh := !e.expiry.IsZero() && expiry.Sub(e.expiry) < sessionTouchEvery
		t.mu.Unlock()
		if fresh {
			return nil
		}
	}
	if err := t.Store.Commit(token, b, expiry); err != nil {
		return err
	}
	if !ok {
		t.remember(token, nil)
		return nil
	}
	if same {
		t.mu.Lock()
		e.expiry = expiry
		t.mu.Unlock()
		return nil
	}
	t.remember(token, &storedSession{sum: sum, expiry: expiry, encodings: [][]byte{bytes.Clone(b)}})
	return nil
}

// Delete deletes through and forgets the token.
func (t *touchCoalescingStore) Delete(token string) error {
	t.mu.Lock()
	delete(t.known, token)
	t.mu.Unlock()
	return t.Store.Delete(token)
}

// All keeps the store iterable when the wrapped one is.
func (t *touchCoalescingStore) All() (map[string][]byte, error) {
	it, ok := t.Store.(scs.IterableStore)
	if !ok {
		return nil, fmt.Errorf("web: session store %T cannot list sessions", t.Store)
	}
	return it.All()
}
