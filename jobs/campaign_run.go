package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard-inbox/switchboard/models"
)

// Auto-pause: more than errorRateLimit of the last errorWindow recipients
// with an outcome at Meta failed (at least errorMinimum of them known).
const (
	errorWindow    = 100
	errorMinimum   = 20
	errorRateLimit = 0.20
)

// foldAbove is how many counter rows a campaign keeps before they are folded
// into one per key (each recorded batch appends a few).
const foldAbove = 64

type campaignWorker struct {
	river.WorkerDefaults[campaignArgs]
	c *Campaigner
}

// Work runs the campaign's batches for a slice of time, then snoozes (the
// job comes back at once, or when the next batch is due): no run is long,
// so River never rescues a live one, and a campaign of hours never stops
// because one job ran for twenty minutes.
func (w *campaignWorker) Work(ctx context.Context, job *river.Job[campaignArgs]) error {
	w.c.mu.Lock()
	slice := w.c.slice
	w.c.mu.Unlock()
	end := time.Now().Add(slice)
	for {
		progressed := w.c.progress.next() // taken before the backlog is read, so no wake-up is lost
		wait, done, err := w.c.batchOnce(ctx, job.Args)
		if err != nil || done {
			return err
		}
		if wait == backlogged {
			// Woken by this process's workers recording outcomes; another
			// replica's progress is seen at the bounded look after.
			t := time.NewTimer(backlogLook)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-progressed:
				t.Stop()
			case <-t.C:
			}
			if time.Now().After(end) {
				return river.JobSnooze(time.Millisecond)
			}
			continue
		}
		if time.Now().Add(wait).After(end) {
			return river.JobSnooze(max(wait, time.Millisecond))
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// backlogged is batchOnce's wait when the campaign's queued messages reached
// the backlog: the runner waits for the outbox to make progress.
const backlogged = time.Duration(-1)

// backlogLook bounds a backlogged wait no local worker wakes (the campaign's
// messages are sent by another replica).
const backlogLook = time.Second

// sendProgress wakes the campaign runners of this process waiting for their
// backlog to drain each time its workers record send outcomes.
type sendProgress struct {
	mu sync.Mutex
	ch chan struct{}
}

// next is closed at the next progress.
func (p *sendProgress) next() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch == nil {
		p.ch = make(chan struct{})
	}
	return p.ch
}

func (p *sendProgress) advance() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch != nil {
		close(p.ch)
		p.ch = nil
	}
}

func (w *campaignWorker) NextRetry(job *river.Job[campaignArgs]) time.Time {
	return time.Now().Add(time.Duration(min(job.Attempt, 30)) * time.Second)
}

// pace is what the runner does between two batches: how many to claim and
// how long to wait first.
func (c *Campaigner) pace(camp *models.Campaign) (n int, every time.Duration) {
	c.mu.Lock()
	n = c.batch
	c.mu.Unlock()
	if camp.RatePerSecond > 0 {
		n = min(n, camp.RatePerSecond)
		every = time.Duration(float64(time.Second) * float64(n) / float64(camp.RatePerSecond))
	}
	return n, every
}

