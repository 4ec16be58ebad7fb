package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/instagram"
	"github.com/switchboard-inbox/switchboard/adapters/messenger"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/adapters/whatsapp"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// Config tunes the outbound pipeline. The zero value works against Meta.
type Config struct {
	// MediaBaseURL is BASE_URL, under which relay groups re-send media by
	// signed links (GET /relay-media/{ref}); empty, they are announced only.
	MediaBaseURL string
	GraphURL     string       // GRAPH_API_URL; default Meta's
	GraphVersion string       // GRAPH_API_VERSION; default v25.0
	HTTPClient   *http.Client // default: a pooled client sized for MaxInFlight

	// Now is the policy clock: decisions, queued and sent times. Default time.Now.
	Now func() time.Time

	Workers     int // concurrent interactive send jobs per process (queue "outbound"); default 32
	BulkWorkers int // concurrent bulk send jobs per process (queue "outbound_bulk"); default 16
	BatchSize   int // messages per bulk job; default 50
	MaxInFlight int // concurrent Graph calls per process; default 256

	SendTimeout time.Duration // one Graph call; default 15s
	// ReconcileAfter is how long a send whose request left without an answer
	// (timeout, 5xx, lost connection, killed worker) waits for its echo or
	// status before it is marked unknown. It is never sent again on its own:
	// an agent may send it again. Long enough for Meta's late webhooks; default 10m.
	ReconcileAfter time.Duration
	// ClaimLease is how long a claimed send whose request never left belongs
	// to its worker; after it the send is taken over (its worker died before
	// the Graph call). Longer than WaitBudget; default 2×WaitBudget.
	ClaimLease  time.Duration
	MaxAttempts int           // sends of one message before it fails for good; default 20
	WaitBudget  time.Duration // how long a job waits for rate tokens before snoozing; default 5s
	// JobTimeout bounds one run of a send job: its rate waits, Graph calls and
	// record. Default 30s.
	JobTimeout   time.Duration
	RateHeadroom float64 // fraction of Meta's rate left unused; default 0.01

	// Backoff says how long a retryable send waits; default DefaultBackoff.
	Backoff func(class meta.Class, code, attempt int) time.Duration

	FetchPollInterval time.Duration // River's fallback poll; default 1s
	FetchCooldown     time.Duration // least time between River's fetches of a queue; default 20ms
	// RescueStuckJobsAfter: River runs a killed worker's job again after
	// this (its rescuer looks every 30 s); more than JobTimeout. Default 35s.
	RescueStuckJobsAfter time.Duration
	// OrphanScan is how often a worker looks for claims of dead workers whose
	// requests never left, and queues them again at once; default 5s.
	OrphanScan      time.Duration
	ShutdownTimeout time.Duration // Run waits this long for running sends before cancelling them; default 10s

	// Prices estimates each WhatsApp message's cost when queued; share the
	// web server's book so an import is seen at once. Default: a book of its own.
	Prices *pricing.Book
}

