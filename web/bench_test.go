package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/views"
)

// benchSize reads SWITCHBOARD_BENCH_THREADS (default 100,000 threads, ten
// messages each: 1M messages).
func benchSize() (threads, perThread int) {
	threads, perThread = 100_000, 10
	if n, err := strconv.Atoi(os.Getenv("SWITCHBOARD_BENCH_THREADS")); err == nil && n > 0 {
		threads = n
	}
	return threads, perThread
}

// seedInbox fills a business with threads and messages using set-based inserts.
func seedInbox(b *testing.B, s *models.Store, bizID, channelID int64, threads, perThread int) {
	ctx := context.Background()
	start := time.Now()
	type step struct {
		sql  string
		args []any
	}
	q := []string{
		`INSERT INTO contacts (business_id, name) SELECT $1, 'Customer ' || g FROM generate_series(1, $2) g`,
		`INSERT INTO identities (business_id, contact_id, channel_id, app, external_id, display_name)
			SELECT $1, c.id, $2, 'messenger', 'psid-' || c.id, c.name FROM contacts c WHERE c.business_id = $1`,
		`INSERT INTO threads (business_id, channel_id, kind, direct_identity_id, title, apps, status, last_message_at,
				last_message_preview, last_message_direction, last_customer_at, unread_count)
			SELECT $1, $2, 'direct', i.id, i.display_name, '{messenger}',
				(ARRAY['open','open','open','pending','closed'])[1 + i.id % 5],
				now() - i.id * interval '13 seconds', 'Is the item ' || i.id || ' still available?', 'in',
				now() - i.id * interval '13 seconds', (i.id % 3)::int
			FROM identities i WHERE i.business_id = $1`,
		`INSERT INTO thread_participants (thread_id, identity_id) SELECT id, direct_identity_id FROM threads WHERE business_id = $1`,
		`INSERT INTO messages (business_id, thread_id, channel_id, direction, app, kind, text, sent_at, status, sender_identity_id)
			SELECT t.business_id, t.id, t.channel_id, CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END, 'messenger', 'text',
				'Message ' || g || ' about order ' || t.id, t.last_message_at - g * interval '1 minute',
				CASE WHEN g % 2 = 0 THEN 'received' ELSE 'read' END,
				CASE WHEN g % 2 = 0 THEN t.direct_identity_id END
			FROM threads t CROSS JOIN generate_series(1, $2) g WHERE t.business_id = $1`,
		`ANALYZE`,
	}
	steps := []step{{q[0], []any{bizID, threads}}, {q[1], []any{bizID, channelID}}, {q[2], []any{bizID, channelID}},
		{q[3], []any{bizID}}, {q[4], []any{bizID, perThread}}, {q[5], nil}}
	for _, st := range steps {
		if _, err := s.DB.Pool.Exec(ctx, st.sql, st.args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, st.sql)
		}
	}
	b.Logf("seeded %d threads, %d messages in %s", threads, threads*perThread, time.Since(start).Round(time.Second))
}

// BenchmarkInbox measures, on one seeded database: the inbox first page, a
// deep keyset page and a thread page over HTTP with 8 concurrent clients,
// next to the raw store query of the first page (the limit they share).
func BenchmarkInbox(b *testing.B) {
	threads, perThread := benchSize()
	store := modelstest.NewStore(b)
	ctx := context.Background()
	biz, _ := store.CreateBusiness(ctx, "Bench")
	ch, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: "messenger", AccountID: "bench-page", AccessToken: "t", AppSecret: "s"})
	if err != nil {
		b.Fatal(err)
	}
	hash, _ := HashPassword(testPassword, cheapArgon2)
	agent, _ := store.CreateUser(ctx, biz.ID, "bench@agent.test", "Bench", hash, "agent")
	seedInbox(b, store, biz.ID, ch.ID, threads, perThread)

	srv := New(store, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Argon2: cheapArgon2})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.PostForm(ts.URL+"/login", url.Values{"email": {agent.Email}, "password": {testPassword}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in: %v %v", err, res)
	}
	res.Body.Close()

	var deep struct {
		LastMessageAt time.Time
		ID            int64
	}
	if err := store.Gorm(ctx).Raw(`SELECT last_message_at, id FROM threads WHERE business_id = ? AND status = 'open'
		ORDER BY last_message_at DESC, id DESC OFFSET ? LIMIT 1`, biz.ID, threads/5).Scan(&deep).Error; err != nil || deep.ID == 0 {
		b.Fatalf("deep cursor: %v", err)
	}
	cursor := models.EncodeCursor(deep.LastMessageAt, deep.ID)
	var threadID int64
	store.Gorm(ctx).Raw(`SELECT id FROM threads WHERE business_id = ? ORDER BY id LIMIT 1 OFFSET ?`, biz.ID, threads/2).Scan(&threadID)

	if os.Getenv("SWITCHBOARD_BENCH_EXPLAIN") != "" {
		for _, q := range []string{
			`EXPLAIN ANALYZE SELECT * FROM threads WHERE business_id = ` + strconv.FormatInt(biz.ID, 10) + ` AND status = 'open' ORDER BY last_message_at DESC, id DESC LIMIT 51`,
			`EXPLAIN ANALYZE SELECT tp.thread_id, i.display_name FROM thread_participants tp JOIN identities i ON i.id = tp.identity_id WHERE tp.thread_id IN (1,2,3,4,5,6,7,8,9,10) AND tp.left_at IS NULL`,
		} {
			rows, _ := store.DB.Pool.Query(ctx, q)
			for rows.Next() {
				var line string
				_ = rows.Scan(&line)
				b.Log(line)
			}
			rows.Close()
		}
	}
	b.Run("store-first-page", func(b *testing.B) {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := store.ListThreads(ctx, biz.ID, models.ThreadFilter{Status: "open"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	for _, bc := range []struct{ name, path string }{
		{"http-first-page", "/inbox"},
		{"http-deep-page", "/inbox?cursor=" + url.QueryEscape(cursor)},
		{"http-thread-page", "/inbox/threads/" + strconv.FormatInt(threadID, 10)},
	} {
		b.Run(bc.name, func(b *testing.B) { benchGet(b, cl, ts.URL+bc.path) })
	}
}

// benchGet fetches url from 8 concurrent clients and reports pages/s and p99.
func benchGet(b *testing.B, cl *http.Client, u string) {
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.SetParallelism(8 / max(1, runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			res, err := cl.Get(u)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("%s: %d", u, res.StatusCode)
				return
			}
			local = append(local, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "pages/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkRenderThreadList renders the 50-row list fragment.
func BenchmarkRenderThreadList(b *testing.B) {
	at := time.Now()
	rows := make([]views.ThreadRow, 50)
	for i := range rows {
		lca := at.Add(-time.Duration(i) * 17 * time.Minute)
		rows[i] = threadRow(&models.Thread{ID: int64(1000 + i), Title: "Customer " + strconv.Itoa(i), Apps: models.StringList{"messenger", "whatsapp"},
			Status: "open", UnreadCount: i % 3, LastMessagePreview: "Hi! Is the red bag still available in size M? Thanks",
			LastMessageDirection: "in", LastMessageAt: lca, LastCustomerAt: &lca,
			Labels: []models.Label{{ID: 1, Name: "VIP"}}}, map[int64]string{}, 0, "status=open", at)
	}
	ctx := views.WithLocale(context.Background(), "it")
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := views.ThreadListOOB(rows, "Conversazioni").Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes")
}
