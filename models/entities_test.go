package models_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// TestEntityRoundTrips writes one row of every entity through gorm and reads
// it back, so the structs and the schema cannot drift apart unnoticed.
func TestEntityRoundTrips(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	f := newFixture(t, s, "Acme", "messenger", "p1")
	m, _ := addMessage(t, s, f, "m_1", "in", "received", time.Now())
	now := time.Now().UTC().Truncate(time.Microsecond)
	biz, id := f.biz.ID, f.identity.ID

	product := &models.Product{BusinessID: biz, SKU: "LINEN-M", Name: "Linen shirt", Stock: 0}
	tmpl := &models.WATemplate{BusinessID: biz, ChannelID: f.channel.ID, Name: "back_in_stock", Language: "it", Category: "marketing",
		Status: "approved", Body: "Ciao {{1}}", Components: models.JSON(`[{"type": "body"}]`)}
	mustCreate(t, s, product, tmpl)
	poll := &models.Poll{BusinessID: biz, ThreadID: f.thread.ID, MessageID: &m.ID, Question: "Which colour?", Multiple: true}
	mustCreate(t, s, poll)
	opts := []models.PollOption{{PollID: poll.ID, Position: 0, Text: "Sand"}, {PollID: poll.ID, Position: 1, Text: "Navy"}}
	mustCreate(t, s, &opts)
	campaign := &models.Campaign{BusinessID: biz, ChannelID: f.channel.ID, Name: "Restock", TemplateID: &tmpl.ID, Status: "scheduled",
		ScheduledAt: &now, BudgetMicros: 25_000_000, Currency: "EUR", Variables: models.JSON(`["name"]`), Audience: models.JSON(`{"label": "vip"}`)}
	mustCreate(t, s, campaign)
	code := 131050

	rows := []any{
		&models.RestockWaitlist{BusinessID: biz, ProductID: product.ID, IdentityID: id, Source: "staff"},
		&models.PollVote{PollID: poll.ID, IdentityID: id, OptionIDs: models.Int64List{opts[0].ID, opts[1].ID}, VotedAt: now},
		&models.CampaignRecipient{CampaignID: campaign.ID, IdentityID: &id, MessageID: &m.ID, Country: "IT", Status: "failed",
			PriceMicros: 61_800, Currency: "EUR", QueuedAt: &now, FailedAt: &now, ErrorCode: &code, ErrorTitle: "User stopped marketing"},
		&models.CountryPrice{BusinessID: biz, Market: "IT", Category: "marketing", PriceMicros: 61_800, Currency: "EUR",
			EffectiveFrom: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
		&models.OTNToken{BusinessID: biz, IdentityID: id, Kind: "one_time", Topic: "Back in stock", Payload: "LINEN-M",
			TokenEnc: s.Cipher().Seal("otn-token"), TokenHash: models.HashToken("otn-token"), CreatedAt: now, ExpiresAt: now.AddDate(1, 0, 0)},
		&models.Reaction{MessageID: m.ID, IdentityID: &id, Emoji: "❤️", ReactedAt: now},
		&models.Note{BusinessID: biz, ThreadID: f.thread.ID, Body: "VIP — ships first"},
		&models.Label{BusinessID: biz, Name: "vip", Color: "#b45309"},
		&models.CannedResponse{BusinessID: biz, Shortcut: "hours", Body: "9–19"},
		&models.AuditEvent{BusinessID: biz, Action: "contact.merge", Entity: "contact", Before: models.JSON(`{"a": 1}`), After: models.JSON(`{"a": 2}`)},
		&models.RawWebhook{App: "messenger", Body: []byte(`{"object":"page"}`), Signature: "sha256=00", SignedBy: "channel",
			Signers: models.Int64List{7}, BusinessIDs: models.Int64List{}, Outcome: "pending"},
		&models.MessageStatus{MessageID: m.ID, Status: "read", At: now, Pricing: models.JSON(`{"category": "service"}`)},
	}
	for _, row := range rows {
		name := reflect.TypeOf(row).Elem().Name()
		mustCreate(t, s, row)
		back := reflect.New(reflect.TypeOf(row).Elem()).Interface()
		if err := s.Gorm(ctx).Where(row).Take(back).Error; err != nil {
			t.Fatalf("%s: read back: %v", name, err)
		}
		if name == "PollVote" {
			if got := back.(*models.PollVote).OptionIDs; len(got) != 2 || got[1] != opts[1].ID {
				t.Fatalf("poll vote options %v", got)
			}
		}
	}
	// One current vote per identity and poll.
	if err := s.Gorm(ctx).Create(&models.PollVote{PollID: poll.ID, IdentityID: id, OptionIDs: models.Int64List{opts[0].ID}, VotedAt: now}).Error; err == nil {
		t.Fatal("a second vote by the same identity was accepted")
	}
}

func mustCreate(t *testing.T, s *models.Store, rows ...any) {
	t.Helper()
	for _, r := range rows {
		if err := s.Gorm(context.Background()).Create(r).Error; err != nil {
			t.Fatalf("create %T: %v", r, err)
		}
	}
}
