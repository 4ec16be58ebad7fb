package web

import (
	"crypto/subtle"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is Switchboard's own Prometheus registry (no global state).
type Metrics struct {
	Registry     *prometheus.Registry
	httpDuration *prometheus.HistogramVec
	webhooks     *prometheus.CounterVec
}

// NewMetrics registers the process collectors and the HTTP histogram.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "switchboard", Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"pattern", "status"}),
	}
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "switchboard", Name: "webhooks_total",
		Help: "Webhook POSTs and handshakes by app and outcome (accepted, bad_signature, unsigned, malformed, too_large, store_failed).",
	}, []string{"app", "outcome"})
	reg.MustRegister(m.httpDuration, m.webhooks)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// MetricsHandler serves /metrics for the metrics listener (METRICS_ADDR),
// behind the bearer token when one is set (METRICS_TOKEN).
func (s *Server) MetricsHandler() http.Handler {
	h := s.metrics.Handler()
	token := s.opts.MetricsToken
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
