package jobs_test

import (
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// The rest of the funnel is what the simulated customers did after reading:
// their clicks on the URL button (through our /c/ redirect, once each),
// their replies and WhatsApp orders (attributed by the periodic job from the
// inbound messages), and the orders' revenue; then a STOP reply opts the
// customer out, and the next campaign's estimate skips them.
func TestCampaignAttributionMatchesSimulator(t *testing.T) {
	e := newEnv(t, nil)
	e.campaignWorld()
	ch := e.channel(models.AppWhatsApp, true)
	// A template whose URL button leads to our own redirect, as a tracked link's must.
	tpl := &models.WATemplate{BusinessID: e.biz.ID, ChannelID: ch.ID, Name: "saldi_link", Language: "it", Category: "marketing",
		Status: "approved", Body: "Ciao {{1}}, saldi con il codice {{2}}",
		Parameters: models.TemplateParams{{Component: "body", Name: "1"}, {Component: "body", Name: "2"}, {Component: "button", Index: 0, Name: "1"}}}
	if err := e.store.Gorm(e.ctx).Create(tpl).Error; err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddTemplate(ch.AccountID, metasim.Template{Name: "saldi_link", Language: "it", Category: "MARKETING",
		Body: "Ciao {{1}}, saldi con il codice {{2}}", URL: e.api.URL + "/c/{{1}}"}); err != nil {
		t.Fatal(err)
	}
	cs := e.waCustomers(40, nil)
	acct := cs[0].account
	if err := e.sim.SetCampaignBehaviour(acct, metasim.CampaignBehaviour{Seed: 5, Delivered: 1, Read: 0.8,
		Replied: 0.4, Clicked: 0.5, Ordered: 0.3}); err != nil {
		t.Fatal(err)
	}
	in := saldiInput(e, "50.00")
	in.Template = jobs.TemplateRef{Name: "saldi_link", Language: "it"}
	cm := e.pipe.Campaigns()
	camp, err := cm.Create(e.ctx, e.biz.ID, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Start(e.ctx, e.biz.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	var st metasim.CampaignStats
	var n models.CampaignCounts
	var o models.CampaignOutcome
	e.waitFor("clicks, replies and orders to be attributed", func() bool {
		st = e.sim.CampaignStats(acct)
		n = e.campaignCounts(camp.ID)
		if o, err = e.store.CampaignOutcome(e.ctx, e.biz.ID, camp.ID); err != nil {
			t.Fatal(err)
		}
		return st.Sent == 40 && n.Read == st.Read && n.Clicked == st.Clicked && o.OrderedCount == st.Ordered &&
			n.Replied >= max(st.Replied, st.Ordered) && st.Clicked > 0 && st.Ordered > 0 && st.Replied > 0
	})
	if st.ClickErrors != 0 {
		t.Fatalf("%d tracked links failed", st.ClickErrors)
	}
	// Every order is the simulator's cart: 1 × 49.00 + 2 × 15.50 EUR.
	if o.OrdersCount != st.Ordered || o.RevenueMicros != st.Ordered*80_000_000 {
		t.Fatalf("orders %d revenue %d; the simulator ordered %d carts of 80 EUR", o.OrdersCount, o.RevenueMicros, st.Ordered)
	}
	// Replied is anyone who wrote back (a text or an order), each once.
	if n.Replied > st.Replied+st.Ordered {
		t.Fatalf("replied %d > %d texts + %d orders", n.Replied, st.Replied, st.Ordered)
	}
	rows, err := e.store.CampaignRecipientRows(e.ctx, e.biz.ID, camp.ID, models.RecipientFilter{Status: "replied"}, 0, 100)
	if err != nil || int64(len(rows)) != n.Replied {
		t.Fatalf("%d replied rows for a count of %d: %v", len(rows), n.Replied, err)
	}

	// A reader who was not one of the repliers answers STOP.
	var quiet *customer
	for _, c := range cs {
		r := recipientOf(t, e, camp.ID, c.identity.ID)
		if r.Status == models.RecipientRead && r.RepliedAt == nil {
			quiet = c
			break
		}
	}
	if quiet == nil {
		t.Fatal("the seed left no silent reader")
	}
	if _, err := e.sim.Deliver(e.ctx, mustBuild(t, e.sim, metasim.Event{App: metasim.WhatsApp, Kind: "text", Account: acct, Text: "STOP",
		Customer: &metasim.Customer{Name: "Customer " + quiet.identity.ExternalID, Phone: quiet.identity.ExternalID}})); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the STOP to opt the customer out", func() bool {
		id, _ := e.store.Identity(e.ctx, e.biz.ID, quiet.identity.ID)
		return id != nil && id.MarketingOptOutAt != nil && id.MarketingOptOutVia == "stop_word"
	})
	next, err := cm.Create(e.ctx, e.biz.ID, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	est, err := cm.Estimate(e.ctx, e.biz.ID, next.ID)
	if err != nil {
		t.Fatal(err)
	}
	if est.Skipped[models.SkipOptedOut] != 1 || est.Recipients != 39 {
		t.Fatalf("the next campaign's estimate: %d recipients, skipped %v", est.Recipients, est.Skipped)
	}
}

func recipientOf(t *testing.T, e *env, campaignID, identityID int64) models.RecipientRow {
	t.Helper()
	rows, err := e.store.CampaignRecipientRows(e.ctx, e.biz.ID, campaignID, models.RecipientFilter{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.IdentityID != nil && *r.IdentityID == identityID {
			return r
		}
	}
	t.Fatalf("identity %d is no recipient", identityID)
	return models.RecipientRow{}
}

func mustBuild(t *testing.T, sim *metasim.Sim, ev metasim.Event) metasim.Inbound {
	t.Helper()
	in, err := sim.Build(ev)
	if err != nil {
		t.Fatal(err)
	}
	return in
}
