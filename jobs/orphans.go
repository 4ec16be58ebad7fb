package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// takeOverOrphans queues again, every OrphanScan, the sends a dead worker
// claimed but never let leave for Meta: River would run that worker's job
// only after RescueStuckJobsAfter plus its rescuer's 30 s period. Sends whose
// request left are never sent again: past the reconciliation window they are
// marked unknown here, whether or not their job survived.
func (p *Pipeline) takeOverOrphans(ctx context.Context) {
	t := time.NewTicker(p.cfg.OrphanScan)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := p.requeueOrphans(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("outbound: cannot take over orphaned sends", "error", err)
		} else if n > 0 {
			p.log.Warn("outbound: took over sends a dead worker never sent", "messages", n)
		}
		if n, err := p.store.MarkUnknownSends(ctx, p.cfg.ReconcileAfter, p.cfg.Now()); err != nil && ctx.Err() == nil {
			p.log.Error("outbound: cannot mark unknown sends", "error", err)
		} else if n > 0 {
			p.m.outcomes.WithLabelValues("", "unknown").Add(float64(n))
			p.log.Warn("outbound: no answer, echo or status came back for these sends; marked unknown, never resent on their own", "messages", n)
		}
	}
}

// requeueOrphans releases stale claims, finds the sends of stuck jobs that
// never claimed them, and queues one job per channel for them.
func (p *Pipeline) requeueOrphans(ctx context.Context) (int, error) {
	stale, err := p.store.ReleaseStaleClaims(ctx, p.cfg.ClaimLease)
	if err != nil {
		return 0, err
	}
	unclaimed, err := p.store.UnclaimedOfStuckJobs(ctx, sendArgs{}.Kind(), p.cfg.ClaimLease)
	if err != nil {
		return 0, err
	}
	if stale = append(stale, unclaimed...); len(stale) == 0 {
		return 0, nil
	}
	type key struct{ business, channel int64 }
	byChannel := map[key][]int64{}
	var order []key
	for _, c := range stale {
		k := key{c.BusinessID, c.ChannelID}
		if _, ok := byChannel[k]; !ok {
			order = append(order, k)
		}
		byChannel[k] = append(byChannel[k], c.MessageID)
	}
	var params []river.InsertManyParams
	for _, k := range order {
		ids := byChannel[k]
		for len(ids) > 0 {
			n := min(len(ids), p.cfg.BatchSize)
			params = append(params, river.InsertManyParams{
				Args:       sendArgs{BusinessID: k.business, ChannelID: k.channel, MessageIDs: ids[:n]},
				InsertOpts: &river.InsertOpts{Queue: queueOutbound},
			})
			ids = ids[n:]
		}
	}
	// Were this insert lost, the dead worker's own job still claims them once River rescues it.
	if _, err := p.outbox.insert.InsertMany(ctx, params); err != nil {
		return 0, err
	}
	p.m.outcomes.WithLabelValues("", "taken_over").Add(float64(len(stale)))
	return len(stale), nil
}
