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
	q     querier
	batch pgx.Batch
	reads []func(pgx.BatchResults) error // each consumes its own statements' results, in queue order
	err   error                          // the first read that could not be queued
}

// NewReadBatch starts an empty batch of reads.
func (s *Store) NewReadBatch() *ReadBatch { return &ReadBatch{q: s.pgx()} }

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
	br := rb.q.SendBatch(ctx, &rb.batch)
	for _, read := range rb.reads {
		if err := read(br); err != nil {
			_ = br.Close()
			return err
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
