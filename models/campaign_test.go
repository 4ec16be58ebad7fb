package models_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

func TestCampaignClickToken(t *testing.T) {
	c, err := models.NewCipher("a-secret-of-enough-length")
	if err != nil {
		t.Fatal(err)
	}
	tok := c.CampaignClickToken(123456789, 3)
	id, slot, err := c.ParseCampaignClickToken(tok)
	if err != nil || id != 123456789 || slot != 3 {
		t.Fatalf("round trip %q: %d %d %v", tok, id, slot, err)
	}
	for _, r := range tok {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			t.Fatalf("token %q is not URL-safe", tok)
		}
	}
	other := c.CampaignClickToken(123456790, 3)
	forged := other[:len(other)-16] + tok[len(tok)-16:]
	for _, bad := range []string{"", "x", forged, tok + "x", "1.2.3", tok[:len(tok)-1]} {
		if _, _, err := c.ParseCampaignClickToken(bad); err == nil {
			t.Fatalf("accepted %q", bad)
		}
	}
	c2, _ := models.NewCipher("another-secret-of-enough-length")
	if _, _, err := c2.ParseCampaignClickToken(tok); err == nil {
		t.Fatal("a token signed with another key was accepted")
	}
}

func TestCampaignCountersAndTransitions(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	biz, _ := s.CreateBusiness(ctx, "Bottega")
	other, _ := s.CreateBusiness(ctx, "Other")
	ch, err := s.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: models.AppWhatsApp, AccountID: "PN1", AccessToken: "t", AppSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	c := &models.Campaign{BusinessID: biz.ID, ChannelID: ch.ID, Name: "Saldi", TemplateName: "saldi", TemplateLanguage: "it"}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Campaign(ctx, other.ID, c.ID); got != nil {
		t.Fatal("another business reads the campaign")
	}
	var ids []int64
	for i := range 40 {
		ct := &models.Contact{BusinessID: biz.ID, Name: "C"}
		if err := s.CreateContact(ctx, ct); err != nil {
			t.Fatal(err)
		}
		id := &models.Identity{BusinessID: biz.ID, ContactID: ct.ID, ChannelID: ch.ID, App: ch.App, ExternalID: "39" + string(rune('a'+i%26)) + string(rune('a'+i/26))}
		if err := s.CreateIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id.ID)
	}
	rs := make([]models.CampaignRecipient, len(ids))
	for i, id := range ids {
		rs[i] = models.CampaignRecipient{CampaignID: c.ID, IdentityID: &id, Status: models.RecipientPending}
		if i%4 == 0 {
			rs[i].Status, rs[i].SkipReason = models.RecipientSkipped, models.SkipOptedOut
		}
	}
	if err := s.Gorm(ctx).Create(&rs).Error; err != nil {
		t.Fatal(err)
	}
	n, err := s.CampaignCounts(ctx, c.ID)
	if err != nil || n.Total != 40 || n.Pending != 30 || n.Skipped != 10 {
		t.Fatalf("counts after insert: %+v %v", n, err)
	}
	claimed, err := s.ClaimPendingRecipients(ctx, c.ID, 5)
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	outs := make([]models.RecipientOutcome, len(claimed))
	for i, r := range claimed {
		outs[i] = models.RecipientOutcome{ID: r.ID, SkipReason: models.SkipBlocked}
	}
	if err := s.RecordRecipientOutcomes(ctx, c.ID, outs, c.CreatedAt); err != nil {
		t.Fatal(err)
	}
	n, _ = s.CampaignCounts(ctx, c.ID)
	if n.Total != 40 || n.Pending != 25 || n.Skipped != 15 {
		t.Fatalf("counts after a batch: %+v", n)
	}
	reasons, err := s.CampaignSkipReasons(ctx, c.ID)
	if err != nil || reasons[models.SkipOptedOut] != 10 || reasons[models.SkipBlocked] != 5 {
		t.Fatalf("reasons: %v %v", reasons, err)
	}
	// Two concurrent starts: exactly one wins.
	var wg sync.WaitGroup
	wins := make(chan bool, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.TransitionCampaign(ctx, biz.ID, c.ID, []string{models.CampaignDraft, models.CampaignScheduled}, models.CampaignRunning, "")
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		}()
	}
	wg.Wait()
	close(wins)
	won := 0
	for ok := range wins {
		if ok {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d starts won", won)
	}
	if ok, _ := s.TransitionCampaign(ctx, other.ID, c.ID, []string{models.CampaignRunning}, models.CampaignPaused, ""); ok {
		t.Fatal("another business paused the campaign")
	}
	if err := s.Gorm(ctx).Exec(`DELETE FROM campaigns WHERE id = ?`, c.ID).Error; err != nil {
		t.Fatalf("delete with counts: %v", err)
	}
}

