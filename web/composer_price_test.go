package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
	"github.com/switchboard-inbox/switchboard/pricing"
)

func TestComposerShowsThePriceOfASend(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	if err := e.store.Gorm(ctx).Exec(`INSERT INTO wa_templates (business_id, channel_id, name, language, category, body)
		VALUES (?, ?, 'winter_sale', 'it', 'marketing', 'Saldi!')`, e.b.biz.ID, e.b.channel.ID).Error; err != nil {
		t.Fatal(err)
	}
	y, m, _ := time.Now().UTC().Date()
	rows, _ := pricing.ParseRateCard(pricing.SampleRateCard, time.Date(y, m, 1, 0, 0, 0, 0, time.UTC))
	if _, err := e.store.ImportPrices(ctx, e.b.biz.ID, nil, rows); err != nil {
		t.Fatal(err)
	}
	// A customer with a phone (wa_id) in Italy, outside the window.
	c := &models.Contact{BusinessID: e.b.biz.ID, Name: "Anna"}
	if err := e.store.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	anna := addIdentity(t, e.store, e.b, c, "393471234567", "Anna")
	th, _, err := e.store.EnsureDirectThread(ctx, anna, time.Now().Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cl := e.signIn(t, e.b.agent)
	e.outbox.setDecisions(waTemplateOnly(anna.ID))
	_, body := cl.get("/inbox/threads/" + id(th.ID))
	if !strings.Contains(body, "winter_sale: Marketing template · Italy · USD 0.0691") {
		t.Errorf("template price missing: %s", snippetOf(body, "template-prices"))
	}
	// Inside the window a free-form reply shows its (service) price.
	e.outbox.setDecisions(openWindow(anna.ID, policy.AppWhatsApp))
	_, body = cl.get("/inbox/threads/" + id(th.ID))
	if !strings.Contains(body, "Reply · Italy · USD 0.0180") {
		t.Errorf("reply price missing: %s", snippetOf(body, "reply-price"))
	}
	// A customer known by no phone: the market is unknown, never guessed.
	e.outbox.setDecisions(waTemplateOnly(e.b.identity.ID))
	_, body = cl.get("/inbox/threads/" + id(e.b.thread.ID))
	if !strings.Contains(body, "no phone number") || strings.Contains(body, "Marketing template ·") {
		t.Errorf("BSUID-only customer: %s", snippetOf(body, "template-prices"))
	}
}
