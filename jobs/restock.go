package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// RestockTemplates picks the WhatsApp marketing template a restock alert uses
// outside the customer-service window (the template store, once synced).
type RestockTemplates interface {
	// params are the template's variables in Meta's order; nil when unknown
	// (then the body takes first name, product name and URL as {{1}}–{{3}}).
	RestockTemplate(ctx context.Context, businessID, channelID int64, p *models.Product) (name, language string, params models.TemplateParams, err error)
}

// RestockPrices quotes one marketing template to a phone number (the price
// table); ok false when no price is known.
type RestockPrices interface {
	RestockQuote(ctx context.Context, businessID int64, phone string, at time.Time) (micros int64, currency string, ok bool, err error)
}

// productTemplate is the fallback RestockTemplates: the product's own
// configured template name and language.
type productTemplate struct{}

func (productTemplate) RestockTemplate(_ context.Context, _, _ int64, p *models.Product) (string, string, models.TemplateParams, error) {
	return p.WATemplateName, p.WATemplateLanguage, nil, nil
}

// Restocker runs restocks: every stock change goes through it, a change from
// 0 starts a run, and the run's River job notifies the waiting customers
// batch by batch, each entry claimed in the transaction that queues its message.
type Restocker struct {
	store  *models.Store
	outbox *Outbox
	insert *river.Client[*sql.Tx]
	now    func() time.Time
	batch  int
	pace   time.Duration // least time between two progress frames of a run

	mu        sync.Mutex
	templates RestockTemplates
	prices    RestockPrices
	lastFrame map[int64]time.Time // run id → when its last progress event went out
}

func newRestocker(o *Outbox) *Restocker {
	return &Restocker{store: o.store, outbox: o, insert: o.insert, now: o.now, batch: restockBatch, pace: 250 * time.Millisecond,
		templates: productTemplate{}, lastFrame: map[int64]time.Time{}}
}

// restockBatch is how many entries one batch claims: its messages' send jobs
// still carry Config.BatchSize each; larger batches cost fewer round trips.
const restockBatch = 500

// SetBatchSize changes how many entries a batch claims (tests use small ones).
func (r *Restocker) SetBatchSize(n int) {
	r.mu.Lock()
	r.batch = max(1, n)
	r.mu.Unlock()
}

// Restocker is the pipeline's restock runner (implements web.Restock).
func (p *Pipeline) Restocker() *Restocker { return p.restock }

// UseTemplates replaces the product-template fallback (wire the template store here).
func (r *Restocker) UseTemplates(t RestockTemplates) {
	r.mu.Lock()
	r.templates = t
	r.mu.Unlock()
}

// UsePrices gives the product page its cost estimate (wire the price quote here).
func (r *Restocker) UsePrices(p RestockPrices) {
	r.mu.Lock()
	r.prices = p
	r.mu.Unlock()
}

// restockArgs is one River job: work one restock run to its end.
type restockArgs struct {
	BusinessID int64 `json:"business_id"`
	RunID      int64 `json:"run_id"`
}

func (restockArgs) Kind() string { return "restock_run" }

type restockWorker struct {
	river.WorkerDefaults[restockArgs]
	r *Restocker
}