func (c *Config) setDefaults() {
	if c.GraphURL == "" {
		c.GraphURL = meta.DefaultBaseURL
	}
	if c.GraphVersion == "" {
		c.GraphVersion = meta.DefaultVersion
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	setDefault(&c.Workers, 32)
	setDefault(&c.BulkWorkers, 16)
	setDefault(&c.BatchSize, 50)
	setDefault(&c.MaxInFlight, 256)
	setDefault(&c.MaxAttempts, 20)
	setDefault(&c.SendTimeout, 15*time.Second)
	setDefault(&c.ReconcileAfter, 10*time.Minute)
	setDefault(&c.WaitBudget, 5*time.Second)
	setDefault(&c.ClaimLease, 2*c.WaitBudget)
	setDefault(&c.JobTimeout, 30*time.Second)
	setDefault(&c.FetchPollInterval, time.Second)
	setDefault(&c.FetchCooldown, 20*time.Millisecond)
	setDefault(&c.RescueStuckJobsAfter, 35*time.Second)
	setDefault(&c.OrphanScan, 5*time.Second)
	setDefault(&c.ShutdownTimeout, 10*time.Second)
	if c.RateHeadroom <= 0 || c.RateHeadroom >= 1 {
		c.RateHeadroom = 0.01
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = c.MaxInFlight, c.MaxInFlight
		c.HTTPClient = &http.Client{Transport: t}
	}
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Pipeline is the outbound side of Switchboard: the Outbox every sender uses
// and the River workers that talk to Meta. A web-only replica uses Outbox
// without Run; a worker replica calls Run.
type Pipeline struct {
	store   *models.Store
	log     *slog.Logger
	cfg     Config
	workers *river.Workers
	outbox  *Outbox
	restock *Restocker
	// campaigns runs marketing campaigns (campaign.go, campaign_run.go).
	campaigns *Campaigner
	d         *deliverer
	m         *metrics
}

// New wires the pipeline on the store's pool: an insert-only River client over
// database/sql (jobs commit with gorm's transaction) for the Outbox, and on
// Run a River client over pgx for the workers.
func New(store *models.Store, log *slog.Logger, cfg Config) (*Pipeline, error) {
	cfg.setDefaults()
	graph := &meta.Client{BaseURL: cfg.GraphURL, Version: cfg.GraphVersion, HTTP: cfg.HTTPClient}
	m := newMetrics()
	d := &deliverer{
		store: store, log: log, cfg: &cfg, m: m,
		senders: map[string]adapters.Sender{
			models.AppMessenger: messenger.NewSender(graph),
			models.AppInstagram: instagram.NewSender(graph),
			models.AppWhatsApp:  whatsapp.NewSender(graph),
		},
		limiter:  newLimiter(store, m),
		inflight: make(chan struct{}, cfg.MaxInFlight),
		channels: map[int64]cachedChannel{},
		progress: &sendProgress{},
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &sendWorker{d: d})
	river.AddWorker(workers, &signalWorker{d: d})
	river.AddWorker(workers, &sweepWorker{d: d})
	river.AddWorker(workers, &templateSyncWorker{s: NewTemplateSyncer(store, graph, log, cfg.Now)})
	river.AddWorker(workers, &campaignAttributionWorker{store: store, log: log})
	insert, err := river.NewClient(riverdatabasesql.New(store.DB.SQL), &river.Config{Workers: workers, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("jobs: river insert client: %w", err)
	}
	p := &Pipeline{store: store, log: log, cfg: cfg, workers: workers, d: d, m: m}
	if cfg.Prices == nil {
		cfg.Prices = pricing.NewBook(store, 0)
	}
	p.outbox = &Outbox{store: store, insert: insert, now: cfg.Now, batch: cfg.BatchSize, m: m, prices: cfg.Prices}
	p.restock = newRestocker(p.outbox)
	p.restock.UseTemplates(syncedTemplates{store})
	p.restock.UsePrices(bookQuotes{cfg.Prices})
	river.AddWorker(workers, &restockWorker{r: p.restock})
	river.AddWorker(workers, &capSweepWorker{r: p.restock})
	river.AddWorker(workers, &capRetryWorker{r: p.restock})
	p.campaigns = newCampaigner(p.outbox)
	p.campaigns.progress = d.progress
	p.campaigns.slice = min(p.campaigns.slice, cfg.JobTimeout/3) // a run of the job ends well inside its timeout
	river.AddWorker(workers, &campaignWorker{c: p.campaigns})
	river.AddWorker(workers, &campaignTickWorker{c: p.campaigns})
	return p, nil
}

// Outbox is the pipeline's implementation of web.Outbox.
func (p *Pipeline) Outbox() *Outbox { return p.outbox }

// Collectors are the pipeline's Prometheus metrics.
func (p *Pipeline) Collectors() []prometheus.Collector { return p.m.collectors() }

// Register adds the pipeline's metrics to reg (e.g. web's Metrics().Registry).
func (p *Pipeline) Register(reg prometheus.Registerer) error {
	for _, c := range p.Collectors() {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Run works send jobs until ctx ends, then stops: running sends get
// ShutdownTimeout to finish before they are cancelled (a cancelled send that
// Meta may have accepted is reconciled, never blindly repeated).
func (p *Pipeline) Run(ctx context.Context) error {
	client, err := river.NewClient(riverpgxv5.New(p.store.DB.Pool), &river.Config{
		Logger: p.log,
		Queues: map[string]river.QueueConfig{
			queueOutbound: {MaxWorkers: p.cfg.Workers},
			queueBulk:     {MaxWorkers: p.cfg.BulkWorkers},
		},
		Workers:              p.workers,
		JobTimeout:           p.cfg.JobTimeout,
		RescueStuckJobsAfter: max(p.cfg.RescueStuckJobsAfter, p.cfg.JobTimeout+time.Second),
		FetchCooldown:        min(p.cfg.FetchCooldown, p.cfg.FetchPollInterval),
		FetchPollInterval:    p.cfg.FetchPollInterval,
		MaxAttempts:          25,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) {
				return sweepArgs{}, &river.InsertOpts{Queue: queueOutbound}
			}, &river.PeriodicJobOpts{RunOnStart: true}), templateSyncPeriodic(), capSweepPeriodic(), campaignTickPeriodic(), campaignAttributionPeriodic()},
	})
	if err != nil {
		return fmt.Errorf("jobs: river worker client: %w", err)
	}
	// Started apart from ctx: cancelling Start's context would cancel running
	// sends at once; the stop below gives them ShutdownTimeout first.
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start workers: %w", err)
	}
	var orphans sync.WaitGroup
	orphans.Go(func() { p.takeOverOrphans(ctx) })
	<-ctx.Done()
	orphans.Wait()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ShutdownTimeout)
	defer cancel()
	err = client.Stop(stopCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		hardCtx, hardCancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer hardCancel()
		err = client.StopAndCancel(hardCtx)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("jobs: stop workers: %w", err)
	}
	return nil
}
