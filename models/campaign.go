package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// Campaign states (contract part 2): draft → scheduled → running ⇄ paused → done | cancelled.
const (
	CampaignDraft     = "draft"
	CampaignScheduled = "scheduled"
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignDone      = "done"
	CampaignCancelled = "cancelled"
)

// Campaign kinds: a WhatsApp template to an audience, or a free-form UPDATE on
// Messenger or Instagram to the customers whose window is open now.
const (
	CampaignKindTemplate = "template"
	CampaignKindWindow   = "window"
)

// Why a campaign paused (empty: paused by hand).
const (
	PausedBudget   = "budget_exhausted"
	PausedErrors   = "error_rate"
	PausedTemplate = "template_paused"
)

// Recipient statuses. pending: no batch has claimed it; queued: its message
// is in the outbox; then the message's own status (a trigger keeps it).
const (
	RecipientPending   = "pending"
	RecipientSkipped   = "skipped"
	RecipientQueued    = "queued"
	RecipientUnknown   = "unknown"
	RecipientSent      = "sent"
	RecipientDelivered = "delivered"
	RecipientRead      = "read"
	RecipientFailed    = "failed"
)

// Skip reasons of the audience (besides the policy's own reason codes).
const (
	SkipOptedOut      = "marketing_opted_out"
	SkipPausedRegion  = "marketing_paused_region"
	SkipBlocked       = "blocked"
	SkipNoWhatsApp    = "no_whatsapp"
	SkipDuplicate     = "duplicate"
	SkipWindowClosed  = "window_closed"
	SkipNoPrice       = "no_price"
	SkipBudget        = "budget_exhausted"
	SkipUnpersonalise = "variables_unfilled"
)