// batchOnce handles the campaign's next batch in one transaction: the
// campaign is locked (one batch at a time, whichever replica), its state and
// template re-checked, pending recipients claimed, their messages queued with
// their jobs and their rows marked, or nothing at all. wait is how long until
// the next batch; done when the job has nothing more to do.
func (c *Campaigner) batchOnce(ctx context.Context, a campaignArgs) (wait time.Duration, done bool, err error) {
	started := time.Now()
	var every time.Duration
	if err := c.store.FoldCampaignCounts(ctx, a.CampaignID, foldAbove); err != nil {
		return 0, false, err
	}
	err = c.store.InTx(ctx, func(tx *models.Store) error {
		camp, err := tx.LockCampaign(ctx, a.BusinessID, a.CampaignID)
		if err != nil {
			return err
		}
		if camp == nil {
			done = true
			return nil
		}
		switch camp.Status {
		case models.CampaignScheduled:
			if camp.ScheduledAt != nil && camp.ScheduledAt.After(c.now()) {
				c.mu.Lock()
				wait = min(camp.ScheduledAt.Sub(c.now()), c.poll)
				c.mu.Unlock()
				return nil
			}
			ok, err := tx.TransitionCampaign(ctx, a.BusinessID, camp.ID, []string{models.CampaignScheduled}, models.CampaignRunning, "")
			if err != nil || !ok {
				done = true
				return err
			}
			if _, err := c.checkStartable(ctx, camp); err != nil {
				var fe *models.FieldError
				if !errors.As(err, &fe) {
					return err
				}
				_, err = tx.TransitionCampaign(ctx, a.BusinessID, camp.ID, []string{models.CampaignRunning}, models.CampaignPaused, models.PausedTemplate)
				done = true
				return err
			}
			return c.materialise(ctx, tx, camp, false) // the first batch comes next
		case models.CampaignRunning:
		default:
			done = true // paused, done, cancelled: a resume queues the job again
			return nil
		}
		pause := func(reason string) error {
			done = true
			_, err := tx.TransitionCampaign(ctx, a.BusinessID, camp.ID, []string{models.CampaignRunning}, models.CampaignPaused, reason)
			return err
		}
		var tpl *models.WATemplate
		if camp.Kind == models.CampaignKindTemplate {
			if tpl, err = c.checkStartable(ctx, camp); err != nil {
				var fe *models.FieldError
				if errors.As(err, &fe) {
					return pause(models.PausedTemplate)
				}
				return err
			}
		}
		failed, of, err := tx.RecentFailureRate(ctx, camp.ID, errorWindow)
		if err != nil {
			return err
		}
		if of >= errorMinimum && float64(failed) > errorRateLimit*float64(of) {
			return pause(models.PausedErrors)
		}
		n, ev := c.pace(camp)
		every = ev
		var counts models.CampaignCounts
		if !camp.DryRun {
			if counts, err = tx.CampaignCounts(ctx, camp.ID); err != nil {
				return err
			}
			c.mu.Lock()
			backlog := c.backlog
			c.mu.Unlock()
			if counts.Queued >= int64(backlog) {
				wait, every = backlogged, 0 // the outbox is behind: let it drain so a pause stops soon
				return nil
			}
		}
		rs, err := tx.ClaimPendingRecipients(ctx, camp.ID, n)
		if err != nil {
			return err
		}
		if len(rs) == 0 && counts.Queued > 0 {
			wait, every = backlogged, 0 // done once the outbox has handed everything to Meta: until then a pause recalls the rest
			return nil
		}
		if len(rs) == 0 {
			done = true
			_, err := tx.TransitionCampaign(ctx, a.BusinessID, camp.ID, []string{models.CampaignRunning}, models.CampaignDone, "")
			return err
		}
		exhausted, err := c.sendBatch(ctx, tx, camp, tpl, rs)
		if err != nil {
			return err
		}
		if exhausted {
			return pause(models.PausedBudget)
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	if every > 0 && wait != backlogged {
		wait = max(wait, every-time.Since(started))
	}
	return wait, done, nil
}

// sendBatch personalises, judges, prices and queues the claimed recipients'
// messages in tx and marks every recipient queued or skipped. The budget is
// held against the estimated cost of what is queued: the first recipient
// that would exceed it, and everyone after, stay pending (exhausted).
func (c *Campaigner) sendBatch(ctx context.Context, tx *models.Store, camp *models.Campaign, tpl *models.WATemplate, rs []models.CampaignRecipient) (exhausted bool, err error) {
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	if err := tx.EnsureRecipientThreads(ctx, camp.BusinessID, camp.ChannelID, ids); err != nil {
		return false, err
	}
	facts, err := tx.CampaignRecipientFacts(ctx, ids)
	if err != nil {
		return false, err
	}
	threadIDs := make([]int64, 0, len(rs))
	for _, f := range facts {
		if f.ThreadID != nil {
			threadIDs = append(threadIDs, *f.ThreadID)
		}
	}
	scs, err := tx.SendContexts(ctx, camp.BusinessID, threadIDs, false)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	pers := c.pers
	c.mu.Unlock()
	vars := camp.Vars()
	outs := make([]models.RecipientOutcome, 0, len(rs))
	var plans []*plan
	var planOut []int
	templates := newTemplateCache()
	spent := camp.SpentMicros
	for _, r := range rs {
		o := models.RecipientOutcome{ID: r.ID, Market: r.Market}
		f := facts[r.ID]
		if f.ThreadID == nil || r.IdentityID == nil {
			o.SkipReason = models.SkipNoWhatsApp
			outs = append(outs, o)
			continue
		}
		req := SendRequest{BusinessID: camp.BusinessID, ThreadID: *f.ThreadID, Automated: true, Proactive: true}
		if camp.Kind == models.CampaignKindWindow {
			req.Text = camp.MessageText
			req.Promotional = true
		} else {
			values, ok := pers.Fill(tpl, vars, RecipientFields{Name: f.Name, Phone: f.Phone, Country: f.Country}, r.ID)
			if !ok {
				o.SkipReason = models.SkipUnpersonalise
				outs = append(outs, o)
				continue
			}
			o.Variables, _ = json.Marshal(values)
			req.Template = &TemplateRequest{Name: tpl.Name, Language: tpl.Language, Variables: values}
			req.Promotional = tpl.Category == models.CategoryMarketing
		}
		if err := req.validate(); err != nil {
			o.SkipReason = ReasonAlertUnsendable
			outs = append(outs, o)
			continue
		}
		p, err := c.outbox.plan(ctx, tx, &req, scs[req.ThreadID], templates)
		if err != nil {
			var refused *RefusedError
			switch {
			case errors.As(err, &refused):
				o.SkipReason = string(refused.Decision.Reason)
			case isRequestError(err):
				o.SkipReason = ReasonAlertUnsendable
			default:
				return false, err
			}
			outs = append(outs, o)
			continue
		}
		if p.cost != nil {
			if p.cost.EstimatedMicros != nil {
				o.PriceMicros = *p.cost.EstimatedMicros
			}
			o.Currency, o.Market = p.cost.Currency, cmpOr(p.cost.Market, r.Market)
		}
		if camp.BudgetMicros > 0 && spent+o.PriceMicros > camp.BudgetMicros {
			exhausted = true
			break // this one and the rest stay pending
		}
		spent += o.PriceMicros
		outs = append(outs, o)
		plans, planOut = append(plans, p), append(planOut, len(outs)-1)
	}
	if len(plans) > 0 && !camp.DryRun {
		msgs := make([]*models.Message, len(plans))
		for i, p := range plans {
			msgs[i] = p.msg
		}
		if err := tx.AddOutboundMessages(ctx, msgs); err != nil {
			return false, err
		}
		if err := c.outbox.recordCosts(ctx, tx, plans...); err != nil {
			return false, err
		}
		for i, p := range plans {
			if err := c.outbox.reserve(ctx, tx, p); err != nil {
				return false, err
			}
			outs[planOut[i]].MessageID = &p.msg.ID
			c.outbox.count(p.msg, nil)
		}
		if err := c.outbox.insertBatches(ctx, tx, camp.BusinessID, msgs); err != nil {
			return false, err
		}
	}
	return exhausted, tx.RecordRecipientOutcomes(ctx, camp.ID, outs, c.now())
}

// campaignTickArgs is the periodic scheduler: it makes sure every campaign
// due or running has its job (unique per campaign: never two).
type campaignTickArgs struct{}

func (campaignTickArgs) Kind() string { return "campaign_tick" }

type campaignTickWorker struct {
	river.WorkerDefaults[campaignTickArgs]
	c *Campaigner
}

func (w *campaignTickWorker) Work(ctx context.Context, _ *river.Job[campaignTickArgs]) error {
	cs, err := w.c.store.CampaignsToRun(ctx, w.c.now(), 1000)
	if err != nil {
		return err
	}
	return w.c.store.InTx(ctx, func(tx *models.Store) error {
		for i := range cs {
			if err := w.c.queueJob(ctx, tx, &cs[i], nil); err != nil {
				return err
			}
		}
		return nil
	})
}

func campaignTickPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(15*time.Second), func() (river.JobArgs, *river.InsertOpts) {
		return campaignTickArgs{}, &river.InsertOpts{Queue: queueBulk, UniqueOpts: river.UniqueOpts{ByPeriod: 15 * time.Second}}
	}, &river.PeriodicJobOpts{RunOnStart: true})
}
