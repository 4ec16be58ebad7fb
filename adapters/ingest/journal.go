// Package ingest makes Meta's webhooks durable and turns them into rows:
// the Journal writes each raw payload before it is acknowledged (grouping
// commits across concurrent requests), and the Processor normalises every
// entry of every payload into contacts, threads, messages and statuses,
// idempotently and in Meta's own time order.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// maxBatch bounds one grouped INSERT.
const maxBatch = 512

// Journal appends raw webhooks durably. Concurrent Appends share commits: one
// multi-row INSERT per flush, so the acknowledgement waits for one fsync that
// many requests share instead of one each.
type Journal struct {
	pool    *pgxpool.Pool
	reqs    chan *appendReq
	flushes int
	wake    func() // tells the processor there is work
}

type appendReq struct {
	app, sig string
	body     []byte
	done     chan error
}

// NewJournal writes through pool with flushers concurrent grouped INSERTs.
// wake (may be nil) is called after each flush.
func NewJournal(pool *pgxpool.Pool, flushers int, wake func()) *Journal {
	if flushers <= 0 {
		flushers = 4
	}
	if wake == nil {
		wake = func() {}
	}
	return &Journal{pool: pool, reqs: make(chan *appendReq, 4096), flushes: flushers, wake: wake}
}

// ErrStopped is returned by Append once the journal has stopped.
var ErrStopped = errors.New("ingest: journal stopped")

// Append stores one payload and returns once it is committed.
func (j *Journal) Append(ctx context.Context, app string, body []byte, signature string) error {
	r := &appendReq{app: app, sig: signature, body: body, done: make(chan error, 1)}
	select {
	case j.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err() // the row may still commit: the processor handles it once
	}
}

// Run flushes until ctx ends; then it answers what is queued with ErrStopped.
func (j *Journal) Run(ctx context.Context) error {
	var wg sync.WaitGroup
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
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-j.reqs:
				batch = append(batch, r)
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
		}
	}
}

func (j *Journal) insert(ctx context.Context, batch []*appendReq) error {
	apps := make([]string, len(batch))
	sigs := make([]string, len(batch))
	bodies := make([][]byte, len(batch))
	for i, r := range batch {
		apps[i], sigs[i], bodies[i] = r.app, r.sig, r.body
	}
	_, err := j.pool.Exec(ctx, `INSERT INTO raw_webhooks (app, signature, body)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])`, apps, sigs, bodies)
	if err != nil {
		return fmt.Errorf("ingest: unable to store webhooks: %w", err)
	}
	return nil
}