// Campaign is a scheduled WhatsApp template send to an audience (or a
// Messenger/Instagram UPDATE to the open windows).
type Campaign struct {
	ID               int64      `json:"id"`
	BusinessID       int64      `json:"-"`
	ChannelID        int64      `json:"channel_id"`
	Name             string     `json:"name"`
	Kind             string     `gorm:"default:template" json:"kind"`
	TemplateID       *int64     `json:"template_id"`
	TemplateName     string     `json:"-"`
	TemplateLanguage string     `json:"-"`
	MessageText      string     `json:"text,omitempty"`
	Variables        JSON       `gorm:"type:jsonb" json:"variables"`
	Audience         JSON       `gorm:"type:jsonb" json:"audience"`
	Status           string     `gorm:"default:draft" json:"status"`
	PausedReason     string     `json:"paused_reason"`
	ScheduledAt      *time.Time `json:"scheduled_at"`
	TimeZone         string     `gorm:"default:UTC" json:"time_zone"`
	StartedAt        *time.Time `json:"started_at"`
	FinishedAt       *time.Time `json:"finished_at"`
	BudgetMicros     int64      `json:"-"`
	Currency         string     `json:"currency"`
	SpentMicros      int64      `json:"-"` // estimated cost of every message queued so far: what the budget is held against
	RevenueMicros    int64      `json:"-"`
	RatePerSecond    int        `json:"rate_per_second"`
	ParentID         *int64     `json:"parent_id"`
	DryRun           bool       `json:"dry_run"`
	Planned          int        `json:"-"`
	CreatedBy        *int64     `json:"-"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// Vars decodes the variable mapping, one per template parameter in order.
func (c *Campaign) Vars() []string {
	var v []string
	_ = json.Unmarshal(c.Variables, &v)
	return v
}

// Filter decodes the audience filter.
func (c *Campaign) Filter() AudienceFilter {
	var f AudienceFilter
	_ = json.Unmarshal(c.Audience, &f)
	return f
}

// Editable is a campaign whose settings may still change.
func (c *Campaign) Editable() bool { return c.Status == CampaignDraft || c.Status == CampaignScheduled }

// AudienceFilter picks a campaign's recipients among the channel's customers.
// Empty lists match everyone; the last-contacted range reads the customer's
// last message in their direct thread.
type AudienceFilter struct {
	Labels              []string   `json:"labels,omitempty"`    // label names, any of them
	Countries           []string   `json:"countries,omitempty"` // ISO alpha-2
	Apps                []string   `json:"apps,omitempty"`      // has an identity on one of these apps (came from Instagram…)
	IdentityIDs         []int64    `json:"identity_ids,omitempty"`
	LastContactedAfter  *time.Time `json:"last_contacted_after,omitempty"`
	LastContactedBefore *time.Time `json:"last_contacted_before,omitempty"`
}

// CampaignRecipient is one identity's progress through a campaign.
type CampaignRecipient struct {
	ID           int64      `json:"id"`
	CampaignID   int64      `json:"campaign_id"`
	IdentityID   *int64     `json:"identity_id"`
	ContactID    *int64     `json:"contact_id"`
	ThreadID     *int64     `json:"thread_id"`
	MessageID    *int64     `json:"message_id"`
	Country      string     `json:"country"`
	Market       string     `json:"market"`
	Status       string     `json:"status"`
	SkipReason   string     `json:"skip_reason"`
	PriceMicros  int64      `json:"-"`
	ActualMicros *int64     `json:"-"`
	Currency     string     `json:"currency"`
	Variables    JSON       `gorm:"type:jsonb" json:"variables,omitempty"`
	QueuedAt     *time.Time `json:"queued_at"`
	SentAt       *time.Time `json:"sent_at"`
	DeliveredAt  *time.Time `json:"delivered_at"`
	ReadAt       *time.Time `json:"read_at"`
	RepliedAt    *time.Time `json:"replied_at"`
	ClickedAt    *time.Time `json:"clicked_at"`
	FailedAt     *time.Time `json:"failed_at"`
	ErrorCode    *int       `json:"-"`
	ErrorTitle   string     `json:"-"`
}

// CampaignCounts are a campaign's recipients by current status (each counted
// once, in its latest status), plus those who replied or clicked, and the
// estimated and actual cost of what was queued: read from campaign_counts,
// which triggers keep, so a running campaign's page never counts recipients.
type CampaignCounts struct {
	Total     int64 `json:"total"`
	Pending   int64 `json:"pending"`
	Skipped   int64 `json:"skipped"`
	Queued    int64 `json:"queued"`
	Unknown   int64 `json:"unknown"`
	Sent      int64 `json:"sent"`
	Delivered int64 `json:"delivered"`
	Read      int64 `json:"read"`
	Replied   int64 `json:"replied"`
	Clicked   int64 `json:"clicked"`
	Failed    int64 `json:"failed"`

	EstimatedMicros int64 `json:"-"`
	ActualMicros    int64 `json:"-"`
}

// Reached is how many got the message at least as far as Meta accepting it.
func (c CampaignCounts) Reached() int64 { return c.Sent + c.Delivered + c.Read }

// ErrCampaignState is a transition the campaign's current state does not allow.
var ErrCampaignState = errors.New("store: campaign is not in a state that allows this")

// CreateCampaign adds a draft.
func (s *Store) CreateCampaign(ctx context.Context, c *Campaign) error {
	c.Status, c.PausedReason = CampaignDraft, ""
	if len(c.Variables) == 0 {
		c.Variables = JSON("[]")
	}
	if len(c.Audience) == 0 {
		c.Audience = JSON("{}")
	}
	if c.Kind == "" {
		c.Kind = CampaignKindTemplate
	}
	if c.TimeZone == "" {
		c.TimeZone = "UTC"
	}
	now := time.Now()
	c.CreatedAt, c.UpdatedAt = now, now
	return wrapErr(s.Gorm(ctx).Create(c).Error, "create campaign %q", c.Name)
}

// UpdateCampaign saves a draft's or scheduled campaign's settings; false when
// it is no longer editable (it started meanwhile).
func (s *Store) UpdateCampaign(ctx context.Context, c *Campaign) (bool, error) {
	res := s.Gorm(ctx).Exec(`UPDATE campaigns SET name = ?, channel_id = ?, kind = ?, template_id = ?, template_name = ?, template_language = ?,
			message_text = ?, variables = ?, audience = ?, scheduled_at = ?, time_zone = ?, budget_micros = ?, currency = ?,
			rate_per_second = ?, dry_run = ?, updated_at = now()
		WHERE business_id = ? AND id = ? AND status IN ('draft', 'scheduled')`,
		c.Name, c.ChannelID, c.Kind, c.TemplateID, c.TemplateName, c.TemplateLanguage, c.MessageText, c.Variables, c.Audience,
		c.ScheduledAt, c.TimeZone, c.BudgetMicros, c.Currency, c.RatePerSecond, c.DryRun, c.BusinessID, c.ID)
	return res.RowsAffected == 1, wrapErr(res.Error, "update campaign %d", c.ID)
}

// SetCampaignBudget changes the budget at any state (raise it, then resume).
func (s *Store) SetCampaignBudget(ctx context.Context, businessID, id, micros int64) (bool, error) {
	res := s.Gorm(ctx).Exec(`UPDATE campaigns SET budget_micros = ?, updated_at = now() WHERE business_id = ? AND id = ?
		AND status NOT IN ('done', 'cancelled')`, micros, businessID, id)
	return res.RowsAffected == 1, wrapErr(res.Error, "set budget of campaign %d", id)
}

// Campaign loads one of the business's campaigns; nil when it has none.
func (s *Store) Campaign(ctx context.Context, businessID, id int64) (*Campaign, error) {
	var c Campaign
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, id), &c)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch campaign %d", id)
	}
	return &c, nil
}

// LockCampaign loads a campaign FOR NO KEY UPDATE: one batch at a time per
// campaign, while the counter rows the outcomes append (their key check takes
// FOR KEY SHARE on the campaign) never wait for the batch.
func (s *Store) LockCampaign(ctx context.Context, businessID, id int64) (*Campaign, error) {
	var c Campaign
	ok, err := first(s.Gorm(ctx).Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Where("business_id = ? AND id = ?", businessID, id), &c)
	if err != nil || !ok {
		return nil, wrapErr(err, "lock campaign %d", id)
	}
	return &c, nil
}

// Campaigns lists the business's campaigns, newest first.
func (s *Store) Campaigns(ctx context.Context, businessID int64, limit int) ([]Campaign, error) {
	var cs []Campaign
	err := s.Gorm(ctx).Where("business_id = ?", businessID).Order("created_at DESC, id DESC").Limit(limit).Find(&cs).Error
	return cs, wrapErr(err, "list campaigns")
}

// TransitionCampaign moves a campaign from one of the states in from to `to`
// in one UPDATE … WHERE status IN (…): of two concurrent starts only one
// wins. It sets the times the target state implies; false when the campaign
// was not in any of from.
func (s *Store) TransitionCampaign(ctx context.Context, businessID, id int64, from []string, to, reason string) (bool, error) {
	res := s.Gorm(ctx).Exec(`UPDATE campaigns SET status = @to, paused_reason = @reason, updated_at = now(),
			started_at = CASE WHEN @to = 'running' THEN COALESCE(started_at, now()) ELSE started_at END,
			finished_at = CASE WHEN @to IN ('done', 'cancelled') THEN now() ELSE finished_at END
		WHERE business_id = @b AND id = @id AND status IN @from`,
		map[string]any{"to": to, "reason": reason, "b": businessID, "id": id, "from": from})
	return res.RowsAffected == 1, wrapErr(res.Error, "move campaign %d to %s", id, to)
}

// DueCampaigns claims the scheduled campaigns whose time has come, moving
// each to running in the same statement (so two schedulers never both start
// one), and returns them.
func (s *Store) DueCampaigns(ctx context.Context, now time.Time, limit int) ([]Campaign, error) {
	var cs []Campaign
	err := s.Gorm(ctx).Raw(`UPDATE campaigns c SET status = 'running', started_at = COALESCE(c.started_at, now()), updated_at = now()
		FROM (SELECT id FROM campaigns WHERE status = 'scheduled' AND scheduled_at <= ? ORDER BY scheduled_at LIMIT ?
			FOR UPDATE SKIP LOCKED) d
		WHERE c.id = d.id AND c.status = 'scheduled' RETURNING c.*`, now, limit).Scan(&cs).Error
	return cs, wrapErr(err, "claim due campaigns")
}

// RunningCampaigns lists running campaigns of every business (the scheduler
// makes sure each has its job).
func (s *Store) RunningCampaigns(ctx context.Context, limit int) ([]Campaign, error) {
	var cs []Campaign
	err := s.Gorm(ctx).Where("status = 'running'").Order("id").Limit(limit).Find(&cs).Error
	return cs, wrapErr(err, "list running campaigns")
}

// CampaignCounts sums the campaign's counter rows.
func (s *Store) CampaignCounts(ctx context.Context, campaignID int64) (CampaignCounts, error) {
	var rows []struct {
		Key string
		N   int64
	}
	var c CampaignCounts
	err := s.Gorm(ctx).Raw(`SELECT key, sum(n)::bigint AS n FROM campaign_counts WHERE campaign_id = ? GROUP BY key`, campaignID).Scan(&rows).Error
	if err != nil {
		return c, wrapErr(err, "count campaign %d", campaignID)
	}
	for _, r := range rows {
		switch r.Key {
		case "total":
			c.Total = r.N
		case RecipientPending:
			c.Pending = r.N
		case RecipientSkipped:
			c.Skipped = r.N
		case RecipientQueued:
			c.Queued = r.N
		case RecipientUnknown:
			c.Unknown = r.N
		case RecipientSent:
			c.Sent = r.N
		case RecipientDelivered:
			c.Delivered = r.N
		case RecipientRead:
			c.Read = r.N
		case RecipientFailed:
			c.Failed = r.N
		case "replied":
			c.Replied = r.N
		case "clicked":
			c.Clicked = r.N
		case "estimated_micros":
			c.EstimatedMicros = r.N
		case "actual_micros":
			c.ActualMicros = r.N
		}
	}
	return c, nil
}

// FoldCampaignCounts replaces the campaign's counter rows (the triggers append
// one per statement, so writers never wait on each other) by one row per key
// holding their sum, when it has more than keep rows; 0 folds every campaign
// with that many. Rows appended while it runs are not in its snapshot and stay.
func (s *Store) FoldCampaignCounts(ctx context.Context, campaignID int64, keep int) error {
	_, err := s.sqlExec(ctx, `WITH due AS (
			SELECT campaign_id FROM campaign_counts WHERE ($1::bigint = 0 OR campaign_id = $1::bigint)
			GROUP BY campaign_id HAVING count(*) > $2::int
		), d AS (
			DELETE FROM campaign_counts c USING due WHERE c.campaign_id = due.campaign_id RETURNING c.campaign_id, c.key, c.n
		)
		INSERT INTO campaign_counts (campaign_id, key, n) SELECT campaign_id, key, sum(n) FROM d GROUP BY 1, 2 HAVING sum(n) <> 0`,
		campaignID, keep)
	return wrapErr(err, "fold counts of campaign %d", campaignID)
}

// CampaignSkipReasons counts the skipped recipients by reason.
func (s *Store) CampaignSkipReasons(ctx context.Context, campaignID int64) (map[string]int, error) {
	var rows []struct {
		SkipReason string
		N          int
	}
	err := s.Gorm(ctx).Raw(`SELECT skip_reason, count(*) AS n FROM campaign_recipients WHERE campaign_id = ? AND status = 'skipped'
		GROUP BY 1`, campaignID).Scan(&rows).Error
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.SkipReason] = r.N
	}
	return out, wrapErr(err, "count skip reasons of campaign %d", campaignID)
}

// CampaignRecipients lists a campaign's recipients, optionally of one status,
// in id order after afterID (keyset paging).
func (s *Store) CampaignRecipients(ctx context.Context, businessID, campaignID int64, status string, afterID int64, limit int) ([]CampaignRecipient, error) {
	var rs []CampaignRecipient
	q := s.Gorm(ctx).Table("campaign_recipients r").Select("r.*").
		Joins("JOIN campaigns c ON c.id = r.campaign_id AND c.business_id = ?", businessID).
		Where("r.campaign_id = ? AND r.id > ?", campaignID, afterID)
	if status != "" {
		q = q.Where("r.status = ?", status)
	}
	err := q.Order("r.id").Limit(limit).Scan(&rs).Error
	return rs, wrapErr(err, "list recipients of campaign %d", campaignID)
}

// CampaignRecipient loads one recipient row of the business; nil when none.
func (s *Store) CampaignRecipient(ctx context.Context, businessID, recipientID int64) (*CampaignRecipient, error) {
	var rs []CampaignRecipient
	err := s.Gorm(ctx).Raw(`SELECT r.* FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id
		WHERE c.business_id = ? AND r.id = ?`, businessID, recipientID).Scan(&rs).Error
	if err != nil || len(rs) == 0 {
		return nil, wrapErr(err, "fetch campaign recipient %d", recipientID)
	}
	return &rs[0], nil
}

// CampaignRecipientByMessage finds the recipient a campaign message went to;
// nil when the message is no campaign's.
func (s *Store) CampaignRecipientByMessage(ctx context.Context, messageID int64) (*CampaignRecipient, error) {
	var rs []CampaignRecipient
	err := s.Gorm(ctx).Raw(`SELECT * FROM campaign_recipients WHERE message_id = ?`, messageID).Scan(&rs).Error
	if err != nil || len(rs) == 0 {
		return nil, wrapErr(err, "fetch recipient of message %d", messageID)
	}
	return &rs[0], nil
}

// ClaimPendingRecipients takes the campaign's next pending recipients in id
// order, locked until the transaction ends (SKIP LOCKED: two workers never
// take the same rows). The caller queues their messages and marks them in
// the same transaction, so each recipient is sent at most once.
func (s *Store) ClaimPendingRecipients(ctx context.Context, campaignID int64, n int) ([]CampaignRecipient, error) {
	var rs []CampaignRecipient
	err := s.Gorm(ctx).Raw(`SELECT * FROM campaign_recipients WHERE campaign_id = ? AND status = 'pending'
		ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, campaignID, n).Scan(&rs).Error
	return rs, wrapErr(err, "claim recipients of campaign %d", campaignID)
}

