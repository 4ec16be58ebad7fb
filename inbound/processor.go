package inbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

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
	wakes [Lanes]chan struct{} // one per lane's worker
	batch int
	// OurAppID is our Meta app's id: echoes it sent are sends we already hold.
	OurAppID string
	// Relay routes relay group members' messages into their group and fans
	// them out; nil leaves every message in its direct thread.
	Relay   Relayer
	dropped *prometheus.CounterVec
	stages  stages
}

// DefaultBatch bounds the raw webhooks one transaction claims. A batch is
// whatever is pending in its lane when the worker looks: one payload at low
// load, up to this under a backlog.
const DefaultBatch = 512

// NewProcessor processes up to batch raw webhooks per transaction.
func NewProcessor(store *models.Store, log *slog.Logger, batch int) *Processor {
	if batch <= 0 {
		batch = DefaultBatch
	}
	p := &Processor{store: store, log: log, batch: batch, stages: newStages(),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Name: "webhook_entries_dropped_total",
			Help: "Webhook entries not applied, by app and reason (foreign_signature: signed by a secret that does not own the entry).",
		}, []string{"app", "reason"})}
	for i := range p.wakes {
		p.wakes[i] = make(chan struct{}, 1)
	}
	return p
}

// Register adds the processor's metrics to reg.
func (p *Processor) Register(reg prometheus.Registerer) error {
	for _, c := range append(p.stages.collectors(), p.dropped) {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Wake tells the processor new payloads are stored: every lane looks.
func (p *Processor) Wake() {
	for _, w := range p.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Run processes each lane with its own worker until ctx ends. Workers wait
// for a wake: from this process's journal, or a NOTIFY from any replica's.
func (p *Processor) Run(ctx context.Context) error {
	if err := p.store.FoldWebhookLanes(ctx, Lanes); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.listen(ctx)
	}()
	for lane := range int16(Lanes) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx, lane)
		}()
	}
	wg.Wait()
	return nil
}

// listen wakes the workers whenever any replica journals payloads; it
// reconnects after a failure (and wakes them then, for what it missed).
func (p *Processor) listen(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		err := p.store.ListenRawWebhooks(ctx, p.Wake)
		if ctx.Err() != nil {
			return
		}
		backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		p.log.Warn("inbound: listening for webhooks failed; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
}

// loop processes one lane until ctx ends: a batch as soon as it is woken,
// and at once again while batches come back full.
func (p *Processor) loop(ctx context.Context, lane int16) {
	backoff := time.Duration(0)
	for {
		n, err := p.process(ctx, lane)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
			p.log.Error("inbound: processing failed; retrying", "lane", lane, "error", err, "in", backoff)
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
		case <-p.wakes[lane]:
		}
	}
}

// ProcessPending handles one batch and reports how many payloads it took.
// The whole batch is applied in one transaction; if any event fails, the
// batch is rolled back and applied again with one savepoint per event, so
// only the bad event is parked (with its error, in its business's webhook
// log) and never takes its siblings with it.
func (p *Processor) ProcessPending(ctx context.Context) (int, error) {
	return p.process(ctx, anyLane)
}

// anyLane claims from every lane, oldest first (ProcessPending).
const anyLane = -1

