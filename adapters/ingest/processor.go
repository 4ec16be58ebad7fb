package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/instagram"
	"github.com/switchboard-inbox/switchboard/adapters/messenger"
	"github.com/switchboard-inbox/switchboard/adapters/whatsapp"
	"github.com/switchboard-inbox/switchboard/models"
)

// Parsers maps each webhook path's app to its one parse function.
var Parsers = map[string]func([]byte) ([]adapters.Event, error){
	models.AppMessenger: messenger.Parse,
	models.AppInstagram: instagram.Parse,
	models.AppWhatsApp:  whatsapp.Parse,
}

// Processor turns pending raw webhooks into rows.
type Processor struct {
	store   *models.Store
	log     *slog.Logger
	wake    chan struct{}
	batch   int
	Workers int // concurrent batches (SKIP LOCKED keeps them apart); default 3
	// OurAppID is our Meta app's id: echoes it sent are sends we already hold.
	OurAppID string
}

// NewProcessor processes up to batch raw webhooks per transaction.
func NewProcessor(store *models.Store, log *slog.Logger, batch int) *Processor {
	if batch <= 0 {
		batch = 32
	}
	return &Processor{store: store, log: log, wake: make(chan struct{}, 1), batch: batch}
}

// Wake tells the processor new payloads are stored.
func (p *Processor) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run processes with p.Workers loops until ctx ends.
func (p *Processor) Run(ctx context.Context) error {
	workers := p.Workers
	if workers <= 0 {
		workers = 3
	}
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// loop processes until ctx ends. It polls too, so payloads another replica
// stored (or one that crashed before processing) are not left behind.
func (p *Processor) loop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	backoff := time.Duration(0)
	for {
		n, err := p.ProcessPending(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
			p.log.Error("ingest: processing failed; retrying", "error", err, "in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			continue
		case n == p.batch:
			backoff = 0
			continue // more may be waiting
		}
		backoff = 0
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-tick.C:
		}
	}
}

type rawRow struct {
	ID   int64
	App  string
	Body []byte
}

// ProcessPending handles one batch and reports how many payloads it took.
// The whole batch is applied in one transaction; if any payload fails, the
// batch is rolled back and applied again with one savepoint per payload, so
// only the bad payload is marked failed.
func (p *Processor) ProcessPending(ctx context.Context) (int, error) {
	n, err := p.processBatch(ctx, false)
	if errors.Is(err, errPayloadFailed) {
		return p.processBatch(ctx, true)
	}
	if transient(err) {
		return n, nil // rolled back, still pending: the next pass takes it again
	}
	return n, err
}

// transient errors say "try again", never "this payload is bad".
func transient(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "40P01", "40001", "55P03": // deadlock, serialization failure, lock not available
			return true
		}
	}
	return false
}

var errPayloadFailed = errors.New("ingest: a payload failed")

func (p *Processor) processBatch(ctx context.Context, careful bool) (int, error) {
	var n int
	err := p.store.InTx(ctx, func(tx *models.Store) error {
		// Rows derived from durable raw payloads: a crash that loses the last
		// commits leaves those payloads pending, so they are simply redone.
		if err := tx.Gorm(ctx).Exec(`SET LOCAL synchronous_commit = off`).Error; err != nil {
			return err
		}
		var rows []rawRow
		if err := tx.Gorm(ctx).Raw(`SELECT id, app, body FROM raw_webhooks WHERE outcome = 'pending'
			ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, p.batch).Scan(&rows).Error; err != nil {
			return err
		}
		n = len(rows)
		if n == 0 {
			return nil
		}
		a := &applier{p: p, ctx: ctx, channels: map[string]*models.Channel{}}
		ids := make([]int64, n)
		outcomes := make([]string, n)
		msgs := make([]string, n)
		for i, row := range rows {
			ids[i] = row.ID
			outcomes[i], msgs[i] = a.process(tx, row, careful)
			if a.applyErr != nil && (!careful || transient(a.applyErr)) {
				if transient(a.applyErr) {
					return a.applyErr
				}
				return errPayloadFailed
			}
		}
		return tx.Gorm(ctx).Exec(`UPDATE raw_webhooks r SET outcome = u.outcome, error = u.error, processed_at = now(),
			attempts = attempts + 1 FROM unnest(?::bigint[], ?::text[], ?::text[]) AS u(id, outcome, error) WHERE r.id = u.id`,
			models.Int64List(ids), models.StringArray(outcomes), models.StringArray(msgs)).Error
	})
	return n, err
}

// process applies one payload: inside a savepoint when careful, so a payload
// that cannot be applied is marked failed without undoing the rest.
func (a *applier) process(tx *models.Store, row rawRow, careful bool) (outcome, msg string) {
	a.applyErr = nil
	parse, ok := Parsers[row.App]
	if !ok {
		return "failed", "unknown app " + row.App
	}
	events, parseErr := parse(row.Body)
	if parseErr != nil && len(events) == 0 {
		return "failed", parseErr.Error()
	}
	// Meta does not promise order: apply in the events' own time order.
	sort.SliceStable(events, func(i, j int) bool { return events[i].Timestamp.Before(events[j].Timestamp) })
	a.unknown = a.unknown[:0]
	applyAll := func(st *models.Store) error {
		for i := range events {
			if err := a.apply(st, &events[i]); err != nil {
				return fmt.Errorf("%s event %d of %d: %w", events[i].Type, i+1, len(events), err)
			}
		}
		return nil
	}
	var err error
	if careful {
		err = tx.InTx(a.ctx, applyAll)
	} else {
		err = applyAll(tx)
	}
	switch {
	case err != nil:
		a.applyErr = err
		a.p.log.Warn("ingest: payload failed", "raw_webhook", row.ID, "error", err)
		return "failed", err.Error()
	case parseErr != nil:
		// The good items are applied; the payload stays in the failure log for the rest.
		return "failed", "partially applied: " + parseErr.Error()
	case len(a.unknown) > 0:
		return "unknown_account", "no channel for account " + strings.Join(a.unknown, ", ")
	}
	return "processed", ""
}
