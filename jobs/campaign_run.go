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
//
// Batches are pipelined: once a batch of an uncapped running campaign has
// claimed its recipients, the next one starts claiming and planning (SKIP
// LOCKED passes over the rows the first holds) while the first writes and
// commits; each still writes under the campaign's lock, so the state, the
// template, the error rate, the backlog and the budget are judged by one
// batch at a time. At most two batches of a campaign are in flight.
func (w *campaignWorker) Work(ctx context.Context, job *river.Job[campaignArgs]) error {
	w.c.mu.Lock()
	slice := w.c.slice
	w.c.mu.Unlock()
	end := time.Now().Add(slice)
	cur := w.c.startBatch(ctx, job.Args)
	for {
		<-cur.claimed
		var next *batchRun
		if cur.ahead && time.Now().Before(end) && ctx.Err() == nil {
			next = w.c.startBatch(ctx, job.Args)
		}
		r := <-cur.res
		if next != nil {
			if r.err != nil {
				<-next.res
				return r.err
			}
			cur = next // the next batch judges the campaign afresh
			continue
		}
		wait, done, err := r.wait, r.done, r.err
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
			case <-cur.progressed:
				t.Stop()
			case <-t.C:
			}
			if time.Now().After(end) {
				return river.JobSnooze(time.Millisecond)
			}
			cur = w.c.startBatch(ctx, job.Args)
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
		cur = w.c.startBatch(ctx, job.Args)
	}
}

// batchRun is one batch in flight: claimed is closed once it holds its
// recipients (ahead: the next batch may start) or has ended; res has its
// outcome.
type batchRun struct {
	progressed <-chan struct{} // taken before the batch reads the backlog, so no wake-up is lost
	claimed    chan struct{}
	ahead      bool
	res        chan batchResult
}

type batchResult struct {
	wait time.Duration
	done bool
	err  error
}

