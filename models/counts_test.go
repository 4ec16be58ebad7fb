package models_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// The counts the benchmarks watch see one business's rows only (and the
// journal's pending payloads of every business), so a harness reads the
// inbox it drove and nothing else.
func TestCountsOfOneBusiness(t *testing.T) {
	db := modelstest.NewDB(t)
	cipher, err := models.NewCipher(modelstest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	s := models.NewStore(db, cipher)
	ctx := context.Background()
	a := newFixture(t, s, "A", "whatsapp", "phone-a")
	b := newFixture(t, s, "B", "whatsapp", "phone-b")
	now := time.Now()
	addMessage(t, s, a, "wamid.R1", "in", "received", now)
	addMessage(t, s, a, "wamid.R2", "out", "queued", now)
	addMessage(t, s, a, "wamid.X3", "out", "sent", now)
	addMessage(t, s, a, "wamid.R_4", "out", "queued", now)
	addMessage(t, s, b, "wamid.R1", "out", "failed", now)

	ids, err := s.ThreadIDs(ctx, a.biz.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []int64{a.thread.ID}) {
		t.Errorf("ThreadIDs(A) = %v, want [%d]", ids, a.thread.ID)
	}
	counts, err := s.OutboundStatusCounts(ctx, a.biz.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"queued": 2, "sent": 1}; !maps.Equal(counts, want) {
		t.Errorf("OutboundStatusCounts(A) = %v, want %v", counts, want)
	}
	// "_" in the prefix is a character, not LIKE's wildcard.
	byID, err := s.ExternalIDCounts(ctx, a.biz.ID, "wamid.R_")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"wamid.R_4": 1}; !maps.Equal(byID, want) {
		t.Errorf("ExternalIDCounts(A, wamid.R_) = %v, want %v", byID, want)
	}
	byID, err = s.ExternalIDCounts(ctx, a.biz.ID, "wamid.R")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"wamid.R1": 1, "wamid.R2": 1, "wamid.R_4": 1}; !maps.Equal(byID, want) {
		t.Errorf("ExternalIDCounts(A, wamid.R) = %v, want %v", byID, want)
	}

	if err := s.AppendRawWebhooks(ctx, []models.NewRawWebhook{
		{App: "whatsapp", Signature: "sha256=00", Signer: models.WebhookSigner{App: true}, Body: []byte(`{"object":"whatsapp_business_account"}`)},
		{App: "whatsapp", Signature: "sha256=01", Signer: models.WebhookSigner{Channels: []int64{b.channel.ID}}, Body: []byte(`{}`)},
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PendingWebhookCount(ctx); err != nil || n != 2 {
		t.Errorf("PendingWebhookCount = %d, %v; want 2", n, err)
	}
	if n, err := db.Sessions(ctx); err != nil || n < 1 {
		t.Errorf("Sessions = %d, %v; want at least this one", n, err)
	}
}
