package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// spendBenchSize reads SWITCHBOARD_BENCH_SPEND_MESSAGES (default 1,000,000
// outbound WhatsApp messages).
func spendBenchSize() int {
	return benchEnvInt("SWITCHBOARD_BENCH_SPEND_MESSAGES", 1_000_000)
}

// spendMarkets are the markets the seeded customers are in ("" is a
// BSUID-only customer: market unknown, no estimate).
var spendMarkets = []string{"Italy", "Brazil", "Germany", "France", "India", "Mexico", "Spain", "United Kingdom", ""}

// seedSpendBench writes n outbound WhatsApp messages of biz over last month
// and this month so far, the way the app does: the message, its
// message_costs row (estimate from the price table), then Meta's "sent"
// status with pricing. The spend_daily triggers keep the aggregate exactly
// as in production; it is never written here.
func seedSpendBench(b *testing.B, s *models.Store, bizID int64, channels []int64, n int, from time.Time) {
	ctx := context.Background()
	nThreads := max(1, min(20_000, n/50))
	steps := []struct {
		name string
		sql  string
		args []any
	}{
		{"contacts", `INSERT INTO contacts (business_id, name) SELECT $1, 'Customer ' || g FROM generate_series(1, $2) g`, []any{bizID, nThreads}},
		{"identities", `INSERT INTO identities (business_id, contact_id, channel_id, app, external_id, display_name)
			SELECT $1, c.id, ($2::bigint[])[1 + c.id % cardinality($2::bigint[])], 'whatsapp', '39333' || lpad(c.id::text, 7, '0'), c.name
			FROM contacts c WHERE c.business_id = $1`, []any{bizID, channels}},
		{"threads", `INSERT INTO threads (business_id, channel_id, kind, direct_identity_id, title, apps, status, last_message_at,
				last_message_preview, last_message_direction, unread_count)
			SELECT $1, i.channel_id, 'direct', i.id, i.display_name, '{whatsapp}', 'open', now(), 'Grazie!', 'out', 0
			FROM identities i WHERE i.business_id = $1`, []any{bizID}},
		{"participants", `INSERT INTO thread_participants (thread_id, identity_id) SELECT id, direct_identity_id FROM threads WHERE business_id = $1`, []any{bizID}},
		// Uniformly spread over [from, now): last month and this month so far.
		// One statement per channel, run side by side: each channel's
		// spend rows are its own, so the triggers' upserts never wait on
		// each other.
		{"messages", `WITH t AS (SELECT id, channel_id, row_number() OVER (ORDER BY id) - 1 AS k FROM threads WHERE business_id = $1)
			INSERT INTO messages (business_id, thread_id, channel_id, direction, app, kind, text, sent_at, status, created_at, status_at)
			SELECT $1, t.id, t.channel_id, 'out', 'whatsapp', CASE WHEN g % 4 = 3 THEN 'text' ELSE 'template' END, 'Saldi ' || g,
				ts, 'read', ts, ts
			FROM generate_series(0, $2 - 1) g
			JOIN t ON t.k = g % $3
			CROSS JOIN LATERAL (SELECT $4::timestamptz + (now() - $4::timestamptz) * (g::float8 / $2)) AS at(ts)
			WHERE t.channel_id = $5`,
			[]any{bizID, n, nThreads, from}},
		// What jobs.Outbox.estimate records: market from the recipient, the
		// template's category (service for free-form), the rate in force.
		{"message_costs", `INSERT INTO message_costs (message_id, business_id, channel_id, country, market, category, currency, estimated_micros, created_at)
			SELECT m.id, m.business_id, m.channel_id, CASE WHEN x.market = '' THEN '' ELSE upper(left(x.market, 2)) END, x.market, x.category,
				COALESCE(p.currency, ''), CASE WHEN p.unavailable THEN NULL ELSE p.price_micros END, m.created_at
			FROM messages m
			CROSS JOIN LATERAL (SELECT ($2::text[])[1 + (m.id * 7) % cardinality($2::text[])] AS market,
				CASE WHEN m.kind = 'text' THEN 'service' ELSE (ARRAY['marketing','marketing','utility','authentication'])[1 + (m.id / 4) % 4] END AS category) x
			LEFT JOIN LATERAL (SELECT cp.currency, cp.price_micros, cp.unavailable FROM country_prices cp
				WHERE cp.business_id = m.business_id AND cp.market = x.market AND cp.category = x.category
				  AND cp.effective_from <= (m.created_at AT TIME ZONE 'UTC')::date
				ORDER BY cp.effective_from DESC LIMIT 1) p ON true
			WHERE m.business_id = $1 AND m.direction = 'out' AND m.channel_id = $3
			ORDER BY m.id`, []any{bizID, spendMarkets}},
		// Meta's first status with pricing: template sends charged, replies in the window free.
		{"message_statuses", `INSERT INTO message_statuses (message_id, status, at, pricing)
			SELECT c.message_id, 'sent', c.created_at + interval '2 seconds',
				jsonb_build_object('pricing_model', 'PMP', 'category', c.category,
					'type', CASE WHEN c.category = 'service' THEN 'free_customer_service' ELSE 'regular' END)
			FROM message_costs c WHERE c.business_id = $1 AND c.channel_id = $2 ORDER BY c.message_id`, []any{bizID}},
		{"vacuum", `VACUUM ANALYZE`, nil},
	}
	perChannel := map[string]bool{"messages": true, "message_costs": true, "message_statuses": true}
	for _, st := range steps {
		runs := [][]any{st.args}
		if perChannel[st.name] {
			runs = nil
			for _, ch := range channels {
				runs = append(runs, append(append([]any{}, st.args...), ch))
			}
		}
		t0 := time.Now()
		var rows atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, len(runs))
		for i, args := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tag, err := s.DB.Pool.Exec(ctx, st.sql, args...)
				rows.Add(tag.RowsAffected())
				errs[i] = err
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatalf("seed %s: %v\n%s", st.name, err, st.sql)
		}
		el := time.Since(t0)
		if rows.Load() > 0 {
			b.Logf("seed %-16s %9d rows in %8s: %8.0f rows/s (%d statements side by side)", st.name, rows.Load(), el.Round(time.Millisecond),
				float64(rows.Load())/el.Seconds(), len(runs))
		} else {
			b.Logf("seed %-16s in %s", st.name, el.Round(time.Millisecond))
		}
	}
}

// BenchmarkSpend measures the Spend page (this month and last) over n
// outbound WhatsApp messages with 8 concurrent clients through the whole
// HTTP stack as a signed-in admin, next to the raw limits of the same run
// (the bare spend_monthly query the page runs, net/http hello world). With
// SWITCHBOARD_BENCH_SPEND_WRITES set it also measures the write-side price
// of the incremental aggregate: message_costs rows/s with and without the
// spend_on_costs trigger.
func BenchmarkSpend(b *testing.B) {
	n := spendBenchSize()
	store := modelstest.NewStore(b)
	ctx := context.Background()
	biz, _ := store.CreateBusiness(ctx, "Bench")
	var channels []int64
	for i, name := range []string{"Shop IT", "Shop BR", "Support"} {
		ch, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: models.AppWhatsApp, Name: name,
			AccountID: "bench-phone-" + strconv.Itoa(i), WABAID: "waba-" + strconv.Itoa(i), AccessToken: "t", AppSecret: "s"})
		if err != nil {
			b.Fatal(err)
		}
		channels = append(channels, ch.ID)
	}
	hash, _ := HashPassword(testPassword, cheapArgon2)
	admin, err := store.CreateUser(ctx, biz.ID, "bench@admin.test", "Bench", hash, "admin")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	lastMonth := thisMonth.AddDate(0, -1, 0)
	card, errs := pricing.ParseRateCard(pricing.SampleRateCard, lastMonth)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	if _, err := store.ImportPrices(ctx, biz.ID, nil, card); err != nil {
		b.Fatal(err)
	}
	seedSpendBench(b, store, biz.ID, channels, n, lastMonth)
	benchDatabase = store.DB.Pool.Config().ConnConfig.Database

	var sum struct{ Rows, Messages, Charged, Pages int64 }
	store.Gorm(ctx).Raw(`SELECT count(*) AS rows, COALESCE(SUM(messages), 0) AS messages, COALESCE(SUM(charged), 0) AS charged,
		pg_relation_size('spend_daily') / 8192 AS pages FROM spend_daily WHERE business_id = ?`, biz.ID).Scan(&sum)
	if sum.Messages != int64(n) {
		b.Fatalf("spend_daily counts %d messages, want %d", sum.Messages, n)
	}
	b.Logf("spend_daily: %d rows (%d pages) for %d messages (%d charged)", sum.Rows, sum.Pages, sum.Messages, sum.Charged)
	var monthly struct{ Rows, Messages, Pages int64 }
	store.Gorm(ctx).Raw(`SELECT count(*) AS rows, COALESCE(SUM(messages), 0) AS messages, pg_relation_size('spend_monthly') / 8192 AS pages
		FROM spend_monthly WHERE business_id = ?`, biz.ID).Scan(&monthly)
	if monthly.Messages != int64(n) {
		b.Fatalf("spend_monthly counts %d messages, want %d", monthly.Messages, n)
	}
	b.Logf("spend_monthly: %d rows (%d pages)", monthly.Rows, monthly.Pages)

	ts, cl := benchSignedIn(b, store, admin.Email)
	// The page must show the seeded months, not an empty state.
	for _, m := range []time.Time{thisMonth, lastMonth} {
		res, err := cl.Get(ts.URL + "/settings/spend?month=" + m.Format("2006-01"))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || strings.Contains(string(body), `data-testid="spend-empty"`) || !strings.Contains(string(body), `data-testid="spend-chart"`) {
			b.Fatalf("spend page %s: %d, %d bytes", m.Format("2006-01"), res.StatusCode, len(body))
		}
		b.Logf("spend page %s: %d bytes", m.Format("2006-01"), len(body))
	}

	for _, m := range []time.Time{thisMonth, lastMonth} {
		benchExplain(b, store, "EXPLAIN (ANALYZE, BUFFERS)", []string{spendMonthSQL}, biz.ID, m.Format(time.DateOnly))
	}

	// The raw limits, measured in the same run: the bare query the page
	// runs (Store.SpendMonth's SQL over pgx), the old sum of the days for
	// comparison, and net/http hello world.
	for _, m := range []struct {
		name  string
		month time.Time
	}{{"this-month", thisMonth}, {"last-month", lastMonth}} {
		b.Run("raw-sql-monthly-"+m.name, func(b *testing.B) {
			benchParallel(b, "queries/s", func() error {
				return drain(store.DB.Pool.Query(ctx, spendMonthSQL, biz.ID, m.month.Format(time.DateOnly)))
			})
		})
	}
	b.Run("raw-sql-daily-last-month", func(b *testing.B) {
		benchParallel(b, "queries/s", func() error {
			return drain(store.DB.Pool.Query(ctx, spendDailySQL, biz.ID, lastMonth.Format(time.DateOnly), thisMonth.Format(time.DateOnly)))
		})
	})
	hello := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("hello"))
	}))
	defer hello.Close()
	b.Run("raw-http-hello", func(b *testing.B) { benchGet(b, cl, hello.URL) })
	b.Run("store-spend-month-last-month", func(b *testing.B) {
		benchParallel(b, "queries/s", func() error {
			_, err := store.SpendMonth(ctx, biz.ID, lastMonth)
			return err
		})
	})
	b.Run("http-spend-this-month", func(b *testing.B) { benchGet(b, cl, ts.URL+"/settings/spend") })
	b.Run("http-spend-last-month", func(b *testing.B) {
		benchGet(b, cl, ts.URL+"/settings/spend?month="+lastMonth.Format("2006-01"))
	})
	if os.Getenv("SWITCHBOARD_BENCH_SPEND_WRITES") == "" {
		return
	}

	// The write-side price: the same n message_costs rows into a scratch
	// copy of the table (same columns, indexes and foreign keys), without
	// and with spend_on_costs; each insert rolled back.
	for _, q := range []string{
		`CREATE TABLE bench_costs (LIKE message_costs INCLUDING ALL)`,
		`ALTER TABLE bench_costs ADD FOREIGN KEY (message_id) REFERENCES messages ON DELETE CASCADE,
			ADD FOREIGN KEY (business_id) REFERENCES businesses ON DELETE CASCADE,
			ADD FOREIGN KEY (channel_id) REFERENCES channels ON DELETE SET NULL`,
	} {
		if _, err := store.DB.Pool.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	for _, trig := range []bool{false, true} {
		name := "write-costs-no-trigger"
		if trig {
			name = "write-costs-with-trigger"
		}
		b.Run(name, func(b *testing.B) {
			var rows int64
			var took time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				tx, err := store.DB.Pool.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if trig {
					if _, err := tx.Exec(ctx, `CREATE TRIGGER bench_spend AFTER INSERT ON bench_costs REFERENCING NEW TABLE AS new_costs FOR EACH STATEMENT EXECUTE FUNCTION spend_on_costs()`); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				t0 := time.Now()
				tag, err := tx.Exec(ctx, `INSERT INTO bench_costs SELECT * FROM message_costs WHERE business_id = $1 ORDER BY message_id`, biz.ID)
				took += time.Since(t0)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				rows += tag.RowsAffected()
				_ = tx.Rollback(ctx)
				b.StartTimer()
			}
			b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
			b.ReportMetric(float64(took.Nanoseconds())/1000/float64(rows), "µs/row")
		})
	}
}

// spendMonthSQL is the query models.Store.SpendMonth runs (the page's only spend query).
const spendMonthSQL = `SELECT channel_id, market, category, currency, messages, estimated_micros, charged, actual_micros
		FROM spend_monthly WHERE business_id = $1 AND month = $2::date
		ORDER BY channel_id, market, category, currency`

// spendDailySQL sums a range of days (what the page read before the rollup).
const spendDailySQL = `SELECT channel_id, market, category, currency, SUM(messages) AS messages,
		SUM(estimated_micros) AS estimated_micros, SUM(charged) AS charged, SUM(actual_micros) AS actual_micros
		FROM spend_daily WHERE business_id = $1 AND day >= $2::date AND day < $3::date
		GROUP BY channel_id, market, category, currency ORDER BY channel_id, market, category, currency`

// drain reads a query's rows to the end.
func drain(rows pgx.Rows, err error) error {
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}
