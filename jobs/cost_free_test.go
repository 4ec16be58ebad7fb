package jobs_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// TestEstimateFreeCases: the estimate is zero exactly where Meta does not
// charge, and agrees with the pricing type Meta reports. Before 1 Oct 2026 a
// free-form reply and a utility template inside the window were free; from
// then both are billed (meta-platform.md §6.3); a marketing template is
// billed in the window too; everything inside a free entry point (72 h after
// a Click-to-WhatsApp ad) is free, then and now.
func TestEstimateFreeCases(t *testing.T) {
	for _, tc := range []struct {
		name    string
		now     time.Time
		entry   bool   // the customer came from a Click-to-WhatsApp ad an hour ago
		kind    string // reply, utility, marketing
		open    bool   // the customer wrote an hour ago
		free    bool
		metaTyp string
	}{
		{"reply in the window, September", time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC), false, "reply", true, true, "free_customer_service"},
		{"utility in the window, September", time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC), false, "utility", true, true, "free_customer_service"},
		{"utility outside the window, September", time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC), false, "utility", false, false, "regular"},
		{"marketing in the window, September", time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC), false, "marketing", true, false, "regular"},
		{"reply in the window, November: billed", testNow, false, "reply", true, false, "regular"},
		{"utility in the window, November: billed", testNow, false, "utility", true, false, "regular"},
		{"marketing in a free entry point", testNow, true, "marketing", true, true, "free_entry_point"},
		{"reply in a free entry point", testNow, true, "reply", true, true, "free_entry_point"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.setClock(tc.now)
			rows, _ := pricing.ParseRateCard(pricing.SampleRateCard, tc.now.AddDate(0, -1, 0))
			if _, err := e.store.ImportPrices(e.ctx, e.biz.ID, nil, rows); err != nil {
				t.Fatal(err)
			}
			last := tc.now.Add(-30 * time.Hour)
			if tc.open {
				last = tc.now.Add(-time.Hour)
			}
			c := e.customer(models.AppWhatsApp, "393471234567", last)
			if tc.entry {
				if err := e.store.RecordCustomerEvent(e.ctx, c.identity.ID, "ctwa_referral", tc.now.Add(-time.Hour)); err != nil {
					t.Fatal(err)
				}
				if err := e.sim.SetEntryPoint(c.account, c.identity.ExternalID, tc.now.Add(-time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			for _, cat := range []string{"utility", "marketing"} {
				if err := e.sim.AddTemplate(c.account, metasim.Template{Name: "t_" + cat, Language: "it", Category: map[string]string{"utility": "UTILITY", "marketing": "MARKETING"}[cat], Body: "Ciao {{1}}"}); err != nil {
					t.Fatal(err)
				}
				e.store.Gorm(e.ctx).Create(&models.WATemplate{BusinessID: e.biz.ID, ChannelID: c.channel.ID, Name: "t_" + cat, Language: "it",
					Category: cat, Status: "approved", Body: "Ciao {{1}}", Components: models.JSON(`[]`)})
			}
			body := map[string]any{"text": "Grazie!"}
			if tc.kind != "reply" {
				body = map[string]any{"template": map[string]any{"name": "t_" + tc.kind, "language": "it", "variables": []string{"Anna"}}}
			}
			status, res := e.post("/api/v1/threads/"+strconv.FormatInt(c.thread.ID, 10)+"/messages", body)
			if status != 201 {
				t.Fatalf("send: %d %v", status, res)
			}
			id := idOf(t, res)
			var cost *models.MessageCost
			e.waitFor("Meta's pricing on the statuses", func() bool {
				var err error
				cost, err = e.store.MessageCostOf(e.ctx, e.biz.ID, id)
				return err == nil && cost != nil && cost.ActualType != ""
			})
			if cost.EstimatedMicros == nil || (*cost.EstimatedMicros == 0) != tc.free {
				t.Errorf("estimate %v, want free=%v", cost.EstimatedMicros, tc.free)
			}
			if cost.ActualType != tc.metaTyp {
				t.Errorf("Meta reported %s, want %s", cost.ActualType, tc.metaTyp)
			}
		})
	}
}

func TestPricingFree(t *testing.T) {
	sep, oct := time.Date(2026, 9, 30, 23, 59, 0, 0, time.UTC), pricing.InWindowBilledFrom
	for _, tc := range []struct {
		cat       string
		open, fep bool
		at        time.Time
		free      bool
	}{
		{"service", true, false, sep, true}, {"service", true, false, oct, false},
		{"utility", true, false, sep, true}, {"utility", true, false, oct, false}, {"utility", false, false, sep, false},
		{"marketing", true, false, sep, false}, {"authentication", true, false, sep, false},
		{"marketing", false, true, oct, true}, {"utility", false, true, oct, true},
	} {
		if got, _ := pricing.Free(tc.cat, tc.open, tc.fep, tc.at); got != tc.free {
			t.Errorf("%s open=%v entry=%v at %s: free=%v, want %v", tc.cat, tc.open, tc.fep, tc.at.Format(time.DateTime), got, tc.free)
		}
	}
}
