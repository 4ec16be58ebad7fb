package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard-inbox/switchboard/adapters"
)

// River queues: interactive sends (an agent waiting) never wait behind bulk ones.
const (
	queueOutbound = "outbound"
	queueBulk     = "outbound_bulk"
)

// sendArgs is one River job: send these queued messages of one channel. An
// agent's reply is a job of one; bulk sends batch up to Config.BatchSize.
type sendArgs struct {
	BusinessID int64   `json:"business_id"`
	ChannelID  int64   `json:"channel_id"`
	MessageIDs []int64 `json:"message_ids"`
}

func (sendArgs) Kind() string { return "outbound_send" }

type sendWorker struct {
	river.WorkerDefaults[sendArgs]
	d *deliverer
}

func (w *sendWorker) Work(ctx context.Context, job *river.Job[sendArgs]) error {
	return w.d.deliver(ctx, job.ID, job.Args)
}

// NextRetry applies to database errors only: Graph errors are retried per
// message by snoozing, with the backoff their class calls for.
func (w *sendWorker) NextRetry(job *river.Job[sendArgs]) time.Time {
	return time.Now().Add(min(time.Duration(1<<min(job.Attempt, 6))*time.Second, time.Minute))
}

func (w *sendWorker) Timeout(*river.Job[sendArgs]) time.Duration { return w.d.cfg.JobTimeout }

// signalArgs is a reaction, read receipt or typing indicator: no message row,
// at least once (each is harmless to repeat), dropped when stale.
type signalArgs struct {
	BusinessID int64              `json:"business_id"`
	ChannelID  int64              `json:"channel_id"`
	Action     string             `json:"action"` // an adapters.OutboundKind
	To         adapters.Recipient `json:"to"`
	Target     string             `json:"target,omitempty"` // the message reacted to or marked read
	Emoji      string             `json:"emoji,omitempty"`
	At         time.Time          `json:"at"` // wall time it was asked for: stale signals are dropped
}

func (signalArgs) Kind() string { return "outbound_signal" }

type signalWorker struct {
	river.WorkerDefaults[signalArgs]
	d *deliverer
}

func (w *signalWorker) Work(ctx context.Context, job *river.Job[signalArgs]) error {
	return w.d.signal(ctx, job.Args)
}

func (w *signalWorker) NextRetry(job *river.Job[signalArgs]) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * 2 * time.Second)
}

// sweepArgs is the periodic housekeeping of the pipeline's own tables.
type sweepArgs struct{}

func (sweepArgs) Kind() string { return "outbound_sweep" }

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	d *deliverer
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	if _, err := w.d.store.PurgeRateInbound(ctx, time.Minute); err != nil {
		return err
	}
	_, err := w.d.store.ForgetFinishedSends(ctx)
	return err
}
