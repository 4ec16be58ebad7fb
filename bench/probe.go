package bench

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// Probe-only SQL: these read and write the benchmark's own fresh database
// (never a deployment's) to measure the raw limit and verify a run's counts
// across every business at once, which no store method should ever do.

// ingestCounts are a run's totals at one moment.
type ingestCounts struct {
	raw, pending     int64 // journaled payloads, and those not applied yet
	stored, distinct int64 // messages, and distinct Meta ids among them
}

func countIngest(ctx context.Context, db *models.DB) (ingestCounts, error) {
	var c ingestCounts
	err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM raw_webhooks), (SELECT count(*) FROM raw_webhooks WHERE outcome = 'pending'),
		(SELECT count(*) FROM messages), (SELECT count(DISTINCT external_id) FROM messages)`).Scan(&c.raw, &c.pending, &c.stored, &c.distinct)
	return c, err
}

// awaitDrain waits (at most limit) until no payload is pending, looking
// every 5 ms, and says when it saw none (and how many were left if it gave up).
func awaitDrain(ctx context.Context, db *models.DB, limit time.Duration) (time.Time, int64, error) {
	deadline := time.Now().Add(limit)
	for {
		var pending int64
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM raw_webhooks WHERE outcome = 'pending'`).Scan(&pending); err != nil {
			return time.Time{}, 0, err
		}
		if pending == 0 || time.Now().After(deadline) {
			return time.Now(), pending, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawInsertRate measures single-row INSERT transactions/s into a table shaped
// like raw_webhooks: the ceiling one-commit-per-webhook would have.
func rawInsertRate(ctx context.Context, db *models.DB, clients int, d time.Duration) (float64, error) {
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_raw (id bigserial PRIMARY KEY, app text NOT NULL,
		body bytea NOT NULL, signature text NOT NULL, received_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, err
	}
	body := bytes.Repeat([]byte("x"), 600)
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := db.Pool.Exec(ctx, `INSERT INTO bench_raw (app, body, signature) VALUES ($1, $2, $3)`, "whatsapp", body, "sha256=x"); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, err
	}
	_, _ = db.Pool.Exec(ctx, `DROP TABLE bench_raw`)
	return float64(n.Load()) / d.Seconds(), nil
}
