package pricing_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// TestBookFollowsOtherReplicasImports: two replicas (two stores, two books,
// one database, a 5-minute reload). Replica B has Italy's marketing price
// cached; replica A imports a new one and edits another cell: B quotes the
// new prices at once, told by NOTIFY, without waiting for its reload.
func TestBookFollowsOtherReplicasImports(t *testing.T) {
	url := modelstest.URL(t)
	cipher, err := models.NewCipher(modelstest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	open := func() *models.Store {
		db, err := models.Open(context.Background(), url, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return models.NewStore(db, cipher)
	}
	a, b := open(), open()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	biz, _ := a.CreateBusiness(ctx, "Bottega")
	importCard(t, a, biz.ID, pricing.SampleRateCard, "2026-10-01")

	bookA := pricing.NewBook(a, time.Hour)
	bookB := pricing.NewBook(b, time.Hour)
	listening := make(chan struct{}, 4)
	done := make(chan struct{})
	go func() { bookB.Follow(ctx, b, func() { listening <- struct{}{} }); close(done) }()
	<-listening

	at := day("2026-11-20")
	italy := pricing.Recipient{Country: "IT", Market: "Italy"}
	before, err := bookB.QuoteMarket(ctx, biz.ID, italy, "marketing", at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bookA.QuoteMarket(ctx, biz.ID, italy, "marketing", at); err != nil {
		t.Fatal(err)
	}
	// Replica A: a new rate card from 1 Nov with Italy's marketing at 0.0999.
	if _, err := a.ImportPrices(ctx, biz.ID, nil, []models.CountryPrice{{Market: "Italy", Category: "marketing", Currency: "USD",
		PriceMicros: 99_900, EffectiveFrom: day("2026-11-01")}}); err != nil {
		t.Fatal(err)
	}
	waitQuote := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			q, err := bookB.QuoteMarket(ctx, biz.ID, italy, "marketing", at)
			if err != nil {
				t.Fatal(err)
			}
			if q.PriceMicros == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica B still quotes %d, want %d (was %d)", q.PriceMicros, want, before.PriceMicros)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitQuote(99_900)
	// A hand edit on replica A, too.
	if err := a.SetPrice(ctx, biz.ID, nil, models.CountryPrice{Market: "Italy", Category: "marketing", Currency: "USD",
		PriceMicros: 88_800, EffectiveFrom: day("2026-11-01")}); err != nil {
		t.Fatal(err)
	}
	waitQuote(88_800)
	if before.PriceMicros == 99_900 || before.PriceMicros == 88_800 {
		t.Fatalf("the sample price was already %d", before.PriceMicros)
	}
	cancel()
	<-done
}
