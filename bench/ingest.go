package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
)

// Serve runs the real app (HTTP and workers) on store until ctx ends,
// calling ready with its base URL once it listens: the command's wiring.
type Serve func(ctx context.Context, store *models.Store, ready func(url string)) error

// Ingest: the simulator posts signed WhatsApp webhooks (one event per POST)
// to the real server on loopback for a bounded time; it reports durable
// events/s, ack latency, how fast the events were normalised and how long
// the backlog took to drain after the burst, duplicates and losses, beside
// the raw single-row INSERT rate measured in the same run. db is a fresh
// migrated database.
func Ingest(ctx context.Context, db *models.DB, serve Serve, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	duration := fs.Duration("duration", 20*time.Second, "how long to post")
	concurrency := fs.Int("concurrency", 64, "concurrent webhook POSTs")
	replay := fs.Float64("replay", 0.10, "fraction of POSTs that replay an earlier payload (Meta's retries)")
	pregen := fs.Int("events", 400_000, "payloads generated before the run (upper bound on unique events)")
	cpuProfile := fs.String("cpuprofile", "", "write the process's CPU profile during the burst to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cipher, _ := models.NewCipher("bench-secret-key-0123456789")
	store := models.NewStore(db, cipher)

	fmt.Fprintf(stdout, "raw single-row INSERT probe (8 clients, 5s)... ")
	rawRate, err := rawInsertRate(ctx, db, 8, 5*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%.0f rows/s\n", rawRate)

	const secret = "bench-app-secret"
	sim := metasim.New(metasim.Config{AppSecret: secret, Seed: 7, Customers: 5000, DisableStatusWebhooks: true})
	acct := metasim.Account{App: metasim.WhatsApp, ID: "100200300", WABAID: "900800700", AccessToken: "bench-token", DisplayPhone: "390200000001"}
	if err := sim.AddAccount(acct); err != nil {
		return err
	}
	biz, err := store.CreateBusiness(ctx, "Bench")
	if err != nil {
		return err
	}
	if _, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: "whatsapp", AccountID: acct.ID,
		AccessToken: acct.AccessToken, AppSecret: secret}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "generating %d signed payloads... ", *pregen)
	bodies := make([]metasim.Inbound, *pregen)
	for i := range bodies {
		if bodies[i], err = sim.Build(metasim.Event{App: metasim.WhatsApp, Kind: "text"}); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, "done")

	appCtx, cancelApp := context.WithCancel(ctx)
	defer cancelApp()
	ready := make(chan string, 1)
	appDone := make(chan error, 1)
	go func() { appDone <- serve(appCtx, store, func(u string) { ready <- u }) }()
	var base string
	select {
	case base = <-ready:
	case err := <-appDone:
		return err
	}
	target := base + "/webhooks/whatsapp"

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	burstStart := time.Now()
	res := postLoad(ctx, target, bodies, *concurrency, *duration, *replay)
	burstEnd := time.Now()
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	fmt.Fprintf(stdout, "posted for %s: %d acknowledged (%d unique, %d replays), %d refused\n",
		*duration, res.acked, res.unique, res.replays, res.refused)
	atEnd, err := countIngest(ctx, db)
	if err != nil {
		return err
	}
	drained, pending, err := awaitDrain(ctx, db, 2*time.Minute)
	if err != nil {
		return err
	}
	drain := drained.Sub(burstEnd)
	final, err := countIngest(ctx, db)
	if err != nil {
		return err
	}
	cancelApp()
	<-appDone

	// Durable: every acknowledged POST has its raw row; every unique event its message, once.
	lost := res.unique - final.stored
	if final.raw < res.acked {
		lost += res.acked - final.raw
	}
	burst := burstEnd.Sub(burstStart).Seconds()
	rate := float64(res.acked) / burst
	normalised := float64(atEnd.raw-atEnd.pending) / burst // payloads (one event each) applied while posting
	fmt.Fprintf(stdout, "\n| durable events/s | ack p50 | ack p99 | ack max | raw INSERT rows/s | ack/raw | normalised events/s | normalised/acknowledged | backlog at burst end | drained after burst | duplicates | lost |\n")
	fmt.Fprintf(stdout, "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(stdout, "| %.0f | %.2f ms | %.2f ms | %.1f ms | %.0f | %.2f× | %.0f | %.2f | %d | %s | %d | %d |\n",
		rate, ms(res.p50), ms(res.p99), ms(res.max), rawRate, rate/rawRate, normalised, normalised/rate,
		atEnd.pending, drain.Round(time.Millisecond), final.stored-final.distinct, lost)
	if pending > 0 {
		fmt.Fprintf(stdout, "(still pending after 2 minutes of draining: %d)\n", pending)
	}
	if lost != 0 || final.stored != final.distinct {
		return fmt.Errorf("bench: %d lost, %d duplicated", lost, final.stored-final.distinct)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type loadResult struct {
	acked, unique, replays, refused int64
	p50, p99, max                   time.Duration
}

// postLoad posts payloads from concurrency workers until duration passes or
// the payloads run out; a fraction replay a payload already acknowledged.
func postLoad(ctx context.Context, target string, bodies []metasim.Inbound, concurrency int, duration time.Duration, replay float64) loadResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency}, Timeout: 30 * time.Second}
	var (
		next               atomic.Int64
		acked, unique, rep atomic.Int64
		refused            atomic.Int64
		mu                 sync.Mutex
		latencies          []time.Duration
	)
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 42))
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				isReplay := false
				var in metasim.Inbound
				if n := next.Load(); n > 0 && rng.Float64() < replay {
					in, isReplay = bodies[rng.Int64N(n)], true
				} else {
					i := next.Add(1) - 1
					if i >= int64(len(bodies)) {
						return
					}
					in = bodies[i]
				}
				req, _ := http.NewRequestWithContext(ctx, "POST", target, bytes.NewReader(in.Body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Hub-Signature-256", in.Signature)
				start := time.Now()
				resp, err := client.Do(req)
				d := time.Since(start)
				if err != nil {
					if refused.Add(1) == 1 {
						slog.Warn("bench: first refused POST", "error", err)
					}
					continue
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					if refused.Add(1) == 1 {
						slog.Warn("bench: first refused POST", "status", resp.StatusCode, "body", string(msg))
					}
					continue
				}
				local = append(local, d)
				acked.Add(1)
				if isReplay {
					rep.Add(1)
				} else {
					unique.Add(1)
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}(uint64(w))
	}
	wg.Wait()
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	r := loadResult{acked: acked.Load(), unique: unique.Load(), replays: rep.Load(), refused: refused.Load(), p50: pct(0.50), p99: pct(0.99)}
	if len(latencies) > 0 {
		r.max = latencies[len(latencies)-1]
	}
	return r
}