// The writers of a campaign's messages run at once, each over its own
// shuffled batches: workers recording outcomes (retried, so the same message
// twice), status webhooks moving sent messages to delivered, a pause taking
// back what is still queued. None may deadlock (40P01 would fail a write) and
// the counters must equal the recipients' statuses.
func TestCampaignOutcomeWritersNeverDeadlock(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	biz, _ := s.CreateBusiness(ctx, "Bottega")
	ch, err := s.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: models.AppWhatsApp, AccountID: "PN1", AccessToken: "t", AppSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 600
	g := s.Gorm(ctx)
	if err := g.Exec(`WITH c AS (INSERT INTO contacts (business_id, name) SELECT ?, 'C' || k FROM generate_series(1, ?) k RETURNING id),
		i AS (INSERT INTO identities (business_id, contact_id, channel_id, app, external_id, phone)
			SELECT ?, c.id, ?, 'whatsapp', (393400000000 + c.id)::text, '+' || (393400000000 + c.id)::text FROM c RETURNING id)
		INSERT INTO threads (business_id, channel_id, kind, direct_identity_id, title, apps)
		SELECT ?, ?, 'direct', i.id, 'C', '{whatsapp}' FROM i`, biz.ID, n, biz.ID, ch.ID, biz.ID, ch.ID).Error; err != nil {
		t.Fatal(err)
	}
	var threads []struct{ ID, DirectIdentityID int64 }
	if err := g.Raw(`SELECT id, direct_identity_id FROM threads WHERE business_id = ? ORDER BY id`, biz.ID).Scan(&threads).Error; err != nil {
		t.Fatal(err)
	}
	c := &models.Campaign{BusinessID: biz.ID, ChannelID: ch.ID, Name: "Saldi", TemplateName: "saldi", TemplateLanguage: "it"}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	rs := make([]models.CampaignRecipient, n)
	for i, th := range threads {
		rs[i] = models.CampaignRecipient{CampaignID: c.ID, IdentityID: &th.DirectIdentityID, ThreadID: &th.ID, Status: models.RecipientPending}
	}
	if err := g.Create(&rs).Error; err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	msgs := make([]*models.Message, n)
	outs := make([]models.RecipientOutcome, n)
	for i, th := range threads {
		msgs[i] = &models.Message{BusinessID: biz.ID, ThreadID: th.ID, ChannelID: &ch.ID, Direction: models.DirectionOut,
			App: models.AppWhatsApp, Kind: "template", Text: "Ciao", Status: models.StatusQueued, SentAt: now, StatusAt: now}
	}
	if err := s.AddOutboundMessages(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		outs[i] = models.RecipientOutcome{ID: rs[i].ID, MessageID: &msgs[i].ID, PriceMicros: 10}
	}
	if err := s.RecordRecipientOutcomes(ctx, c.ID, outs, now); err != nil {
		t.Fatal(err)
	}
	ext := func(id int64) string { return "wamid." + strconv.FormatInt(id, 10) }
	// The last 100 stay queued until the pause (a worker never claimed them).
	sendable := msgs[:n-100]
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	// The pause comes once Meta has answered some sends, so there is
	// something for the counters to keep; it still races the rest.
	answered, answeredOnce := make(chan struct{}), sync.Once{}
	for w := range 6 {
		wg.Go(func() {
			if w%2 == 0 { // an answering worker that failed must not hold up the pause (a status worker's end says nothing)
				defer answeredOnce.Do(func() { close(answered) })
			}
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range 12 {
				batch := make([]*models.Message, 60)
				for k := range batch {
					batch[k] = sendable[rng.IntN(len(sendable))]
				}
				if w%2 == 0 { // a worker recording Meta's answers
					os := make([]models.SendOutcome, len(batch))
					for k, m := range batch {
						os[k] = models.SendOutcome{MessageID: m.ID, At: now, Sent: true, ExternalID: ext(m.ID)}
					}
					if err := s.RecordOutcomes(ctx, os); err != nil {
						errs <- err
						return
					}
					answeredOnce.Do(func() { close(answered) })
					continue
				}
				err := s.InTx(ctx, func(tx *models.Store) error { // a status webhook batch
					us := make([]models.StatusUpdate, len(batch))
					for k, m := range batch {
						us[k] = models.StatusUpdate{ChannelID: ch.ID, ExternalID: ext(m.ID), Status: models.StatusDelivered, At: now}
					}
					_, err := tx.AdvanceStatuses(ctx, us)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		<-answered
		var paused int
		err := s.InTx(ctx, func(tx *models.Store) error {
			var err error
			paused, err = tx.RecallQueuedMessages(ctx, c.ID)
			return err
		})
		if err != nil {
			errs <- err
		} else if paused < 100 {
			errs <- fmt.Errorf("recalled %d, want at least the 100 never claimed", paused)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var truth []struct {
		Status string
		N      int64
	}
	if err := g.Raw(`SELECT status, count(*) AS n FROM campaign_recipients WHERE campaign_id = ? GROUP BY 1`, c.ID).Scan(&truth).Error; err != nil {
		t.Fatal(err)
	}
	got, err := s.CampaignCounts(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, r := range truth {
		want[r.Status] = r.N
	}
	if got.Total != n || got.Pending != want["pending"] || got.Queued != want["queued"] || got.Sent != want["sent"] ||
		got.Delivered != want["delivered"] || want["pending"] < 100 || want["sent"]+want["delivered"] == 0 {
		t.Fatalf("counts %+v, recipients %v", got, want)
	}
	if err := s.FoldCampaignCounts(ctx, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.CampaignCounts(ctx, c.ID); again != got {
		t.Fatalf("folded counts %+v, before %+v", again, got)
	}
	var rows int
	if err := g.Raw(`SELECT count(*) FROM campaign_counts WHERE campaign_id = ?`, c.ID).Scan(&rows).Error; err != nil || rows > 8 {
		t.Fatalf("%d counter rows after folding: %v", rows, err)
	}
}