func (p *Processor) process(ctx context.Context, lane int16) (int, error) {
	n, err := p.processBatch(ctx, lane, false)
	if errors.Is(err, errEventFailed) {
		return p.processBatch(ctx, lane, true)
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

var errEventFailed = errors.New("inbound: an event failed")

func (p *Processor) processBatch(ctx context.Context, lane int16, careful bool) (int, error) {
	var (
		payloads []*payload
		applied  time.Time
	)
	n, err := p.store.ProcessWebhooks(ctx, lane, p.batch, func(tx *models.Store, rows []models.PendingWebhook) ([]models.WebhookOutcome, []models.Event, error) {
		a := &applier{p: p, ctx: ctx, channels: map[models.AccountKey]*models.Channel{}}
		payloads = parseAll(rows)
		items, err := a.routeAll(tx, payloads)
		if err != nil {
			return nil, nil, err
		}
		if careful {
			err = a.applyEach(tx, items)
		} else {
			err = a.applyBatch(tx, items)
		}
		if err != nil {
			return nil, nil, err
		}
		outs := make([]models.WebhookOutcome, len(payloads))
		for i, pl := range payloads {
			outs[i] = pl.outcome()
		}
		applied = time.Now()
		return outs, a.events, nil
	})
	if err == nil && n > 0 {
		p.observe(payloads, applied)
	}
	return n, err
}

// payload is one raw webhook, parsed, and what applying it found.
type payload struct {
	row        *models.PendingWebhook
	signer     models.WebhookSigner
	events     []adapters.Event
	parseErr   error
	failed     int // events that could not be applied
	foreign    int // entries signed by a secret that does not own them
	applied    int
	unknown    int
	businesses []int64
	problems   []models.WebhookProblem
}

// parseAll parses a batch's payloads on every core: under load parsing is
// much of a batch's own CPU.
func parseAll(rows []models.PendingWebhook) []*payload {
	out := make([]*payload, len(rows))
	workers := min(runtime.GOMAXPROCS(0), (len(rows)+63)/64)
	if workers <= 1 {
		for i := range rows {
			out[i] = parsePayload(&rows[i])
		}
		return out
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(rows); i += workers {
				out[i] = parsePayload(&rows[i])
			}
		}()
	}
	wg.Wait()
	return out
}

func parsePayload(row *models.PendingWebhook) *payload {
	pl := &payload{row: row, signer: row.Signer()}
	parse, ok := Parsers[row.App]
	if !ok {
		pl.parseErr = errors.New("unknown app " + row.App)
		return pl
	}
	// PostgreSQL text and jsonb cannot hold NUL: drop it before anything is read.
	pl.events, pl.parseErr = parse(StripNULEscapes(row.Body))
	// Meta does not promise order: apply in the events' own time order.
	sort.SliceStable(pl.events, func(i, j int) bool { return pl.events[i].Timestamp.Before(pl.events[j].Timestamp) })
	return pl
}

// routed notes the business an event of the payload was routed to.
func (pl *payload) routed(businessID int64) {
	if !slices.Contains(pl.businesses, businessID) {
		pl.businesses = append(pl.businesses, businessID)
	}
}

// problem records an event that was not applied.
func (pl *payload) problem(kind string, ch *models.Channel, ev *adapters.Event, err string) {
	pr := models.WebhookProblem{RawWebhookID: pl.row.ID, App: pl.row.App, Kind: kind, Error: err}
	if ev != nil {
		pr.AccountID, pr.EventType, pr.EventKey = ev.AccountID, string(ev.Type), eventRef(ev)
	}
	if ch != nil {
		pr.BusinessID, pr.ChannelID = &ch.BusinessID, &ch.ID
	}
	pl.problems = append(pl.problems, pr)
}

// eventRef names an event for the webhook log: the message it is about and
// who sent it, never a token.
func eventRef(ev *adapters.Event) string {
	var ids []string
	switch {
	case ev.Message != nil && ev.Message.ExternalID != "":
		ids = append(ids, ev.Message.ExternalID)
	case ev.Status != nil:
		ids = append(ids, ev.Status.ExternalID+" "+string(ev.Status.Status))
	case ev.Reaction != nil:
		ids = append(ids, ev.Reaction.TargetExternalID)
	case ev.Edit != nil:
		ids = append(ids, ev.Edit.TargetExternalID)
	case ev.Unsend != nil:
		ids = append(ids, ev.Unsend.TargetExternalID)
	}
	if ev.Customer.ExternalID != "" {
		ids = append(ids, "from "+ev.Customer.ExternalID)
	}
	return strings.Join(ids, " ")
}

func (pl *payload) outcome() models.WebhookOutcome {
	o := models.WebhookOutcome{ID: pl.row.ID, Outcome: models.WebhookProcessed, BusinessIDs: pl.businesses, Problems: pl.problems}
	if pl.parseErr != nil {
		msg := pl.parseErr.Error()
		if len(pl.events) > 0 {
			msg = "partially applied: " + msg // the good items are applied
		}
		o.Problems = append(o.Problems, models.WebhookProblem{RawWebhookID: pl.row.ID, App: pl.row.App,
			Kind: models.ProblemUnreadable, Error: msg})
	}
	switch {
	case pl.failed > 0:
		o.Outcome = models.WebhookFailed
		o.Error = fmt.Sprintf("%d of %d events not applied", pl.failed, len(pl.events))
		for _, pr := range pl.problems {
			if pr.Kind == models.ProblemFailed {
				o.Error += ": " + pr.Error
				break
			}
		}
	case pl.parseErr != nil:
		o.Outcome, o.Error = models.WebhookFailed, o.Problems[len(o.Problems)-1].Error
	case pl.unknown > 0 && pl.applied == 0 && pl.foreign == 0:
		o.Outcome, o.Error = models.WebhookUnknownAccount, "no channel for account "+strings.Join(pl.unknownAccounts(), ", ")
	case pl.foreign > 0 && pl.applied == 0:
		o.Outcome, o.Error = models.WebhookRejected, "signed by a secret that does not own its entries"
	}
	return o
}

func (pl *payload) unknownAccounts() []string {
	var out []string
	for _, pr := range pl.problems {
		if pr.Kind == models.ProblemUnknownAccount && !slices.Contains(out, pr.AccountID) {
			out = append(out, pr.AccountID)
		}
	}
	return out
}

// event is one event of a payload, routed to its channel.
type event struct {
	pl    *payload
	ev    *adapters.Event
	ch    *models.Channel
	index int // the event's place among its payload's routed events
}

// route finds each event's channel and keeps only those the payload's signer
// may speak for: an entry for business A signed with business B's app secret
// is dropped, counted and shown in A's webhook log; its siblings stay.
func (a *applier) route(tx *models.Store, pl *payload) ([]event, error) {
	out := make([]event, 0, len(pl.events))
	for i := range pl.events {
		ev := &pl.events[i]
		ch, err := a.routeTo(tx, pl, ev)
		if err != nil {
			return nil, err
		}
		switch {
		case ch == nil:
			pl.unknown++
			pl.problem(models.ProblemUnknownAccount, nil, ev, "no channel for account "+ev.AccountID)
		case !pl.signer.Trusts(ch.ID):
			pl.foreign++
			pl.routed(ch.BusinessID)
			pl.problem(models.ProblemForeignSignature, ch, ev, "signed by a secret that is neither the Meta app's nor this channel's")
			a.p.log.Warn("inbound: entry signed by a foreign secret dropped", "raw_webhook", pl.row.ID, "app", ev.App,
				"account", ev.AccountID, "signer_channels", pl.signer.Channels)
		default:
			pl.routed(ch.BusinessID)
			out = append(out, event{pl: pl, ev: ev, ch: ch, index: len(out)})
		}
	}
	return out, nil
}

// routeTo is the channel an event is for. Template updates name a WABA, not a
// number: they go to one of its channels the signer speaks for (or, when
// none, any of them, so the refusal is filed with the business it targets).
func (a *applier) routeTo(tx *models.Store, pl *payload, ev *adapters.Event) (*models.Channel, error) {
	if ev.Type != adapters.EventTemplate {
		return a.channel(tx, ev.App, ev.AccountID)
	}
	chs, err := a.wabaChannels(tx, ev.AccountID)
	if err != nil || len(chs) == 0 {
		return nil, err
	}
	for i := range chs {
		if pl.signer.Trusts(chs[i].ID) {
			return &chs[i], nil
		}
	}
	return &chs[0], nil
}

// routeAll routes every payload's events, in the one order shared by all
// workers — by account, group and customer, then Meta's time.
func (a *applier) routeAll(tx *models.Store, payloads []*payload) ([]event, error) {
	if err := a.prefetchChannels(tx, payloads); err != nil {
		return nil, err
	}
	var items []event
	for _, pl := range payloads {
		evs, err := a.route(tx, pl)
		if err != nil {
			return nil, err
		}
		items = append(items, evs...)
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
		if it.ev.Timestamp.IsZero() {
			it.ev.Timestamp = time.Now().UTC() // Meta always sends one; never leave a window fact at year 1
		}
	}
	return items, nil
}

// prefetchChannels takes the batch's customer locks and loads the channels
// of every account it names, in one round trip, for route to find in the
// applier's cache.
func (a *applier) prefetchChannels(tx *models.Store, payloads []*payload) error {
	var keys []models.AccountKey
	seen := map[models.AccountKey]bool{}
	for _, pl := range payloads {
		for i := range pl.events {
			ev := &pl.events[i]
			k := models.AccountKey{App: string(ev.App), AccountID: ev.AccountID}
			if ev.Type == adapters.EventTemplate || seen[k] {
				continue
			}
			if _, ok := a.channels[k]; ok {
				continue
			}
			seen[k] = true
			keys = append(keys, k)
		}
	}
	chs, err := tx.LockCustomersAndFetchChannels(a.ctx, lockKeys(payloads), keys)
	if err != nil {
		return err
	}
	for _, k := range keys {
		a.channels[k] = chs[k]
	}
	return nil
}

// applyInOrder applies events one at a time, in the batch's order. Any
// failure aborts the batch (the caller retries it event by event).
func (a *applier) applyInOrder(tx *models.Store, items []event) error {
	for _, it := range items {
		a.cur = it.pl
		if err := a.apply(tx, it.ch, it.ev); err != nil {
			if transient(err) {
				return err
			}
			a.p.log.Warn("inbound: event failed; retrying its batch one event at a time", "raw_webhook", it.pl.row.ID, "error", err)
			return errEventFailed
		}
		it.pl.applied++
	}
	return nil
}

// applyEach applies the events one by one, each in its own savepoint, so an
// event that cannot be applied is parked alone without undoing the others.
func (a *applier) applyEach(tx *models.Store, items []event) error {
	for _, it := range items {
		pl := it.pl
		a.cur = pl
		err := tx.InTx(a.ctx, func(sp *models.Store) error { return a.apply(sp, it.ch, it.ev) })
		if transient(err) {
			return err
		}
		if err != nil {
			pl.failed++
			pl.problem(models.ProblemFailed, it.ch, it.ev, fmt.Sprintf("%s event %d of %d: %v", it.ev.Type, it.index+1, len(pl.events), err))
			a.p.log.Warn("inbound: event failed", "raw_webhook", pl.row.ID, "type", it.ev.Type, "error", err)
			continue
		}
		pl.applied++
	}
	return nil
}

// StripNULEscapes removes every \u0000 escape from a JSON document: PostgreSQL
// text and jsonb cannot hold NUL, and one such character must not cost the
// payload. Valid JSON has backslashes only inside strings, each starting an
// escape, so pairs are copied as they are and only NUL escapes are dropped.
func StripNULEscapes(body []byte) []byte {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return body
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' || i+1 >= len(body) {
			out = append(out, c)
			continue
		}
		if body[i+1] == 'u' && i+6 <= len(body) && string(body[i+2:i+6]) == "0000" {
			i += 5
			continue
		}
		out = append(out, c, body[i+1])
		i++
	}
	return out
}
