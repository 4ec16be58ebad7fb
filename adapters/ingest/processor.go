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
		payloads := make([]*payload, n)
		for i, row := range rows {
			payloads[i] = parsePayload(row)
		}
		var err error
		if careful {
			err = a.applyEach(tx, payloads)
		} else {
			err = a.applyInLockOrder(tx, payloads)
		}
		if err != nil {
			return err
		}
		ids := make([]int64, n)
		outcomes := make([]string, n)
		msgs := make([]string, n)
		for i, pl := range payloads {
			ids[i] = pl.row.ID
			outcomes[i], msgs[i] = pl.outcome()
		}
		return tx.Gorm(ctx).Exec(`UPDATE raw_webhooks r SET outcome = u.outcome, error = u.error, processed_at = now(),
			attempts = attempts + 1 FROM unnest(?::bigint[], ?::text[], ?::text[]) AS u(id, outcome, error) WHERE r.id = u.id`,
			models.Int64List(ids), models.StringArray(outcomes), models.StringArray(msgs)).Error
	})
	return n, err
}

// payload is one raw webhook, parsed, and what applying it found.
type payload struct {
	row      rawRow
	events   []adapters.Event
	parseErr error
	applyErr error
	unknown  []string
}

func parsePayload(row rawRow) *payload {
	pl := &payload{row: row}
	parse, ok := Parsers[row.App]
	if !ok {
		pl.parseErr = errors.New("unknown app " + row.App)
		return pl
	}
	pl.events, pl.parseErr = parse(row.Body)
	// Meta does not promise order: apply in the events' own time order.
	sort.SliceStable(pl.events, func(i, j int) bool { return pl.events[i].Timestamp.Before(pl.events[j].Timestamp) })
	return pl
}

func (pl *payload) outcome() (string, string) {
	switch {
	case pl.applyErr != nil:
		return "failed", pl.applyErr.Error()
	case pl.parseErr != nil && len(pl.events) == 0:
		return "failed", pl.parseErr.Error()
	case pl.parseErr != nil:
		// The good items are applied; the payload stays in the failure log for the rest.
		return "failed", "partially applied: " + pl.parseErr.Error()
	case len(pl.unknown) > 0:
		return "unknown_account", "no channel for account " + strings.Join(pl.unknown, ", ")
	}
	return "processed", ""
}

// applyInLockOrder applies every event of the batch in one order shared by
// all workers — by account, group and customer, then Meta's time — so
// concurrent batches take row locks in the same order and do not deadlock.
// Any failure aborts the batch (the caller retries it payload by payload).
func (a *applier) applyInLockOrder(tx *models.Store, payloads []*payload) error {
	type item struct {
		pl *payload
		ev *adapters.Event
	}
	var items []item
	for _, pl := range payloads {
		for i := range pl.events {
			items = append(items, item{pl, &pl.events[i]})
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		x, y := items[i].ev, items[j].ev
		if x.AccountID != y.AccountID {
			return x.AccountID < y.AccountID
		}
		if x.GroupID != y.GroupID {
			return x.GroupID < y.GroupID
		}
		if x.Customer.ExternalID != y.Customer.ExternalID {
			return x.Customer.ExternalID < y.Customer.ExternalID
		}
		return x.Timestamp.Before(y.Timestamp)
	})
	for _, it := range items {
		a.cur = it.pl
		if err := a.apply(tx, it.ev); err != nil {
			if transient(err) {
				return err
			}
			a.p.log.Warn("ingest: payload failed; retrying its batch one payload at a time", "raw_webhook", it.pl.row.ID, "error", err)
			return errPayloadFailed
		}
	}
	return nil
}

// applyEach applies payloads one by one, each in a savepoint, so a payload
// that cannot be applied is marked failed without undoing the others.
func (a *applier) applyEach(tx *models.Store, payloads []*payload) error {
	for _, pl := range payloads {
		a.cur = pl
		err := tx.InTx(a.ctx, func(sp *models.Store) error {
			for i := range pl.events {
				if err := a.apply(sp, &pl.events[i]); err != nil {
					return fmt.Errorf("%s event %d of %d: %w", pl.events[i].Type, i+1, len(pl.events), err)
				}
			}
			return nil
		})
		if transient(err) {
			return err
		}
		if err != nil {
			pl.applyErr = err
			pl.unknown = nil
			a.p.log.Warn("ingest: payload failed", "raw_webhook", pl.row.ID, "error", err)
		}
	}
	return nil
}
