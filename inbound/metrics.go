package inbound

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// stageBuckets span a quick commit to a backlog of seconds.
var stageBuckets = []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10, 30}

// stages are the inbound pipeline's latency histograms, one per stage, so a
// lag shows where it builds up: ack (journal append to durable commit),
// journal → applied (stored to its rows written), applied → NOTIFY (rows
// written to the commit that sends the notifications).
type stages struct {
	journalToApplied prometheus.Histogram
	appliedToNotify  prometheus.Histogram
	batch            prometheus.Histogram
}

func newStages() stages {
	return stages{
		journalToApplied: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "switchboard", Subsystem: "inbound", Name: "journal_to_applied_seconds",
			Help: "From a webhook's journal commit to its events' rows written.", Buckets: stageBuckets,
		}),
		appliedToNotify: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "switchboard", Subsystem: "inbound", Name: "applied_to_notify_seconds",
			Help: "From a batch's rows written to the commit that sends its notifications.", Buckets: stageBuckets,
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "switchboard", Subsystem: "inbound", Name: "batch_payloads",
			Help:    "Raw webhooks applied per batch (one at low load; more as a backlog forms).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024},
		}),
	}
}

func (s stages) collectors() []prometheus.Collector {
	return []prometheus.Collector{s.journalToApplied, s.appliedToNotify, s.batch}
}

// observe records a committed batch: applied is when its rows were written.
func (p *Processor) observe(payloads []*payload, applied time.Time) {
	committed := time.Now()
	p.stages.batch.Observe(float64(len(payloads)))
	p.stages.appliedToNotify.Observe(committed.Sub(applied).Seconds())
	for _, pl := range payloads {
		if !pl.row.ReceivedAt.IsZero() {
			p.stages.journalToApplied.Observe(max(applied.Sub(pl.row.ReceivedAt), 0).Seconds())
		}
	}
}

// newAckHistogram is the journal's stage: Append to durable commit.
func newAckHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "switchboard", Subsystem: "inbound", Name: "ack_seconds",
		Help: "From a verified webhook's journal append to its durable commit (the 200 waits for this).", Buckets: stageBuckets,
	})
}
