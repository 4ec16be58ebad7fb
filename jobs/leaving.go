package jobs

import (
	"context"
	"log/slog"
	"runtime"
	"sync"

	"github.com/switchboard-inbox/switchboard/models"
)

// leavingGate records, just before their Graph calls, that a job's sends are
// leaving for Meta: from then on a crash leaves them to reconciliation, never
// to a resend. Sends ready together share one statement (a group commit), so
// a bulk job pays one round trip per group rather than one per message.
type leavingGate struct {
	store *models.Store
	log   *slog.Logger

	mu       sync.Mutex
	next     *leavingRound // collecting while a flush is under way
	flushing bool
}

type leavingRound struct {
	claims []models.LeavingClaim
	marked map[int64]bool
	done   chan struct{}
}

// pass reports whether the claim's request may go out: the mark is written
// and the claim is still this worker's.
func (g *leavingGate) pass(ctx context.Context, c *models.OutboundClaim) bool {
	g.mu.Lock()
	if g.next == nil {
		g.next = &leavingRound{done: make(chan struct{})}
	}
	r := g.next
	r.claims = append(r.claims, models.LeavingClaim{MessageID: c.ID, ClaimedAt: c.ClaimedAt})
	flush := !g.flushing
	g.flushing = true
	g.mu.Unlock()
	if flush {
		// The job's other sends are usually runnable right behind this one:
		// let them join the round rather than pay a commit of their own.
		runtime.Gosched()
		g.flush(ctx)
	}
	<-r.done
	return r.marked[c.ID]
}

// flush writes rounds until none is waiting; each claim joins one round, so
// it ends.
func (g *leavingGate) flush(ctx context.Context) {
	for {
		g.mu.Lock()
		r := g.next
		g.next = nil
		if r == nil {
			g.flushing = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		var err error
		if r.marked, err = g.store.MarkLeaving(ctx, r.claims); err != nil { // nothing marked, so nothing is sent
			g.log.Error("outbound: cannot mark sends as leaving; they wait for the next run", "sends", len(r.claims), "error", err)
		}
		close(r.done)
	}
}