// RecipientOutcome is what a batch did with one claimed recipient: queued
// (with its message; none in a dry run), or skipped for a reason.
type RecipientOutcome struct {
	ID          int64
	MessageID   *int64
	SkipReason  string // "" when queued
	PriceMicros int64
	Currency    string
	Market      string
	Variables   JSON
}

// RecordRecipientOutcomes marks the batch's recipients queued or skipped and
// adds the queued ones' estimated cost to the campaign's spend, in one
// statement (inside the batch's transaction).
func (s *Store) RecordRecipientOutcomes(ctx context.Context, campaignID int64, outs []RecipientOutcome, at time.Time) error {
	if len(outs) == 0 {
		return nil
	}
	_, err := s.sqlExec(ctx, recipientOutcomesSQL+`
		UPDATE campaigns SET spent_micros = spent_micros + (SELECT COALESCE(sum(price_micros), 0) FROM upd WHERE status = 'queued'),
			updated_at = now()
		WHERE id = $9`, outcomeArgs(campaignID, outs, at)...)
	return wrapErr(err, "record %d outcomes of campaign %d", len(outs), campaignID)
}

// MarkRecipientOutcomes is RecordRecipientOutcomes without touching the
// campaign's row (a batch written before it takes the campaign's lock):
// queuedMicros is the estimated cost of those it marked queued, for
// AddCampaignSpend under the lock.
func (s *Store) MarkRecipientOutcomes(ctx context.Context, campaignID int64, outs []RecipientOutcome, at time.Time) (queuedMicros int64, err error) {
	if len(outs) == 0 {
		return 0, nil
	}
	err = s.sqlQueryRow(ctx, recipientOutcomesSQL+`
		SELECT COALESCE(sum(price_micros), 0)::bigint FROM upd WHERE status = 'queued'`,
		outcomeArgs(campaignID, outs, at)...).Scan(&queuedMicros)
	return queuedMicros, wrapErr(err, "mark %d outcomes of campaign %d", len(outs), campaignID)
}

