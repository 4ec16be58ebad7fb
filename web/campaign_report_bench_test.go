package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// campaignBenchSize reads SWITCHBOARD_BENCH_CAMPAIGN_RECIPIENTS (default 100,000).
func campaignBenchSize() int {
	return benchEnvInt("SWITCHBOARD_BENCH_CAMPAIGN_RECIPIENTS", 100_000)
}

// BenchmarkCampaignReport measures the campaign report page of a running
// n-recipient campaign with 8 concurrent clients through the whole HTTP
// stack as a signed-in admin, while a writer moves recipients along the
// funnel the way status webhooks do (pending → sent → delivered → read,
// perStep recipients per step every 100 ms, through the campaign_counts
// triggers), next to the raw limits of the same run: the counters' bare SQL
// and net/http hello world.
func BenchmarkCampaignReport(b *testing.B) {
	n := campaignBenchSize()
	store := modelstest.NewStore(b)
	ctx := context.Background()
	biz, _ := store.CreateBusiness(ctx, "Bench")
	ch, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: models.AppWhatsApp, Name: "Shop",
		AccountID: "bench-phone", WABAID: "waba", AccessToken: "t", AppSecret: "s"})
	if err != nil {
		b.Fatal(err)
	}
	hash, _ := HashPassword(testPassword, cheapArgon2)
	admin, err := store.CreateUser(ctx, biz.ID, "bench@admin.test", "Bench", hash, "admin")
	if err != nil {
		b.Fatal(err)
	}
	c := &models.Campaign{BusinessID: biz.ID, ChannelID: ch.ID, Name: "Saldi", TemplateName: "saldi", TemplateLanguage: "it",
		Currency: "EUR", BudgetMicros: 10_000_000_000}
	if err := store.CreateCampaign(ctx, c); err != nil {
		b.Fatal(err)
	}
	if ok, err := store.TransitionCampaign(ctx, biz.ID, c.ID, []string{models.CampaignDraft}, models.CampaignRunning, ""); !ok || err != nil {
		b.Fatal(ok, err)
	}
	for _, st := range []struct {
		name, sql string
		args      []any
	}{
		{"contacts", `INSERT INTO contacts (business_id, name) SELECT $1, 'Cliente ' || g FROM generate_series(1, $2) g`, []any{biz.ID, n}},
		{"identities", `INSERT INTO identities (business_id, contact_id, channel_id, app, external_id, phone, display_name)
			SELECT $1, c.id, $2, 'whatsapp', '39333' || lpad(c.id::text, 7, '0'), '+39333' || lpad(c.id::text, 7, '0'), c.name
			FROM contacts c WHERE c.business_id = $1`, []any{biz.ID, ch.ID}},
		// One statement, as the audience step writes them: the insert trigger counts them once.
		{"recipients", `INSERT INTO campaign_recipients (campaign_id, identity_id, country, market, status, skip_reason, price_micros, currency)
			SELECT $2, i.id, CASE WHEN i.id % 5 = 0 THEN 'DE' ELSE 'IT' END, CASE WHEN i.id % 5 = 0 THEN 'Germany' ELSE 'Italy' END,
				CASE WHEN i.id % 50 = 0 THEN 'skipped' ELSE 'pending' END, CASE WHEN i.id % 50 = 0 THEN 'marketing_opted_out' ELSE '' END,
				CASE WHEN i.id % 5 = 0 THEN 136500 ELSE 69100 END, 'EUR'
			FROM identities i WHERE i.business_id = $1 ORDER BY i.id`, []any{biz.ID, c.ID}},
		{"vacuum", `VACUUM ANALYZE`, nil},
	} {
		t0 := time.Now()
		tag, err := store.DB.Pool.Exec(ctx, st.sql, st.args...)
		if err != nil {
			b.Fatalf("seed %s: %v", st.name, err)
		}
		b.Logf("seed %-10s %7d rows in %s", st.name, tag.RowsAffected(), time.Since(t0).Round(time.Millisecond))
	}
	benchDatabase = store.DB.Pool.Config().ConnConfig.Database

	ts, cl := benchSignedIn(b, store, admin.Email)
	page := ts.URL + "/campaigns/" + strconv.FormatInt(c.ID, 10)

	// The runner's and the webhooks' writes, going on while the page is read.
	const perStep = 100 // recipients per step per 100 ms: 1,000 sends/s, as at a 1,000 mps cap
	stop, moved := make(chan struct{}), atomic.Int64{}
	var writer sync.WaitGroup
	writer.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for _, q := range []string{
				`UPDATE campaign_recipients SET status = 'read', read_at = now() WHERE id IN (
					SELECT id FROM campaign_recipients WHERE campaign_id = $1 AND status = 'delivered' ORDER BY id LIMIT $2)`,
				`UPDATE campaign_recipients SET status = 'delivered', delivered_at = now() WHERE id IN (
					SELECT id FROM campaign_recipients WHERE campaign_id = $1 AND status = 'sent' ORDER BY id LIMIT $2)`,
				`UPDATE campaign_recipients SET status = 'sent', queued_at = now(), sent_at = now() WHERE id IN (
					SELECT id FROM campaign_recipients WHERE campaign_id = $1 AND status = 'pending' ORDER BY id LIMIT $2)`,
			} {
				tag, err := store.DB.Pool.Exec(ctx, q, c.ID, perStep)
				if err != nil {
					b.Error(err)
					return
				}
				moved.Add(tag.RowsAffected())
			}
		}
	})
	defer func() {
		close(stop)
		writer.Wait()
		b.Logf("writer moved %d recipient statuses", moved.Load())
	}()
	time.Sleep(time.Second) // the funnel has moved before the first read

	res, err := cl.Get(page)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `data-testid="report-funnel"`) || !strings.Contains(string(body), `data-status="running"`) {
		b.Fatalf("report page: %d, %d bytes", res.StatusCode, len(body))
	}
	b.Logf("report page: %d bytes", len(body))

	benchExplain(b, store, "EXPLAIN (ANALYZE, BUFFERS)", []string{
		`SELECT r.id, i.display_name, ct.name FROM (SELECT * FROM campaign_recipients r WHERE r.campaign_id = $1 AND r.id > 0 ORDER BY r.id LIMIT 51) r
			JOIN campaigns c ON c.id = r.campaign_id AND c.business_id = $2 LEFT JOIN identities i ON i.id = r.identity_id
			LEFT JOIN contacts ct ON ct.id = i.contact_id ORDER BY r.id`,
		`SELECT r.id FROM campaign_recipients r WHERE r.campaign_id = $1 AND r.id > 0 AND r.status = 'read' AND $2 > 0 ORDER BY r.id LIMIT 51`,
	}, c.ID, biz.ID)
	b.Run("raw-sql-counts", func(b *testing.B) {
		benchParallel(b, "queries/s", func() error {
			_, err := store.CampaignCounts(ctx, c.ID)
			return err
		})
	})
	hello := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("hello"))
	}))
	defer hello.Close()
	b.Run("raw-http-hello", func(b *testing.B) { benchGet(b, cl, hello.URL) })
	// Each query of the page alone.
	for name, q := range map[string]func() error{
		"store-campaign": func() error { _, err := store.Campaign(ctx, biz.ID, c.ID); return err },
		"store-outcome":  func() error { _, err := store.CampaignOutcome(ctx, biz.ID, c.ID); return err },
		"store-rows": func() error {
			_, err := store.CampaignRecipientRows(ctx, biz.ID, c.ID, models.RecipientFilter{}, 0, reportPageSize+1)
			return err
		},
		"store-rows-read": func() error {
			_, err := store.CampaignRecipientRows(ctx, biz.ID, c.ID, models.RecipientFilter{Status: "read"}, 0, reportPageSize+1)
			return err
		},
		"store-channel": func() error { _, err := store.Channel(ctx, biz.ID, ch.ID); return err },
	} {
		b.Run(name, func(b *testing.B) { benchParallel(b, "queries/s", q) })
	}
	b.Run("http-report-running", func(b *testing.B) { benchGet(b, cl, page) })
	b.Run("http-report-filtered-read", func(b *testing.B) { benchGet(b, cl, page+"?status=read") })
	// The recipient table the page leaves to htmx, and the page with it (no JavaScript).
	b.Run("http-report-rows-fragment", func(b *testing.B) { benchGet(b, cl, page+"/recipients") })
	b.Run("http-report-with-rows", func(b *testing.B) { benchGet(b, cl, page+"?rows=1") })
	// Without the chart cache: every request reads all recipient rows (what the cache saves).
	b.Run("uncached-aggregates", func(b *testing.B) {
		benchParallel(b, "queries/s", func() error {
			_, err := loadCampaignAgg(ctx, store, c)
			return err
		})
	})
}
