package jobs_test

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/adapters/whatsapp"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// Benchmarks of the outbound pipeline against the simulator on loopback. Each
// runs its workload once; run with -benchtime=1x (see BENCHMARKS.md):
//
//	go test -run '^$' -bench 'BenchmarkOutbound' -benchtime=1x ./jobs/
var (
	benchSends      = flag.Int("outbound.sends", 30000, "messages per outbound benchmark")
	benchCappedSend = flag.Int("outbound.capped", 20000, "messages in the capped (1,000 mps) benchmark")
)

// benchWorld is a WhatsApp number with many customers, on a database pool
// sized for the workers, and the simulator without status webhooks (the
// durable "sent" our worker records is what is measured).
type benchWorld struct {
	url     string // the database's, for a worker in another process
	store   *models.Store
	sim     *metasim.Sim
	threads []int64
	biz     int64
	graph   string
}

const benchAccount = "106540352242922"

func newBenchWorld(b testing.TB, customers, simMPS, channelMPS int, latency time.Duration) *benchWorld {
	b.Helper()
	ctx := context.Background()
	url := modelstest.URL(b)
	db, err := models.Open(ctx, url, 48)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	cipher, _ := models.NewCipher(modelstest.SecretKey)
	w := &benchWorld{url: url, store: models.NewStore(db, cipher)}
	w.sim = metasim.New(metasim.Config{DisableStatusWebhooks: true, Customers: 1})
	srv := httptest.NewServer(w.sim)
	b.Cleanup(func() { _ = w.sim.Close(); srv.Close() })
	w.graph = srv.URL
	if err := w.sim.AddAccount(metasim.Account{App: metasim.WhatsApp, ID: benchAccount, AccessToken: "tok", MPS: simMPS}); err != nil {
		b.Fatal(err)
	}
	w.sim.SetLatency(latency)

	biz, err := w.store.CreateBusiness(ctx, "Bench")
	if err != nil {
		b.Fatal(err)
	}
	w.biz = biz.ID
	ch, err := w.store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: models.AppWhatsApp, AccountID: benchAccount,
		AccessToken: "tok", AppSecret: "s", MPS: channelMPS})
	if err != nil {
		b.Fatal(err)
	}
	g := w.store.Gorm(ctx)
	if err := g.Create(&models.WATemplate{BusinessID: biz.ID, ChannelID: ch.ID, Name: "hello_world", Language: "en_US",
		Category: "utility", Status: "approved", Body: "Hello World"}).Error; err != nil {
		b.Fatal(err)
	}
	err = g.Exec(`WITH c AS (INSERT INTO contacts (business_id, name) SELECT ?, 'Customer ' || n FROM generate_series(1, ?) n RETURNING id),
		i AS (INSERT INTO identities (business_id, contact_id, channel_id, app, external_id, phone, country)
			SELECT ?, c.id, ?, 'whatsapp', (393400000000 + c.id)::text, '+' || (393400000000 + c.id)::text, 'IT' FROM c RETURNING id),
		t AS (INSERT INTO threads (business_id, channel_id, kind, direct_identity_id, title, apps)
			SELECT ?, ?, 'direct', i.id, 'Customer', '{whatsapp}' FROM i RETURNING id, direct_identity_id)
		INSERT INTO thread_participants (thread_id, identity_id) SELECT id, direct_identity_id FROM t`,
		biz.ID, customers, biz.ID, ch.ID, biz.ID, ch.ID).Error
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Raw(`SELECT id FROM threads WHERE business_id = ? ORDER BY id`, biz.ID).Scan(&w.threads).Error; err != nil {
		b.Fatal(err)
	}
	return w
}