// AddCampaignSpend adds micros to the campaign's spend (the estimated cost of
// a batch MarkRecipientOutcomes queued), under the batch's lock on it.
func (s *Store) AddCampaignSpend(ctx context.Context, campaignID, micros int64) error {
	_, err := s.sqlExec(ctx, `UPDATE campaigns SET spent_micros = spent_micros + $2, updated_at = now() WHERE id = $1`, campaignID, micros)
	return wrapErr(err, "add spend of campaign %d", campaignID)
}

// recipientOutcomesSQL marks the recipients pending in the campaign ($9) as
// outcomeArgs gives them; its CTE upd returns (price_micros, status).
const recipientOutcomesSQL = `WITH v AS (
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::jsonb[])
				AS v(id, message_id, reason, price, currency, market, vars)
		), upd AS (
			UPDATE campaign_recipients r SET
				status = CASE WHEN v.reason = '' THEN 'queued' ELSE 'skipped' END,
				skip_reason = v.reason, message_id = v.message_id, price_micros = v.price,
				currency = v.currency, market = CASE WHEN v.market <> '' THEN v.market ELSE r.market END,
				variables = NULLIF(v.vars, 'null'::jsonb),
				queued_at = CASE WHEN v.reason = '' THEN $8::timestamptz END
			FROM v WHERE r.id = v.id AND r.campaign_id = $9 AND r.status = 'pending'
			RETURNING r.price_micros, r.status
		)`

