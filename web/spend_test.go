package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// seedSpend queues two WhatsApp messages of business B with their estimates;
// Meta charges the marketing one and lets the reply go free.
func seedSpend(t *testing.T, e *uiEnv) {
	t.Helper()
	ctx := context.Background()
	y, m, _ := time.Now().UTC().Date()
	rows, _ := pricing.ParseRateCard(pricing.SampleRateCard, time.Date(y, m, 1, 0, 0, 0, 0, time.UTC))
	if _, err := e.store.ImportPrices(ctx, e.b.biz.ID, nil, rows); err != nil {
		t.Fatal(err)
	}
	promo := addMessage(t, e.store, e.b, "Saldi!", "out", time.Now())
	reply := addMessage(t, e.store, e.b, "Grazie", "out", time.Now())
	est := func(v int64) *int64 { return &v }
	err := e.store.RecordMessageCosts(ctx, []models.MessageCost{
		{MessageID: promo.ID, BusinessID: e.b.biz.ID, ChannelID: &e.b.channel.ID, Country: "IT", Market: "Italy", Category: "marketing", Currency: "USD", EstimatedMicros: est(69_100)},
		{MessageID: reply.ID, BusinessID: e.b.biz.ID, ChannelID: &e.b.channel.ID, Country: "IT", Market: "Italy", Category: "service", Currency: "USD", EstimatedMicros: est(18_000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []models.MessageStatus{
		{MessageID: promo.ID, Status: "sent", At: time.Now(), Pricing: models.JSON(`{"pricing_model":"PMP","type":"regular","category":"marketing"}`)},
		{MessageID: promo.ID, Status: "delivered", At: time.Now(), Pricing: models.JSON(`{"pricing_model":"PMP","type":"regular","category":"marketing"}`)},
		{MessageID: reply.ID, Status: "sent", At: time.Now(), Pricing: models.JSON(`{"pricing_model":"PMP","type":"free_customer_service","category":"service"}`)},
	} {
		if err := e.store.Gorm(ctx).Create(&st).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestSpendPageAndCSV(t *testing.T) {
	e := newUIEnv(t, false)
	seedSpend(t, e)
	admin := e.signIn(t, e.b.admin)
	_, body := admin.get("/settings/spend")
	if !strings.Contains(body, "2 messages, estimated USD 0.0871; 1 charged by Meta, USD 0.0691") || !strings.Contains(body, `data-testid="spend-chart"`) {
		t.Errorf("spend page: %s", snippetOf(body, "spend-page"))
	}
	res, csv := admin.get("/settings/spend.csv")
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") ||
		!strings.Contains(csv, ",Italy,marketing,USD,1,0.0691,1,0.0691\n") || !strings.Contains(csv, ",Italy,service,USD,1,0.0180,0,0.0000\n") {
		t.Errorf("csv %s:\n%s", ct, csv)
	}
	// Last month had nothing; another business sees nothing; agents are kept out.
	last := time.Now().UTC().AddDate(0, -1, 0).Format("2006-01")
	if _, body := admin.get("/settings/spend?month=" + last); !strings.Contains(body, `data-testid="spend-empty"`) {
		t.Error("last month is not empty")
	}
	if _, body := e.signIn(t, e.a.admin).get("/settings/spend"); !strings.Contains(body, `data-testid="spend-empty"`) {
		t.Error("spend leaks across businesses")
	}
	if res, _ := e.signIn(t, e.b.agent).get("/settings/spend"); res.StatusCode != 403 {
		t.Errorf("agent: %d", res.StatusCode)
	}
	if res, _ := admin.get("/settings/spend?month=13-2026"); res.StatusCode != 400 {
		t.Errorf("bad month: %d", res.StatusCode)
	}
}