func (c *Campaigner) startBatch(ctx context.Context, a campaignArgs) *batchRun {
	b := &batchRun{progressed: c.progress.next(), claimed: make(chan struct{}), res: make(chan batchResult, 1)}
	go func() {
		var once sync.Once
		signal := func(ahead bool) {
			once.Do(func() {
				b.ahead = ahead
				close(b.claimed)
			})
		}
		defer signal(false)
		wait, done, err := c.batchOnce(ctx, a, func() { signal(true) })
		b.res <- batchResult{wait: wait, done: done, err: err}
	}()
	return b
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

// batchOnce handles the campaign's next batch in one transaction: its
// pending recipients claimed and their messages planned, then the campaign
// locked (one batch at a time writes, whichever replica), its state and
// template re-checked, and the messages queued with their jobs and the rows
// marked, or nothing at all. ahead is called once the recipients of a full
// batch of an uncapped running campaign are claimed, before the lock: the
// next batch may start. wait is how long until the next batch; done when the
// job has nothing more to do.
func (c *Campaigner) batchOnce(ctx context.Context, a campaignArgs, ahead func()) (wait time.Duration, done bool, err error) {
	wait, done, err = c.batchTx(ctx, a, ahead, true)
	if errors.Is(err, errRedo) {
		// What was written before the lock is rolled back: this batch is
		// judged and written under the lock, as one transaction.
		return c.batchTx(ctx, a, func() {}, false)
	}
	return wait, done, err
}

// errRedo rolls back a batch written before the campaign's lock that the
// locked campaign no longer allows as written (state, template, error rate,
// budget or settings changed meanwhile).
var errRedo = errors.New("jobs: campaign changed while its batch was written")

func (c *Campaigner) batchTx(ctx context.Context, a campaignArgs, ahead func(), early bool) (wait time.Duration, done bool, err error) {
	started := time.Now()
	var every time.Duration
	var queued []*models.Message // counted once committed
	if err := c.store.FoldCampaignCounts(ctx, a.CampaignID, foldAbove); err != nil {
		return 0, false, err
	}
	err = c.store.InTx(ctx, func(tx *models.Store) error {
		// A batch a database crash loses is planned again from its pending
		// recipients: none of its messages left, since a send's synchronous
		// leaving mark flushes the batch that queued it before its Graph call.
		if err := tx.RelaxCommit(ctx); err != nil {
			return err
		}
		var pb *planned
		var written bool // pb's messages and outcomes are written: only the spend is left, under the lock
		var queuedMicros int64
		var pre *models.Campaign
		if early {
			if pre, err = tx.Campaign(ctx, a.BusinessID, a.CampaignID); err != nil {
				return err
			}
		}
		if pre != nil && pre.Status == models.CampaignRunning && !c.backlogFull(ctx, tx, pre) {
			// Claimed and planned before the lock, so that this work overlaps
			// the previous batch's writes; judged again under the lock.
			tpl, err := c.checkStartable(ctx, pre)
			var fe *models.FieldError
			switch {
			case errors.As(err, &fe): // the locked path pauses it
			case err != nil:
				return err
			default:
				n, _ := c.pace(pre)
				if pb, err = c.prepare(ctx, tx, pre, tpl, n); err != nil {
					return err
				}
				if pre.RatePerSecond == 0 && len(pb.rs) == n {
					ahead()
				}
				if len(pb.rs) > 0 {
					if written, queuedMicros, err = c.writeEarly(ctx, tx, pre, pb); err != nil {
						return err
					}
				}
			}
		}
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
			if written {
				return errRedo
			}
			done = true // paused, done, cancelled: a resume queues the job again
			return nil
		}
		if written && !samePlan(pre, camp, nil) {
			return errRedo
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
					if written {
						return errRedo
					}
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
			if written {
				return errRedo
			}
			return pause(models.PausedErrors)
		}
		n, ev := c.pace(camp)
		every = ev
		if written {
			queued = pb.queued
			// The backlog was read before the batch was written (its own
			// queued rows count now); what is left is the budget.
			if camp.BudgetMicros > 0 && camp.SpentMicros+queuedMicros > camp.BudgetMicros {
				return errRedo
			}
			return tx.AddCampaignSpend(ctx, camp.ID, queuedMicros)
		}
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
		if pb != nil && !samePlan(pre, camp, tpl) {
			return errReplan // settings changed between the look and the lock: plan again from scratch
		}
		if pb == nil || len(pb.rs) == 0 { // claimed under the lock: an empty claim must not be one the previous batch's rows hid
			if pb, err = c.prepare(ctx, tx, camp, tpl, n); err != nil {
				return err
			}
		}
		if len(pb.rs) == 0 && camp.DryRun {
			if counts, err = tx.CampaignCounts(ctx, camp.ID); err != nil {
				return err
			}
			counts.Queued = 0 // a dry run's queued recipients have no message to wait for
		}
		if len(pb.rs) == 0 && (counts.Queued > 0 || counts.Pending > 0) {
			// Done once the outbox has handed everything to Meta (until then
			// a pause recalls the rest), and once no transaction holds a
			// pending recipient claimed (one of a worker that died mid-batch).
			wait, every = backlogged, 0
			return nil
		}
		if len(pb.rs) == 0 {
			done = true
			_, err := tx.TransitionCampaign(ctx, a.BusinessID, camp.ID, []string{models.CampaignRunning}, models.CampaignDone, "")
			return err
		}
		exhausted, err := c.write(ctx, tx, camp, pb)
		if err != nil {
			return err
		}
		queued = pb.queued
		if exhausted {
			return pause(models.PausedBudget)
		}
		return nil
	})
	if errors.Is(err, errReplan) {
		return 0, false, nil // nothing written: the next batch comes at once
	}
	if errors.Is(err, errRedo) {
		return 0, false, err
	}
	if err != nil {
		return 0, false, err
	}
	for _, m := range queued {
		c.outbox.count(m, nil)
	}
	if every > 0 && wait != backlogged {
		wait = max(wait, every-time.Since(started))
	}
	return wait, done, nil
}

// errReplan rolls back a batch planned with settings that changed before the lock.
var errReplan = errors.New("jobs: campaign changed while its batch was planned")

