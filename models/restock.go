package models

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm/clause"
)

// Restock run states and outcomes.
const (
	RunRunning = "running"
	RunDone    = "done"

	RunCompleted = "completed"  // every waiting entry was handled
	RunUnitsUsed = "units_used" // as many notified as units came back; the rest wait
	RunSoldOut   = "sold_out"   // stock went back to 0 between batches; the rest wait
)

// RestockRun is one restock of one product: the entries it handles, oldest first.
type RestockRun struct {
	ID         int64
	BusinessID int64
	ProductID  int64
	Status     string
	Outcome    string
	Units      *int
	Planned    int
	Handled    int
	Notified   int
	Trigger    string
	CreatedBy  *int64
	StartedAt  time.Time
	FinishedAt *time.Time
}

// startRun opens a run for the product's waiting customers, at most units of
// them notified; nil when nobody waits. A run still going from an earlier
// restock ends: the product was sold out in between.
func (s *Store) startRun(ctx context.Context, p *Product, units int, trigger string, by *int64) (*RestockRun, error) {
	if err := s.Gorm(ctx).Exec(`UPDATE restock_runs SET status = 'done', outcome = 'sold_out', finished_at = now()
		WHERE product_id = ? AND status = 'running'`, p.ID).Error; err != nil {
		return nil, wrapErr(err, "end earlier runs of product %d", p.ID)
	}
	n, err := s.OpenWaitlistCount(ctx, p.ID)
	if err != nil || n == 0 {
		return nil, err
	}
	r := &RestockRun{BusinessID: p.BusinessID, ProductID: p.ID, Status: RunRunning, Planned: n, Trigger: trigger, CreatedBy: by,
		StartedAt: time.Now()}
	if units > 0 {
		r.Units, r.Planned = &units, min(n, units)
	}
	if err := s.Gorm(ctx).Create(r).Error; err != nil {
		return nil, wrapErr(err, "start restock run of product %d", p.ID)
	}
	return r, nil
}

// StartRerun opens a run by hand for entries that became notifiable (staff's
// "re-run"), bounded by the stock on hand. nil when nobody waits or the
// product is out of stock. Call inside InTx and queue the run's job there.
func (s *Store) StartRerun(ctx context.Context, businessID int64, sku string, by *int64) (*RestockRun, error) {
	p, err := s.lockProduct(ctx, businessID, sku)
	if err != nil || p == nil {
		return nil, err
	}
	if p.Stock == 0 {
		return nil, nil
	}
	return s.startRun(ctx, p, p.Stock, "rerun", by)
}

// LockRun loads a run FOR UPDATE: one worker at a time handles a run's batch.
func (s *Store) LockRun(ctx context.Context, businessID, runID int64) (*RestockRun, error) {
	var r RestockRun
	ok, err := first(s.Gorm(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("business_id = ? AND id = ?", businessID, runID), &r)
	if err != nil || !ok {
		return nil, wrapErr(err, "lock restock run %d", runID)
	}
	return &r, nil
}

// Run loads one of the business's runs; nil when it has none.
func (s *Store) Run(ctx context.Context, businessID, runID int64) (*RestockRun, error) {
	var r RestockRun
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, runID), &r)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch restock run %d", runID)
	}
	return &r, nil
}

// FinishRun ends a run with its outcome.
func (s *Store) FinishRun(ctx context.Context, runID int64, outcome string) error {
	err := s.Gorm(ctx).Exec(`UPDATE restock_runs SET status = 'done', outcome = ?, finished_at = now() WHERE id = ? AND status = 'running'`,
		outcome, runID).Error
	return wrapErr(err, "finish restock run %d", runID)
}

// ClaimEntries takes the run's next open entries, oldest sign-ups first, that
// this run has not handled yet, locked until the transaction ends.
func (s *Store) ClaimEntries(ctx context.Context, r *RestockRun, n int) ([]RestockWaitlist, error) {
	var es []RestockWaitlist
	err := s.Gorm(ctx).Raw(`SELECT w.* FROM restock_waitlist w
		WHERE w.product_id = ? AND w.status IN ('waiting', 'skipped')
		  AND NOT EXISTS (SELECT 1 FROM restock_outcomes o WHERE o.run_id = ? AND o.entry_id = w.id)
		ORDER BY w.created_at, w.id LIMIT ? FOR UPDATE OF w SKIP LOCKED`, r.ProductID, r.ID, n).Scan(&es).Error
	return es, wrapErr(err, "claim entries of run %d", r.ID)
}