// enqueue queues n template sends spread over the customers, 1,000 per transaction.
func (w *benchWorld) enqueue(b testing.TB, out *jobs.Outbox, n int) {
	b.Helper()
	reqs := make([]jobs.SendRequest, 0, 1000)
	flush := func() {
		res, err := out.SendMany(context.Background(), reqs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		reqs = reqs[:0]
	}
	for i := range n {
		reqs = append(reqs, jobs.SendRequest{BusinessID: w.biz, ThreadID: w.threads[i%len(w.threads)], Automated: true,
			Template: &jobs.TemplateRequest{Name: "hello_world", Language: "en_US"}})
		if len(reqs) == cap(reqs) {
			flush()
		}
	}
	if len(reqs) > 0 {
		flush()
	}
}

// waitSent polls until n messages are sent (or failed, which fails the benchmark).
func (w *benchWorld) waitSent(b *testing.B, n int) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var st struct{ Sent, Failed int64 }
		w.store.Gorm(context.Background()).Raw(`SELECT count(*) FILTER (WHERE status = 'sent') AS sent,
			count(*) FILTER (WHERE status = 'failed') AS failed FROM messages WHERE business_id = ?`, w.biz).Scan(&st)
		if st.Failed > 0 {
			b.Fatalf("%d sends failed", st.Failed)
		}
		if st.Sent >= int64(n) {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d sent", st.Sent, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *benchWorld) pipeline(b testing.TB, tune func(*jobs.Config)) *jobs.Pipeline {
	cfg := jobs.Config{GraphURL: w.graph, FetchPollInterval: 100 * time.Millisecond}
	if tune != nil {
		tune(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("JOBS_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	p, err := jobs.New(w.store, log, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func run(b *testing.B, p *jobs.Pipeline) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// BenchmarkOutboundUncapped: durable sends/s with no cap and no latency.
// "e2e" queues (SendMany, 1,000 per transaction) while the workers send;
// "drain" sends a queue filled beforehand.
func BenchmarkOutboundUncapped(b *testing.B) {
	n := *benchSends
	for _, mode := range []string{"e2e", "drain"} {
		b.Run(mode, func(b *testing.B) {
			w := newBenchWorld(b, max(1, n/20), -1, 1_000_000, 0)
			p := w.pipeline(b, nil)
			var stop func()
			if mode == "e2e" {
				stop = run(b, p)
			}
			start := time.Now()
			w.enqueue(b, p.Outbox(), n)
			queued := time.Since(start)
			if mode == "drain" {
				start = time.Now()
				stop = run(b, p)
			}
			w.waitSent(b, n)
			elapsed := time.Since(start)
			stop()
			if got := len(w.sim.Sends(benchAccount)); got != n {
				b.Fatalf("Meta accepted %d sends, want %d", got, n)
			}
			b.ReportMetric(float64(n)/elapsed.Seconds(), "sends/s")
			b.ReportMetric(float64(n)/queued.Seconds(), "queued/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkOutboundCapped: a number capped at 1,000 mps by Meta (130429 past
// it) with 150 ms of Graph latency; reports the share of the cap reached and
// of answers that were 130429.
func BenchmarkOutboundCapped(b *testing.B) {
	n := *benchCappedSend
	w := newBenchWorld(b, max(1, n/20), 1000, 1000, 150*time.Millisecond)
	p := w.pipeline(b, nil)
	w.enqueue(b, p.Outbox(), n)
	stop := run(b, p)
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
	b.ReportMetric(float64(st.RefusedByCode[130429])/answers*100, "%130429")
	b.ReportMetric(float64(n-1)/span, "sends/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSendMany: queuing alone, 1,000 template sends per transaction
// (policy decisions, message rows, jobs); ns/op is per message.
func BenchmarkSendMany(b *testing.B) {
	w := newBenchWorld(b, 1000, -1, 1_000_000, 0)
	p := w.pipeline(b, nil)
	reqs := make([]jobs.SendRequest, 1000)
	for i := range reqs {
		reqs[i] = jobs.SendRequest{BusinessID: w.biz, ThreadID: w.threads[i], Automated: true,
			Template: &jobs.TemplateRequest{Name: "hello_world", Language: "en_US"}}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Outbox().SendMany(context.Background(), reqs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(reqs)), "ns/msg")
}

// BenchmarkGraphRawLimit is the raw limit the pipeline runs under: the same
// template sends straight from the WhatsApp adapter to the simulator, 256 at a
// time, with no database. Compare BenchmarkOutboundUncapped's sends/s with it.
func BenchmarkGraphRawLimit(b *testing.B) {
	n := *benchSends
	sim := metasim.New(metasim.Config{DisableStatusWebhooks: true, Customers: 1})
	srv := httptest.NewServer(sim)
	b.Cleanup(func() { _ = sim.Close(); srv.Close() })
	if err := sim.AddAccount(metasim.Account{App: metasim.WhatsApp, ID: benchAccount, AccessToken: "tok", MPS: -1}); err != nil {
		b.Fatal(err)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	sender := whatsapp.NewSender(&meta.Client{BaseURL: srv.URL, HTTP: &http.Client{Transport: t}})
	creds := adapters.ChannelCreds{App: adapters.WhatsApp, AccountID: benchAccount, AccessToken: "tok"}
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range 256 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				out := adapters.Outbound{ID: "sb:" + strconv.FormatInt(i, 10), Kind: adapters.OutTemplate,
					To:       adapters.Recipient{ExternalID: strconv.FormatInt(393400000000+i%int64(max(1, n/20)), 10)},
					Template: &adapters.Template{Name: "hello_world", Language: "en_US"}}
				if _, err := sender.Send(context.Background(), creds, out); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "sends/s")
	b.ReportMetric(0, "ns/op")
}
