package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard-inbox/switchboard/models"
)

// CapRetryAfter is how long a WhatsApp restock alert Meta held back under its
// per-user marketing limit (131049) waits before its one retry: the limit is
// over a rolling day (meta-platform.md §3).
const CapRetryAfter = 24 * time.Hour

// capSweepArgs is the periodic job that finds alerts Meta held back with
// 131049 (the failure arrives in a status webhook) and schedules each one's
// single retry.
type capSweepArgs struct{}

func (capSweepArgs) Kind() string { return "restock_cap_sweep" }

type capSweepWorker struct {
	river.WorkerDefaults[capSweepArgs]
	r *Restocker
}

func (w *capSweepWorker) Work(ctx context.Context, _ *river.Job[capSweepArgs]) error {
	_, err := w.r.SweepCapped(ctx)
	return err
}

func capSweepPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
		func() (river.JobArgs, *river.InsertOpts) {
			return capSweepArgs{}, &river.InsertOpts{Queue: queueBulk, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
		}, &river.PeriodicJobOpts{RunOnStart: true})
}

// capRetryArgs is one alert's retry, scheduled CapRetryAfter after Meta held it back.
type capRetryArgs struct {
	BusinessID int64 `json:"business_id"`
	EntryID    int64 `json:"entry_id"`
	MessageID  int64 `json:"message_id"`
}

func (capRetryArgs) Kind() string { return "restock_cap_retry" }

type capRetryWorker struct {
	river.WorkerDefaults[capRetryArgs]
	r *Restocker
}

func (w *capRetryWorker) Work(ctx context.Context, job *river.Job[capRetryArgs]) error {
	return w.r.capRetry(ctx, job.Args)
}

// SweepCapped schedules the one retry of every alert Meta held back with
// 131049 that has none yet, each claimed in the transaction that queues its
// job: a second sweep, or a second replica, schedules nothing more.
func (r *Restocker) SweepCapped(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := r.store.InTx(ctx, func(tx *models.Store) error {
			capped, err := tx.ClaimCappedAlerts(ctx, 500, CapRetryAfter)
			if err != nil || len(capped) == 0 {
				return err
			}
			params := make([]river.InsertManyParams, len(capped))
			for i, c := range capped {
				// The wait counts from Meta's failure on the pipeline's clock; River
				// schedules on the wall clock (the same one in production).
				wait := max(0, CapRetryAfter-r.now().Sub(c.FailedAt))
				params[i] = river.InsertManyParams{Args: capRetryArgs{BusinessID: c.BusinessID, EntryID: c.EntryID, MessageID: c.MessageID},
					InsertOpts: &river.InsertOpts{Queue: queueBulk, ScheduledAt: time.Now().Add(wait)}}
			}
			if _, err := r.insert.InsertManyTx(ctx, sqlTx(tx), params); err != nil {
				return fmt.Errorf("jobs: unable to queue %d restock cap retries: %w", len(capped), err)
			}
			n = len(capped)
			return nil
		})
		total += n
		if err != nil || n < 500 {
			return total, err
		}
	}
}

// capRetry sends the held-back alert once more through the outbox, which
// decides it afresh (opt-out, US pause, template); the retry is claimed in the
// transaction that requeues it, so a rerun of the job sends nothing. A
// refusal now, or a second 131049 from Meta, leaves the entry failed with its
// reason: there is no third try.
func (r *Restocker) capRetry(ctx context.Context, a capRetryArgs) error {
	return r.store.InTx(ctx, func(tx *models.Store) error {
		ok, err := tx.ClaimCapRetry(ctx, a.BusinessID, a.EntryID, a.MessageID, r.now())
		if err != nil || !ok {
			return err
		}
		_, err = r.outbox.retryTx(ctx, tx, a.BusinessID, a.MessageID)
		var invalid *InvalidError
		var refusal *RefusedError
		switch {
		case errors.As(err, &refusal):
			return tx.SetEntryReason(ctx, a.BusinessID, a.EntryID, string(refusal.Decision.Reason))
		case errors.As(err, &invalid), errors.Is(err, ErrNotFound):
			return nil // sent again by hand meanwhile, or gone
		}
		return err
	})
}
