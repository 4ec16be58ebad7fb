// Package inbound makes Meta's webhooks durable and turns them into rows:
// the Journal writes each raw payload before it is acknowledged (grouping
// commits across concurrent requests), and the Processor normalises every
// entry of every payload into contacts, threads, messages and statuses,
// idempotently and in Meta's own time order.
package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-inbox/switchboard/models"
)

// maxBatch and maxBatchBytes bound one grouped INSERT: the driver encodes the
// whole batch into one message, so large bodies go a few at a time.
const (
	maxBatch      = 512
	maxBatchBytes = 8 << 20
)

// Journal appends raw webhooks durably. Concurrent Appends share commits: one
// multi-row INSERT per flush, so the acknowledgement waits for one fsync that
// many requests share instead of one each.
type Journal struct {
	store   *models.Store
	reqs    chan *appendReq
	flushes int
	wake    func()        // tells the processor there is work
	stored  chan struct{} // a flush committed: other replicas are told, coalesced
	ack     prometheus.Histogram
}

type appendReq struct {
	row  models.NewRawWebhook
	done chan error
}

// NewJournal writes through store with flushers concurrent grouped INSERTs.
// wake (may be nil) is called after each flush.
func NewJournal(store *models.Store, flushers int, wake func()) *Journal {
	if flushers <= 0 {
		flushers = 4
	}
	if wake == nil {
		wake = func() {}
	}
	return &Journal{store: store, reqs: make(chan *appendReq, 4096), flushes: flushers, wake: wake,
		stored: make(chan struct{}, 1), ack: newAckHistogram()}
}

// Register adds the journal's ack histogram to reg.
func (j *Journal) Register(reg prometheus.Registerer) error { return reg.Register(j.ack) }

// ErrStopped is returned by Append once the journal has stopped.
var ErrStopped = errors.New("inbound: journal stopped")

// Append stores one verified payload, with the secret that verified it, and
// returns once it is committed.
func (j *Journal) Append(ctx context.Context, row models.NewRawWebhook) error {
	row.Lane = LaneOf(row.App, row.Body)
	r := &appendReq{row: row, done: make(chan error, 1)}
	start := time.Now()
	select {
	case j.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		if err == nil {
			j.ack.Observe(time.Since(start).Seconds())
		}
		return err
	case <-ctx.Done():
		return ctx.Err() // the row may still commit: the processor handles it once
	}
}

// Run flushes until ctx ends; then it answers what is queued with ErrStopped.
func (j *Journal) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	select { // a journal that stopped between a commit and its wake left payloads: wake for them
	case j.stored <- struct{}{}:
	default:
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		j.wakeReplicas(ctx)
	}()
	for i := 0; i < j.flushes; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.flushLoop(ctx)
		}()
	}
	wg.Wait()
	for {
		select {
		case r := <-j.reqs:
			r.done <- ErrStopped
		default:
			return nil
		}
	}
}

func (j *Journal) flushLoop(ctx context.Context) {
	batch := make([]*appendReq, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-j.reqs:
			batch = append(batch[:0], r)
		}
		size := len(batch[0].row.Body)
	drain:
		for len(batch) < maxBatch && size < maxBatchBytes {
			select {
			case r := <-j.reqs:
				batch = append(batch, r)
				size += len(r.row.Body)
			default:
				break drain
			}
		}
		err := j.insert(ctx, batch)
		for _, r := range batch {
			r.done <- err
		}
		if err == nil {
			j.wake()
			select {
			case j.stored <- struct{}{}:
			default: // a wake is already due: it covers this flush too
			}
		}
	}
}

// wakeReplicas sends one NOTIFY after each run of flushes, outside their
// durable commits (see AppendRawWebhooks), so every replica's processor
// learns of the payloads; this process's was woken directly.
func (j *Journal) wakeReplicas(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-j.stored:
		}
		if err := j.store.WakeRawWebhookListeners(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("inbound: unable to wake other replicas; they find the payloads on their next wake", "error", err)
		}
	}
}

func (j *Journal) insert(ctx context.Context, batch []*appendReq) error {
	rows := make([]models.NewRawWebhook, len(batch))
	for i, r := range batch {
		rows[i] = r.row
	}
	if err := j.store.AppendRawWebhooks(ctx, rows); err != nil {
		return fmt.Errorf("inbound: %w", err)
	}
	return nil
}