// samePlan tells whether a batch planned with the campaign as first read
// (pre) and the template then may be written under the locked row (camp).
func samePlan(pre, camp *models.Campaign, tpl *models.WATemplate) bool {
	same := pre.Kind == camp.Kind && pre.MessageText == camp.MessageText && string(pre.Variables) == string(camp.Variables) &&
		pre.DryRun == camp.DryRun && pre.ChannelID == camp.ChannelID
	if tpl != nil {
		same = same && camp.TemplateID != nil && *camp.TemplateID == tpl.ID
	}
	return same
}

// backlogFull reads, without the campaign's lock, whether its queued messages
// reached the backlog (then the batch goes straight to the locked check).
func (c *Campaigner) backlogFull(ctx context.Context, tx *models.Store, camp *models.Campaign) bool {
	if camp.DryRun {
		return false
	}
	counts, err := tx.CampaignCounts(ctx, camp.ID)
	if err != nil {
		return true // the locked path reads them again and reports the error
	}
	c.mu.Lock()
	backlog := c.backlog
	c.mu.Unlock()
	return counts.Queued >= int64(backlog)
}

// planned is a batch's claimed recipients, each with the outcome it would
// have and, when it is queued, its plan: everything but the writes.
type planned struct {
	rs     []models.CampaignRecipient
	outs   []models.RecipientOutcome
	plans  []*plan // plans[i] for outs[i]; nil for a skipped recipient
	queued []*models.Message
}

// prepare claims up to n pending recipients and personalises, judges and
// prices their messages in tx, writing only the threads they lacked.
func (c *Campaigner) prepare(ctx context.Context, tx *models.Store, camp *models.Campaign, tpl *models.WATemplate, n int) (*planned, error) {
	rs, facts, err := tx.ClaimPendingRecipientFacts(ctx, camp.ID, n)
	if err != nil || len(rs) == 0 {
		return &planned{}, err
	}
	var threadless []int64
	for _, r := range rs {
		if facts[r.ID].ThreadID == nil && r.IdentityID != nil {
			threadless = append(threadless, r.ID)
		}
	}
	if len(threadless) > 0 {
		if err := tx.EnsureRecipientThreads(ctx, camp.BusinessID, camp.ChannelID, threadless); err != nil {
			return nil, err
		}
		more, err := tx.CampaignRecipientFacts(ctx, threadless)
		if err != nil {
			return nil, err
		}
		for id, f := range more {
			facts[id] = f
		}
	}
	threadIDs := make([]int64, 0, len(rs))
	for _, f := range facts {
		if f.ThreadID != nil {
			threadIDs = append(threadIDs, *f.ThreadID)
		}
	}
	scs, err := tx.SendContexts(ctx, camp.BusinessID, threadIDs, false)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	pers := c.pers
	c.mu.Unlock()
	vars := camp.Vars()
	pb := &planned{rs: rs, outs: make([]models.RecipientOutcome, 0, len(rs)), plans: make([]*plan, 0, len(rs))}
	skip := func(o models.RecipientOutcome, reason string) {
		o.SkipReason = reason
		pb.outs, pb.plans = append(pb.outs, o), append(pb.plans, nil)
	}
	templates := newTemplateCache()
	for _, r := range rs {
		o := models.RecipientOutcome{ID: r.ID, Market: r.Market}
		f := facts[r.ID]
		if f.ThreadID == nil || r.IdentityID == nil {
			skip(o, models.SkipNoWhatsApp)
			continue
		}
		req := SendRequest{BusinessID: camp.BusinessID, ThreadID: *f.ThreadID, Automated: true, Proactive: true}
		if camp.Kind == models.CampaignKindWindow {
			req.Text = camp.MessageText
			req.Promotional = true
		} else {
			values, ok := pers.Fill(tpl, vars, RecipientFields{Name: f.Name, Phone: f.Phone, Country: f.Country}, r.ID)
			if !ok {
				skip(o, models.SkipUnpersonalise)
				continue
			}
			o.Variables, _ = json.Marshal(values)
			req.Template = &TemplateRequest{Name: tpl.Name, Language: tpl.Language, Variables: values}
			req.Promotional = tpl.Category == models.CategoryMarketing
		}
		if err := req.validate(); err != nil {
			skip(o, ReasonAlertUnsendable)
			continue
		}
		p, err := c.outbox.plan(ctx, tx, &req, scs[req.ThreadID], templates)
		if err != nil {
			var refused *RefusedError
			switch {
			case errors.As(err, &refused):
				skip(o, string(refused.Decision.Reason))
			case isRequestError(err):
				skip(o, ReasonAlertUnsendable)
			default:
				return nil, err
			}
			continue
		}
		if p.cost != nil {
			if p.cost.EstimatedMicros != nil {
				o.PriceMicros = *p.cost.EstimatedMicros
			}
			o.Currency, o.Market = p.cost.Currency, cmpOr(p.cost.Market, r.Market)
		}
		pb.outs, pb.plans = append(pb.outs, o), append(pb.plans, p)
	}
	return pb, nil
}

