package jobs_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

var benchRestock = flag.Int("restock.waiting", 10000, "customers waiting in the restock benchmark")

// BenchmarkRestock: customers waiting for one product on a WhatsApp number
// capped at 1,000 mps by Meta (150 ms of Graph latency), outside their
// window (a marketing template each). Stock goes 0 → n; halfway through the
// workers are stopped (cancelled mid-batch) and a fresh pipeline takes over.
// Reports the share of the cap reached and the duplicates Meta received.
//
//	go test -run '^$' -bench BenchmarkRestock -benchtime=1x ./jobs/
func BenchmarkRestock(b *testing.B) {
	for _, mode := range []string{"steady", "restart"} {
		b.Run(mode, func(b *testing.B) { benchRestockRun(b, mode == "restart") })
	}
}

func benchRestockRun(b *testing.B, restart bool) {
	n := *benchRestock
	ctx := context.Background()
	w := newBenchWorld(b, n, 1000, 1000, 150*time.Millisecond)
	g := w.store.Gorm(ctx)
	var chID int64
	g.Raw(`SELECT id FROM channels WHERE business_id = ?`, w.biz).Scan(&chID)
	if err := g.Create(&models.WATemplate{BusinessID: w.biz, ChannelID: chID, Name: "back_in_stock", Language: "it",
		Category: "marketing", Status: "approved", Body: "Ciao {{1}}, {{2}} è tornato: {{3}}"}).Error; err != nil {
		b.Fatal(err)
	}
	if err := w.sim.AddTemplate(benchAccount, metasim.Template{Name: "back_in_stock", Language: "it", Category: "MARKETING"}); err != nil {
		b.Fatal(err)
	}
	p, err := w.store.CreateProduct(ctx, w.biz, models.ProductInput{SKU: "GB-1", Name: "Giacca blu", URL: "https://shop.example/gb",
		WATemplateName: "back_in_stock", WATemplateLanguage: "it"})
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Exec(`INSERT INTO restock_waitlist (business_id, product_id, identity_id, thread_id, source, created_at)
		SELECT ?, ?, t.direct_identity_id, t.id, 'button', now() - (t.id || ' seconds')::interval FROM threads t WHERE t.business_id = ?`,
		w.biz, p.ID, w.biz).Error; err != nil {
		b.Fatal(err)
	}
	first := w.pipeline(b, func(c *jobs.Config) { c.ShutdownTimeout = 200 * time.Millisecond })
	stop := run(b, first)
	start := time.Now()
	ch, err := first.Restocker().SetStock(ctx, w.biz, "GB-1", n, nil)
	if err != nil || ch.Run == nil {
		b.Fatalf("restock: %v", err)
	}
	if restart {
		for len(w.sim.Sends(benchAccount)) < n/2 {
			time.Sleep(20 * time.Millisecond)
		}
		stop() // the workers go away mid-run
		stop = run(b, w.pipeline(b, nil))
	}
	w.waitSent(b, n)
	elapsed := time.Since(start)
	stop()
	sends := w.sim.Sends(benchAccount)
	seen := map[string]int{}
	for _, s := range sends {
		seen[s.Recipient]++
	}
	dups := len(sends) - len(seen)
	if len(seen) != n || dups != 0 {
		b.Fatalf("Meta reached %d customers with %d sends (%d duplicates), want %d once each", len(seen), len(sends), dups, n)
	}
	span := sends[len(sends)-1].At.Sub(sends[0].At).Seconds()
	b.ReportMetric(float64(n-1)/span/1000*100, "%cap")
	b.ReportMetric(float64(dups), "duplicates")
	b.ReportMetric(elapsed.Seconds(), "s_total")
	b.ReportMetric(0, "ns/op")
}
