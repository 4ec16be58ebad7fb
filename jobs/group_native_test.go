package jobs_test

import (
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// A message to a native WhatsApp group of five, one of them offline: it goes
// to the group id, each participant's statuses are kept apart ("delivered to
// 4 of 5"), and it is estimated for five and charged for the four Meta
// delivered it to, on the message and on the Spend page.
func TestNativeGroupReceiptsAndCostPerParticipant(t *testing.T) {
	e := newEnv(t, nil)
	rows, _ := pricing.ParseRateCard(pricing.SampleRateCard, testNow.AddDate(0, -1, 0))
	if _, err := e.store.ImportPrices(e.ctx, e.biz.ID, nil, rows); err != nil {
		t.Fatal(err)
	}
	phones := []string{"393471000001", "393471000002", "393471000003", "393471000004", "393471000005"}
	members := make([]*customer, len(phones))
	for i, p := range phones {
		members[i] = e.customer(models.AppWhatsApp, p, time.Time{})
	}
	c := members[0]
	const groupID = "120363025246125486"
	if err := e.sim.AddGroup(c.account, groupID, phones...); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetParticipantOffline(c.account, groupID, phones[4], true); err != nil {
		t.Fatal(err)
	}
	g, _, err := e.store.EnsureGroupThread(e.ctx, c.channel, groupID, "Sposa e famiglia", testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if err := e.store.AddParticipant(e.ctx, g.ID, m.identity.ID, "member", testNow); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.Gorm(e.ctx).Create(&models.WATemplate{BusinessID: e.biz.ID, ChannelID: c.channel.ID, Name: "order_ready",
		Language: "it", Category: "utility", Status: "approved", Body: "Ciao {{1}}, l'ordine {{2}} è pronto", Components: models.JSON(`[]`)}).Error; err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddTemplate(c.account, metasim.Template{Name: "order_ready", Language: "it", Category: "UTILITY"}); err != nil {
		t.Fatal(err)
	}

	body := e.sent(c, jobs.SendRequest{ThreadID: g.ID, Automated: true, Template: &jobs.TemplateRequest{Name: "order_ready",
		Language: "it", Variables: []string{"tutti", "#7"}}})
	if body["recipient_type"] != "group" || body["to"] != groupID {
		t.Fatalf("group body %v", body)
	}
	var id int64
	e.store.Gorm(e.ctx).Raw(`SELECT id FROM messages WHERE thread_id = ? AND direction = 'out'`, g.ID).Scan(&id)

	const rate = 30_000 // Italy, utility, in the sample card
	cost := func() *models.MessageCost {
		mc, err := e.store.MessageCostOf(e.ctx, e.biz.ID, id)
		if err != nil || mc == nil {
			t.Fatalf("cost of %d: %v, %v", id, mc, err)
		}
		return mc
	}
	if mc := cost(); mc.Participants != 5 || mc.Market != "Italy" || mc.EstimatedMicros == nil || *mc.EstimatedMicros != 5*rate {
		t.Fatalf("estimate %+v, want 5 participants at %d", mc, rate)
	}
	receipt := func() models.GroupReceipt {
		r, err := e.store.GroupReceipts(e.ctx, e.biz.ID, []int64{id})
		if err != nil {
			t.Fatal(err)
		}
		return r[id]
	}
	e.waitFor("four participants' reads", func() bool { return receipt().Read == 4 })
	if r := receipt(); r != (models.GroupReceipt{Of: 5, Delivered: 4, Read: 4}) {
		t.Fatalf("receipt %+v, want read by 4 of 5", r)
	}
	if mc := cost(); mc.ActualType != "regular" || mc.ActualCategory != "group_utility" || mc.ActualMicros == nil || *mc.ActualMicros != 4*rate {
		t.Fatalf("actual %s/%s %v, want group_utility/regular at 4 × %d", mc.ActualCategory, mc.ActualType, mc.ActualMicros, rate)
	}

	// A retried delivery (with its pricing) and a late one after the read change nothing.
	var wamid string
	e.store.Gorm(e.ctx).Raw(`SELECT external_id FROM messages WHERE id = ?`, id).Scan(&wamid)
	again := models.ParticipantStatus{ChannelID: c.channel.ID, ExternalID: wamid, Participant: phones[0], Status: models.StatusDelivered,
		At: time.Now(), Pricing: models.JSON(`{"type":"regular","category":"group_utility","model":"PMP"}`)}
	if _, err := e.store.AdvanceParticipantStatuses(e.ctx, []models.ParticipantStatus{again, again}); err != nil {
		t.Fatal(err)
	}
	y, mo, _ := time.Now().UTC().Date()
	from := time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	for _, sum := range []func() ([]models.SpendRow, error){
		func() ([]models.SpendRow, error) { return e.store.Spend(e.ctx, e.biz.ID, from, from.AddDate(0, 1, 0)) },
		func() ([]models.SpendRow, error) {
			return e.store.SpendDaily(e.ctx, e.biz.ID, from, from.AddDate(0, 1, 0))
		},
	} {
		spend, err := sum()
		if err != nil {
			t.Fatal(err)
		}
		if len(spend) != 1 {
			t.Fatalf("spend rows %+v", spend)
		}
		if r := spend[0]; r.Market != "Italy" || r.Category != "utility" || r.Messages != 5 || r.EstimatedMicros != 5*rate ||
			r.Charged != 4 || r.ActualMicros != 4*rate {
			t.Fatalf("spend %+v, want 5 estimated and 4 charged at %d", r, rate)
		}
	}
	if r := receipt(); r != (models.GroupReceipt{Of: 5, Delivered: 4, Read: 4}) {
		t.Fatalf("receipt after replays %+v", r)
	}
}
