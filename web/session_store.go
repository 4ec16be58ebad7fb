package web

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

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
