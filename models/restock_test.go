package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

func TestProductAndWaitlistStore(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	biz, _ := s.CreateBusiness(ctx, "Bottega")
	other, _ := s.CreateBusiness(ctx, "Other")
	ch, err := s.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: models.AppInstagram, AccountID: "IG1", AccessToken: "t", AppSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	c := &models.Contact{BusinessID: biz.ID, Name: "Anna"}
	if err := s.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	id := &models.Identity{BusinessID: biz.ID, ContactID: c.ID, ChannelID: ch.ID, App: ch.App, ExternalID: "IGSID1"}
	if err := s.CreateIdentity(ctx, id); err != nil {
		t.Fatal(err)
	}
	p, err := s.CreateProduct(ctx, biz.ID, models.ProductInput{SKU: "GB-1", Name: "Giacca blu"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateProduct(ctx, biz.ID, models.ProductInput{SKU: "GB-1", Name: "Again"}); !errors.Is(err, models.ErrDuplicate) {
		t.Fatalf("duplicate SKU: %v", err)
	}
	if _, err := s.CreateProduct(ctx, other.ID, models.ProductInput{SKU: "GB-1", Name: "Theirs"}); err != nil {
		t.Fatalf("another business may use the same SKU: %v", err)
	}
	var fe *models.FieldError
	if _, err := s.SetStock(ctx, biz.ID, "GB-1", -1, nil); !errors.As(err, &fe) || fe.Field != "stock" {
		t.Fatalf("negative stock: %v", err)
	}
	if _, err := s.SetStock(ctx, biz.ID, "NOPE", 1, nil); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown SKU: %v", err)
	}
	if _, _, err := s.JoinWaitlist(ctx, models.Join{BusinessID: other.ID, ProductID: p.ID, IdentityID: id.ID}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another business joining: %v", err)
	}
	join := models.Join{BusinessID: biz.ID, ProductID: p.ID, IdentityID: id.ID, Source: "postback", At: time.Now().Add(-time.Hour)}
	first, created, err := s.JoinWaitlist(ctx, join)
	if err != nil || !created {
		t.Fatalf("join: %v %v", created, err)
	}
	again, created, err := s.JoinWaitlist(ctx, join)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("join again: %v %v %v", created, again, err)
	}
	// 0 → 3 starts a run for the one waiting; 3 → 5 starts none.
	var run *models.RestockRun
	err = s.InTx(ctx, func(tx *models.Store) error {
		ch, err := tx.SetStock(ctx, biz.ID, "GB-1", 3, nil)
		run = ch.Run
		return err
	})
	if err != nil || run == nil || run.Planned != 1 || run.Units == nil || *run.Units != 3 {
		t.Fatalf("0 → 3: run %+v, %v", run, err)
	}
	if ch, err := s.SetStock(ctx, biz.ID, "GB-1", 5, nil); err != nil || ch.Run != nil {
		t.Fatalf("3 → 5 started a run: %v", err)
	}
	// Notified, the customer may sign up again for the next restock.
	err = s.InTx(ctx, func(tx *models.Store) error {
		es, err := tx.ClaimEntries(ctx, run, 10)
		if err != nil || len(es) != 1 {
			t.Fatalf("claim: %v %v", es, err)
		}
		return tx.RecordRestockOutcomes(ctx, run.ID, []models.EntryOutcome{{EntryID: es[0].ID, Notified: true}}, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := s.JoinWaitlist(ctx, join); err != nil || !created {
		t.Fatalf("re-subscribe after notified: %v %v", created, err)
	}
	sums, err := s.RunSummaries(ctx, biz.ID, []int64{run.ID})
	if err != nil || len(sums) != 1 || sums[0].Notified != 1 || sums[0].Handled != 1 {
		t.Fatalf("summary %+v %v", sums, err)
	}
	if sums, _ := s.RunSummaries(ctx, other.ID, []int64{run.ID}); len(sums) != 0 {
		t.Fatal("another business reads the run")
	}
}
