package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// campaignWorld is a WhatsApp channel with the "saldi" marketing template
// (body {{1}} name, {{2}} code, URL button suffix), here and at Meta, and
// an Italian marketing price of 0.0691 EUR.
func (e *env) campaignWorld() *models.WATemplate {
	e.t.Helper()
	ch := e.channel(models.AppWhatsApp, true)
	// The simulator's WABA is "1" + the number's id: template webhooks find the channel by it.
	if err := e.store.Gorm(e.ctx).Exec(`UPDATE channels SET waba_id = '1' || account_id WHERE id = ?`, ch.ID).Error; err != nil {
		e.t.Fatal(err)
	}
	tpl := &models.WATemplate{BusinessID: e.biz.ID, ChannelID: ch.ID, Name: "saldi", Language: "it", Category: "marketing",
		Status: "approved", Body: "Ciao {{1}}, saldi con il codice {{2}}",
		Parameters: models.TemplateParams{{Component: "body", Name: "1"}, {Component: "body", Name: "2"},
			{Component: "button", Index: 0, Name: "1"}}}
	if err := e.store.Gorm(e.ctx).Create(tpl).Error; err != nil {
		e.t.Fatal(err)
	}
	if err := e.sim.AddTemplate(ch.AccountID, metasim.Template{Name: "saldi", Language: "it", Category: "MARKETING",
		Body: "Ciao {{1}}, saldi con il codice {{2}}", URL: "https://shop.example/c/{{1}}"}); err != nil {
		e.t.Fatal(err)
	}
	it, err := pricing.MarketOf("+393331234567", testNow)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.ImportPrices(e.ctx, e.biz.ID, nil, []models.CountryPrice{
		{Market: it.Market, Category: "marketing", PriceMicros: 69100, Currency: "EUR", EffectiveFrom: testNow.AddDate(0, -1, 0)},
	}); err != nil {
		e.t.Fatal(err)
	}
	return tpl
}

// waCustomers makes n Italian WhatsApp customers 39333000000i named "Name i".
func (e *env) waCustomers(n int, name func(i int) string) []*customer {
	e.t.Helper()
	out := make([]*customer, n)
	for i := range n {
		c := e.customer(models.AppWhatsApp, fmt.Sprintf("39333%07d", i), time.Time{})
		if name != nil {
			if err := e.store.Gorm(e.ctx).Exec(`UPDATE contacts SET name = ? WHERE id = ?`, name(i), c.identity.ContactID).Error; err != nil {
				e.t.Fatal(err)
			}
			if err := e.store.Gorm(e.ctx).Exec(`UPDATE identities SET display_name = ? WHERE id = ?`, name(i), c.identity.ID).Error; err != nil {
				e.t.Fatal(err)
			}
		}
		out[i] = c
	}
	return out
}

func saldiInput(e *env, budget string) jobs.CampaignInput {
	return jobs.CampaignInput{Name: "Saldi", ChannelID: e.channel(models.AppWhatsApp, true).ID,
		Template: jobs.TemplateRef{Name: "saldi", Language: "it"}, Variables: []string{"{first_name|cliente}", "SALDI20", "{link:https://shop.example/saldi}"},
		TimeZone: "Europe/Rome", Budget: budget, Currency: "EUR"}
}

