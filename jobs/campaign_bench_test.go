package jobs_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// Campaign benchmarks (BENCHMARKS.md, "Campaigns (issue 13)"); each runs its
// workload once:
//
//	go test -run '^$' -bench 'BenchmarkCampaign' -benchtime=1x ./jobs/
var (
	benchAudience      = flag.Int("campaign.audience", 100000, "customers in the audience+estimate benchmark")
	benchCampaignSends = flag.Int("campaign.sends", 20000, "recipients of the uncapped campaign benchmark")
	benchCampaignCap   = flag.Int("campaign.capped", 10000, "recipients of the capped (1,000 mps) campaign benchmark")
	benchCampaignKill  = flag.Int("campaign.kill", 3000, "recipients of the stop-and-restart campaign benchmark")
)

func benchCampaign(b testing.TB, w *benchWorld, p *jobs.Pipeline) *models.Campaign {
	b.Helper()
	ctx := context.Background()
	ch, err := w.store.ChannelByAccount(ctx, models.AppWhatsApp, benchAccount)
	if err != nil {
		b.Fatal(err)
	}
	c, err := p.Campaigns().Create(ctx, w.biz, jobs.CampaignInput{Name: "bench", ChannelID: ch.ID,
		Template: jobs.TemplateRef{Name: "hello_world", Language: "en_US"}, Budget: "100000.00", TimeZone: "UTC"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func waitCampaign(b testing.TB, w *benchWorld, id int64, cond func(models.CampaignCounts, *models.Campaign) bool) {
	b.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Minute)
	for {
		c, err := w.store.Campaign(ctx, w.biz, id)
		if err != nil {
			b.Fatal(err)
		}
		n, err := w.store.CampaignCounts(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if cond(n, c) {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("campaign %d stuck: %s %+v", id, c.Status, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkCampaignAudienceEstimate: the estimate (audience SQL, markets,
// prices) and the start's recipient write over 100,000 customers; the raw
// limit is one scan joining contacts and identities. The first estimate runs
// right after the customers were added in bulk, before anything analysed
// them (as after an import); the second after ANALYZE.
func BenchmarkCampaignAudienceEstimate(b *testing.B) {
	n := *benchAudience
	w := newBenchWorld(b, n, -1, 1_000_000, 0)
	p := w.pipeline(b, nil)
	c := benchCampaign(b, w, p)
	ctx := context.Background()
	start := time.Now()
	var rows int64
	if err := w.store.Gorm(ctx).Raw(`SELECT count(*) FROM contacts c JOIN identities i ON i.contact_id = c.id WHERE c.business_id = ?`,
		w.biz).Scan(&rows).Error; err != nil || rows != int64(n) {
		b.Fatal(rows, err)
	}
	raw := time.Since(start)
	start = time.Now()
	e, err := p.Campaigns().Estimate(ctx, w.biz, c.ID)
	if err != nil || e.Recipients != n {
		b.Fatalf("estimate: %+v %v", e, err)
	}
	est := time.Since(start)
	if err := w.store.Gorm(ctx).Exec(`ANALYZE contacts, identities, threads`).Error; err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if e, err := p.Campaigns().Estimate(ctx, w.biz, c.ID); err != nil || e.Recipients != n {
		b.Fatalf("estimate: %+v %v", e, err)
	}
	analysed := time.Since(start)
	start = time.Now()
	if _, err := p.Campaigns().Start(ctx, w.biz, c.ID); err != nil { // estimate again (strict) + write every recipient
		b.Fatal(err)
	}
	started := time.Since(start)
	if got, _ := w.store.CampaignCounts(ctx, c.ID); got.Total != int64(n) || got.Pending != int64(n) {
		b.Fatalf("counts %+v", got)
	}
	b.ReportMetric(float64(raw.Milliseconds()), "raw_scan_ms")
	b.ReportMetric(float64(est.Milliseconds()), "estimate_ms")
	b.ReportMetric(float64(analysed.Milliseconds()), "estimate_analysed_ms")
	b.ReportMetric(float64(started.Milliseconds()), "start_ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCampaignUncapped: a campaign's recipients queued by the runner and
// sent by the outbox, no cap and no latency: sends/s from the start's return
// (estimate and recipients written, start_ms) to the last accepted send.
// Compare BenchmarkGraphRawLimit in the same run.
func BenchmarkCampaignUncapped(b *testing.B) {
	n := *benchCampaignSends
	w := newBenchWorld(b, n, -1, 1_000_000, 0)
	p := w.pipeline(b, nil)
	c := benchCampaign(b, w, p)
	stop := run(b, p)
	start := time.Now()
	if _, err := p.Campaigns().Start(context.Background(), w.biz, c.ID); err != nil {
		b.Fatal(err)
	}
	started := time.Now() // the estimate and the recipients' rows are written: the runner's work begins
	w.waitSent(b, n)
	elapsed := time.Since(started)
	stop()
	if got := len(w.sim.Sends(benchAccount)); got != n {
		b.Fatalf("Meta accepted %d sends, want %d", got, n)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "sends/s")
	b.ReportMetric(float64(started.Sub(start).Milliseconds()), "start_ms")
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "sends/s_with_start")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCampaignCapped: a number capped at 1,000 mps by Meta (130429 past
// it) with 150 ms of Graph latency, fed by the campaign runner.
func BenchmarkCampaignCapped(b *testing.B) {
	n := *benchCampaignCap
	w := newBenchWorld(b, n, 1000, 1000, 150*time.Millisecond)
	p := w.pipeline(b, nil)
	c := benchCampaign(b, w, p)
	stop := run(b, p)
	if _, err := p.Campaigns().Start(context.Background(), w.biz, c.ID); err != nil {
		b.Fatal(err)
	}
	w.waitSent(b, n)
	stop()
	sends := w.sim.Sends(benchAccount)
	if len(sends) != n {
		b.Fatalf("Meta accepted %d sends, want %d", len(sends), n)
	}
	span := sends[len(sends)-1].At.Sub(sends[0].At).Seconds()
	perSec := map[int]int{}
	for _, s := range sends {
		perSec[int(s.At.Sub(sends[0].At).Seconds())]++
	}
	b.Logf("per second: %v", perSec)
	st := w.sim.Stats()
	answers := float64(st.Accepted + st.Refused)
	b.ReportMetric(float64(n-1)/span/1000*100, "%cap")
	if full := int(span); full >= 3 { // the whole seconds after the first, the start's ramp and the last, partial one left out
		steady := 0
		for sec := 1; sec < full; sec++ {
			steady += perSec[sec]
		}
		b.ReportMetric(float64(steady)/float64(full-1)/1000*100, "%cap_steady")
	}
	b.ReportMetric(float64(st.RefusedByCode[130429])/answers*100, "%130429")
	b.ReportMetric(float64(n-1)/span, "sends/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCampaignStopRestart: one replica's workers are stopped hard
// (running jobs cancelled mid-batch) and restarted every 400 ms while a
// second replica runs throughout; duplicates = sends at Meta − distinct
// recipients (must be 0). Sends cut mid-request end unknown, never resent.
func BenchmarkCampaignStopRestart(b *testing.B) {
	n := *benchCampaignKill
	w := newBenchWorld(b, n, -1, 1_000_000, 20*time.Millisecond)
	tune := func(c *jobs.Config) {
		c.ShutdownTimeout, c.ReconcileAfter, c.WaitBudget = time.Millisecond, 2*time.Second, time.Second
		c.JobTimeout, c.RescueStuckJobsAfter = 3*time.Second, 4*time.Second
	}
	steady := w.pipeline(b, tune)
	c := benchCampaign(b, w, steady)
	steady.Campaigns().SetBatchSize(50, 100)
	stopSteady := run(b, steady)
	if _, err := steady.Campaigns().Start(context.Background(), w.biz, c.ID); err != nil {
		b.Fatal(err)
	}
	stops := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			p := w.pipeline(b, tune)
			p.Campaigns().SetBatchSize(50, 100)
			stop := run(b, p)
			time.Sleep(400 * time.Millisecond)
			stop()
			stops++
			cur, _ := w.store.Campaign(context.Background(), w.biz, c.ID)
			if cur == nil || cur.Status != models.CampaignRunning {
				return
			}
		}
	}()
	waitCampaign(b, w, c.ID, func(n models.CampaignCounts, c *models.Campaign) bool {
		return c.Status == models.CampaignDone && n.Queued == 0
	})
	<-done
	stopSteady()
	sends := w.sim.Sends(benchAccount)
	seen := map[string]bool{}
	for _, s := range sends {
		seen[s.Recipient] = true
	}
	cn, _ := w.store.CampaignCounts(context.Background(), c.ID)
	b.ReportMetric(float64(len(sends)-len(seen)), "duplicates")
	b.ReportMetric(float64(len(seen)), "recipients_sent")
	b.ReportMetric(float64(cn.Unknown), "unknown")
	b.ReportMetric(float64(stops), "stops")
	b.ReportMetric(0, "ns/op")
}