// EntryOutcome is what a run did with one entry.
type EntryOutcome struct {
	EntryID   int64
	Notified  bool
	Reason    string // the policy's reason when skipped
	MessageID *int64
}

// RecordRestockOutcomes writes the batch's outcomes once (the run and entry key is
// the claim) and moves notified entries out of the waitlist.
func (s *Store) RecordRestockOutcomes(ctx context.Context, runID int64, outs []EntryOutcome, at time.Time) error {
	if len(outs) == 0 {
		return nil
	}
	ids, kinds, reasons, msgs := make([]int64, len(outs)), make([]string, len(outs)), make([]string, len(outs)), make([]*int64, len(outs))
	for i, o := range outs {
		ids[i], reasons[i], msgs[i] = o.EntryID, o.Reason, o.MessageID
		kinds[i] = WaitlistSkipped
		if o.Notified {
			kinds[i] = WaitlistNotified
		}
	}
	_, err := s.sqlExec(ctx, `WITH v AS (
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) AS v(entry_id, outcome, reason, message_id)
		), ins AS (
			INSERT INTO restock_outcomes (run_id, entry_id, outcome, reason, message_id, at)
			SELECT $5, entry_id, outcome, reason, message_id, $6 FROM v
		), upd AS (
			UPDATE restock_waitlist w SET status = v.outcome, reason = v.reason, run_id = $5, handled_at = $6,
				message_id = COALESCE(v.message_id, w.message_id),
				notified_at = CASE WHEN v.outcome = 'notified' THEN $6 ELSE w.notified_at END
			FROM v WHERE w.id = v.entry_id
		)
		UPDATE restock_runs SET handled = handled + (SELECT count(*) FROM v),
			notified = notified + (SELECT count(*) FROM v WHERE outcome = 'notified')
		WHERE id = $5`, ids, kinds, reasons, msgs, runID, at)
	return wrapErr(err, "record %d outcomes of run %d", len(outs), runID)
}

// RunSummary is a run with its counts: the contract's GET /restocks/{id}.
type RunSummary struct {
	ID        int64          `json:"id"`
	ProductID int64          `json:"-"`
	SKU       string         `json:"sku"`
	Status    string         `json:"status"`
	Outcome   string         `json:"outcome"`
	Trigger   string         `json:"trigger"`
	Units     *int           `json:"units"`
	Total     int            `json:"total"`
	Handled   int            `json:"handled"`
	Notified  int            `json:"notified"`
	Skipped   int            `json:"skipped"`
	Failed    int            `json:"failed"`
	Unknown   int            `json:"unknown"` // notified entries whose send ended unknown (may have reached Meta)
	ByReason  map[string]int `gorm:"-" json:"by_reason"`
	Started   time.Time      `json:"started_at"`
	Finished  *time.Time     `json:"finished_at"`
}

// RunSummaries counts the outcomes of the business's runs (failed: notified
// entries whose message failed at Meta; unknown: whose send may or may not
// have reached Meta).
func (s *Store) RunSummaries(ctx context.Context, businessID int64, runIDs []int64) ([]RunSummary, error) {
	var rows []struct {
		RunSummary
		ProductSKU string
		Reasons    []byte
	}
	err := s.Gorm(ctx).Raw(`SELECT r.id, r.product_id, r.status, r.outcome, r.trigger, r.units, r.planned AS total, r.started_at AS started,
			r.finished_at AS finished, p.sku AS product_sku,
			r.handled, r.notified, r.handled - r.notified AS skipped,
			(SELECT count(*) FROM restock_outcomes o JOIN messages m ON m.id = o.message_id WHERE o.run_id = r.id AND m.status = 'failed') AS failed,
			(SELECT count(*) FROM restock_outcomes o JOIN messages m ON m.id = o.message_id WHERE o.run_id = r.id AND m.status = 'unknown') AS unknown,
			COALESCE((SELECT jsonb_object_agg(reason, n) FROM (SELECT o.reason, count(*) AS n FROM restock_outcomes o
				WHERE o.run_id = r.id AND o.outcome = 'skipped' GROUP BY 1) x), '{}') AS reasons
		FROM restock_runs r JOIN products p ON p.id = r.product_id
		WHERE r.business_id = ? AND r.id IN ? ORDER BY r.id DESC`, businessID, runIDs).Scan(&rows).Error
	if err != nil {
		return nil, wrapErr(err, "summarise %d restock runs", len(runIDs))
	}
	out := make([]RunSummary, len(rows))
	for i, r := range rows {
		out[i] = r.RunSummary
		out[i].SKU, out[i].ByReason = r.ProductSKU, map[string]int{}
		if err := json.Unmarshal(r.Reasons, &out[i].ByReason); err != nil {
			return nil, wrapErr(err, "read reasons of run %d", r.ID)
		}
		out[i].Total = max(out[i].Total, out[i].Handled)
	}
	return out, nil
}

