package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

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
	store *models.Store
	log   *slog.Logger
	wake  chan struct{}
	batch int
	// OurAppID is our Meta app's id: echoes it sent are sends we already hold.
	OurAppID string
}

// NewProcessor processes up to batch raw webhooks per transaction.
func NewProcessor(store *models.Store, log *slog.Logger, batch int) *Processor {
	if batch <= 0 {
		batch = 200
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

// Run processes until ctx ends. It polls too, so payloads another replica
// stored (or one that crashed before processing) are not left behind.
func (p *Processor) Run(ctx context.Context) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	backoff := time.Duration(0)
	for {
		n, err := p.ProcessPending(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
			p.log.Error("ingest: processing failed; retrying", "error", err, "in", backoff)
			select {
			case <-ctx.Done():
				return nil
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
			return nil
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
func (p *Processor) ProcessPending(ctx context.Context) (int, error) {
	var n int
	err := p.store.InTx(ctx, func(tx *models.Store) error {
		var rows []rawRow
		if err := tx.Gorm(ctx).Raw(`SELECT id, app, body FROM raw_webhooks WHERE outcome = 'pending'
			ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, p.batch).Scan(&rows).Error; err != nil {
			return err
		}
		n = len(rows)
		a := &applier{p: p, ctx: ctx, channels: map[string]*models.Channel{}}
		for _, row := range rows {
			outcome, msg := a.process(tx, row)
			if err := tx.Gorm(ctx).Exec(`UPDATE raw_webhooks SET outcome = ?, error = ?, processed_at = now(),
				attempts = attempts + 1 WHERE id = ?`, outcome, msg, row.ID).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// process applies one payload inside a savepoint: a payload that cannot be
// applied is marked failed without undoing the rest of the batch.
func (a *applier) process(tx *models.Store, row rawRow) (outcome, msg string) {
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
	err := tx.InTx(a.ctx, func(sp *models.Store) error {
		for i := range events {
			if err := a.apply(sp, &events[i]); err != nil {
				return fmt.Errorf("%s event %d of %d: %w", events[i].Type, i+1, len(events), err)
			}
		}
		return nil
	})
	switch {
	case err != nil:
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

// errSkip ends one event quietly (e.g. a reaction to a message we never saw).
var errSkip = errors.New("skip")

func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }
