package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/views"
)

// benchSize reads SWITCHBOARD_BENCH_THREADS (default 100,000 threads) and
// SWITCHBOARD_BENCH_PER_THREAD (messages each, default ten: 1M messages).
func benchSize() (threads, perThread int) {
	return benchEnvInt("SWITCHBOARD_BENCH_THREADS", 100_000), benchEnvInt("SWITCHBOARD_BENCH_PER_THREAD", 10)
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
	exec := func(st step) {
		if _, err := s.DB.Pool.Exec(ctx, st.sql, st.args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, st.sql)
		}
	}
	for _, st := range steps[:4] {
		exec(st)
	}
	// The messages are inserted without their secondary indexes, which are
	// then built once: the same end state, many minutes sooner at 10M rows.
	rebuild := dropIndexes(b, s, "messages")
	exec(steps[4])
	rebuild()
	exec(steps[5])
	b.Logf("seeded %d threads, %d messages in %s", threads, threads*perThread, time.Since(start).Round(time.Second))
	waitToMeasure(b)
}

// waitToMeasure holds a seeded benchmark until the file named by
// SWITCHBOARD_BENCH_WAIT_FILE exists, when that is set: a long seed can run
// while the machine is busy and the measurement when it is quiet.
func waitToMeasure(b *testing.B) {
	path := os.Getenv("SWITCHBOARD_BENCH_WAIT_FILE")
	if path == "" {
		return
	}
	b.Logf("seeded; measuring once %s exists", path)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(time.Second)
	}
}

// dropIndexes drops a table's secondary indexes and returns what builds them again.
func dropIndexes(b *testing.B, s *models.Store, table string) func() {
	ctx := context.Background()
	rows, err := s.DB.Pool.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid = $1::regclass AND NOT i.indisprimary`, table)
	if err != nil {
		b.Fatal(err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			b.Fatal(err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	for _, n := range names {
		if _, err := s.DB.Pool.Exec(ctx, "DROP INDEX "+n); err != nil {
			b.Fatal(err)
		}
	}
	return func() {
		for _, def := range defs {
			if _, err := s.DB.Pool.Exec(ctx, def); err != nil {
				b.Fatalf("rebuild index: %v\n%s", err, def)
			}
		}
	}
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
	benchDatabase = store.DB.Pool.Config().ConnConfig.Database

	ts, cl := benchSignedIn(b, store, agent.Email)

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
	// The raw limits, measured in the same run: the bare first-page query
	// on pgx, and a bare net/http hello world with the same client.
	firstPageSQL := `SELECT * FROM threads WHERE business_id = $1 AND status = 'open'
		ORDER BY last_message_at DESC, id DESC LIMIT 51`
	b.Run("raw-sql-first-page", func(b *testing.B) {
		benchParallel(b, "queries/s", func() error {
			rows, err := store.DB.Pool.Query(ctx, firstPageSQL, biz.ID)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			rows.Close()
			return rows.Err()
		})
	})
	hello := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("hello"))
	}))
	defer hello.Close()
	b.Run("raw-http-hello", func(b *testing.B) { benchGet(b, cl, hello.URL) })
	b.Run("store-first-page", func(b *testing.B) {
		benchParallel(b, "pages/s", func() error {
			_, err := store.InboxThreads(ctx, biz.ID, models.ThreadFilter{Status: "open"})
			return err
		})
	})
	b.Run("store-deep-page", func(b *testing.B) {
		benchParallel(b, "pages/s", func() error {
			_, err := store.InboxThreads(ctx, biz.ID, models.ThreadFilter{Status: "open", Cursor: cursor})
			return err
		})
	})
	b.Run("store-thread-messages", func(b *testing.B) {
		benchParallel(b, "pages/s", func() error {
			_, err := store.Messages(ctx, biz.ID, threadID, "", 50)
			return err
		})
	})
	for _, bc := range []struct {
		name, path string
		header     http.Header
	}{
		{"http-first-page", "/inbox", nil},
		{"http-deep-page", "/inbox?cursor=" + url.QueryEscape(cursor), nil},
		// A thread by its link: the whole page (a deep link, a reload).
		{"http-thread-page", "/inbox/threads/" + strconv.FormatInt(threadID, 10), nil},
		// A thread by a click on its row: the pane alone (views.paneLinks).
		{"http-thread-pane", "/inbox/threads/" + strconv.FormatInt(threadID, 10),
			http.Header{"Hx-Request": {"true"}, "Hx-Boosted": {"true"}, "Hx-Target": {"thread-pane"}}},
	} {
		b.Run(bc.name, func(b *testing.B) { benchGetHeader(b, cl, ts.URL+bc.path, bc.header) })
	}
	// Statements PostgreSQL re-plans on every call (custom plans) cost far more than their execution.
	if os.Getenv("SWITCHBOARD_BENCH_EXPLAIN") != "" {
		rows, _ := store.DB.Pool.Query(ctx, `SELECT generic_plans, custom_plans, left(regexp_replace(statement, '\s+', ' ', 'g'), 140) FROM pg_prepared_statements`)
		for rows.Next() {
			var g, c int64
			var st string
			_ = rows.Scan(&g, &c, &st)
			b.Logf("generic %d custom %d: %s", g, c, st)
		}
		rows.Close()
	}
}

// benchGet fetches url from 8 concurrent clients and reports pages/s and p99.
func benchGet(b *testing.B, cl *http.Client, u string) { benchGetHeader(b, cl, u, nil) }

// benchGetHeader is benchGet with request headers.
func benchGetHeader(b *testing.B, cl *http.Client, u string, h http.Header) {
	benchParallel(b, "pages/s", func() error {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		for k, v := range h {
			req.Header[k] = v
		}
		res, err := cl.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("%s: %d", u, res.StatusCode)
		}
		return nil
	})
}

// benchParallel runs fn from 8 concurrent goroutines and reports the rate
// (as unit), p50 and p99, and the CPU time each call cost this process
// (server and client) and PostgreSQL's backends: a figure the other load
// on a shared machine disturbs far less than the rate.
func benchParallel(b *testing.B, unit string, fn func() error) {
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	goCPU0, pgCPU0 := processCPU(), postgresCPU(benchDatabase)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			if err := fn(); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	goCPU, pgCPU := processCPU()-goCPU0, postgresCPU(benchDatabase)-pgCPU0
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(goCPU.Microseconds())/float64(len(lat)), "go-cpu-µs/op")
	b.ReportMetric(float64(pgCPU.Microseconds())/float64(len(lat)), "pg-cpu-µs/op")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), unit)
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
		if err := views.ThreadListOOB(rows, "Conversazioni", true).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes")
}

// benchDatabase is the database BenchmarkInbox runs on, for postgresCPU.
var benchDatabase string

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the CPU time used so far by the PostgreSQL backends
// serving database (Linux /proc; zero elsewhere or when not readable).
func postgresCPU(database string) time.Duration {
	if database == "" {
		return 0
	}
	procs, _ := os.ReadDir("/proc")
	var ticks int64
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + p.Name() + "/cmdline")
		if err != nil || !bytes.HasPrefix(cmd, []byte("postgres: ")) || !bytes.Contains(cmd, []byte(" "+database+" ")) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + p.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: utime and stime are 14th and 15th.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

// The caches the fast paths rely on are tested here, beside their benchmarks.

// memSessions is a session store that counts its writes.
type memSessions struct {
	mu      sync.Mutex
	data    map[string][]byte
	commits int
}

func (m *memSessions) Find(token string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.data[token]
	return b, ok, nil
}

func (m *memSessions) Commit(token string, b []byte, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[token] = append([]byte(nil), b...)
	m.commits++
	return nil
}

func (m *memSessions) Delete(token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, token)
	return nil
}

func TestTouchCoalescingStoreSkipsOnlyUnchangedTouches(t *testing.T) {
	inner := &memSessions{data: map[string][]byte{}}
	codec := scs.GobCodec{}
	st := newTouchCoalescingStore(inner, codec)
	deadline := time.Now().Add(14 * 24 * time.Hour)
	values := map[string]any{"user_id": int64(1), "business_id": int64(2), "a": "x", "b": "y"}
	// gob writes a map in random order: collect two byte forms of the same session.
	first, _ := codec.Encode(deadline, values)
	other := first
	for i := 0; i < 200 && bytes.Equal(other, first); i++ {
		other, _ = codec.Encode(deadline, values)
	}
	expiry := time.Now().Add(72 * time.Hour)
	step := func(what string, err error, commits int) {
		t.Helper()
		if err != nil || inner.commits != commits {
			t.Fatalf("%s: err %v, %d commits, want %d", what, err, inner.commits, commits)
		}
	}
	step("first commit", st.Commit("tok", first, expiry), 1)
	_, found, err := st.Find("tok")
	step("find", err, 1)
	if !found {
		t.Fatal("session not found")
	}
	step("touch, other byte form", st.Commit("tok", other, expiry.Add(time.Second)), 1)
	step("touch, same bytes", st.Commit("tok", first, expiry.Add(2*time.Second)), 1)
	step("touch after a while", st.Commit("tok", other, expiry.Add(2*sessionTouchEvery)), 2)
	values["flash"] = "saved"
	changed, _ := codec.Encode(deadline, values)
	step("changed data", st.Commit("tok", changed, expiry.Add(2*sessionTouchEvery)), 3)
	step("delete", st.Delete("tok"), 3)
	step("commit after delete", st.Commit("tok", changed, expiry.Add(2*sessionTouchEvery)), 4)
	// Another replica rewrites the session: our next commit of what we read is written.
	delete(values, "flash")
	theirs, _ := codec.Encode(deadline, values)
	inner.data["tok"] = theirs
	if _, _, err := st.Find("tok"); err != nil {
		t.Fatal(err)
	}
	step("commit after another replica's write", st.Commit("tok", theirs, expiry.Add(2*sessionTouchEvery)), 5)
	step("then a touch", st.Commit("tok", theirs, expiry.Add(2*sessionTouchEvery+time.Second)), 5)
	step("undecodable data", st.Commit("tok", []byte("not gob"), expiry), 6)
	step("undecodable again", st.Commit("tok", []byte("not gob"), expiry), 7)
}

func TestBusinessCacheExpiresAndForgetsOnWrite(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	c := newBusinessCache(2 * time.Second)
	c.now = func() time.Time { return at }
	loads := 0
	load := func() (*businessBasics, error) { loads++; return &businessBasics{}, nil }
	get := func(want int) {
		t.Helper()
		if _, err := c.basics(7, load); err != nil || loads != want {
			t.Fatalf("loads %d, want %d (err %v)", loads, want, err)
		}
	}
	get(1)
	get(1)
	at = at.Add(3 * time.Second)
	get(2)
	c.invalidate(7)
	get(3)
	// A load that started before a write is not kept.
	_, _ = c.basics(8, func() (*businessBasics, error) { c.invalidate(8); loads++; return &businessBasics{}, nil })
	_, _ = c.basics(8, load)
	if loads != 5 {
		t.Fatalf("a load overtaken by a write was kept: %d loads", loads)
	}
	viewer := &models.SignedIn{Role: models.RoleAgent}
	vloads := 0
	for i := 0; i < 3; i++ {
		if u, _ := c.viewer(7, 1, func() (*models.SignedIn, error) { vloads++; return viewer, nil }); u != viewer {
			t.Fatal("wrong viewer")
		}
	}
	c.invalidate(7)
	_, _ = c.viewer(7, 1, func() (*models.SignedIn, error) { vloads++; return nil, nil }) // no longer a member
	if u, _ := c.viewer(7, 1, func() (*models.SignedIn, error) { vloads++; return nil, nil }); u != nil || vloads != 3 {
		t.Fatalf("viewer after removal: %v, %d loads", u, vloads)
	}
}
