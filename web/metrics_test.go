package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

func metricsStatus(t *testing.T, h http.Handler, auth string) int {
	t.Helper()
	r := httptest.NewRequest("GET", "/metrics", nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// TestMetricsNotPublicOnTheMainListener: without METRICS_TOKEN the main
// listener has no /metrics; with it, only the bearer of the token reads it.
func TestMetricsNotPublicOnTheMainListener(t *testing.T) {
	store := modelstest.NewStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	open := New(store, log, Options{Argon2: cheapArgon2})
	if code := metricsStatus(t, open.Handler(), ""); code != http.StatusNotFound {
		t.Fatalf("GET /metrics on the main listener without a token configured: %d, want 404", code)
	}
	if code := metricsStatus(t, open.MetricsHandler(), ""); code != http.StatusOK {
		t.Fatalf("the metrics listener's handler: %d, want 200", code)
	}

	guarded := New(store, log, Options{Argon2: cheapArgon2, MetricsToken: "metrics-token-0123456789"})
	for _, c := range []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Basic bWV0cmljcy10b2tlbi0wMTIzNDU2Nzg5", http.StatusUnauthorized},
		{"Bearer metrics-token-0123456789", http.StatusOK},
	} {
		if code := metricsStatus(t, guarded.Handler(), c.auth); code != c.want {
			t.Errorf("GET /metrics with %q: %d, want %d", c.auth, code, c.want)
		}
		if code := metricsStatus(t, guarded.MetricsHandler(), c.auth); code != c.want {
			t.Errorf("metrics listener with %q: %d, want %d", c.auth, code, c.want)
		}
	}
}
