package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// TestMetaChargesPerBatch: one webhook batch of mixed statuses (charged,
// free, re-categorised, no pricing, the same status twice, sent and
// delivered of one message) records each message's actual category, type
// and cost from its first priced status, and spend_daily / spend_monthly
// count each charge exactly once; replaying the batch, and later priced
// statuses, change nothing.
func TestMetaChargesPerBatch(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	biz, _ := s.CreateBusiness(ctx, "Bottega")
	ch, err := s.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: models.AppWhatsApp, AccountID: "PN1", AccessToken: "t", AppSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.ImportPrices(ctx, biz.ID, nil, []models.CountryPrice{
		{Market: "Italy", Category: "marketing", PriceMicros: 69100, Currency: "EUR", EffectiveFrom: from},
		{Market: "Italy", Category: "utility", PriceMicros: 30000, Currency: "EUR", EffectiveFrom: from},
		{Market: "Italy", Category: "service", PriceMicros: 18000, Currency: "EUR", EffectiveFrom: from},
	}); err != nil {
		t.Fatal(err)
	}
	c := &models.Contact{BusinessID: biz.ID, Name: "Anna"}
	if err := s.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	id := &models.Identity{BusinessID: biz.ID, ContactID: c.ID, ChannelID: ch.ID, App: ch.App, ExternalID: "393470000001", Phone: "+393470000001"}
	if err := s.CreateIdentity(ctx, id); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC) // statuses arrive the next day, next month: the send's day counts
	th, _, err := s.EnsureDirectThread(ctx, id, at)
	if err != nil {
		t.Fatal(err)
	}
	// The estimated category of each message, by its wamid.
	estimated := []string{"marketing", "utility", "service", "marketing", "marketing", "utility"}
	ids := map[string]int64{}
	for i, cat := range estimated {
		wamid := fmt.Sprintf("wamid.%d", i)
		m := &models.Message{BusinessID: biz.ID, ThreadID: th.ID, ChannelID: &ch.ID, Direction: models.DirectionOut, App: ch.App,
			Kind: "template", Text: "Saldi", SentAt: at, Status: models.StatusSent, StatusAt: at, ExternalID: &wamid}
		if err := s.InTx(ctx, func(tx *models.Store) error { _, err := tx.AddMessage(ctx, m, nil); return err }); err != nil {
			t.Fatal(err)
		}
		est := map[string]int64{"marketing": 69100, "utility": 30000, "service": 18000}[cat]
		if err := s.RecordMessageCosts(ctx, []models.MessageCost{{MessageID: m.ID, BusinessID: biz.ID, ChannelID: &ch.ID, Country: "IT",
			Market: "Italy", Category: cat, Currency: "EUR", EstimatedMicros: &est, CreatedAt: at}}); err != nil {
			t.Fatal(err)
		}
		ids[wamid] = m.ID
	}
	priced := func(typ, cat string) models.JSON {
		return models.JSON(`{"pricing_model":"PMP","type":"` + typ + `","category":"` + cat + `"}`)
	}
	next := at.Add(2 * time.Hour)
	st := func(wamid, status string, p models.JSON, later time.Duration) models.StatusUpdate {
		return models.StatusUpdate{ChannelID: ch.ID, ExternalID: wamid, Status: status, At: next.Add(later), Pricing: p}
	}
	batch := []models.StatusUpdate{
		st("wamid.0", "delivered", priced("regular", "marketing"), 0),
		st("wamid.0", "delivered", priced("regular", "marketing"), time.Second), // Meta's retry of the same status
		st("wamid.0", "read", priced("regular", "marketing"), time.Minute),
		st("wamid.1", "delivered", priced("free_customer_service", "utility"), 0), // utility inside the window
		st("wamid.2", "delivered", priced("free_entry_point", "service"), 0),
		st("wamid.3", "delivered", priced("regular", "utility"), 0), // Meta re-categorised it: utility's rate, not marketing's
		st("wamid.3", "read", priced("regular", "marketing"), time.Minute),
		st("wamid.4", "delivered", nil, 0), // no pricing yet
		st("wamid.5", "sent", priced("regular", "utility"), 0),
		st("wamid.5", "delivered", priced("regular", "utility"), time.Second),
		st("wamid.5", "sent", priced("regular", "utility"), 2*time.Second),
		st("wamid.unknown", "delivered", priced("regular", "marketing"), 0), // not ours
	}
	want := map[string]struct {
		cat, typ string
		micros   *int64
	}{
		"wamid.0": {"marketing", "regular", ptr(69100)},
		"wamid.1": {"utility", "free_customer_service", nil},
		"wamid.2": {"service", "free_entry_point", nil},
		"wamid.3": {"utility", "regular", ptr(30000)},
		"wamid.4": {"", "", nil},
		"wamid.5": {"utility", "regular", ptr(30000)},
	}
	// wamid.3 is counted in its estimated row (marketing) at the rate of its actual category.
	wantSpend := map[string][2]int64{"marketing": {2, 99100}, "utility": {1, 30000}, "service": {0, 0}}
	check := func(round string) {
		t.Helper()
		for wamid, w := range want {
			got, err := s.MessageCostOf(ctx, biz.ID, ids[wamid])
			if err != nil || got == nil {
				t.Fatalf("%s: cost of %s: %v %v", round, wamid, got, err)
			}
			if got.ActualCategory != w.cat || got.ActualType != w.typ || fmt.Sprint(deref(got.ActualMicros)) != fmt.Sprint(deref(w.micros)) ||
				(got.ActualMicros == nil) != (w.micros == nil) {
				t.Errorf("%s: %s actual %q %q %v, want %q %q %v", round, wamid, got.ActualCategory, got.ActualType, deref(got.ActualMicros),
					w.cat, w.typ, deref(w.micros))
			}
		}
		// Counted under the estimated category, on the send's day and month.
		for _, r := range []struct {
			name string
			rows func() ([]models.SpendRow, error)
		}{
			{"daily", func() ([]models.SpendRow, error) { return s.SpendDaily(ctx, biz.ID, at, at.AddDate(0, 0, 1)) }},
			{"monthly", func() ([]models.SpendRow, error) {
				return s.SpendMonth(ctx, biz.ID, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
			}},
		} {
			rows, err := r.rows()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][2]int64{}
			msgs := 0
			for _, row := range rows {
				got[row.Category] = [2]int64{int64(row.Charged), row.ActualMicros}
				msgs += row.Messages
			}
			if msgs != len(estimated) || fmt.Sprint(got) != fmt.Sprint(wantSpend) {
				t.Errorf("%s: %s spend %v over %d messages, want %v over %d", round, r.name, got, msgs, wantSpend, len(estimated))
			}
		}
	}
	if _, err := s.AdvanceStatuses(ctx, batch); err != nil {
		t.Fatal(err)
	}
	check("first batch")
	if _, err := s.AdvanceStatuses(ctx, batch); err != nil {
		t.Fatal(err)
	}
	check("replayed batch")
	later := []models.StatusUpdate{
		st("wamid.1", "read", priced("regular", "utility"), time.Hour), // a later priced status does not re-decide
		st("wamid.0", "played", priced("regular", "marketing"), time.Hour),
	}
	if _, err := s.AdvanceStatuses(ctx, later); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AdvanceStatus(ctx, st("wamid.3", "played", priced("regular", "marketing"), time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("later statuses")
	// wamid.4's pricing arrives on its own later status: charged then, once.
	if _, err := s.AdvanceStatuses(ctx, []models.StatusUpdate{st("wamid.4", "read", priced("regular", "marketing"), time.Hour),
		st("wamid.4", "read", priced("regular", "marketing"), time.Hour)}); err != nil {
		t.Fatal(err)
	}
	want["wamid.4"] = struct {
		cat, typ string
		micros   *int64
	}{"marketing", "regular", ptr(69100)}
	wantSpend["marketing"] = [2]int64{3, 168200}
	check("late pricing")
}

func ptr(v int64) *int64 { return &v }

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
