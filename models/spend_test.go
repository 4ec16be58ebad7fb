package models_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// TestSpendMonthlyRollup: the monthly rollup the triggers keep beside
// spend_daily gives the same sums as the days, for whole months, for ranges
// that cut months and for ranges within one month; Meta's charge lands in
// both; another business's spend never mixes in.
func TestSpendMonthlyRollup(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	biz, _ := s.CreateBusiness(ctx, "Bottega")
	other, _ := s.CreateBusiness(ctx, "Other")
	seed := func(b *models.Business, account string, n int) {
		ch, err := s.CreateChannel(ctx, models.NewChannel{BusinessID: b.ID, App: models.AppWhatsApp, AccountID: account, AccessToken: "t", AppSecret: "s"})
		if err != nil {
			t.Fatal(err)
		}
		c := &models.Contact{BusinessID: b.ID, Name: "Anna"}
		if err := s.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		id := &models.Identity{BusinessID: b.ID, ContactID: c.ID, ChannelID: ch.ID, App: ch.App, ExternalID: "393470000001", Phone: "+393470000001"}
		if err := s.CreateIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 8, 20, 10, 0, 0, 0, time.UTC)
		th, _, err := s.EnsureDirectThread(ctx, id, start)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			at := start.Add(time.Duration(i) * 37 * time.Hour) // Aug 20 → mid-Nov
			m := &models.Message{BusinessID: b.ID, ThreadID: th.ID, ChannelID: &ch.ID, Direction: models.DirectionOut, App: ch.App,
				Kind: "template", Text: "Saldi", SentAt: at, Status: models.StatusSent, StatusAt: at}
			if err := s.InTx(ctx, func(tx *models.Store) error { _, err := tx.AddMessage(ctx, m, nil); return err }); err != nil {
				t.Fatal(err)
			}
			cat := []string{"marketing", "utility", "service"}[i%3]
			est := int64(1000 + i)
			if err := s.RecordMessageCosts(ctx, []models.MessageCost{{MessageID: m.ID, BusinessID: b.ID, ChannelID: &ch.ID, Country: "IT",
				Market: "Italy", Category: cat, Currency: "USD", EstimatedMicros: &est, CreatedAt: at}}); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 { // Meta charges every other one
				if err := s.Gorm(ctx).Create(&models.MessageStatus{MessageID: m.ID, Status: "sent", At: at,
					Pricing: models.JSON(`{"pricing_model":"PMP","type":"regular","category":"` + cat + `"}`)}).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	seed(biz, "PN1", 60)
	seed(other, "PN2", 10)
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, time.UTC) }
	for _, r := range []struct{ from, to time.Time }{
		{d(9, 1), d(10, 1)},  // one whole month
		{d(8, 1), d(12, 1)},  // several
		{d(8, 25), d(11, 5)}, // cut at both ends
		{d(9, 1), d(10, 17)}, // a month and some days
		{d(10, 3), d(10, 9)}, // days within one month
		{d(8, 25), d(9, 1)},  // up to a month's start
	} {
		got, err := s.Spend(ctx, biz.ID, r.from, r.to)
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.SpendDaily(ctx, biz.ID, r.from, r.to)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("[%s, %s): rollup %+v, days %+v", r.from.Format(time.DateOnly), r.to.Format(time.DateOnly), got, want)
		}
	}
	all, _ := s.Spend(ctx, biz.ID, d(1, 1), d(12, 31))
	n, charged := 0, 0
	for _, r := range all {
		n, charged = n+r.Messages, charged+r.Charged
	}
	if n != 60 || charged != 30 {
		t.Fatalf("the year: %d messages, %d charged; want 60 and 30", n, charged)
	}
}
