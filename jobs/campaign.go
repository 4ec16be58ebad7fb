package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// Campaigner creates, estimates and runs campaigns. The runner is a River
// job per campaign, like listmonk's manager loop: each run of the job works
// batches for a while and snoozes, every batch one transaction that locks the
// campaign, claims pending recipients and queues their messages through the
// outbox (or marks them skipped), so a killed worker loses only its
// uncommitted batch and nobody is sent twice.
type Campaigner struct {
	store  *models.Store
	outbox *Outbox
	insert *river.Client[*sql.Tx]
	now    func() time.Time
	prices *pricing.Book

	progress *sendProgress // the deliverer's outcomes wake a backlogged runner

	mu      sync.Mutex
	pers    Personaliser
	batch   int           // recipients one batch claims (a rate below it claims the rate)
	backlog int           // queued-but-unsent messages above which the runner waits (so a pause stops soon)
	slice   time.Duration // how long one run of the job works before snoozing
	poll    time.Duration // the longest a scheduled campaign's job sleeps before looking again
}

func newCampaigner(o *Outbox) *Campaigner {
	return &Campaigner{store: o.store, outbox: o, insert: o.insert, now: o.now, prices: o.prices,
		progress: &sendProgress{}, pers: Personaliser{Cipher: o.store.Cipher()}, batch: 500, backlog: 1500, slice: 10 * time.Second, poll: 30 * time.Second}
}

// Campaigns is the pipeline's campaign runner (implements web.Campaigns).
func (p *Pipeline) Campaigns() *Campaigner { return p.campaigns }

// SetBaseURL is where tracked links point (BASE_URL/c/<token>).
func (c *Campaigner) SetBaseURL(u string) {
	c.mu.Lock()
	c.pers.BaseURL = u
	c.mu.Unlock()
}

// SetBatchSize changes how many recipients a batch claims and the backlog
// the runner keeps queued (tests use small ones).
func (c *Campaigner) SetBatchSize(n, backlog int) {
	c.mu.Lock()
	c.batch, c.backlog = max(1, n), max(1, backlog)
	c.mu.Unlock()
}

// SetPollInterval bounds how long a scheduled campaign's job sleeps before
// it looks at the clock again (tests move the clock).
func (c *Campaigner) SetPollInterval(d time.Duration) {
	c.mu.Lock()
	c.poll = max(d, time.Millisecond)
	c.mu.Unlock()
}

