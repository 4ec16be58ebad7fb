package web

import (
	"context"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// livePushers runs each business's pushes one at a time, in order, and
// different businesses' at once: a business with a slow push (a large
// audience, a slow load) never holds up another's frames, and whatever
// arrives for a business while its push runs goes out together in its
// next one — coalescing without a timer.
type livePushers struct {
	push func(businessID int64, events []liveEvent)
	room chan struct{} // a token per event queued or being pushed: bounds memory when pushes fall behind
	busy chan struct{} // a token per push running: bounds the round trips in flight

	mu      sync.Mutex
	pending map[int64][]liveEvent // a business present here has a pusher running
	wg      sync.WaitGroup
}

// maxPushers bounds the businesses pushed at once.
const maxPushers = 8

// liveQueue bounds the events received but not yet pushed; beyond it the
// listener waits (PostgreSQL queues notifications meanwhile).
const liveQueue = 8192

// maxBurst bounds how many of a business's events one push handles.
const maxBurst = 512

func newLivePushers(push func(businessID int64, events []liveEvent)) *livePushers {
	return &livePushers{push: push, room: make(chan struct{}, liveQueue), busy: make(chan struct{}, maxPushers),
		pending: map[int64][]liveEvent{}}
}

// add queues ev for its business's pusher, starting one if none runs; it
// waits while liveQueue events are queued, until ctx ends.
func (p *livePushers) add(ctx context.Context, ev liveEvent) error {
	select {
	case p.room <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	queued, running := p.pending[ev.BusinessID]
	p.pending[ev.BusinessID] = append(queued, ev)
	p.mu.Unlock()
	if !running {
		p.wg.Add(1)
		go p.run(ev.BusinessID)
	}
	return nil
}

// run pushes a business's events until none are left.
func (p *livePushers) run(businessID int64) {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		events := p.pending[businessID]
		if len(events) == 0 {
			delete(p.pending, businessID)
			p.mu.Unlock()
			return
		}
		n := min(len(events), maxBurst)
		p.pending[businessID] = events[n:]
		p.mu.Unlock()
		p.busy <- struct{}{}
		p.push(businessID, events[:n])
		<-p.busy
		for range n {
			<-p.room
		}
	}
}

// wait returns once every queued event has been pushed.
func (p *livePushers) wait() { p.wg.Wait() }

// pushers makes the pushers that send this process's live events.
func (s *Server) pushers(ctx context.Context) *livePushers {
	return newLivePushers(func(businessID int64, events []liveEvent) {
		if ctx.Err() != nil {
			return
		}
		if clients := s.hub.business(businessID); len(clients) > 0 {
			evs := make([]models.Event, len(events))
			for i, ev := range events {
				evs[i] = ev.Event
			}
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := s.pushBusiness(pctx, businessID, evs, clients, events[0].at)
			cancel()
			if err != nil && ctx.Err() == nil {
				s.log.Error("live: unable to push events", "business", businessID, "events", len(evs), "error", err)
			}
		}
		for _, ev := range events {
			s.hub.dispatch.Observe(time.Since(ev.at).Seconds())
		}
	})
}

// dispatch pushes events and returns once they are sent (tests).
func (s *Server) dispatch(ctx context.Context, events []liveEvent) {
	p := s.pushers(ctx)
	for _, ev := range events {
		if p.add(ctx, ev) != nil {
			break
		}
	}
	p.wait()
}
