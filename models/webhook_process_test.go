package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// TestProcessWebhooksCommitsOrRollsBack: the processor's transaction keeps
// everything apply wrote when it succeeds, nothing when it fails — the
// payload stays pending —, and a savepoint inside it rolls back only its
// own writes.
func TestProcessWebhooksCommitsOrRollsBack(t *testing.T) {
	ctx := context.Background()
	s := modelstest.NewStore(t)
	if err := s.AppendRawWebhooks(ctx, []models.NewRawWebhook{
		{App: "whatsapp", Signature: "sha256=00", Signer: models.WebhookSigner{App: true}, Body: []byte(`{"object":"whatsapp_business_account"}`)},
	}); err != nil {
		t.Fatal(err)
	}
	var created []int64
	boom := errors.New("boom")
	n, err := s.ProcessWebhooks(ctx, -1, 10, func(tx *models.Store, rows []models.PendingWebhook) ([]models.WebhookOutcome, []models.Event, error) {
		b, err := tx.CreateBusiness(ctx, "Rolled back")
		if err != nil {
			return nil, nil, err
		}
		created = append(created, b.ID)
		return nil, nil, boom
	})
	if n != 1 || !errors.Is(err, boom) {
		t.Fatalf("failing apply: ProcessWebhooks = %d, %v; want 1, boom", n, err)
	}
	if b, err := s.Business(ctx, created[0]); err != nil || b != nil {
		t.Errorf("a failed batch's business = %v, %v; want none", b, err)
	}
	if p, err := s.PendingWebhookCount(ctx); err != nil || p != 1 {
		t.Errorf("after a failed batch, pending = %d, %v; want 1", p, err)
	}

	var kept, undone int64
	n, err = s.ProcessWebhooks(ctx, -1, 10, func(tx *models.Store, rows []models.PendingWebhook) ([]models.WebhookOutcome, []models.Event, error) {
		b, err := tx.CreateBusiness(ctx, "Kept")
		if err != nil {
			return nil, nil, err
		}
		kept = b.ID
		err = tx.InTx(ctx, func(sp *models.Store) error {
			b, err := sp.CreateBusiness(ctx, "Savepoint")
			if err != nil {
				return err
			}
			undone = b.ID
			return boom
		})
		if !errors.Is(err, boom) {
			return nil, nil, err
		}
		outs := make([]models.WebhookOutcome, len(rows))
		for i, r := range rows {
			outs[i] = models.WebhookOutcome{ID: r.ID, Outcome: "processed"}
		}
		return outs, nil, nil
	})
	if n != 1 || err != nil {
		t.Fatalf("ProcessWebhooks = %d, %v; want 1, nil", n, err)
	}
	if b, err := s.Business(ctx, kept); err != nil || b == nil {
		t.Errorf("the committed batch's business = %v, %v; want it", b, err)
	}
	if b, err := s.Business(ctx, undone); err != nil || b != nil {
		t.Errorf("the rolled-back savepoint's business = %v, %v; want none", b, err)
	}
	if p, err := s.PendingWebhookCount(ctx); err != nil || p != 0 {
		t.Errorf("after the batch, pending = %d, %v; want 0", p, err)
	}
	if n, err := s.ProcessWebhooks(ctx, -1, 10, func(*models.Store, []models.PendingWebhook) ([]models.WebhookOutcome, []models.Event, error) {
		t.Error("apply called with nothing pending")
		return nil, nil, nil
	}); n != 0 || err != nil {
		t.Errorf("nothing pending: ProcessWebhooks = %d, %v; want 0, nil", n, err)
	}
}
