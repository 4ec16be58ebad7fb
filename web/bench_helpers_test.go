package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
)

// benchEnvInt reads a benchmark's size from the environment variable name,
// or def when it is unset or not a positive number.
func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchSignedIn serves the app on a test server and signs the email in: the
// client keeps the session and does not follow redirects.
func benchSignedIn(b *testing.B, store *models.Store, email string) (*httptest.Server, *http.Client) {
	b.Helper()
	srv := New(store, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Argon2: cheapArgon2})
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.PostForm(ts.URL+"/login", url.Values{"email": {email}, "password": {testPassword}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in: %v %v", err, res)
	}
	res.Body.Close()
	return ts, cl
}

// benchExplain logs PostgreSQL's plan of each query with args, when
// SWITCHBOARD_BENCH_EXPLAIN is set; explain is the EXPLAIN prefix.
func benchExplain(b *testing.B, store *models.Store, explain string, queries []string, args ...any) {
	b.Helper()
	if os.Getenv("SWITCHBOARD_BENCH_EXPLAIN") == "" {
		return
	}
	for _, q := range queries {
		rows, err := store.DB.Pool.Query(context.Background(), explain+" "+q, args...)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			b.Log(line)
		}
		rows.Close()
	}
}