func outcomeArgs(campaignID int64, outs []RecipientOutcome, at time.Time) []any {
	n := len(outs)
	ids, msgs, reasons, prices := make([]int64, n), make([]*int64, n), make([]string, n), make([]int64, n)
	curs, markets, vars := make([]string, n), make([]string, n), make([]string, n)
	for i, o := range outs {
		ids[i], msgs[i], reasons[i], prices[i], curs[i], markets[i] = o.ID, o.MessageID, o.SkipReason, o.PriceMicros, o.Currency, o.Market
		vars[i] = "null"
		if len(o.Variables) > 0 {
			vars[i] = string(o.Variables)
		}
	}
	return []any{ids, msgs, reasons, prices, curs, markets, vars, at, campaignID}
}

// RecallQueuedMessages takes back, inside the pausing transaction, the
// campaign's messages still waiting in the outbox that no worker has handed
// to Meta: their recipients return to pending (resume queues them again) and
// the messages, their costs and their spend go. A message whose request may
// be leaving (leaving_at), or that a worker holds locked at this instant, is
// left to its worker: it goes once. A worker that claimed a recalled message
// finds its claim gone when it marks it leaving, so it never sends it.
func (s *Store) RecallQueuedMessages(ctx context.Context, campaignID int64) (int, error) {
	var candidates []int64
	if err := s.Gorm(ctx).Raw(`SELECT message_id FROM campaign_recipients WHERE campaign_id = ? AND status = 'queued'
		AND message_id IS NOT NULL`, campaignID).Scan(&candidates).Error; err != nil {
		return 0, wrapErr(err, "find queued messages of campaign %d", campaignID)
	}
	if len(candidates) == 0 {
		return 0, nil
	}
	// Messages first, in id order (lockMessages' order); FOR UPDATE also keeps
	// a claim from adding an outbox_sends row meanwhile (its key check waits).
	var locked []int64
	if err := s.Gorm(ctx).Raw(`SELECT id FROM messages WHERE id IN ? AND status = 'queued' AND external_id IS NULL
		ORDER BY id FOR UPDATE SKIP LOCKED`, candidates).Scan(&locked).Error; err != nil {
		return 0, wrapErr(err, "lock queued messages of campaign %d", campaignID)
	}
	if len(locked) == 0 {
		return 0, nil
	}
	var sends []struct {
		MessageID int64
		Free      bool
	}
	if err := s.Gorm(ctx).Raw(`SELECT message_id, leaving_at IS NULL AND finished_at IS NULL AS free FROM outbox_sends
		WHERE message_id IN ? ORDER BY message_id FOR UPDATE SKIP LOCKED`, locked).Scan(&sends).Error; err != nil {
		return 0, wrapErr(err, "lock claims of campaign %d", campaignID)
	}
	seen := make(map[int64]bool, len(sends))
	var recall []int64
	for _, o := range sends {
		seen[o.MessageID] = true
		if o.Free {
			recall = append(recall, o.MessageID)
		}
	}
	var claimed []int64
	if err := s.Gorm(ctx).Raw(`SELECT message_id FROM outbox_sends WHERE message_id IN ?`, locked).Scan(&claimed).Error; err != nil {
		return 0, wrapErr(err, "read claims of campaign %d", campaignID)
	}
	busy := map[int64]bool{}
	for _, id := range claimed {
		busy[id] = !seen[id] // a claim row another transaction holds: in a worker's hands now
	}
	for _, id := range locked {
		if _, ok := busy[id]; !ok {
			recall = append(recall, id) // never claimed
		}
	}
	if len(recall) == 0 {
		return 0, nil
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`WITH c AS (SELECT business_id, (created_at AT TIME ZONE 'UTC')::date AS day, COALESCE(channel_id, 0) AS ch, market, category,
				currency, count(*) AS n, COALESCE(sum(estimated_micros), 0) AS e
			FROM message_costs WHERE message_id = ANY($1) GROUP BY 1, 2, 3, 4, 5, 6)
		UPDATE spend_daily s SET messages = s.messages - c.n, estimated_micros = s.estimated_micros - c.e FROM c
		WHERE s.business_id = c.business_id AND s.day = c.day AND s.channel_id = c.ch AND s.market = c.market
			AND s.category = c.category AND s.currency = c.currency`, []any{recall}},
		{`WITH c AS (SELECT business_id, date_trunc('month', (created_at AT TIME ZONE 'UTC')::date)::date AS month, COALESCE(channel_id, 0) AS ch,
				market, category, currency, count(*) AS n, COALESCE(sum(estimated_micros), 0) AS e
			FROM message_costs WHERE message_id = ANY($1) GROUP BY 1, 2, 3, 4, 5, 6)
		UPDATE spend_monthly s SET messages = s.messages - c.n, estimated_micros = s.estimated_micros - c.e FROM c
		WHERE s.business_id = c.business_id AND s.month = c.month AND s.channel_id = c.ch AND s.market = c.market
			AND s.category = c.category AND s.currency = c.currency`, []any{recall}},
		{`WITH r AS (
			SELECT id, price_micros FROM campaign_recipients WHERE campaign_id = $2 AND message_id = ANY($1) ORDER BY id FOR UPDATE
		), upd AS (
			UPDATE campaign_recipients c SET status = 'pending', message_id = NULL, queued_at = NULL, price_micros = 0,
				currency = '', variables = NULL
			FROM r WHERE c.id = r.id
		)
		UPDATE campaigns SET spent_micros = spent_micros - (SELECT COALESCE(sum(price_micros), 0) FROM r), updated_at = now() WHERE id = $2`, []any{recall, campaignID}},
		{`DELETE FROM messages WHERE id = ANY($1)`, []any{recall}},
	} {
		if _, err := s.sqlExec(ctx, q.sql, q.args...); err != nil {
			return 0, wrapErr(err, "recall %d messages of campaign %d", len(recall), campaignID)
		}
	}
	return len(recall), nil
}

