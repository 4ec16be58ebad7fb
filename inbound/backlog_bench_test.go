package inbound_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// BenchmarkProcessBacklog drains a backlog of single-message WhatsApp
// payloads from 5,000 customers (the ingest benchmark's traffic) with one
// worker, batch after batch: the normaliser's own rate, without the HTTP load.
//
//	go test -run '^$' -bench BenchmarkProcessBacklog -benchtime 20000x ./inbound/
func BenchmarkProcessBacklog(b *testing.B) {
	s := modelstest.NewStore(b)
	ctx := context.Background()
	biz, err := s.CreateBusiness(ctx, "Bench")
	if err != nil {
		b.Fatal(err)
	}
	sim := metasim.New(metasim.Config{AppSecret: "s", Seed: 7, Customers: 5000, DisableStatusWebhooks: true})
	acct := metasim.Account{App: metasim.WhatsApp, ID: "100200300", WABAID: "900800700", AccessToken: "t", DisplayPhone: "390200000001"}
	if err := sim.AddAccount(acct); err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: "whatsapp", AccountID: acct.ID, AccessToken: "t", AppSecret: "s"}); err != nil {
		b.Fatal(err)
	}
	var rows []models.NewRawWebhook
	for i := 0; i < b.N; i++ {
		in, err := sim.Build(metasim.Event{App: metasim.WhatsApp, Kind: "text"})
		if err != nil {
			b.Fatal(err)
		}
		rows = append(rows, models.NewRawWebhook{App: "whatsapp", Body: in.Body, Signer: models.WebhookSigner{App: true}})
		if len(rows) == 500 || i == b.N-1 {
			if err := s.AppendRawWebhooks(ctx, rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	p := inbound.NewProcessor(s, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	b.ResetTimer()
	for total := 0; total < b.N; {
		n, err := p.ProcessPending(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("%d of %d payloads applied", total, b.N)
		}
		total += n
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
}
