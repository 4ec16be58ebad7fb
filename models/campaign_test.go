package models_test

import (
	"context"
	"sync"
	"testing"

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