// RecentFailureRate is the share of failures among the campaign's last n
// recipients with an outcome at Meta (sent or further, or failed), and how
// many such there were.
func (s *Store) RecentFailureRate(ctx context.Context, campaignID int64, n int) (failed, of int, err error) {
	var row struct{ Failed, Of int }
	err = s.Gorm(ctx).Raw(`SELECT count(*) FILTER (WHERE status = 'failed') AS failed, count(*) AS of FROM (
			SELECT status FROM campaign_recipients WHERE campaign_id = ? AND queued_at IS NOT NULL
			AND status IN ('sent', 'delivered', 'read', 'failed') ORDER BY queued_at DESC LIMIT ?) x`, campaignID, n).Scan(&row).Error
	return row.Failed, row.Of, wrapErr(err, "read failure rate of campaign %d", campaignID)
}

// CampaignClickToken is the URL-safe token of a tracked link: recipient and
// slot (the variable's index), HMAC-signed like CallbackRef so nobody can
// record a click for another recipient. BASE_URL/c/<token> redirects.
func (c *Cipher) CampaignClickToken(recipientID int64, slot int) string {
	body := strconv.FormatInt(recipientID, 36) + "." + strconv.Itoa(slot)
	return body + "." + c.clickMAC(body)
}

// ErrBadClickToken is a click token CampaignClickToken did not make.
var ErrBadClickToken = errors.New("models: bad campaign click token")

