package inbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.rows.golden.json")

// rows is the normalised result of one payload, as the database holds it.
type rows struct {
	Outcome    string           `json:"outcome"`
	Error      string           `json:"error,omitempty"`
	Identities []map[string]any `json:"identities"`
	Threads    []map[string]any `json:"threads"`
	Messages   []map[string]any `json:"messages"`
	Statuses   []map[string]any `json:"statuses"`
	Reactions  []map[string]any `json:"reactions"`
	Facts      []map[string]any `json:"facts"`
	OTNTokens  []map[string]any `json:"otn_tokens"`
}

func query(t *testing.T, s *models.Store, sql string) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := s.Gorm(context.Background()).Raw(sql).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	for _, row := range out {
		for k, v := range row {
			switch x := v.(type) {
			case time.Time:
				row[k] = x.UTC().Format(time.RFC3339Nano)
			case []byte:
				row[k] = string(x)
			}
		}
	}
	if out == nil {
		out = []map[string]any{}
	}
	return out
}

// TestGoldenRows runs every adapter testdata payload through the webhook
// journal and the processor into a fresh database and compares the rows it
// produced with testdata/<app>_<name>.rows.golden.json.
func TestGoldenRows(t *testing.T) {
	for _, app := range []string{"messenger", "instagram", "whatsapp"} {
		files, _ := filepath.Glob(filepath.Join("..", "adapters", app, "testdata", "*.json"))
		for _, f := range files {
			if strings.HasSuffix(f, ".golden.json") {
				continue
			}
			name := app + "_" + strings.TrimSuffix(filepath.Base(f), ".json")
			t.Run(name, func(t *testing.T) { t.Parallel(); goldenCase(t, app, f, name) })
		}
	}
}

func goldenCase(t *testing.T, app, file, name string) {
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := modelstest.NewStore(t)
	ctx := context.Background()
	biz, _ := s.CreateBusiness(ctx, "Golden")
	// Connect every account the payload names, except one called "unknown".
	if events, _ := inbound.Parsers[app](body); len(events) > 0 { // partial payloads still name their accounts
		seen := map[string]bool{}
		for _, ev := range events {
			if seen[ev.AccountID] || ev.AccountID == "" || strings.Contains(ev.AccountID, "unknown") {
				continue
			}
			seen[ev.AccountID] = true
			nc := models.NewChannel{BusinessID: biz.ID, App: app, AccountID: ev.AccountID, AccessToken: "t", AppSecret: "s"}
			if ev.Type == adapters.EventTemplate { // template webhooks name the WABA, not a number
				nc.AccountID, nc.WABAID = "number-of-"+ev.AccountID, ev.AccountID
			}
			if _, err := s.CreateChannel(ctx, nc); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Gorm(ctx).Exec(`INSERT INTO raw_webhooks (app, body, signed_by) VALUES (?, ?, 'app')`, app, body).Error; err != nil {
		t.Fatal(err)
	}
	proc := inbound.NewProcessor(s, slog.New(slog.NewTextHandler(io.Discard, nil)), 10)
	for i := 0; i < 2; i++ { // the second pass finds nothing pending
		if _, err := proc.ProcessPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var raw models.RawWebhook
	s.Gorm(ctx).Take(&raw)
	got := rows{
		Outcome: raw.Outcome, Error: raw.Error,
		Identities: query(t, s, `SELECT app, external_id, phone, bsuid, username, country, display_name,
			marketing_opt_out_at IS NOT NULL AS opted_out FROM identities ORDER BY id`),
		Threads: query(t, s, `SELECT kind, title, status, apps::text AS apps, unread_count, last_message_preview,
			last_customer_at, external_group_id, (SELECT count(*) FROM thread_participants p WHERE p.thread_id = t.id) AS participants
			FROM threads t ORDER BY id`),
		Messages: query(t, s, `SELECT direction, kind, external_id, text, status, sent_at, details::text AS details,
			(SELECT string_agg(kind || ' ' || url || media_id, ', ' ORDER BY id) FROM attachments a WHERE a.message_id = m.id) AS attachments,
			reply_to_external_id, reply_to_id IS NOT NULL AS reply_linked, deleted_at IS NOT NULL AS deleted, edit_count, error_code, error_title
			FROM messages m ORDER BY sent_at, id`),
		Statuses:  query(t, s, `SELECT m.external_id, s.status, s.at, s.pricing::text AS pricing FROM message_statuses s JOIN messages m ON m.id = s.message_id ORDER BY s.at, s.status`),
		Reactions: query(t, s, `SELECT m.external_id AS target, r.emoji FROM reactions r JOIN messages m ON m.id = r.message_id ORDER BY r.id`),
		Facts:     query(t, s, `SELECT i.external_id, e.kind, e.last_at FROM identity_events e JOIN identities i ON i.id = e.identity_id ORDER BY i.id, e.kind`),
		OTNTokens: query(t, s, `SELECT kind, topic, payload, created_at, expires_at FROM otn_tokens ORDER BY id`),
	}
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	golden := filepath.Join("testdata", name+".rows.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./inbound -run TestGoldenRows -update)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("rows differ from %s:\n%s", golden, out)
	}
}
