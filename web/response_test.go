package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// TestRefusedConnectionsAnswer503: when PostgreSQL refuses a connection
// ("too many connections", SQLSTATE 53300) a page answers 503 with
// Retry-After in plain text, not a 500 page.
func TestRefusedConnectionsAnswer503(t *testing.T) {
	ctx := context.Background()
	db, err := models.Open(ctx, modelstest.URL(t)+"&pool_max_conns=2", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	held, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(held.Release)
	// The database admits one connection, held above: the pool's next
	// one is refused, as when replicas exhaust max_connections.
	if _, err := held.Exec(ctx, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I CONNECTION LIMIT 1', current_database()); END $$`); err != nil {
		t.Fatal(err)
	}
	cipher, _ := models.NewCipher(modelstest.SecretKey)
	srv := New(models.NewStore(db, cipher), slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Argon2: cheapArgon2})
	h := srv.Handler()

	for _, path := range []string{"/login", "/api/v1/threads"} {
		r := httptest.NewRequest("POST", path, strings.NewReader("email=a%40b.test&password=x"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if path != "/login" {
			r = httptest.NewRequest("GET", path, nil)
			r.Header.Set("Authorization", "Bearer sb_anything")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Errorf("%s with the database refusing connections: %d Retry-After %q, want 503 with Retry-After\n%s",
				path, w.Code, w.Header().Get("Retry-After"), w.Body.String())
		}
		if path == "/login" && !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
			t.Errorf("%s: Content-Type %q, want plain text", path, w.Header().Get("Content-Type"))
		}
	}
}
