package jobs

import "github.com/prometheus/client_golang/prometheus"

// metrics are the outbound pipeline's Prometheus collectors.
type metrics struct {
	queued   *prometheus.CounterVec
	refused  *prometheus.CounterVec
	outcomes *prometheus.CounterVec
	graph    *prometheus.HistogramVec
	drift    *prometheus.CounterVec
	draws    *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		queued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Subsystem: "outbound", Name: "queued_total",
			Help: "Messages the policy allowed and the outbox queued, by app.",
		}, []string{"app"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Subsystem: "outbound", Name: "refused_total",
			Help: "Sends the policy refused before anything was queued, by app and reason code.",
		}, []string{"app", "reason"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Subsystem: "outbound", Name: "attempts_total",
			Help: "Send attempts by app and outcome (sent, window_closed, rate_limited, transient, ambiguous, auth_expired, permanent, invalid, not_attempted), sends the policy refused at send time (policy_refused), sends given up as unknown, and sends taken over from a dead worker (taken_over, app empty).",
		}, []string{"app", "outcome"}),
		graph: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "switchboard", Subsystem: "outbound", Name: "graph_seconds",
			Help:    "Latency of Graph API send calls by app.",
			Buckets: []float64{.005, .01, .025, .05, .1, .15, .25, .5, 1, 2.5, 5, 10},
		}, []string{"app"}),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Name: "policy_drift_total",
			Help: "Sends Meta refused as outside the window while our policy computed it open: our facts or clock are wrong.",
		}, []string{"app"}),
		draws: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Subsystem: "outbound", Name: "rate_draws_total",
			Help: "Draws on the shared PostgreSQL token buckets, by result (granted, empty).",
		}, []string{"result"}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.queued, m.refused, m.outcomes, m.graph, m.drift, m.draws}
}