// ParseCampaignClickToken returns the recipient and slot of a token
// CampaignClickToken made.
func (c *Cipher) ParseCampaignClickToken(tok string) (recipientID int64, slot int, err error) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return 0, 0, ErrBadClickToken
	}
	body, mac := tok[:i], tok[i+1:]
	if !hmac.Equal([]byte(mac), []byte(c.clickMAC(body))) {
		return 0, 0, ErrBadClickToken
	}
	rs, ss, ok := strings.Cut(body, ".")
	if !ok {
		return 0, 0, ErrBadClickToken
	}
	id, err1 := strconv.ParseInt(rs, 36, 64)
	sl, err2 := strconv.Atoi(ss)
	if err1 != nil || err2 != nil || id <= 0 || sl < 0 {
		return 0, 0, ErrBadClickToken
	}
	return id, sl, nil
}

func (c *Cipher) clickMAC(body string) string {
	h := hmac.New(sha256.New, c.macKey)
	h.Write([]byte("campaign-click:"))
	h.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// RecipientFacts are what a batch reads of each claimed recipient to
// personalise its message: the contact's name (else the identity's display
// name), phone and country, and the thread it is sent in.
type RecipientFacts struct {
	ID       int64
	ThreadID *int64
	Name     string
	Phone    string
	Country  string
}

// recipientFactsSelect reads a recipient's facts from the rows r (with
// identity_id, contact_id, thread_id, country, market), i and c.
const recipientFactsSelect = `r.id, r.identity_id, r.market, r.thread_id, COALESCE(NULLIF(c.name, ''), i.display_name, ''),
	COALESCE(NULLIF(i.phone, ''), c.phone, ''), COALESCE(NULLIF(r.country, ''), NULLIF(i.country, ''), c.country, '')`

// CampaignRecipientFacts loads the facts of the given recipients.
func (s *Store) CampaignRecipientFacts(ctx context.Context, ids []int64) (map[int64]RecipientFacts, error) {
	rows, err := s.sqlQuery(ctx, `SELECT `+recipientFactsSelect+`
		FROM campaign_recipients r LEFT JOIN identities i ON i.id = r.identity_id LEFT JOIN contacts c ON c.id = r.contact_id
		WHERE r.id = ANY($1)`, Int64List(ids))
	if err != nil {
		return nil, wrapErr(err, "load facts of %d recipients", len(ids))
	}
	_, out, err := scanRecipientFacts(rows, len(ids))
	return out, wrapErr(err, "load facts of %d recipients", len(ids))
}

// ClaimPendingRecipientFacts is ClaimPendingRecipients (the campaign's next n
// pending recipients in id order, locked until the transaction ends, SKIP
// LOCKED) returning with each its facts, in one statement. A recipient
// without a thread yet has a nil ThreadID (EnsureRecipientThreads gives it one).
func (s *Store) ClaimPendingRecipientFacts(ctx context.Context, campaignID int64, n int) ([]CampaignRecipient, map[int64]RecipientFacts, error) {
	rows, err := s.sqlQuery(ctx, `WITH r AS (
			SELECT id, identity_id, contact_id, thread_id, country, market FROM campaign_recipients
			WHERE campaign_id = $1 AND status = 'pending' ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
		)
		SELECT `+recipientFactsSelect+`
		FROM r LEFT JOIN identities i ON i.id = r.identity_id LEFT JOIN contacts c ON c.id = r.contact_id
		ORDER BY r.id`, campaignID, n)
	if err != nil {
		return nil, nil, wrapErr(err, "claim recipients of campaign %d", campaignID)
	}
	rs, facts, err := scanRecipientFacts(rows, n)
	for i := range rs {
		rs[i].CampaignID, rs[i].Status = campaignID, RecipientPending
	}
	return rs, facts, wrapErr(err, "claim recipients of campaign %d", campaignID)
}

func scanRecipientFacts(rows *sql.Rows, n int) ([]CampaignRecipient, map[int64]RecipientFacts, error) {
	rs := make([]CampaignRecipient, 0, n)
	out := make(map[int64]RecipientFacts, n)
	err := scanRows(rows, func(rows *sql.Rows) error {
		var r CampaignRecipient
		var f RecipientFacts
		if err := rows.Scan(&r.ID, &r.IdentityID, &r.Market, &f.ThreadID, &f.Name, &f.Phone, &f.Country); err != nil {
			return err
		}
		f.ID, r.ThreadID = r.ID, f.ThreadID
		rs = append(rs, r)
		out[r.ID] = f
		return nil
	})
	return rs, out, err
}

// CampaignTemplate finds a channel's template by name and language in
// whatever state Meta reports (the caller refuses one not approved); nil when
// the channel has none.
func (s *Store) CampaignTemplate(ctx context.Context, businessID, channelID int64, name, language string) (*WATemplate, error) {
	var t WATemplate
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND channel_id = ? AND name = ? AND language = ?",
		businessID, channelID, name, language), &t)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch template %s/%s", name, language)
	}
	return &t, nil
}

// ApprovedCampaignTemplates lists a channel's approved templates, for the editor.
func (s *Store) ApprovedCampaignTemplates(ctx context.Context, businessID, channelID int64) ([]WATemplate, error) {
	var ts []WATemplate
	err := s.Gorm(ctx).Where("business_id = ? AND channel_id = ? AND status = 'approved'", businessID, channelID).
		Order("name, language").Find(&ts).Error
	return ts, wrapErr(err, "list approved templates of channel %d", channelID)
}

// CampaignsToRun lists the campaigns that should have a runner job now:
// running ones, and scheduled ones whose time has come.
func (s *Store) CampaignsToRun(ctx context.Context, now time.Time, limit int) ([]Campaign, error) {
	var cs []Campaign
	err := s.Gorm(ctx).Where("status = 'running' OR status = 'scheduled' AND scheduled_at <= ?", now).Order("id").Limit(limit).Find(&cs).Error
	return cs, wrapErr(err, "list campaigns to run")
}