// ProductRuns lists a product's latest runs, newest first.
func (s *Store) ProductRuns(ctx context.Context, businessID, productID int64, limit int) ([]RunSummary, error) {
	var ids []int64
	err := s.Gorm(ctx).Raw(`SELECT id FROM restock_runs WHERE business_id = ? AND product_id = ? ORDER BY id DESC LIMIT ?`,
		businessID, productID, limit).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return []RunSummary{}, wrapErr(err, "list runs of product %d", productID)
	}
	return s.RunSummaries(ctx, businessID, ids)
}

// ChannelOTN reports whether the channel has Meta's One-Time Notifications.
func (s *Store) ChannelOTN(ctx context.Context, businessID, channelID int64) (bool, error) {
	var on bool
	err := s.Gorm(ctx).Raw(`SELECT otn FROM channels WHERE business_id = ? AND id = ?`, businessID, channelID).Scan(&on).Error
	return on, wrapErr(err, "read OTN flag of channel %d", channelID)
}

// SetChannelOTN records whether the Page has One-Time Notifications.
func (s *Store) SetChannelOTN(ctx context.Context, businessID, channelID int64, on bool) error {
	err := s.Gorm(ctx).Exec(`UPDATE channels SET otn = ?, updated_at = now() WHERE business_id = ? AND id = ?`, on, businessID, channelID).Error
	return wrapErr(err, "set OTN flag of channel %d", channelID)
}

// RestockNote is the details of a restock system line in a thread, so the
// thread can show it in the agent's language.
type RestockNote struct {
	Event   string `json:"event"` // waiting, unknown, back_skipped
	Product string `json:"product"`
	SKU     string `json:"sku"`
	Reason  string `json:"reason,omitempty"`
}

// AddRestockLine adds a system line to a thread ("Waiting for Giacca blu"),
// shown to agents only: it is never sent.
func (s *Store) AddRestockLine(ctx context.Context, businessID, threadID int64, channelID *int64, app string, n RestockNote, text string, at time.Time) error {
	details, _ := json.Marshal(map[string]any{"restock": n})
	m := &Message{BusinessID: businessID, ThreadID: threadID, ChannelID: channelID, Direction: DirectionOut, App: app,
		Kind: "system", Text: text, Details: details, SentAt: at, Status: StatusSent, StatusAt: at}
	_, err := s.AddMessage(ctx, m, nil)
	return err
}

// OTNTokenID finds a stored OTN token by its secret (for the opt-in that
// carried it); 0 when the business has no such token.
func (s *Store) OTNTokenID(ctx context.Context, businessID int64, token string) (int64, error) {
	var id int64
	err := s.Gorm(ctx).Raw(`SELECT id FROM otn_tokens WHERE business_id = ? AND token_hash = ?`, businessID, HashToken(token)).Scan(&id).Error
	return id, wrapErr(err, "find OTN token")
}

// AddOTNToken stores a one-time notification token, sealed, once per secret.
func (s *Store) AddOTNToken(ctx context.Context, businessID, identityID int64, title, payload, token string, created time.Time) (int64, error) {
	err := s.Gorm(ctx).Exec(`INSERT INTO otn_tokens (business_id, identity_id, kind, topic, payload, token_enc, token_hash, created_at, expires_at)
		VALUES (?, ?, 'one_time', ?, ?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING`,
		businessID, identityID, title, payload, s.cipher.Seal(token), HashToken(token), created, created.AddDate(1, 0, 0)).Error
	if err != nil {
		return 0, wrapErr(err, "add OTN token")
	}
	return s.OTNTokenID(ctx, businessID, token)
}

// CodeMarketingCap is WhatsApp's 131049: Meta held a marketing template back
// (its per-user marketing limit, or the US pause).
const CodeMarketingCap = 131049

// CappedAlert is a notified entry whose alert Meta held back with 131049.
type CappedAlert struct {
	EntryID    int64
	BusinessID int64
	MessageID  int64
	FailedAt   time.Time // when Meta said so
}

