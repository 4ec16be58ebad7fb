package metasim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TrafficConfig shapes simulated customer traffic. At least one of Duration, Count or the
// context bounds it; with none of the three it runs until the context ends.
type TrafficConfig struct {
	Rate               float64          // events per second; 0 means as fast as Concurrency allows
	Duration           time.Duration    // stop generating after this long; 0 means no time bound
	Count              int              // stop after this many events; 0 means no count bound
	Kinds              []string         // "kind" (every selected app that has it) or "app:kind"; empty means the default mix
	Apps               []App            // empty means every app with an account
	DuplicateFraction  float64          // share of POSTs replayed once (Meta delivers at least once)
	OutOfOrderFraction float64          // share of receipts sent as a whole sequence in reverse (read before sent)
	BatchSize          int              // events per POST (entries of one app); default 1
	Concurrency        int              // POSTs in flight; default 4
	URL                func(App) string // where to post; nil means the simulator's webhook URL
	Seed               uint64           // the sequence of kinds; 0 means the simulator's seed
}

// TrafficStats counts what a traffic run did. Posts = Sent + Failed.
type TrafficStats struct {
	Events     int64            // events generated
	Posts      int64            // webhook POSTs made, replays included
	Sent       int64            // POSTs answered 2xx
	Failed     int64            // POSTs answered otherwise, or not at all
	Duplicates int64            // replayed POSTs
	ByKind     map[string]int64 // events per "app:kind"
}

// Traffic is a running traffic generator.
type Traffic struct {
	stop context.CancelFunc
	done chan struct{}
	err  error

	events, posts, sent, failed, dups atomic.Int64

	mu     sync.Mutex
	byKind map[string]int64
}

// choice is one (app, kind) the generator may emit, with its weight.
type choice struct {
	app    App
	kind   string
	weight int
	status bool
}

type trafficJob struct {
	posts []Inbound // posted in this order by one worker
	dup   bool
}

// StartTraffic starts posting signed inbound webhooks (realistic customers, every kind) until the
// Count or Duration is reached or ctx ends. Every event updates Meta's state as the real one
// would (windows, OTN tokens, opt-outs). Stop, Wait and Stats control and observe it.
func (s *Sim) StartTraffic(ctx context.Context, cfg TrafficConfig) *Traffic {
	postCtx, stop := context.WithCancel(ctx)
	t := &Traffic{stop: stop, done: make(chan struct{}), byKind: make(map[string]int64)}
	plan, err := s.planTraffic(cfg)
	if err != nil {
		t.err = err
		stop()
		close(t.done)
		return t
	}
	paceCtx, paceStop := postCtx, context.CancelFunc(func() {})
	if cfg.Duration > 0 {
		paceCtx, paceStop = context.WithTimeout(postCtx, cfg.Duration)
	}
	go func() { // the run: a pacer feeding a bounded pool of posters
		defer close(t.done)
		defer stop()
		defer paceStop()
		t.run(paceCtx, postCtx, s, cfg, plan)
	}()
	return t
}

// RunTraffic runs traffic to completion and returns its stats.
func (s *Sim) RunTraffic(ctx context.Context, cfg TrafficConfig) (TrafficStats, error) {
	return s.StartTraffic(ctx, cfg).Wait()
}

// Stop ends the run; posts in flight are abandoned.
func (t *Traffic) Stop() { t.stop() }

// Wait blocks until the run ends and returns its final stats.
func (t *Traffic) Wait() (TrafficStats, error) {
	<-t.done
	return t.Stats(), t.err
}

// Done is closed when the run has ended.
func (t *Traffic) Done() <-chan struct{} { return t.done }

// Stats is a snapshot of the run's counters.
func (t *Traffic) Stats() TrafficStats {
	t.mu.Lock()
	byKind := maps.Clone(t.byKind)
	t.mu.Unlock()
	return TrafficStats{Events: t.events.Load(), Posts: t.posts.Load(), Sent: t.sent.Load(),
		Failed: t.failed.Load(), Duplicates: t.dups.Load(), ByKind: byKind}
}

// trafficPlan is what a run may emit: weighted kinds, the accounts of each app, and where to post.
type trafficPlan struct {
	choices  []choice
	accounts map[App][]string
	url      func(App) string
}

// planTraffic resolves the apps, kinds, accounts and URLs a run will use.
func (s *Sim) planTraffic(cfg TrafficConfig) (trafficPlan, error) {
	plan := trafficPlan{url: cfg.URL, accounts: make(map[App][]string)}
	if plan.url == nil {
		plan.url = s.webhookURL
	}
	for _, a := range s.Accounts() {
		plan.accounts[a.App] = append(plan.accounts[a.App], a.ID)
	}
	apps := cfg.Apps
	if len(apps) == 0 {
		for _, a := range Apps() {
			if len(plan.accounts[a]) > 0 {
				apps = append(apps, a)
			}
		}
	}
	now := s.now()
	for _, app := range apps {
		if len(plan.accounts[app]) == 0 {
			return plan, fmt.Errorf("metasim: no %s account for traffic", app)
		}
		if plan.url(app) == "" {
			return plan, fmt.Errorf("metasim: no webhook URL for %s", app)
		}
		for _, kind := range Kinds(app) {
			spec := kinds[app][kind]
			weight := spec.weight
			if len(cfg.Kinds) > 0 {
				weight = 0
				if slices.Contains(cfg.Kinds, kind) || slices.Contains(cfg.Kinds, string(app)+":"+kind) {
					weight = 1
				}
			} else if app == Instagram && kind == "share" && !now.Before(instagramShareEnd) {
				weight = 0
			}
			if weight > 0 {
				plan.choices = append(plan.choices, choice{app: app, kind: kind, weight: weight, status: spec.status})
			}
		}
	}
	if len(plan.choices) == 0 {
		return plan, errors.New("metasim: no kinds to generate (check Apps and Kinds: " + strings.Join(cfg.Kinds, ", ") + ")")
	}
	return plan, nil
}

