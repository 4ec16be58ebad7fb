package web

import (
	"maps"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// decodedSessions is a session codec that remembers what stored bytes
// decode to: gob builds a decoder and compiles the session's types again for
// every request's session. The same bytes always decode to the same values,
// so nothing here can go stale; a deleted or expired session is never found.
type decodedSessions struct {
	scs.Codec

	mu      sync.Mutex
	decoded map[string]decodedSession
}

type decodedSession struct {
	deadline time.Time
	values   map[string]any // only scalars are stored (login.go, flashes): a shallow copy is a copy
}

// maxDecodedSessions bounds the memory: forgetting only costs a decode.
const maxDecodedSessions = 10_000

func newDecodedSessions(inner scs.Codec) *decodedSessions {
	return &decodedSessions{Codec: inner, decoded: map[string]decodedSession{}}
}

// Decode returns a copy the session may change.
func (d *decodedSessions) Decode(b []byte) (time.Time, map[string]any, error) {
	d.mu.Lock()
	e, ok := d.decoded[string(b)]
	d.mu.Unlock()
	if ok {
		return e.deadline, maps.Clone(e.values), nil
	}
	deadline, values, err := d.Codec.Decode(b)
	if err != nil {
		return deadline, values, err
	}
	d.mu.Lock()
	if len(d.decoded) >= maxDecodedSessions {
		clear(d.decoded)
	}
	d.decoded[string(b)] = decodedSession{deadline: deadline, values: maps.Clone(values)}
	d.mu.Unlock()
	return deadline, values, nil
}