// LocalSchedule reads a wall-clock time ("2026-12-24T09:00", as a
// datetime-local field gives it) in the named IANA time zone.
func LocalSchedule(local, zone string) (time.Time, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "Local" {
		return time.Time{}, fieldErr("time_zone", "campaign.err.time_zone", "unknown time zone %q (use an IANA name such as Europe/Rome)", zone)
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(local), loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fieldErr("scheduled_at", "campaign.err.schedule_format", "give the date and time as YYYY-MM-DDTHH:MM")
}

// TemplateRef names a WhatsApp template.
type TemplateRef struct {
	Name     string `json:"name"`
	Language string `json:"language"`
}

// CampaignInput is a campaign as the API and the editor give it.
type CampaignInput struct {
	Name          string                `json:"name"`
	ChannelID     int64                 `json:"channel_id"`
	Template      TemplateRef           `json:"template"`
	Text          string                `json:"text"` // Messenger/Instagram: the UPDATE sent to open windows
	Variables     []string              `json:"variables"`
	Audience      models.AudienceFilter `json:"audience"`
	ScheduledAt   *time.Time            `json:"scheduled_at"`
	TimeZone      string                `json:"time_zone"`
	Budget        string                `json:"budget"`
	Currency      string                `json:"currency"`
	RatePerSecond int                   `json:"rate_per_second"`
	DryRun        bool                  `json:"dry_run"`
}

// fieldErr is a bad input's error: Message in English for the API, Key (a
// views catalogue key, taking the same args) for the editor's reader.
func fieldErr(field, key, format string, args ...any) error {
	return &models.FieldError{Field: field, Message: fmt.Sprintf(format, args...), Key: key, Args: args}
}

// build checks an input against the business's channels, templates and
// prices and fills the campaign row; the error is a *models.FieldError.
func (c *Campaigner) build(ctx context.Context, businessID int64, in CampaignInput, camp *models.Campaign) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return fieldErr("name", "campaign.err.name", "a campaign needs a name")
	}
	ch, err := c.store.Channel(ctx, businessID, in.ChannelID)
	if err != nil {
		return err
	}
	if ch == nil {
		return fieldErr("channel_id", "campaign.err.channel", "no such channel")
	}
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil || in.TimeZone == "Local" {
		return fieldErr("time_zone", "campaign.err.time_zone", "unknown time zone %q (use an IANA name such as Europe/Rome)", in.TimeZone)
	}
	if in.ScheduledAt != nil && in.ScheduledAt.Before(c.now().Add(-time.Minute)) {
		return fieldErr("scheduled_at", "campaign.err.schedule_past", "the schedule is in the past")
	}
	if in.RatePerSecond < 0 || in.RatePerSecond > 10000 {
		return fieldErr("rate_per_second", "campaign.err.rate", "rate_per_second must be between 0 (the channel's limit) and 10000")
	}
	var budget int64
	if strings.TrimSpace(in.Budget) != "" {
		if budget, err = pricing.ParseMicros(strings.TrimSpace(in.Budget)); err != nil || budget < 0 {
			return fieldErr("budget", "campaign.err.budget_format", "budget must be a decimal amount such as \"50.00\"")
		}
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	*camp = models.Campaign{ID: camp.ID, BusinessID: businessID, ChannelID: ch.ID, Name: in.Name, TimeZone: in.TimeZone,
		ScheduledAt: in.ScheduledAt, BudgetMicros: budget, Currency: in.Currency, RatePerSecond: in.RatePerSecond,
		DryRun: in.DryRun, CreatedBy: camp.CreatedBy}
	aud, _ := json.Marshal(in.Audience)
	camp.Audience = aud
	if ch.App != models.AppWhatsApp {
		// Messenger and Instagram: no marketing outside the window (the paid
		// Marketing Message API is for tech providers): an UPDATE to open windows.
		camp.Kind, camp.MessageText = models.CampaignKindWindow, strings.TrimSpace(in.Text)
		if camp.MessageText == "" {
			return fieldErr("text", "campaign.err.text", "a Messenger or Instagram campaign sends a text to the customers whose window is open")
		}
		camp.Variables = models.JSON("[]")
		return nil
	}
	camp.Kind = models.CampaignKindTemplate
	if in.Template.Name == "" || in.Template.Language == "" {
		return fieldErr("template", "campaign.err.template_choose", "choose an approved template (name and language)")
	}
	tpl, err := c.store.CampaignTemplate(ctx, businessID, ch.ID, in.Template.Name, in.Template.Language)
	if err != nil {
		return err
	}
	if tpl == nil {
		return fieldErr("template", "campaign.err.template_missing", "no template %q (%s) on this channel", in.Template.Name, in.Template.Language)
	}
	if err := CheckCampaignVariables(tpl, in.Variables); err != nil {
		return err
	}
	vars, _ := json.Marshal(append([]string{}, in.Variables...))
	camp.TemplateID, camp.TemplateName, camp.TemplateLanguage, camp.Variables = &tpl.ID, tpl.Name, tpl.Language, vars
	if budget <= 0 {
		return fieldErr("budget", "campaign.err.budget_needed", "a WhatsApp campaign needs a budget")
	}
	cheapest, cur, err := c.cheapestPrice(ctx, businessID, tpl.Category)
	if err != nil {
		return err
	}
	if camp.Currency == "" {
		camp.Currency = cmpOr(cur, "EUR")
	}
	if cur != "" && cur != camp.Currency {
		return fieldErr("currency", "campaign.err.currency", "the price table is in %s; give the budget in %s", cur, cur)
	}
	if cheapest > 0 && budget < cheapest {
		return fieldErr("budget", "campaign.err.budget_low", "the budget is below the price of one message (%s %s)", pricing.FormatMicros(cheapest), cur)
	}
	return nil
}