// run paces events into jobs and posts them with Concurrency workers.
func (t *Traffic) run(paceCtx, postCtx context.Context, s *Sim, cfg TrafficConfig, plan trafficPlan) {
	workers := cfg.Concurrency
	if workers <= 0 {
		workers = 4
	}
	jobs := make(chan trafficJob, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for job := range jobs {
				for _, in := range job.posts {
					t.post(postCtx, s, plan.url(in.App), in)
					if job.dup {
						t.dups.Add(1)
						t.post(postCtx, s, plan.url(in.App), in)
					}
				}
			}
		})
	}
	t.pace(paceCtx, s, cfg, plan, jobs)
	close(jobs)
	wg.Wait()
}

// pace generates events at the configured rate until a bound is reached.
func (t *Traffic) pace(ctx context.Context, s *Sim, cfg TrafficConfig, plan trafficPlan, jobs chan<- trafficJob) {
	seed := cfg.Seed
	if seed == 0 {
		seed = s.cfg.Seed + 1
	}
	rng := rand.New(rand.NewPCG(seed, 0x7aff1c))
	batch := max(1, cfg.BatchSize)
	start := time.Now()
	var events int64
	for ctx.Err() == nil {
		if cfg.Count > 0 && events >= int64(cfg.Count) {
			return
		}
		if cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(events) / cfg.Rate * float64(time.Second)))
			if !sleepCtx(ctx, time.Until(due)) {
				return
			}
		}
		n := batch
		if cfg.Count > 0 {
			n = min(n, cfg.Count-int(events))
		}
		job, generated := t.nextJob(s, rng, plan, n, cfg)
		if generated == 0 {
			continue
		}
		events += int64(generated)
		select {
		case jobs <- job:
		case <-ctx.Done():
			return
		}
	}
}

// nextJob builds one POST of n events for one account (or a reversed receipt sequence) and counts its events.
func (t *Traffic) nextJob(s *Sim, rng *rand.Rand, plan trafficPlan, n int, cfg TrafficConfig) (trafficJob, int) {
	first := pickChoice(rng, plan.choices, "")
	ids := plan.accounts[first.app]
	account := ids[rng.IntN(len(ids))]
	dup := rng.Float64() < cfg.DuplicateFraction
	if first.status && rng.Float64() < cfg.OutOfOrderFraction {
		posts := t.reversedSequence(s, first.app, account)
		return trafficJob{posts: posts, dup: dup}, len(posts)
	}
	evs := []Event{{App: first.app, Kind: first.kind, Account: account}}
	for len(evs) < n {
		c := pickChoice(rng, plan.choices, first.app)
		evs = append(evs, Event{App: c.app, Kind: c.kind, Account: account})
	}
	in, err := s.BuildBatch(evs)
	if err != nil {
		return trafficJob{}, 0
	}
	t.count(in)
	return trafficJob{posts: []Inbound{in}, dup: dup}, len(evs)
}

// receiptSequences are the receipts of one message, in the order Meta emits them.
var receiptSequences = map[App][]string{
	WhatsApp:  {"status_sent", "status_delivered", "status_read"},
	Messenger: {"delivery", "read"},
	Instagram: {"seen"},
}

// reversedSequence builds every receipt of one message and returns them last-first.
func (t *Traffic) reversedSequence(s *Sim, app App, account string) []Inbound {
	var posts []Inbound
	ref := ""
	for _, kind := range receiptSequences[app] {
		in, err := s.Build(Event{App: app, Kind: kind, Account: account, Ref: ref})
		if err != nil {
			return nil
		}
		ref = in.Items[0].ID
		t.count(in)
		posts = append(posts, in)
	}
	slices.Reverse(posts)
	return posts
}

func (t *Traffic) count(in Inbound) {
	t.mu.Lock()
	for _, it := range in.Items {
		t.byKind[string(in.App)+":"+it.Kind]++
	}
	t.mu.Unlock()
	t.events.Add(int64(len(in.Items)))
}

// pickChoice draws a weighted choice, optionally restricted to one app.
func pickChoice(rng *rand.Rand, choices []choice, app App) choice {
	total := 0
	for _, c := range choices {
		if app == "" || c.app == app {
			total += c.weight
		}
	}
	r := rng.IntN(total)
	for _, c := range choices {
		if app != "" && c.app != app {
			continue
		}
		if r < c.weight {
			return c
		}
		r -= c.weight
	}
	return choices[0]
}

// post delivers one webhook and counts the answer.
func (t *Traffic) post(ctx context.Context, s *Sim, url string, in Inbound) {
	if ctx.Err() != nil {
		return
	}
	t.posts.Add(1)
	status, err := postSigned(ctx, s.hooks.client, url, in.Secret, in.Body)
	if err == nil && status >= 200 && status < 300 {
		t.sent.Add(1)
		return
	}
	t.failed.Add(1)
}