// Work handles the run batch by batch, each batch one transaction: a killed
// worker loses only its uncommitted batch, which the retry claims again.
func (w *restockWorker) Work(ctx context.Context, job *river.Job[restockArgs]) error {
	for {
		more, err := w.r.batchOnce(ctx, job.Args)
		if err != nil || !more {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func (w *restockWorker) NextRetry(job *river.Job[restockArgs]) time.Time {
	return time.Now().Add(time.Duration(min(job.Attempt, 30)) * time.Second)
}

// queueRun inserts the run's job in the transaction that started the run.
func (r *Restocker) queueRun(ctx context.Context, tx *models.Store, run *models.RestockRun) error {
	if run == nil {
		return nil
	}
	_, err := r.insert.InsertTx(ctx, sqlTx(tx), restockArgs{BusinessID: run.BusinessID, RunID: run.ID}, &river.InsertOpts{Queue: queueBulk})
	if err != nil {
		return fmt.Errorf("jobs: unable to queue restock run %d: %w", run.ID, err)
	}
	return tx.Notify(ctx, models.Event{Type: models.EventRestock, BusinessID: run.BusinessID, RunID: run.ID})
}

// SetStock changes a product's stock (the one way it changes); from 0 to more
// it starts a restock run and queues it, in one transaction.
func (r *Restocker) SetStock(ctx context.Context, businessID int64, sku string, stock int, by *int64) (*models.StockChange, error) {
	var ch *models.StockChange
	err := r.store.InTx(ctx, func(tx *models.Store) error {
		var err error
		if ch, err = tx.SetStock(ctx, businessID, sku, stock, by); err != nil {
			return err
		}
		return r.queueRun(ctx, tx, ch.Run)
	})
	return ch, err
}

// Import applies a product CSV all or nothing, queueing the runs it starts.
func (r *Restocker) Import(ctx context.Context, businessID int64, rows []models.ImportRow, by *int64) (*models.ImportResult, error) {
	var res *models.ImportResult
	err := r.store.InTx(ctx, func(tx *models.Store) error {
		var err error
		if res, err = tx.ImportProducts(ctx, businessID, rows, by); err != nil {
			return err
		}
		for _, c := range res.Changes {
			if err := r.queueRun(ctx, tx, c.Run); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// Rerun starts a run by hand for entries that became notifiable; nil when
// nobody waits or nothing is in stock.
func (r *Restocker) Rerun(ctx context.Context, businessID int64, sku string, by *int64) (*models.RestockRun, error) {
	var run *models.RestockRun
	err := r.store.InTx(ctx, func(tx *models.Store) error {
		var err error
		if run, err = tx.StartRerun(ctx, businessID, sku, by); err != nil {
			return err
		}
		return r.queueRun(ctx, tx, run)
	})
	return run, err
}

// batchOnce handles the run's next batch in one transaction: the run is
// locked (one worker per run), stock re-checked, entries claimed, messages
// queued with their jobs and outcomes recorded, or nothing at all.
func (r *Restocker) batchOnce(ctx context.Context, a restockArgs) (more bool, err error) {
	finished := false
	err = r.store.InTx(ctx, func(tx *models.Store) error {
		run, err := tx.LockRun(ctx, a.BusinessID, a.RunID)
		if err != nil || run == nil || run.Status != models.RunRunning {
			return err
		}
		p, err := tx.ProductByID(ctx, a.BusinessID, run.ProductID)
		if err != nil {
			return err
		}
		finish := func(outcome string) error {
			finished = true
			if err := tx.FinishRun(ctx, run.ID, outcome); err != nil {
				return err
			}
			return tx.Notify(ctx, models.Event{Type: models.EventRestock, BusinessID: a.BusinessID, RunID: run.ID})
		}
		if p == nil || p.Stock == 0 {
			return finish(models.RunSoldOut) // sold out again: the rest keep waiting
		}
		r.mu.Lock()
		n := r.batch
		r.mu.Unlock()
		if run.Units != nil {
			left := *run.Units - run.Notified
			if left <= 0 {
				return finish(models.RunUnitsUsed)
			}
			n = min(n, left)
		}
		entries, err := tx.ClaimEntries(ctx, run, n)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return finish(models.RunCompleted)
		}
		outs, err := r.notify(ctx, tx, p, entries)
		if err != nil {
			return err
		}
		if err := tx.RecordRestockOutcomes(ctx, run.ID, outs, r.now()); err != nil {
			return err
		}
		more = true
		if r.framed(run.ID) {
			return tx.Notify(ctx, models.Event{Type: models.EventRestock, BusinessID: a.BusinessID, RunID: run.ID})
		}
		return nil
	})
	if err != nil || finished {
		r.mu.Lock()
		delete(r.lastFrame, a.RunID)
		r.mu.Unlock()
	}
	return more && err == nil, err
}

// framed says whether a progress frame is due: a few per second per run,
// not one per batch (the final frame always goes out).
func (r *Restocker) framed(runID int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.lastFrame[runID]) < r.pace {
		return false
	}
	r.lastFrame[runID] = now
	return true
}

// notify decides and queues one alert per claimed entry, in tx.
func (r *Restocker) notify(ctx context.Context, tx *models.Store, p *models.Product, entries []models.RestockWaitlist) ([]models.EntryOutcome, error) {
	threadIDs := make([]int64, 0, len(entries))
	for _, e := range entries {
		if e.ThreadID != nil {
			threadIDs = append(threadIDs, *e.ThreadID)
		}
	}
	scs, err := tx.SendContexts(ctx, p.BusinessID, threadIDs, true)
	if err != nil {
		return nil, err
	}
	lang, err := tx.BusinessLocale(ctx, p.BusinessID)
	if err != nil {
		return nil, err
	}
	outs := make([]models.EntryOutcome, len(entries))
	var reqs []SendRequest
	var reqEntry []int
	for i, e := range entries {
		outs[i].EntryID = e.ID
		req, reason, err := r.request(ctx, p, &e, scs, lang)
		switch {
		case err != nil:
			return nil, err
		case reason != "":
			outs[i].Reason = string(reason)
			continue
		}
		reqs, reqEntry = append(reqs, req), append(reqEntry, i)
	}
	results, err := r.outbox.queueTx(ctx, tx, reqs, scs)
	if err != nil {
		return nil, err
	}
	for k, res := range results {
		o := &outs[reqEntry[k]]
		var refused *RefusedError
		switch {
		case res.Message != nil:
			o.Notified, o.MessageID = true, &res.Message.ID
		case errors.As(res.Err, &refused):
			o.Reason = string(refused.Decision.Reason)
		default:
			// Built but not sendable (a template variable the product cannot fill, such as a
			// URL button for a product without a URL): say so, not "no template".
			o.Reason = ReasonAlertUnsendable
		}
	}
	for i, e := range entries {
		if !outs[i].Notified && e.ThreadID != nil && scs[*e.ThreadID] != nil {
			if err := r.skippedLine(ctx, tx, p, scs[*e.ThreadID], outs[i].Reason); err != nil {
				return nil, err
			}
		}
	}
	return outs, nil
}

// request is the alert for one entry, or the reason it cannot go now.
func (r *Restocker) request(ctx context.Context, p *models.Product, e *models.RestockWaitlist, scs map[int64]*models.SendContext, businessLang string) (SendRequest, policy.Reason, error) {
	var sc *models.SendContext
	if e.ThreadID != nil {
		sc = scs[*e.ThreadID]
	}
	if sc == nil || sc.Channel == nil {
		return SendRequest{}, policy.ReasonChannelUnauthorised, nil
	}
	cust := customerOf(sc, e.IdentityID)
	if cust == nil {
		return SendRequest{}, policy.ReasonChannelUnauthorised, nil
	}
	rd := policy.Restock(factsOf(sc.Channel, cust, policy.Send{}), r.now())
	lang := CustomerLanguage(&cust.Identity, businessLang)
	req := SendRequest{BusinessID: p.BusinessID, ThreadID: sc.Thread.ID, Automated: true, Proactive: true, Promotional: true}
	switch rd.Via {
	case policy.RestockSkip:
		return req, rd.Decision.Reason, nil
	case policy.RestockTemplate:
		r.mu.Lock()
		templates := r.templates
		r.mu.Unlock()
		name, lang, params, err := templates.RestockTemplate(ctx, p.BusinessID, sc.Channel.ID, p)
		if err != nil {
			return req, "", err
		}
		if name == "" || lang == "" {
			return req, policy.ReasonTemplateRequired, nil
		}
		req.Template = &TemplateRequest{Name: name, Language: lang, Variables: restockVariables(params, firstName(cust, lang), p)}
	case policy.RestockOTN:
		req.UseOTN, req.Text = true, AlertText(p, lang)
	default:
		req.Text = AlertText(p, lang)
	}
	return req, "", nil
}

// ReasonAlertUnsendable is an entry whose alert could be built but not sent as
// it is (Meta would refuse it): fix the product or template, then re-run.
const ReasonAlertUnsendable = "alert_unsendable"

// restockVariables fills one value per template parameter by what it names:
// the customer's first name, the product's name, or its URL (a URL button's
// suffix, or a body variable called url/link). Positional {{1}}–{{3}} read as
// first name, product, URL; without a parameter list, those three in order.
func restockVariables(params models.TemplateParams, first string, p *models.Product) []string {
	if len(params) == 0 {
		return []string{first, p.Name, p.URL}
	}
	out := make([]string, len(params))
	for i, tp := range params {
		switch n := strings.ToLower(tp.Name); {
		case tp.Component == "button" || n == "url" || n == "link" || n == "3":
			out[i] = p.URL
		case n == "1" || strings.Contains(n, "name") && !strings.Contains(n, "product"):
			out[i] = first
		default:
			out[i] = p.Name
		}
	}
	return out
}

// AlertText is the free-form back-in-stock message in the customer's language.
func AlertText(p *models.Product, lang string) string {
	if p.URL != "" {
		return RestockText(lang, "alert_url", p.Name, p.URL)
	}
	return RestockText(lang, "alert", p.Name)
}

// firstName is the template's first variable, with Meta's usual fallback.
func firstName(c *models.SendCustomer, lang string) string {
	if f := strings.Fields(c.Identity.DisplayName); len(f) > 0 && !strings.HasPrefix(f[0], "+") {
		return f[0]
	}
	return RestockText(lang, "first_name")
}

func customerOf(sc *models.SendContext, identityID int64) *models.SendCustomer {
	for i := range sc.Customers {
		if sc.Customers[i].Identity.ID == identityID {
			return &sc.Customers[i]
		}
	}
	return nil
}

// skippedLine tells the agent in the thread that the product is back but the
// customer could not be told, so they can say so when the customer next writes.
func (r *Restocker) skippedLine(ctx context.Context, tx *models.Store, p *models.Product, sc *models.SendContext, reason string) error {
	n := models.RestockNote{Event: "back_skipped", Product: p.Name, SKU: p.SKU, Reason: reason}
	text := fmt.Sprintf("Waiting for %s, back in stock (not notified: %s)", p.Name, reason)
	return tx.AddRestockLine(ctx, p.BusinessID, sc.Thread.ID, &sc.Channel.ID, sc.Channel.App, n, text, r.now())
}

// queueTx is SendMany inside the caller's transaction, over send contexts
// the caller loaded with their tokens locked: the restock run claims its
// entries and queues their messages and jobs atomically.
func (o *Outbox) queueTx(ctx context.Context, tx *models.Store, reqs []SendRequest, scs map[int64]*models.SendContext) ([]SendResult, error) {
	results := make([]SendResult, len(reqs))
	var plans []*plan
	var msgs []*models.Message
	templates := newTemplateCache()
	for i := range reqs {
		if results[i].Err = reqs[i].validate(); results[i].Err != nil {
			continue
		}
		p, err := o.plan(ctx, tx, &reqs[i], scs[reqs[i].ThreadID], templates)
		if err != nil {
			if !isRequestError(err) {
				return nil, err
			}
			results[i].Err = err
			continue
		}
		plans, msgs = append(plans, p), append(msgs, p.msg)
		results[i].Message = p.msg
	}
	if len(msgs) == 0 {
		return results, nil
	}
	if err := tx.AddOutboundMessages(ctx, msgs); err != nil {
		return nil, err
	}
	for _, p := range plans {
		if err := o.reserve(ctx, tx, p); err != nil {
			return nil, err
		}
	}
	for i := range results {
		o.count(results[i].Message, results[i].Err)
	}
	return results, o.insertBatches(ctx, tx, msgs[0].BusinessID, msgs)
}

// RestockPreview is what a restock would do now for the customers waiting:
// who can be reached, how, and why the others cannot; with the WhatsApp
// marketing templates' estimated cost when the price table knows it.
type RestockPreview struct {
	Waiting    map[string]int            // by app
	Notifiable map[string]int            // by app
	Via        map[policy.RestockVia]int // how the notifiable would hear
	Skipped    map[string]int            // by the policy's reason
	Entries    map[int64]policy.RestockDecision
	Templates  int    // WhatsApp marketing templates it would send
	CostMicros int64  // their estimated cost; meaningful only when CostKnown
	Currency   string // of the cost
	CostKnown  bool
}

// Preview judges every open entry of the product as a run would now; nothing is sent.
func (r *Restocker) Preview(ctx context.Context, businessID int64, p *models.Product, entries []models.WaitlistEntry) (*RestockPreview, error) {
	pv := &RestockPreview{Waiting: map[string]int{}, Notifiable: map[string]int{}, Via: map[policy.RestockVia]int{},
		Skipped: map[string]int{}, Entries: map[int64]policy.RestockDecision{}}
	var threadIDs []int64
	for _, e := range entries {
		if e.ThreadID != nil && (e.Status == models.WaitlistWaiting || e.Status == models.WaitlistSkipped) {
			threadIDs = append(threadIDs, *e.ThreadID)
		}
	}
	scs, err := r.store.SendContexts(ctx, businessID, threadIDs, false)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	prices := r.prices
	r.mu.Unlock()
	pv.CostKnown = prices != nil
	now := r.now()
	for _, e := range entries {
		if e.Status != models.WaitlistWaiting && e.Status != models.WaitlistSkipped {
			continue
		}
		pv.Waiting[e.App]++
		rd := policy.RestockDecision{Via: policy.RestockSkip, Decision: policy.Decision{Reason: policy.ReasonChannelUnauthorised}}
		var cust *models.SendCustomer
		if sc := scs[derefID(e.ThreadID)]; sc != nil && sc.Channel != nil {
			if cust = customerOf(sc, e.IdentityID); cust != nil {
				rd = policy.Restock(factsOf(sc.Channel, cust, policy.Send{}), now)
			}
		}
		pv.Entries[e.ID] = rd
		if rd.Via == policy.RestockSkip {
			pv.Skipped[string(rd.Decision.Reason)]++
			continue
		}
		pv.Notifiable[e.App]++
		pv.Via[rd.Via]++
		if rd.Via != policy.RestockTemplate {
			continue
		}
		pv.Templates++
		if prices == nil {
			continue
		}
		micros, cur, ok, err := prices.RestockQuote(ctx, businessID, cust.Identity.Phone, now)
		if err != nil {
			return nil, err
		}
		if !ok || pv.Currency != "" && cur != pv.Currency {
			pv.CostKnown = false
			continue
		}
		pv.CostMicros, pv.Currency = pv.CostMicros+micros, cur
	}
	return pv, nil
}

func derefID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