// skippedList says the skip counts by reason, the largest first:
// "opted_out 3, blocked 1" (or "none").
func skippedList(skipped map[string]int) string {
	reasons := slices.Collect(maps.Keys(skipped))
	slices.SortFunc(reasons, func(a, b string) int { return cmp.Or(skipped[b]-skipped[a], strings.Compare(a, b)) })
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		parts = append(parts, r+" "+strconv.Itoa(skipped[r]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cheapestPrice is the lowest price of one message of the category in any
// market today, and the table's currency ("" when there is no table).
func (c *Campaigner) cheapestPrice(ctx context.Context, businessID int64, category string) (int64, string, error) {
	rows, err := c.store.PricesInForce(ctx, businessID, c.now())
	if err != nil {
		return 0, "", err
	}
	var low int64 = -1
	cur := ""
	for _, r := range rows {
		if r.Category != category || r.Unavailable {
			continue
		}
		cur = r.Currency
		if low < 0 || r.PriceMicros < low {
			low = r.PriceMicros
		}
	}
	return max(low, 0), cur, nil
}

// Create validates the input and adds the campaign as a draft.
func (c *Campaigner) Create(ctx context.Context, businessID int64, in CampaignInput, by *int64) (*models.Campaign, error) {
	camp := &models.Campaign{CreatedBy: by}
	if err := c.build(ctx, businessID, in, camp); err != nil {
		return nil, err
	}
	if err := c.store.CreateCampaign(ctx, camp); err != nil {
		return nil, err
	}
	return camp, nil
}

// Update changes a draft or scheduled campaign's settings.
func (c *Campaigner) Update(ctx context.Context, businessID, id int64, in CampaignInput) (*models.Campaign, error) {
	old, err := c.store.Campaign(ctx, businessID, id)
	if err != nil || old == nil {
		return nil, cmpErr(err, ErrNotFound)
	}
	camp := &models.Campaign{ID: id, CreatedBy: old.CreatedBy}
	if err := c.build(ctx, businessID, in, camp); err != nil {
		return nil, err
	}
	ok, err := c.store.UpdateCampaign(ctx, camp)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.ErrCampaignState
	}
	return c.store.Campaign(ctx, businessID, id)
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// MarketCost is the estimate's cost in one market.
type MarketCost struct {
	Market      string `json:"market"`
	Recipients  int    `json:"recipients"`
	PriceMicros int64  `json:"-"`
	TotalMicros int64  `json:"-"`
}

// Estimate is what a campaign would do now: who it reaches, who it skips and
// why, and what it costs by market against the budget. Nothing is sent.
type Estimate struct {
	Recipients   int            `json:"recipients"`
	Skipped      map[string]int `json:"skipped"`
	ByMarket     []MarketCost   `json:"by_market"`
	TotalMicros  int64          `json:"-"`
	Currency     string         `json:"currency"`
	Unpriced     int            `json:"unpriced"` // recipients whose market has no price in the table
	BudgetMicros int64          `json:"-"`
	Affordable   int            `json:"affordable"` // how many the budget pays for, cheapest markets last
	Category     string         `json:"category"`
}

// OverBudget reports whether the estimate's total exceeds the budget.
func (e *Estimate) OverBudget() bool { return e.BudgetMicros > 0 && e.TotalMicros > e.BudgetMicros }

// audienceKind is which exclusions a campaign's audience takes.
func (c *Campaigner) audienceKind(ctx context.Context, camp *models.Campaign) (models.AudienceKind, *models.WATemplate, error) {
	if camp.Kind == models.CampaignKindWindow {
		return models.AudienceKind{Window: true, Now: c.now()}, nil, nil
	}
	if camp.TemplateID == nil {
		return models.AudienceKind{Marketing: true, Now: c.now()}, nil, nil
	}
	tpl, err := c.store.TemplateByID(ctx, camp.BusinessID, *camp.TemplateID)
	if err != nil {
		return models.AudienceKind{}, nil, err
	}
	marketing := tpl == nil || tpl.Category != models.CategoryUtility && tpl.Category != models.CategoryAuthentication
	return models.AudienceKind{Marketing: marketing, Now: c.now()}, tpl, nil
}

// place puts each dialling prefix in its country and market and says
// whether marketing there is paused now (the policy's rule table).
func (c *Campaigner) place(groups []models.AudienceGroup, marketing bool) map[string]models.PrefixPlace {
	now := c.now()
	out := map[string]models.PrefixPlace{}
	for _, g := range groups {
		if _, ok := out[g.Prefix]; ok || g.Prefix == "" {
			continue
		}
		p := models.PrefixPlace{Prefix: g.Prefix}
		if r, err := pricing.MarketOf(g.Phone, now); err == nil {
			p.Country, p.Market = r.Country, r.Market
		}
		out[g.Prefix] = p
	}
	for k, p := range out {
		if marketing {
			p.Paused = marketingPaused(p.Country, now)
		}
		out[k] = p
	}
	return out
}

// marketingPaused asks the policy engine whether a marketing template to a
// WhatsApp customer of the country would be refused for its region.
func marketingPaused(country string, now time.Time) bool {
	if country == "" {
		return false
	}
	d := policy.Decide(policy.Facts{App: policy.AppWhatsApp, Identity: policy.Identity{Country: country},
		Send: policy.Send{Kind: policy.SendTemplate, Category: policy.CategoryMarketing}}, now)
	return d.Reason == policy.ReasonMarketingPausedRegion
}

// Estimate counts and prices the campaign's audience as it stands now.
func (c *Campaigner) Estimate(ctx context.Context, businessID, id int64) (*Estimate, error) {
	camp, err := c.store.Campaign(ctx, businessID, id)
	if err != nil || camp == nil {
		return nil, cmpErr(err, ErrNotFound)
	}
	return c.estimate(ctx, camp)
}

func (c *Campaigner) estimate(ctx context.Context, camp *models.Campaign) (*Estimate, error) {
	kind, tpl, err := c.audienceKind(ctx, camp)
	if err != nil {
		return nil, err
	}
	groups, err := c.store.AudienceGroups(ctx, camp.BusinessID, camp.ChannelID, camp.Filter(), kind)
	if err != nil {
		return nil, err
	}
	return c.estimateOf(ctx, camp, kind, tpl, groups)
}

// estimateOf prices the audience's groups (one AudienceGroups pass).
func (c *Campaigner) estimateOf(ctx context.Context, camp *models.Campaign, kind models.AudienceKind, tpl *models.WATemplate,
	groups []models.AudienceGroup) (*Estimate, error) {
	places := c.place(groups, kind.Marketing)
	e := &Estimate{Skipped: map[string]int{}, Currency: camp.Currency, BudgetMicros: camp.BudgetMicros, Category: models.CategoryService}
	if tpl != nil {
		e.Category = tpl.Category
	}
	byMarket := map[string]*MarketCost{}
	for _, g := range groups {
		reason := g.Reason
		p := places[g.Prefix]
		if reason == "" && p.Paused && (g.Country == "" || strings.EqualFold(g.Country, p.Country)) {
			reason = models.SkipPausedRegion
		}
		if reason == "" && kind.Marketing && g.Country != "" && marketingPaused(g.Country, c.now()) {
			reason = models.SkipPausedRegion
		}
		if reason != "" {
			e.Skipped[reason] += g.N
			continue
		}
		e.Recipients += g.N
		if camp.Kind == models.CampaignKindWindow {
			continue // free-form inside the window: no charge
		}
		mc := byMarket[p.Market]
		if mc == nil {
			mc = &MarketCost{Market: p.Market}
			byMarket[p.Market] = mc
			if p.Market != "" && c.prices != nil {
				q, err := c.prices.QuoteMarket(ctx, camp.BusinessID, pricing.Recipient{Country: p.Country, Market: p.Market}, e.Category, c.now())
				switch {
				case errors.Is(err, pricing.ErrNoPrice):
				case err != nil:
					return nil, err
				default:
					mc.PriceMicros = q.PriceMicros
					if e.Currency == "" {
						e.Currency = q.Currency
					}
				}
			}
		}
		mc.Recipients += g.N
	}
	for _, mc := range byMarket {
		mc.TotalMicros = mc.PriceMicros * int64(mc.Recipients)
		e.TotalMicros += mc.TotalMicros
		if mc.PriceMicros == 0 && camp.Kind != models.CampaignKindWindow {
			e.Unpriced += mc.Recipients
		}
		e.ByMarket = append(e.ByMarket, *mc)
	}
	sort.Slice(e.ByMarket, func(i, j int) bool {
		if e.ByMarket[i].TotalMicros != e.ByMarket[j].TotalMicros {
			return e.ByMarket[i].TotalMicros > e.ByMarket[j].TotalMicros
		}
		return e.ByMarket[i].Market < e.ByMarket[j].Market
	})
	e.Affordable = e.Recipients
	if e.BudgetMicros > 0 && e.OverBudget() {
		left, n := e.BudgetMicros, 0
		ms := append([]MarketCost(nil), e.ByMarket...)
		sort.Slice(ms, func(i, j int) bool { return ms[i].PriceMicros < ms[j].PriceMicros })
		for _, m := range ms {
			if m.PriceMicros == 0 {
				n += m.Recipients
				continue
			}
			k := min(int64(m.Recipients), left/m.PriceMicros)
			n, left = n+int(k), left-k*m.PriceMicros
		}
		e.Affordable = n
	}
	return e, nil
}

// campaignArgs is one River job: run one campaign (or start it when its
// scheduled time comes). Unique by campaign: a second insert is a no-op.
type campaignArgs struct {
	BusinessID int64 `json:"business_id"`
	CampaignID int64 `json:"campaign_id"`
}

func (campaignArgs) Kind() string { return "campaign_run" }

func campaignJobOpts(at *time.Time) *river.InsertOpts {
	// Unique among live jobs only: a completed run must not keep a resume from queueing the next.
	o := &river.InsertOpts{Queue: queueBulk, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable,
		rivertype.JobStateScheduled}}}
	if at != nil {
		o.ScheduledAt = *at
	}
	return o
}

func (c *Campaigner) queueJob(ctx context.Context, tx *models.Store, camp *models.Campaign, at *time.Time) error {
	_, err := c.insert.InsertTx(ctx, sqlTx(tx), campaignArgs{BusinessID: camp.BusinessID, CampaignID: camp.ID}, campaignJobOpts(at))
	if err != nil {
		return fmt.Errorf("jobs: unable to queue campaign %d: %w", camp.ID, err)
	}
	return nil
}

// checkStartable refuses a campaign whose template is not approved now.
func (c *Campaigner) checkStartable(ctx context.Context, camp *models.Campaign) (*models.WATemplate, error) {
	if camp.Kind == models.CampaignKindWindow {
		return nil, nil
	}
	var tpl *models.WATemplate
	var err error
	if camp.TemplateID != nil {
		tpl, err = c.store.TemplateByID(ctx, camp.BusinessID, *camp.TemplateID)
		if err != nil {
			return nil, err
		}
	}
	switch {
	case tpl == nil:
		return nil, fieldErr("template", "campaign.err.template_gone", "the campaign's template no longer exists")
	case tpl.Status != models.TemplateApproved:
		return nil, fieldErr("template", "campaign.err.template_status", "template %s is %s at Meta, not approved: it cannot be sent", tpl.Name, strings.ToUpper(tpl.Status))
	}
	return tpl, CheckCampaignVariables(tpl, camp.Vars())
}

// Start starts a draft now, or schedules it when its scheduled_at is in the
// future. One UPDATE … WHERE status IN (…) decides: of two concurrent starts
// one runs, the other gets ErrCampaignState.
func (c *Campaigner) Start(ctx context.Context, businessID, id int64) (*models.Campaign, error) {
	camp, err := c.store.Campaign(ctx, businessID, id)
	if err != nil || camp == nil {
		return nil, cmpErr(err, ErrNotFound)
	}
	if _, err := c.checkStartable(ctx, camp); err != nil {
		return nil, err
	}
	if camp.ScheduledAt != nil && camp.ScheduledAt.After(c.now()) {
		err = c.store.InTx(ctx, func(tx *models.Store) error {
			ok, err := tx.TransitionCampaign(ctx, businessID, id, []string{models.CampaignDraft}, models.CampaignScheduled, "")
			if err != nil {
				return err
			}
			if !ok {
				return models.ErrCampaignState
			}
			return c.queueJob(ctx, tx, camp, camp.ScheduledAt)
		})
	} else {
		err = c.store.InTx(ctx, func(tx *models.Store) error {
			ok, err := tx.TransitionCampaign(ctx, businessID, id, []string{models.CampaignDraft, models.CampaignScheduled}, models.CampaignRunning, "")
			if err != nil {
				return err
			}
			if !ok {
				return models.ErrCampaignState
			}
			if err := c.materialise(ctx, tx, camp, true); err != nil {
				return err
			}
			return c.queueJob(ctx, tx, camp, nil)
		})
	}
	if err != nil {
		return nil, err
	}
	return c.store.Campaign(ctx, businessID, id)
}

// materialise writes the campaign's recipients (once) in tx. strict refuses
// an empty audience or a budget below the cheapest recipient's message (the
// API's start); the scheduler, past its time, runs whatever is there.
func (c *Campaigner) materialise(ctx context.Context, tx *models.Store, camp *models.Campaign, strict bool) error {
	kind, tpl, err := c.audienceKind(ctx, camp)
	if err != nil {
		return err
	}
	groups, err := tx.AudienceGroups(ctx, camp.BusinessID, camp.ChannelID, camp.Filter(), kind)
	if err != nil {
		return err
	}
	if strict { // the estimate of the same pass the recipients are written from
		e, err := c.estimateOf(ctx, camp, kind, tpl, groups)
		if err != nil {
			return err
		}
		if e.Recipients == 0 {
			return fieldErr("audience", "campaign.err.audience_empty", "nobody in the audience can be sent this campaign (skipped: %s)", skippedList(e.Skipped))
		}
		if camp.Kind == models.CampaignKindTemplate && camp.BudgetMicros > 0 && e.Affordable == 0 {
			return fieldErr("budget", "campaign.err.budget_low_audience", "the budget is below the price of one message to this audience")
		}
	}
	places := c.place(groups, kind.Marketing)
	list := make([]models.PrefixPlace, 0, len(places))
	for _, p := range places {
		list = append(list, p)
	}
	_, err = tx.AddCampaignAudience(ctx, camp, kind, list)
	return err
}

// Pause stops a running (or scheduled) campaign by hand: nobody else is
// claimed, and the messages still waiting in the outbox are taken back (their
// recipients pending again, for a resume); only those a worker is handing to
// Meta at that moment still go.
func (c *Campaigner) Pause(ctx context.Context, businessID, id int64) (*models.Campaign, error) {
	return c.halt(ctx, businessID, id, []string{models.CampaignRunning, models.CampaignScheduled}, models.CampaignPaused)
}

// Cancel ends a campaign for good: pending recipients are never sent, and
// the messages still waiting in the outbox are taken back, as Pause does
// (their recipients stay pending, unsent).
func (c *Campaigner) Cancel(ctx context.Context, businessID, id int64) (*models.Campaign, error) {
	return c.halt(ctx, businessID, id, []string{models.CampaignDraft, models.CampaignScheduled, models.CampaignRunning, models.CampaignPaused},
		models.CampaignCancelled)
}

// halt moves a campaign from one of the states in from to to, and takes back
// its messages still waiting in the outbox, in one transaction.
func (c *Campaigner) halt(ctx context.Context, businessID, id int64, from []string, to string) (*models.Campaign, error) {
	camp, err := c.store.Campaign(ctx, businessID, id)
	if err != nil || camp == nil {
		return nil, cmpErr(err, ErrNotFound)
	}
	err = c.store.InTx(ctx, func(tx *models.Store) error {
		ok, err := tx.TransitionCampaign(ctx, businessID, id, from, to, "")
		if err != nil {
			return err
		}
		if !ok {
			return models.ErrCampaignState
		}
		_, err = tx.RecallQueuedMessages(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c.store.Campaign(ctx, businessID, id)
}

// Resume continues a paused campaign with its pending recipients (none is
// ever sent twice: the sent ones are no longer pending). A campaign paused
// before its audience was written gets it now; one paused before its
// scheduled time had come is scheduled again, for that time.
func (c *Campaigner) Resume(ctx context.Context, businessID, id int64) (*models.Campaign, error) {
	camp, err := c.store.Campaign(ctx, businessID, id)
	if err != nil || camp == nil {
		return nil, cmpErr(err, ErrNotFound)
	}
	if _, err := c.checkStartable(ctx, camp); err != nil {
		return nil, err
	}
	if camp.StartedAt == nil && camp.ScheduledAt != nil && camp.ScheduledAt.After(c.now()) {
		err = c.store.InTx(ctx, func(tx *models.Store) error {
			ok, err := tx.TransitionCampaign(ctx, businessID, id, []string{models.CampaignPaused}, models.CampaignScheduled, "")
			if err != nil {
				return err
			}
			if !ok {
				return models.ErrCampaignState
			}
			return c.queueJob(ctx, tx, camp, camp.ScheduledAt)
		})
		if err != nil {
			return nil, err
		}
		return c.store.Campaign(ctx, businessID, id)
	}
	err = c.store.InTx(ctx, func(tx *models.Store) error {
		ok, err := tx.TransitionCampaign(ctx, businessID, id, []string{models.CampaignPaused}, models.CampaignRunning, "")
		if err != nil {
			return err
		}
		if !ok {
			return models.ErrCampaignState
		}
		if err := c.materialise(ctx, tx, camp, false); err != nil {
			return err
		}
		return c.queueJob(ctx, tx, camp, nil)
	})
	if err != nil {
		return nil, err
	}
	return c.store.Campaign(ctx, businessID, id)
}

// SetBudget changes a campaign's budget (raise it, then resume).
func (c *Campaigner) SetBudget(ctx context.Context, businessID, id int64, budget string) (*models.Campaign, error) {
	micros, err := pricing.ParseMicros(strings.TrimSpace(budget))
	if err != nil || micros <= 0 {
		return nil, fieldErr("budget", "campaign.err.budget_format", "budget must be a decimal amount such as \"50.00\"")
	}
	ok, err := c.store.SetCampaignBudget(ctx, businessID, id, micros)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, cmpErr(nil, ErrNotFound)
	}
	return c.store.Campaign(ctx, businessID, id)
}

// CodeUserCap is WhatsApp's per-user marketing cap (131049: "not delivered to
// maintain healthy ecosystem engagement"): worth retrying a day later.
const CodeUserCap = 131049

// RetryFailed creates a follow-up campaign of only the recipients that failed
// with 131049, scheduled 24 hours from now. A recipient already in a
// follow-up of the campaign (one not cancelled) is not copied again: a
// second retry, or two at once, never sends anyone twice.
func (c *Campaigner) RetryFailed(ctx context.Context, businessID, id int64, by *int64) (*models.Campaign, error) {
	parent, err := c.store.Campaign(ctx, businessID, id)
	if err != nil || parent == nil {
		return nil, cmpErr(err, ErrNotFound)
	}
	n, err := c.store.FailedWithCodes(ctx, parent.ID, []int{CodeUserCap})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fieldErr("recipients", "campaign.err.no_131049", "no recipient of this campaign failed with 131049")
	}
	at := c.now().Add(24 * time.Hour)
	follow := *parent
	follow.ID, follow.ParentID, follow.CreatedBy = 0, &parent.ID, by
	follow.Name = parent.Name + " (retry 131049)"
	follow.ScheduledAt, follow.StartedAt, follow.FinishedAt = &at, nil, nil
	follow.SpentMicros, follow.RevenueMicros, follow.Planned = 0, 0, 0
	err = c.store.InTx(ctx, func(tx *models.Store) error {
		if _, err := tx.LockCampaign(ctx, businessID, parent.ID); err != nil { // one retry of a campaign at a time
			return err
		}
		if err := tx.CreateCampaign(ctx, &follow); err != nil {
			return err
		}
		copied, err := tx.AddFollowUpAudience(ctx, follow.ID, parent.ID, []int{CodeUserCap})
		if err != nil {
			return err
		}
		if copied == 0 {
			return fieldErr("recipients", "campaign.retry_nothing", "every recipient that failed with 131049 is already in a follow-up of this campaign")
		}
		ok, err := tx.TransitionCampaign(ctx, businessID, follow.ID, []string{models.CampaignDraft}, models.CampaignScheduled, "")
		if err != nil || !ok {
			return cmpErr(err, models.ErrCampaignState)
		}
		return c.queueJob(ctx, tx, &follow, &at)
	})
	if err != nil {
		return nil, err
	}
	return c.store.Campaign(ctx, businessID, follow.ID)
}

// TestSend sends the campaign's message now to one chosen identity of the
// channel (personalised as for a recipient; links untracked), through the
// outbox and the policy like any send. It is not a recipient of the campaign.
func (c *Campaigner) TestSend(ctx context.Context, businessID, id, identityID int64) (*models.Message, error) {
	camp, err := c.store.Campaign(ctx, businessID, id)
	if err != nil || camp == nil {
		return nil, cmpErr(err, ErrNotFound)
	}
	tpl, err := c.checkStartable(ctx, camp)
	if err != nil {
		return nil, err
	}
	ident, err := c.store.Identity(ctx, businessID, identityID)
	if err != nil {
		return nil, err
	}
	if ident == nil || ident.ChannelID != camp.ChannelID {
		return nil, fieldErr("identity_id", "campaign.err.identity", "no such customer on the campaign's channel")
	}
	th, _, err := c.store.EnsureDirectThread(ctx, ident, c.now())
	if err != nil {
		return nil, err
	}
	contact, err := c.store.Contact(ctx, businessID, ident.ContactID)
	if err != nil {
		return nil, err
	}
	f := RecipientFields{Name: ident.DisplayName, Phone: ident.Phone, Country: ident.Country}
	if contact != nil && contact.Name != "" {
		f.Name = contact.Name
	}
	req := SendRequest{BusinessID: businessID, ThreadID: th.ID, Automated: true, Proactive: true, Promotional: true}
	if camp.Kind == models.CampaignKindWindow {
		req.Text = camp.MessageText
	} else {
		c.mu.Lock()
		pers := c.pers
		c.mu.Unlock()
		vars, ok := pers.Fill(tpl, camp.Vars(), f, 0)
		if !ok {
			return nil, fieldErr("variables", "campaign.err.variable_empty", "a variable would be empty for this customer: give it a fallback")
		}
		req.Template = &TemplateRequest{Name: tpl.Name, Language: tpl.Language, Variables: vars}
		req.Promotional = tpl.Category == models.CategoryMarketing
	}
	return c.outbox.Send(ctx, req)
}

// Preview is the campaign's message personalised for a sample of its audience.
type Preview struct {
	IdentityID int64
	Name       string
	Header     string // the template's text header, filled in
	Text       string // the body as the customer reads it
	Links      []PreviewLink
	Variables  []string
	Unfilled   bool // a variable would be empty: the recipient is skipped
}

// PreviewLink is a URL button as the customer gets it (before tracking).
type PreviewLink struct{ Text, URL string }

// Previews personalises the message for up to n real recipients of the audience.
func (c *Campaigner) Previews(ctx context.Context, businessID, id int64, n int) ([]Preview, error) {
	camp, err := c.store.Campaign(ctx, businessID, id)
	if err != nil || camp == nil {
		return nil, cmpErr(err, ErrNotFound)
	}
	return c.previewsOf(ctx, camp, n)
}

// PreviewDraft is Previews for settings not saved yet (the editor, as the
// admin types): the input is checked as Create checks it, but for the
// budget, which changes how many are sent, not the message (build checks it
// last, with the message already filled in); nothing is stored.
func (c *Campaigner) PreviewDraft(ctx context.Context, businessID int64, in CampaignInput, n int) ([]Preview, error) {
	camp := &models.Campaign{}
	if err := c.build(ctx, businessID, in, camp); err != nil {
		var fe *models.FieldError
		if !errors.As(err, &fe) || (fe.Field != "budget" && fe.Field != "currency") {
			return nil, err
		}
	}
	return c.previewsOf(ctx, camp, n)
}

func (c *Campaigner) previewsOf(ctx context.Context, camp *models.Campaign, n int) ([]Preview, error) {
	kind, tpl, err := c.audienceKind(ctx, camp)
	if err != nil {
		return nil, err
	}
	sample, err := c.store.AudienceSample(ctx, camp.BusinessID, camp.ChannelID, camp.Filter(), kind, n)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	pers := c.pers
	c.mu.Unlock()
	out := make([]Preview, 0, len(sample))
	for _, r := range sample {
		p := Preview{IdentityID: r.ID, Name: r.Name}
		if camp.Kind == models.CampaignKindWindow || tpl == nil {
			p.Text = camp.MessageText
		} else {
			// Recipient 0: a preview's links are their destinations, never a
			// live tracked token (a click on one would count for a real recipient).
			vars, ok := pers.Fill(tpl, camp.Vars(), RecipientFields{Name: r.Name, Phone: r.Phone, Country: r.Country}, 0)
			p.Unfilled = !ok
			p.Variables = vars
			if ok {
				p.Text = templateMessageText(tpl, vars)
				p.Header, p.Links = templateHeaderAndLinks(tpl, vars)
			}
		}
		out = append(out, p)
	}
	return out, nil
}
