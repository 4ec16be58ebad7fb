package web

import (
	"context"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// tallyEvery is the least time between two live frames of one poll's tally:
// a poll voted on 1,000 times a second re-renders ~33 times a second, and a
// vote waits at most this long (plus one render, one round trip since the
// tally is one pgx batch) to show. At 60 ms the wait alone was most of the
// 100 ms budget of a vote's frame (issue 14).
const tallyEvery = 30 * time.Millisecond

// tallyGate paces the tally events of polls (models.EventTally): the first
// vote after a quiet spell shows at once; votes within tallyEvery of a frame
// wait for the next one, which counts them all. The zero value is ready.
type tallyGate struct {
	mu      sync.Mutex
	last    map[int64]time.Time    // poll message id → its latest frame
	held    map[int64]models.Event // poll message id → the event its next frame answers
	pending map[int64]bool         // business id → a flush is scheduled
}

// admit turns the burst's tally events that may show now into status events
// (which re-render the poll's message) and holds the others; wake > 0 is when
// the business's held events are due.
func (g *tallyGate) admit(businessID int64, events []models.Event, now time.Time) (out []models.Event, wake time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last == nil {
		g.last, g.held, g.pending = map[int64]time.Time{}, map[int64]models.Event{}, map[int64]bool{}
	}
	out = events[:0:0]
	for _, ev := range events {
		if ev.Type != models.EventTally {
			out = append(out, ev)
			continue
		}
		if _, ok := g.held[ev.MessageID]; ok {
			continue // its next frame counts this vote too
		}
		if since := now.Sub(g.last[ev.MessageID]); since >= tallyEvery {
			ev.Type, g.last[ev.MessageID] = "status", now
			out = append(out, ev)
			continue
		}
		g.held[ev.MessageID] = ev
		if !g.pending[businessID] {
			g.pending[businessID] = true
			wake = max(tallyEvery-now.Sub(g.last[ev.MessageID]), time.Millisecond)
		}
	}
	if len(g.last) > 4096 { // forget polls gone quiet
		for id, at := range g.last {
			if now.Sub(at) > tallyEvery {
				if _, ok := g.held[id]; !ok {
					delete(g.last, id)
				}
			}
		}
	}
	return out, wake
}

// isPoll reports whether id is the message of a poll whose tally framed lately.
func (g *tallyGate) isPoll(id int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.last[id]
	return ok
}

// due releases the business's held events whose time has come, as status
// events; wake > 0 is when the rest are due.
func (g *tallyGate) due(businessID int64, now time.Time) (out []models.Event, wake time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending[businessID] = false
	for id, ev := range g.held {
		if ev.BusinessID != businessID {
			continue
		}
		if left := tallyEvery - now.Sub(g.last[id]); left > 0 {
			if wake == 0 || left < wake {
				wake = left
			}
			continue
		}
		delete(g.held, id)
		ev.Type, g.last[id] = "status", now
		out = append(out, ev)
	}
	if wake > 0 {
		g.pending[businessID] = true
	}
	return out, wake
}

// paceTallies is the live path's hook for poll tallies: what may show now
// goes on in this burst; the rest is pushed by a timer when due. A timer
// outliving the listener finds it stopped and pushes nothing.
func (s *Server) paceTallies(businessID int64, events []models.Event) []models.Event {
	out, wake := s.tallies.admit(businessID, events, time.Now())
	if wake > 0 {
		s.flushTalliesAfter(businessID, wake)
	}
	return out
}

func (s *Server) flushTalliesAfter(businessID int64, wait time.Duration) {
	time.AfterFunc(wait, func() {
		events, wake := s.tallies.due(businessID, time.Now())
		if wake > 0 {
			s.flushTalliesAfter(businessID, wake)
		}
		s.hub.mu.RLock()
		listening := !s.hub.listening.IsZero()
		s.hub.mu.RUnlock()
		clients := s.hub.business(businessID)
		if len(events) == 0 || !listening || len(clients) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.pushBusiness(ctx, businessID, events, clients, time.Now()); err != nil {
			s.log.Error("live: unable to push poll tallies", "business", businessID, "error", err)
		}
	})
}