// ClaimCappedAlerts marks at most n notified entries, of any business, whose
// alert failed with 131049 and was never retried, as having their one retry
// due after the failure (cap_retry_at); the caller queues the retries in the
// same transaction.
func (s *Store) ClaimCappedAlerts(ctx context.Context, n int, after time.Duration) ([]CappedAlert, error) {
	var out []CappedAlert
	err := s.Gorm(ctx).Raw(`WITH c AS (
			SELECT w.id, m.status_at FROM restock_waitlist w JOIN messages m ON m.id = w.message_id
			WHERE w.status = 'notified' AND w.cap_retry_at IS NULL AND w.message_id IS NOT NULL
			  AND m.status = 'failed' AND m.error_code = ?
			ORDER BY w.id LIMIT ? FOR UPDATE OF w SKIP LOCKED)
		UPDATE restock_waitlist w SET cap_retry_at = c.status_at + make_interval(secs => ?) FROM c WHERE w.id = c.id
		RETURNING w.id AS entry_id, w.business_id, w.message_id, c.status_at AS failed_at`, CodeMarketingCap, n, after.Seconds()).Scan(&out).Error
	return out, wrapErr(err, "claim capped restock alerts")
}

// ClaimCapRetry takes the entry's one cap retry; false when it was taken
// (or the entry moved on): call in the transaction that requeues the alert.
func (s *Store) ClaimCapRetry(ctx context.Context, businessID, entryID, messageID int64, at time.Time) (bool, error) {
	res := s.Gorm(ctx).Exec(`UPDATE restock_waitlist SET cap_retried_at = ?
		WHERE business_id = ? AND id = ? AND message_id = ? AND status = 'notified' AND cap_retry_at IS NOT NULL AND cap_retried_at IS NULL`,
		at, businessID, entryID, messageID)
	return res.RowsAffected == 1, wrapErr(res.Error, "claim cap retry of entry %d", entryID)
}

// SetEntryReason records why an entry's alert could not go again.
func (s *Store) SetEntryReason(ctx context.Context, businessID, entryID int64, reason string) error {
	err := s.Gorm(ctx).Exec(`UPDATE restock_waitlist SET reason = ? WHERE business_id = ? AND id = ?`, reason, businessID, entryID).Error
	return wrapErr(err, "set reason of entry %d", entryID)
}

// RestockOptions is what a direct thread's "Notify me when it's back"
// shows: the business's products, those the thread's customer waits for,
// and how the thread's channel can ask (its app, and for Messenger
// whether the Page has One-Time Notifications).
type RestockOptions struct {
	Products []Product
	Waiting  []Product
	App      string // "" when the thread is not a direct one with a channel
	OTN      bool
}

// RestockOptions queues a direct thread's RestockOptions (at most limit
// products, by name) as Store.Products, Store.IdentityWaiting and the
// thread's channel would give them, in the same round trip as the rest of
// the thread page: the thread's identity and channel come from the thread.
func (rb *ReadBatch) RestockOptions(businessID, threadID int64, limit int) *RestockOptions {
	out := &RestockOptions{Products: []Product{}, Waiting: []Product{}}
	rb.batch.Queue(`SELECT ch.app, ch.otn FROM threads t JOIN channels ch ON ch.id = t.channel_id AND ch.business_id = t.business_id
		WHERE t.business_id = $1 AND t.id = $2 AND t.kind = 'direct' AND t.direct_identity_id IS NOT NULL`, businessID, threadID)
	rb.batch.Queue(`SELECT `+productColumns+` FROM products p WHERE p.business_id = $1 ORDER BY p.name, p.id LIMIT $2`, businessID, limit)
	rb.batch.Queue(`SELECT `+productColumns+` FROM products p JOIN restock_waitlist w ON w.product_id = p.id
		WHERE w.business_id = $1 AND w.status IN ('waiting', 'skipped')
			AND w.identity_id = (SELECT direct_identity_id FROM threads WHERE business_id = $1 AND id = $2)
		ORDER BY w.created_at`, businessID, threadID)
	rb.reads = append(rb.reads, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return wrapErr(err, "read channel of thread %d", threadID)
		}
		_, err = pgx.ForEachRow(rows, []any{&out.App, &out.OTN}, func() error { return nil })
		if err != nil {
			return wrapErr(err, "read channel of thread %d", threadID)
		}
		for _, dst := range []*[]Product{&out.Products, &out.Waiting} {
			rows, err := br.Query()
			if err != nil {
				return wrapErr(err, "list products")
			}
			var p Product
			_, err = pgx.ForEachRow(rows, []any{&p.ID, &p.BusinessID, &p.SKU, &p.Name, &p.URL, &p.ImageURL, &p.Stock,
				&p.WATemplateName, &p.WATemplateLanguage, &p.CreatedAt, &p.UpdatedAt}, func() error {
				*dst = append(*dst, p)
				return nil
			})
			if err != nil {
				return wrapErr(err, "list products")
			}
		}
		return nil
	})
	return out
}
