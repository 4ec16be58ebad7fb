package models

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ReadBatch gathers reads a page needs so they reach PostgreSQL in one
// round trip (a pgx batch): queue them, Send, then use what they returned.
// Inside InTx the batch runs on the transaction's connection.
//
//	rb := store.NewReadBatch()
//	page := rb.Messages(businessID, threadID, "", 50)
//	notes := rb.Notes(businessID, threadID)
//	if err := rb.Send(ctx); err != nil { … }
type ReadBatch struct {
	q       querier
	inTx    bool
	batch   pgx.Batch
	reads   []func(pgx.BatchResults) error // each consumes its own statements' results, in queue order
	err     error                          // the first read that could not be queued
	generic bool
}

// NewReadBatch starts an empty batch of reads.
func (s *Store) NewReadBatch() *ReadBatch { return &ReadBatch{q: s.pgx(), inTx: s.tx != nil} }

// ReusePlans has the batch's statements keep one plan each per
// connection. PostgreSQL plans a prepared statement anew on every call as
// long as it guesses that a plan made for the call's own values is
// cheaper, which for a list of ids (`= ANY($2)`, of a length the reusable
// plan cannot know) is always; for the small reads of a live push that
// planning cost more than the reads. Outside a transaction the batch then
// runs in a read-only transaction of its own, in the same round trip
// (which also gives its reads one snapshot); inside the caller's
// transaction ReusePlans changes nothing. Only for reads whose best plan
// does not depend on their values.
func (rb *ReadBatch) ReusePlans() *ReadBatch {
	rb.generic = true
	return rb
}

// read runs one batch's worth of queued reads (what fill queues on it).
func (s *Store) read(ctx context.Context, fill func(rb *ReadBatch)) error {
	rb := s.NewReadBatch()
	fill(rb)
	return rb.Send(ctx)
}

// Send runs every queued read; their results are filled in when it returns nil.
func (rb *ReadBatch) Send(ctx context.Context) error {
	if rb.err != nil {
		return rb.err
	}
	if len(rb.reads) == 0 {
		return nil
	}
	// The setting is the batch's own read-only transaction's: the
	// connection goes back to the pool as it was. A failed read leaves that
	// transaction unfinished, and pgxpool closes such a connection instead
	// of reusing it.
	own := rb.generic && !rb.inTx
	batch := &rb.batch
	if own {
		b := &pgx.Batch{}
		b.Queue(`BEGIN READ ONLY`)
		b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
		b.QueuedQueries = append(b.QueuedQueries, rb.batch.QueuedQueries...)
		b.Queue(`COMMIT`)
		batch = b
	}
	br := rb.q.SendBatch(ctx, batch)
	if own {
		for range 2 {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return wrapErr(err, "reuse plans")
			}
		}
	}
	for _, read := range rb.reads {
		if err := read(br); err != nil {
			_ = br.Close()
			return err
		}
	}
	if own {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return wrapErr(err, "finish reads")
		}
	}
	return br.Close()
}

// fail keeps the first error of a read that could not be queued.
func (rb *ReadBatch) fail(err error) {
	if rb.err == nil {
		rb.err = err
	}
}