// write queues the planned messages in tx (under the campaign's lock) and
// marks every recipient queued or skipped. The budget is held against the
// estimated cost of what is queued: the first recipient that would exceed
// it, and everyone after, stay pending (exhausted).
func (c *Campaigner) write(ctx context.Context, tx *models.Store, camp *models.Campaign, pb *planned) (exhausted bool, err error) {
	outs, plans, planOut, exhausted := pb.withinBudget(camp)
	if err := c.queue(ctx, tx, camp, pb, outs, plans, planOut); err != nil {
		return false, err
	}
	return exhausted, tx.RecordRecipientOutcomes(ctx, camp.ID, outs, c.now())
}

// writeEarly writes the batch before the campaign's lock when the budget as
// last read pays for all of it (written); else nothing, and the batch is
// written under the lock.
func (c *Campaigner) writeEarly(ctx context.Context, tx *models.Store, pre *models.Campaign, pb *planned) (written bool, queuedMicros int64, err error) {
	outs, plans, planOut, exhausted := pb.withinBudget(pre)
	if exhausted {
		return false, 0, nil
	}
	if err := c.queue(ctx, tx, pre, pb, outs, plans, planOut); err != nil {
		return false, 0, err
	}
	queuedMicros, err = tx.MarkRecipientOutcomes(ctx, pre.ID, outs, c.now())
	return err == nil, queuedMicros, err
}

// withinBudget cuts the planned batch at the first queued recipient the
// budget left cannot pay for (exhausted): that one and the rest stay pending.
// planOut[i] is the index in outs of plans[i].
func (pb *planned) withinBudget(camp *models.Campaign) (outs []models.RecipientOutcome, plans []*plan, planOut []int, exhausted bool) {
	outs = make([]models.RecipientOutcome, 0, len(pb.outs))
	spent := camp.SpentMicros
	for i, o := range pb.outs {
		p := pb.plans[i]
		if p != nil {
			if camp.BudgetMicros > 0 && spent+o.PriceMicros > camp.BudgetMicros {
				exhausted = true
				break
			}
			spent += o.PriceMicros
		}
		outs = append(outs, o)
		if p != nil {
			plans, planOut = append(plans, p), append(planOut, len(outs)-1)
		}
	}
	return outs, plans, planOut, exhausted
}

// queue writes the messages of the plans with their costs and jobs, and
// gives each outcome its message.
func (c *Campaigner) queue(ctx context.Context, tx *models.Store, camp *models.Campaign, pb *planned, outs []models.RecipientOutcome, plans []*plan, planOut []int) error {
	if len(plans) > 0 && !camp.DryRun {
		msgs := make([]*models.Message, len(plans))
		for i, p := range plans {
			msgs[i] = p.msg
		}
		if err := tx.AddOutboundMessages(ctx, msgs); err != nil {
			return err
		}
		if err := c.outbox.recordCosts(ctx, tx, plans...); err != nil {
			return err
		}
		for i, p := range plans {
			if err := c.outbox.reserve(ctx, tx, p); err != nil {
				return err
			}
			outs[planOut[i]].MessageID = &p.msg.ID
		}
		if err := c.outbox.insertBatches(ctx, tx, camp.BusinessID, msgs); err != nil {
			return err
		}
		pb.queued = msgs
	}
	return nil
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