func (e *env) campaignCounts(id int64) models.CampaignCounts {
	e.t.Helper()
	n, err := e.store.CampaignCounts(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) campaign(id int64) *models.Campaign {
	e.t.Helper()
	c, err := e.store.Campaign(e.ctx, e.biz.ID, id)
	if err != nil || c == nil {
		e.t.Fatalf("campaign %d: %v", id, err)
	}
	return c
}

// sendsTo counts Meta's accepted sends per recipient of the account.
func sendsTo(sends []metasim.Send) map[string]int {
	out := map[string]int{}
	for _, s := range sends {
		out[s.Recipient]++
	}
	return out
}

// The campaign reaches everyone once, personalised: a contact without a
// usable name gets the fallback, never an empty variable; the opted-out, the
// blocked, the +1 US number and the second identity of one person are
// skipped and counted by reason; the URL button carries the click token.
func TestCampaignPersonalisesAndSkips(t *testing.T) {
	e := newEnv(t, nil)
	e.campaignWorld()
	cs := e.waCustomers(6, func(i int) string {
		switch i {
		case 0:
			return "" // no name: the fallback
		case 1:
			return "+39 333 0000001" // a number for a name: the fallback
		}
		return fmt.Sprintf("Anna%d Rossi", i)
	})
	if err := e.store.SetMarketingOptOut(e.ctx, e.biz.ID, cs[2].identity.ID, &testNow, "agent"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Gorm(e.ctx).Exec(`UPDATE identities SET blocked_at = now() WHERE id = ?`, cs[3].identity.ID).Error; err != nil {
		t.Fatal(err)
	}
	us := e.customer(models.AppWhatsApp, "12015550123", time.Time{})
	dup := &models.Identity{BusinessID: e.biz.ID, ContactID: cs[4].identity.ContactID, ChannelID: cs[4].channel.ID, App: "whatsapp",
		ExternalID: "39333999999", Phone: "+39333999999"}
	if err := e.store.CreateIdentity(e.ctx, dup); err != nil {
		t.Fatal(err)
	}
	// Another contact without any WhatsApp identity.
	if err := e.store.CreateContact(e.ctx, &models.Contact{BusinessID: e.biz.ID, Name: "Solo Instagram"}); err != nil {
		t.Fatal(err)
	}
	cm := e.pipe.Campaigns()
	cm.SetBaseURL("https://sb.example")
	camp, err := cm.Create(e.ctx, e.biz.ID, saldiInput(e, "50.00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	est, err := cm.Estimate(e.ctx, e.biz.ID, camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{models.SkipOptedOut: 1, models.SkipBlocked: 1, models.SkipPausedRegion: 1, models.SkipDuplicate: 1, models.SkipNoWhatsApp: 1}
	if est.Recipients != 4 || fmt.Sprint(est.Skipped) != fmt.Sprint(want) || est.TotalMicros != 4*69100 || est.Currency != "EUR" {
		t.Fatalf("estimate: %+v", est)
	}
	if _, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("campaign done and delivered", func() bool {
		n := e.campaignCounts(camp.ID)
		return e.campaign(camp.ID).Status == models.CampaignDone && n.Queued == 0 && n.Sent+n.Delivered+n.Read == 4
	})
	sends := e.sendsOf(cs[0].account)
	per := sendsTo(sends)
	if len(sends) != 4 || per["393330000000"] != 1 || per["393330000001"] != 1 || per["393330000004"] != 1 || per["393330000005"] != 1 ||
		per[us.identity.ExternalID] != 0 {
		t.Fatalf("sends: %v", per)
	}
	for _, s := range sends {
		body := string(s.Raw)
		if !strings.Contains(body, "SALDI20") || strings.Contains(body, `"text":""`) {
			t.Fatalf("send %s: %s", s.Recipient, body)
		}
		if (s.Recipient == "393330000000" || s.Recipient == "393330000001") && !strings.Contains(body, `"cliente"`) {
			t.Fatalf("no fallback for %s: %s", s.Recipient, body)
		}
		if s.Recipient == "393330000005" && !strings.Contains(body, `"Anna5"`) {
			t.Fatalf("no first name for %s: %s", s.Recipient, body)
		}
	}
	rs, err := e.store.CampaignRecipients(e.ctx, e.biz.ID, camp.ID, "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	cipher := e.store.Cipher()
	for _, r := range rs {
		if r.MessageID == nil {
			continue
		}
		if r.PriceMicros != 69100 || r.Currency != "EUR" || r.SentAt == nil {
			t.Fatalf("recipient %d: %+v", r.ID, r)
		}
		tok := cipher.CampaignClickToken(r.ID, 2)
		found := false
		for _, s := range sends {
			found = found || strings.Contains(string(s.Raw), tok)
		}
		if !found {
			t.Fatalf("no click token %s for recipient %d", tok, r.ID)
		}
	}
	if n := e.campaignCounts(camp.ID); n.Total != 9 || n.Skipped != 5 || n.EstimatedMicros != 4*69100 {
		t.Fatalf("counts: %+v", n)
	}
}

// Two starts at once: one runs, the other is told the campaign is no longer
// a draft; each recipient is sent once.
func TestCampaignStartTwiceRunsOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.campaignWorld()
	cs := e.waCustomers(5, nil)
	cm := e.pipe.Campaigns()
	camp, err := cm.Create(e.ctx, e.biz.ID, saldiInput(e, "50.00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			_, err := cm.Start(e.ctx, e.biz.ID, camp.ID)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	var ok, refused int
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, models.ErrCampaignState):
			refused++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Fatalf("ok %d refused %d", ok, refused)
	}
	e.waitFor("done", func() bool { return e.campaign(camp.ID).Status == models.CampaignDone })
	e.jobsDone()
	if n := e.campaignCounts(camp.ID); n.Total != 5 {
		t.Fatalf("recipients written twice: %+v", n)
	}
	for to, n := range sendsTo(e.sendsOf(cs[0].account)) {
		if n != 1 {
			t.Fatalf("%s sent %d times", to, n)
		}
	}
}

// A budget of three messages queues three, pauses with budget_exhausted and
// leaves the rest pending; raising it and resuming sends the rest, nobody twice.
func TestCampaignBudgetPauseThenResume(t *testing.T) {
	e := newEnv(t, nil)
	e.campaignWorld()
	cs := e.waCustomers(5, nil)
	cm := e.pipe.Campaigns()
	cm.SetBatchSize(2, 100)
	camp, err := cm.Create(e.ctx, e.biz.ID, saldiInput(e, "0.2073"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("budget pause", func() bool { return e.campaign(camp.ID).Status == models.CampaignPaused })
	c := e.campaign(camp.ID)
	n := e.campaignCounts(camp.ID)
	if c.PausedReason != models.PausedBudget || n.Pending != 2 || n.Total-n.Pending != 3 || c.SpentMicros != 3*69100 {
		t.Fatalf("after the budget: %+v %+v", c, n)
	}
	if _, err := cm.Resume(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err) // resuming without more budget pauses again at once
	}
	e.waitFor("paused again", func() bool { return e.campaign(camp.ID).Status == models.CampaignPaused })
	if n := e.campaignCounts(camp.ID); n.Pending != 2 {
		t.Fatalf("resumed without budget: %+v", n)
	}
	if _, err := cm.SetBudget(e.ctx, e.biz.ID, camp.ID, "1.00"); err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Resume(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("done", func() bool { return e.campaign(camp.ID).Status == models.CampaignDone })
	e.jobsDone()
	per := sendsTo(e.sendsOf(cs[0].account))
	if len(per) != 5 {
		t.Fatalf("sent to %d of 5: %v", len(per), per)
	}
	for to, k := range per {
		if k != 1 {
			t.Fatalf("%s sent %d times", to, k)
		}
	}
}

// Workers stopped mid-run (a deploy, a crash: the batch in flight rolls
// back) and a second replica running alongside: every recipient is sent
// exactly once, counted at Meta.
func TestCampaignExactlyOnceAcrossStopsAndReplicas(t *testing.T) {
	e := newEnv(t, func(c *jobs.Config) { c.JobTimeout = 3 * time.Second; c.RescueStuckJobsAfter = 4 * time.Second })
	e.campaignWorld()
	cs := e.waCustomers(40, nil)
	cm := e.pipe.Campaigns()
	cm.SetBatchSize(3, 6)
	in := saldiInput(e, "50.00")
	in.RatePerSecond = 20
	camp, err := cm.Create(e.ctx, e.biz.ID, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	// Stop the workers twice while it runs, restarting them.
	for range 2 {
		e.waitFor("some progress", func() bool { return len(e.sendsOf(cs[0].account)) >= 5 })
		e.halt()
		e.start()
	}
	// A second replica joins.
	second, err := jobs.New(e.store, discardLog(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	second.Campaigns().SetBatchSize(3, 6)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	defer func() { cancel(); <-done }()
	e.waitFor("done", func() bool { return e.campaign(camp.ID).Status == models.CampaignDone })
	e.jobsDone()
	per := sendsTo(e.sendsOf(cs[0].account))
	if len(per) != 40 {
		var rows []struct{ Status, Message string }
		e.store.Gorm(e.ctx).Raw(`SELECT r.status, COALESCE(m.status || ' ' || COALESCE(m.error_title, ''), '-') AS message
			FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id WHERE r.campaign_id = ?`, camp.ID).Scan(&rows)
		t.Fatalf("sent to %d of 40; recipients and their messages: %v", len(per), rows)
	}
	for to, k := range per {
		if k != 1 {
			t.Fatalf("%s sent %d times", to, k)
		}
	}
	if n := e.campaignCounts(camp.ID); n.Pending != 0 || n.Total != 40 {
		t.Fatalf("counts: %+v", n)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The recipients' statuses are what the simulated customers did: delivered,
// read, failed with 131050 (opted out on the identity: the next campaign
// skips them) or 131049 (retried 24 h later by a follow-up of only those).
func TestCampaignFunnelMatchesSimulator(t *testing.T) {
	e := newEnv(t, nil)
	e.campaignWorld()
	cs := e.waCustomers(40, nil)
	acct := cs[0].account
	if err := e.sim.SetCampaignBehaviour(acct, metasim.CampaignBehaviour{Seed: 11, Delivered: 0.8, Read: 0.5, Replied: 0.3,
		OptOut: 0.1, UserCap: 0.1}); err != nil {
		t.Fatal(err)
	}
	cm := e.pipe.Campaigns()
	camp, err := cm.Create(e.ctx, e.biz.ID, saldiInput(e, "50.00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	var st metasim.CampaignStats
	e.waitFor("statuses to settle", func() bool {
		st = e.sim.CampaignStats(acct)
		n := e.campaignCounts(camp.ID)
		failed := st.OptedOut + st.Capped
		return st.Sent == 40 && n.Failed == failed && n.Read == st.Read && n.Delivered == st.Delivered-st.Read &&
			n.Sent == st.Sent-failed-st.Delivered
	})
	if st.OptedOut == 0 || st.Capped == 0 || st.Read == 0 || st.Delivered == st.Sent {
		t.Fatalf("the seed tests too little: %+v", st)
	}
	rs, err := e.store.CampaignRecipients(e.ctx, e.biz.ID, camp.ID, models.RecipientFailed, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var capped, optedOut int
	for _, r := range rs {
		id, _ := e.store.Identity(e.ctx, e.biz.ID, *r.IdentityID)
		switch {
		case r.ErrorCode != nil && *r.ErrorCode == 131050:
			optedOut++
			e.waitFor("opt-out on the identity", func() bool {
				id, _ = e.store.Identity(e.ctx, e.biz.ID, *r.IdentityID)
				return id.MarketingOptOutAt != nil
			})
		case r.ErrorCode != nil && *r.ErrorCode == 131049:
			capped++
			if r.FailedAt == nil || r.ErrorTitle == "" {
				t.Fatalf("131049 without its time or reason: %+v", r)
			}
		}
	}
	if int64(optedOut) != st.OptedOut || int64(capped) != st.Capped {
		t.Fatalf("failed: %d opted out, %d capped; simulator %+v", optedOut, capped, st)
	}
	e.waitFor("done", func() bool { return e.campaign(camp.ID).Status == models.CampaignDone })
	follow, err := cm.RetryFailed(e.ctx, e.biz.ID, camp.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.campaignCounts(follow.ID); n.Total != int64(capped) || n.Pending != int64(capped) || follow.Status != models.CampaignScheduled ||
		follow.ParentID == nil || *follow.ParentID != camp.ID || !follow.ScheduledAt.Equal(testNow.Add(24*time.Hour)) {
		t.Fatalf("follow-up: %+v %+v", follow, n)
	}
	// Retrying again sends nobody twice: refused while the follow-up stands,
	// possible again once it is cancelled.
	var fe *models.FieldError
	if _, err := cm.RetryFailed(e.ctx, e.biz.ID, camp.ID, nil); !errors.As(err, &fe) || fe.Field != "recipients" {
		t.Fatalf("a second retry: %v, want a recipients error", err)
	}
	var followUps int64
	e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM campaigns WHERE parent_id = ?`, camp.ID).Scan(&followUps)
	if followUps != 1 {
		t.Fatalf("%d follow-ups after a refused retry, want 1", followUps)
	}
	if _, err := cm.Cancel(e.ctx, e.biz.ID, follow.ID); err != nil {
		t.Fatal(err)
	}
	again, err := cm.RetryFailed(e.ctx, e.biz.ID, camp.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.campaignCounts(again.ID); n.Total != int64(capped) {
		t.Fatalf("a retry after the follow-up was cancelled holds %d, want %d", n.Total, capped)
	}
	next, err := cm.Create(e.ctx, e.biz.ID, saldiInput(e, "50.00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	est, err := cm.Estimate(e.ctx, e.biz.ID, next.ID)
	if err != nil {
		t.Fatal(err)
	}
	if est.Skipped[models.SkipOptedOut] != optedOut || est.Recipients != 40-optedOut {
		t.Fatalf("the next campaign: %+v", est)
	}
}

// Meta pausing the template mid-run (132015 on the sends after it) pauses
// the campaign with the reason; the rest stay pending.
func TestCampaignPausesWhenMetaPausesTheTemplate(t *testing.T) {
	e := newEnv(t, nil)
	e.campaignWorld()
	cs := e.waCustomers(30, nil)
	if err := e.sim.SetCampaignBehaviour(cs[0].account, metasim.CampaignBehaviour{Seed: 1, Delivered: 1, PauseTemplateAfter: 5}); err != nil {
		t.Fatal(err)
	}
	cm := e.pipe.Campaigns()
	cm.SetBatchSize(2, 4)
	in := saldiInput(e, "50.00")
	in.RatePerSecond = 10
	camp, err := cm.Create(e.ctx, e.biz.ID, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the campaign to pause", func() bool { return e.campaign(camp.ID).Status == models.CampaignPaused })
	c := e.campaign(camp.ID)
	if c.PausedReason != models.PausedTemplate {
		t.Fatalf("paused for %q", c.PausedReason)
	}
	if n := e.campaignCounts(camp.ID); n.Pending == 0 || len(e.sendsOf(cs[0].account)) != 5 {
		t.Fatalf("after the pause: %+v, %d sends", n, len(e.sendsOf(cs[0].account)))
	}
	// Meta's template status webhook reaches us: the template is paused here too, and resuming is refused.
	e.waitFor("the template paused here", func() bool {
		tpl, _ := e.store.TemplateByID(e.ctx, e.biz.ID, *c.TemplateID)
		return tpl.Status == "paused"
	})
	if _, err := cm.Resume(e.ctx, e.biz.ID, camp.ID); err == nil {
		t.Fatal("resumed on a paused template")
	}
}

// More than 20% of the last outcomes failing pauses the campaign.
func TestCampaignAutoPausesOnErrorRate(t *testing.T) {
	e := newEnv(t, nil)
	e.campaignWorld()
	cs := e.waCustomers(80, nil)
	if err := e.sim.SetCampaignBehaviour(cs[0].account, metasim.CampaignBehaviour{Seed: 3, Delivered: 1, UserCap: 0.5}); err != nil {
		t.Fatal(err)
	}
	cm := e.pipe.Campaigns()
	cm.SetBatchSize(5, 10)
	in := saldiInput(e, "50.00")
	in.RatePerSecond = 20
	camp, err := cm.Create(e.ctx, e.biz.ID, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the campaign to pause", func() bool { return e.campaign(camp.ID).Status != models.CampaignRunning })
	c := e.campaign(camp.ID)
	if c.Status != models.CampaignPaused || c.PausedReason != models.PausedErrors {
		t.Fatalf("status %s (%q)", c.Status, c.PausedReason)
	}
	if n := e.campaignCounts(camp.ID); n.Pending == 0 {
		t.Fatalf("everyone sent: %+v", n)
	}
}

// A campaign scheduled at 14:00 in Rome starts at 13:00 UTC, not before.
func TestCampaignScheduledInATimeZone(t *testing.T) {
	e := newEnv(t, nil)
	e.campaignWorld()
	cs := e.waCustomers(3, nil)
	cm := e.pipe.Campaigns()
	cm.SetPollInterval(50 * time.Millisecond)
	at, err := jobs.LocalSchedule("2026-11-21T14:00", "Europe/Rome")
	if err != nil || !at.Equal(time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("14:00 in Rome: %v %v", at, err)
	}
	if _, err := jobs.LocalSchedule("2026-11-21T14:00", "Europe/Atlantis"); err == nil {
		t.Fatal("an unknown zone was accepted")
	}
	in := saldiInput(e, "50.00")
	in.ScheduledAt = &at
	camp, err := cm.Create(e.ctx, e.biz.ID, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil || c.Status != models.CampaignScheduled {
		t.Fatalf("start: %v %v", c, err)
	}
	// Paused and resumed before its time, it waits for its time again.
	if c, err := cm.Pause(e.ctx, e.biz.ID, camp.ID); err != nil || c.Status != models.CampaignPaused {
		t.Fatalf("pause: %v %v", c, err)
	}
	if c, err := cm.Resume(e.ctx, e.biz.ID, camp.ID); err != nil || c.Status != models.CampaignScheduled || c.StartedAt != nil {
		t.Fatalf("a resume before the time: %+v %v, want it scheduled again", c, err)
	}
	e.setClock(at.Add(-time.Minute))
	time.Sleep(500 * time.Millisecond) // several looks at the clock before the time
	if c := e.campaign(camp.ID); c.Status != models.CampaignScheduled || len(e.sendsOf(cs[0].account)) != 0 {
		t.Fatalf("started early: %s, %d sends", c.Status, len(e.sendsOf(cs[0].account)))
	}
	e.setClock(at.Add(time.Second))
	e.waitFor("done", func() bool { return e.campaign(camp.ID).Status == models.CampaignDone })
	e.jobsDone()
	if c := e.campaign(camp.ID); len(e.sendsOf(cs[0].account)) != 3 || c.StartedAt == nil {
		t.Fatalf("after the time: %d sends, %+v", len(e.sendsOf(cs[0].account)), c)
	}
}

// A dry run judges, personalises and prices everyone but calls no Graph
// API; a test send goes to the one chosen identity, links untracked.
func TestCampaignDryRunAndTestSend(t *testing.T) {
	e := newEnv(t, nil)
	e.campaignWorld()
	cs := e.waCustomers(4, func(i int) string { return fmt.Sprintf("Luca%d Bianchi", i) })
	if err := e.store.SetMarketingOptOut(e.ctx, e.biz.ID, cs[3].identity.ID, &testNow, "agent"); err != nil {
		t.Fatal(err)
	}
	cm := e.pipe.Campaigns()
	in := saldiInput(e, "50.00")
	in.DryRun = true
	camp, err := cm.Create(e.ctx, e.biz.ID, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("done", func() bool { return e.campaign(camp.ID).Status == models.CampaignDone })
	n := e.campaignCounts(camp.ID)
	if n.Queued != 3 || n.Skipped != 1 || n.EstimatedMicros != 3*69100 || len(e.sendsOf(cs[0].account)) != 0 {
		t.Fatalf("dry run: %+v, %d sends", n, len(e.sendsOf(cs[0].account)))
	}
	rs, _ := e.store.CampaignRecipients(e.ctx, e.biz.ID, camp.ID, models.RecipientQueued, 0, 10)
	if len(rs) != 3 || rs[0].MessageID != nil || !strings.Contains(string(rs[0].Variables), `"Luca0"`) {
		t.Fatalf("dry-run recipients: %+v", rs)
	}
	m, err := cm.TestSend(e.ctx, e.biz.ID, camp.ID, cs[1].identity.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.waitStatus(m.ID, models.StatusSent, models.StatusDelivered, models.StatusRead)
	sends := e.sendsOf(cs[0].account)
	if len(sends) != 1 || sends[0].Recipient != cs[1].identity.ExternalID || !strings.Contains(string(sends[0].Raw), `"Luca1"`) ||
		!strings.Contains(string(sends[0].Raw), "https://shop.example/saldi") {
		t.Fatalf("test send: %+v", sends)
	}
	if _, err := cm.TestSend(e.ctx, e.biz.ID, camp.ID, cs[3].identity.ID); err == nil {
		t.Fatal("a test send to an opted-out customer passed the policy")
	}
}

// Messenger has no marketing template: a campaign there is an UPDATE to the
// customers whose window is open now, counted in the estimate; the others
// are skipped as window_closed.
func TestCampaignMessengerOpenWindowsOnly(t *testing.T) {
	e := newEnv(t, nil)
	open1 := e.customer(models.AppMessenger, "PSID-OPEN-1", testNow.Add(-2*time.Hour))
	e.customer(models.AppMessenger, "PSID-OPEN-2", testNow.Add(-20*time.Hour))
	e.customer(models.AppMessenger, "PSID-CLOSED", testNow.Add(-3*24*time.Hour))
	cm := e.pipe.Campaigns()
	camp, err := cm.Create(e.ctx, e.biz.ID, jobs.CampaignInput{Name: "Promo in chat", ChannelID: open1.channel.ID,
		Text: "Solo oggi: -20% su tutto il negozio!", TimeZone: "Europe/Rome"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if camp.Kind != models.CampaignKindWindow {
		t.Fatalf("kind %s", camp.Kind)
	}
	est, err := cm.Estimate(e.ctx, e.biz.ID, camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if est.Recipients != 2 || est.Skipped[models.SkipWindowClosed] != 1 || est.TotalMicros != 0 {
		t.Fatalf("estimate: %+v", est)
	}
	if _, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("done", func() bool { return e.campaign(camp.ID).Status == models.CampaignDone })
	e.jobsDone()
	sends := e.sendsOf(open1.account)
	if len(sends) != 2 || countText(sends, "Solo oggi: -20% su tutto il negozio!") != 2 {
		t.Fatalf("sends: %+v", sends)
	}
	for _, s := range sends {
		if s.MessagingType != "UPDATE" || s.Recipient == "PSID-CLOSED" {
			t.Fatalf("send %+v", s)
		}
	}
}

// heldCampaign starts a campaign to 12 WhatsApp customers with the number
// held at 1 message a second, and returns once every recipient is queued and
// one has reached Meta: most of them are still waiting in the outbox.
func heldCampaign(t *testing.T) (*env, *jobs.Campaigner, *models.Campaign, *models.Channel) {
	t.Helper()
	e := newEnv(t, nil)
	e.campaignWorld()
	e.waCustomers(12, nil)
	ch := e.channel(models.AppWhatsApp, true)
	if err := e.store.Gorm(e.ctx).Exec(`UPDATE channels SET mps = 1 WHERE id = ?`, ch.ID).Error; err != nil {
		t.Fatal(err)
	}
	cm := e.pipe.Campaigns()
	cm.SetBatchSize(6, 100)
	camp, err := cm.Create(e.ctx, e.biz.ID, saldiInput(e, "50.00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("every recipient queued and one sent", func() bool {
		n := e.campaignCounts(camp.ID)
		return n.Pending == 0 && len(e.sendsOf(ch.AccountID)) >= 1
	})
	return e, cm, camp, ch
}

// TestCampaignCancelRecallsQueuedMessages: a cancel takes back what waits in
// the outbox, as a pause does: nobody is sent after it but the few a worker
// was already handing to Meta.
func TestCampaignCancelRecallsQueuedMessages(t *testing.T) {
	e, cm, camp, ch := heldCampaign(t)
	acct := ch.AccountID
	if _, err := cm.Cancel(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	n := e.campaignCounts(camp.ID)
	if n.Pending == 0 {
		t.Fatalf("after the cancel nothing was taken back: %+v", n)
	}
	recalled := n.Pending
	if err := e.store.Gorm(e.ctx).Exec(`UPDATE channels SET mps = 0 WHERE id = ?`, ch.ID).Error; err != nil {
		t.Fatal(err)
	}
	e.jobsDone()
	if got, want := int64(len(e.sendsOf(acct))), 12-recalled; got != want {
		t.Fatalf("%d sends at Meta after the cancel, want %d (12 less the %d taken back)", got, want, recalled)
	}
	if c := e.campaign(camp.ID); c.Status != models.CampaignCancelled {
		t.Fatalf("cancelled campaign is %s", c.Status)
	}
	if _, err := cm.Resume(e.ctx, e.biz.ID, camp.ID); err == nil {
		t.Fatal("a cancelled campaign resumed")
	}
}

// Pausing takes back what is still waiting in the outbox: with the number
// held at 1 message a second, most of the queued messages have not reached
// Meta when the campaign is paused; they go back to pending, nothing more is
// sent while paused beyond what was already leaving, and resuming sends each
// recipient exactly once (counted at the simulator), the spend only once.
func TestCampaignPauseRecallsQueuedMessages(t *testing.T) {
	e, cm, camp, ch := heldCampaign(t)
	acct := ch.AccountID
	if _, err := cm.Pause(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	var stillQueued int64 // left to their workers: their requests may be leaving
	if err := e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM campaign_recipients r JOIN messages m ON m.id = r.message_id
		WHERE r.campaign_id = ? AND m.status = 'queued'`, camp.ID).Scan(&stillQueued).Error; err != nil {
		t.Fatal(err)
	}
	n := e.campaignCounts(camp.ID)
	if n.Pending == 0 || n.Queued != stillQueued {
		t.Fatalf("after the pause: %+v, %d messages still queued", n, stillQueued)
	}
	recalled := n.Pending
	if err := e.store.Gorm(e.ctx).Exec(`UPDATE channels SET mps = 0 WHERE id = ?`, ch.ID).Error; err != nil {
		t.Fatal(err)
	}
	e.jobsDone()
	if got, want := int64(len(e.sendsOf(acct))), 12-recalled; got != want {
		t.Fatalf("%d sends at Meta while paused, want %d (12 less the %d recalled)", got, want, recalled)
	}
	if c := e.campaign(camp.ID); c.Status != models.CampaignPaused || c.SpentMicros != (12-recalled)*69100 {
		t.Fatalf("paused campaign: %s, spent %d", c.Status, c.SpentMicros)
	}
	if _, err := cm.Resume(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("done", func() bool { return e.campaign(camp.ID).Status == models.CampaignDone })
	e.jobsDone()
	per := sendsTo(e.sendsOf(acct))
	if len(per) != 12 {
		t.Fatalf("sent to %d of 12: %v", len(per), per)
	}
	for to, k := range per {
		if k != 1 {
			t.Fatalf("%s sent %d times", to, k)
		}
	}
	if c := e.campaign(camp.ID); c.SpentMicros != 12*69100 {
		t.Fatalf("spent %d, want %d", c.SpentMicros, 12*69100)
	}
}

// The editor previews settings not saved yet, for real recipients of their
// audience, with the URL button as the customer gets it; nothing is stored,
// and settings the campaign would refuse are refused the same way.
func TestCampaignPreviewDraft(t *testing.T) {
	e := newEnv(t, nil)
	tpl := e.campaignWorld()
	if err := e.store.Gorm(e.ctx).Exec(`UPDATE wa_templates SET components = ? WHERE id = ?`,
		`[{"type":"BODY","text":"Ciao {{1}}, saldi con il codice {{2}}"},{"type":"BUTTONS","buttons":[{"type":"URL","text":"Vai ai saldi","url":"https://shop.example/c/{{1}}"}]}]`,
		tpl.ID).Error; err != nil {
		t.Fatal(err)
	}
	e.waCustomers(4, func(i int) string { return fmt.Sprintf("Luca%d Bianchi", i) })
	cm := e.pipe.Campaigns()
	ps, err := cm.PreviewDraft(e.ctx, e.biz.ID, saldiInput(e, "50.00"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 {
		t.Fatalf("%d previews, want 3", len(ps))
	}
	for _, p := range ps {
		if !strings.HasPrefix(p.Text, "Ciao Luca") || !strings.Contains(p.Text, "SALDI20") || p.Unfilled {
			t.Errorf("preview for %s: %q", p.Name, p.Text)
		}
		// The button's tracked link shows where it leads: a preview makes no live token.
		if len(p.Links) != 1 || p.Links[0].Text != "Vai ai saldi" || p.Links[0].URL != "https://shop.example/saldi" {
			t.Errorf("preview links for %s: %+v", p.Name, p.Links)
		}
	}
	var n int64
	e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM campaigns WHERE business_id = ?`, e.biz.ID).Scan(&n)
	if n != 0 {
		t.Fatalf("a preview stored %d campaigns", n)
	}
	noBudget := saldiInput(e, "")
	if ps, err := cm.PreviewDraft(e.ctx, e.biz.ID, noBudget, 3); err != nil || len(ps) != 3 {
		t.Fatalf("a draft without a budget yet: %d previews, %v", len(ps), err)
	}
	bad := saldiInput(e, "50.00")
	bad.Name = ""
	var fe *models.FieldError
	if _, err := cm.PreviewDraft(e.ctx, e.biz.ID, bad, 3); !errors.As(err, &fe) || fe.Field != "name" {
		t.Fatalf("a draft without a name: %v", err)
	}
}
