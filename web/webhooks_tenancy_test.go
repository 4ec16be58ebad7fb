package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/web"
)

// waTextFor is one customer text to the WhatsApp number phoneID.
func waTextFor(phoneID, wamid, text string) string {
	return `{"id":"WABA","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
"metadata":{"display_phone_number":"390200000000","phone_number_id":"` + phoneID + `"},
"contacts":[{"profile":{"name":"Forger"},"wa_id":"393470000001"}],
"messages":[{"from":"393470000001","id":"` + wamid + `","timestamp":"1763700000","type":"text","text":{"body":"` + text + `"}}]}}]}`
}

func waBatch(entries ...string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[` + strings.Join(entries, ",") + `]}`)
}

// Business B's own app secret must not sign entries for business A's number:
// such an entry is dropped and shown in A's webhook log, B's sibling kept.
func TestChannelSecretSignsOnlyItsOwnChannelsEntries(t *testing.T) {
	e := newWebhookEnv(t) // business A: number 106540352242922, secret channelSecret
	ctx := context.Background()
	bizB, _ := e.store.CreateBusiness(ctx, "Beta")
	chB, err := e.store.CreateChannel(ctx, models.NewChannel{BusinessID: bizB.ID, App: "whatsapp", AccountID: "200000000000001",
		AccessToken: "tok-b", AppSecret: "beta-own-secret"})
	if err != nil {
		t.Fatal(err)
	}
	onlyA := waBatch(waTextFor(e.ch.AccountID, "wamid.FORGED1", "forged into A"))
	if resp := e.post(t, "whatsapp", onlyA, meta.Sign(onlyA, []byte("beta-own-secret"))); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an entry for A signed with B's secret: status %d, want 403", resp.StatusCode)
	}
	mixed := waBatch(waTextFor(e.ch.AccountID, "wamid.FORGED2", "forged into A"), waTextFor(chB.AccountID, "wamid.B1", "B's own"))
	if resp := e.post(t, "whatsapp", mixed, meta.Sign(mixed, []byte("beta-own-secret"))); resp.StatusCode != http.StatusOK {
		t.Fatalf("B's entry signed with B's secret: status %d", resp.StatusCode)
	}
	var raw struct {
		SignedBy string
		Signers  models.Int64List `gorm:"column:signer_channel_ids"`
	}
	e.store.Gorm(ctx).Raw(`SELECT signed_by, signer_channel_ids FROM raw_webhooks`).Scan(&raw)
	if raw.SignedBy != "channel" || len(raw.Signers) != 1 || raw.Signers[0] != chB.ID {
		t.Fatalf("recorded signer %+v, want channel %d", raw, chB.ID)
	}
	if _, err := e.proc.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	var inA, inB int64
	e.store.Gorm(ctx).Model(&models.Message{}).Where("business_id = ?", e.ch.BusinessID).Count(&inA)
	e.store.Gorm(ctx).Model(&models.Message{}).Where("business_id = ?", bizB.ID).Count(&inB)
	if inA != 0 || inB != 1 {
		t.Fatalf("messages: %d in A (want 0), %d in B (want 1)", inA, inB)
	}
	logA, err := e.store.WebhookLog(ctx, e.ch.BusinessID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(logA) != 1 || logA[0].Kind != models.ProblemForeignSignature || logA[0].Body != "" {
		t.Fatalf("A's webhook log %+v: want one foreign_signature line with the shared payload hidden", logA)
	}
	if logB, _ := e.store.WebhookLog(ctx, bizB.ID, 10); len(logB) != 0 {
		t.Fatalf("B's webhook log %+v, want empty", logB)
	}
	// The Meta app's own secret speaks for every entry.
	both := waBatch(waTextFor(e.ch.AccountID, "wamid.A9", "real"), waTextFor(chB.AccountID, "wamid.B9", "real"))
	if resp := e.post(t, "whatsapp", both, meta.Sign(both, []byte(testAppSecret))); resp.StatusCode != http.StatusOK {
		t.Fatalf("app-signed: status %d", resp.StatusCode)
	}
	if _, err := e.proc.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	e.store.Gorm(ctx).Model(&models.Message{}).Where("business_id = ?", e.ch.BusinessID).Count(&inA)
	if inA != 1 {
		t.Fatalf("app-signed entry for A not applied: %d messages", inA)
	}
}

// A channel connected after the keys were loaded is found on its first webhook.
func TestNewChannelSecretIsFoundWithoutWaiting(t *testing.T) {
	e := newWebhookEnv(t)
	ctx := context.Background()
	body := []byte(waText)
	if resp := e.post(t, "whatsapp", body, meta.Sign(body, []byte(channelSecret))); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ch, err := e.store.CreateChannel(ctx, models.NewChannel{BusinessID: e.ch.BusinessID, App: "whatsapp", AccountID: "300000000000003",
		AccessToken: "t", AppSecret: "fresh-secret"})
	if err != nil {
		t.Fatal(err)
	}
	fresh := waBatch(waTextFor(ch.AccountID, "wamid.N1", "hello"))
	if resp := e.post(t, "whatsapp", fresh, meta.Sign(fresh, []byte("fresh-secret"))); resp.StatusCode != http.StatusOK {
		t.Fatalf("new channel's first webhook: status %d", resp.StatusCode)
	}
}

// With the database away, Meta must be told to retry: a plain 503, not an
// HTML error page.
func TestWebhookAnswers503WhenTheDatabaseIsAway(t *testing.T) {
	store := modelstest.NewStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := web.New(store, log, web.Options{MetaAppSecret: testAppSecret, Journal: inbound.NewJournal(store, 1, nil),
		Argon2: web.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	store.DB.Close()
	body := []byte(waText)
	req, _ := http.NewRequest("POST", srv.URL+"/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", meta.Sign(body, []byte("some channel secret")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
		strings.Contains(string(b), "<") {
		t.Fatalf("status %d, %s: %q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}

// Bodies in flight are bounded: past the budget Meta is asked to retry.
func TestWebhookBodiesInFlightAreBounded(t *testing.T) {
	store := modelstest.NewStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	journal := inbound.NewJournal(store, 1, nil)
	done := make(chan struct{})
	go func() { _ = journal.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	s := web.New(store, log, web.Options{MetaAppSecret: testAppSecret, Journal: journal, WebhookBodyBudget: 4 << 10,
		Argon2: web.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	post := func(body []byte) int {
		req, _ := http.NewRequest("POST", srv.URL+"/webhooks/whatsapp", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", meta.Sign(body, []byte(testAppSecret)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	big := waBatch(waTextFor("1", "wamid.BIG", strings.Repeat("x", 5<<10)))
	if code := post(big); code != http.StatusServiceUnavailable {
		t.Fatalf("a body over the in-flight budget: status %d, want 503", code)
	}
	// The budget is given back: small bodies keep flowing.
	for i := 0; i < 3; i++ {
		if code := post([]byte(waText)); code != http.StatusOK {
			t.Fatalf("small body %d: status %d", i, code)
		}
	}
}

// A template status update names a WABA; only the Meta app's secret or a
// secret of a channel of that WABA may change its templates.
func TestTemplateUpdatesAreBoundToTheirWABAsSecret(t *testing.T) {
	e := newWebhookEnv(t)
	ctx := context.Background()
	chA, err := e.store.CreateChannel(ctx, models.NewChannel{BusinessID: e.ch.BusinessID, App: "whatsapp", AccountID: "400000000000004",
		WABAID: "WABA-A", AccessToken: "t", AppSecret: "alpha-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.ReplaceTemplates(ctx, chA, []models.WATemplate{{MetaID: "77", Name: "restock_alert", Language: "en_US",
		Category: "utility", Status: "approved", Body: "Back in stock", ParameterFormat: "positional"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	bizB, _ := e.store.CreateBusiness(ctx, "Beta")
	if _, err := e.store.CreateChannel(ctx, models.NewChannel{BusinessID: bizB.ID, App: "whatsapp", AccountID: "500000000000005",
		WABAID: "WABA-B", AccessToken: "t", AppSecret: "beta-secret"}); err != nil {
		t.Fatal(err)
	}
	update := func(waba string) string {
		return `{"id":"` + waba + `","changes":[{"field":"message_template_status_update","value":{"event":"DISABLED",
"message_template_id":77,"message_template_name":"restock_alert","message_template_language":"en_US","reason":"NONE"}}]}`
	}
	forged := waBatch(update("WABA-A"))
	if resp := e.post(t, "whatsapp", forged, meta.Sign(forged, []byte("beta-secret"))); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("A's WABA signed with B's secret: status %d", resp.StatusCode)
	}
	mixed := waBatch(update("WABA-A"), update("WABA-B"))
	if resp := e.post(t, "whatsapp", mixed, meta.Sign(mixed, []byte("beta-secret"))); resp.StatusCode != http.StatusOK {
		t.Fatalf("mixed: status %d", resp.StatusCode)
	}
	if _, err := e.proc.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	tpls, _ := e.store.Templates(ctx, e.ch.BusinessID)
	if len(tpls) != 1 || tpls[0].Status != "approved" {
		t.Fatalf("A's template changed by B's secret: %+v", tpls)
	}
	own := waBatch(update("WABA-A"))
	if resp := e.post(t, "whatsapp", own, meta.Sign(own, []byte("alpha-secret"))); resp.StatusCode != http.StatusOK {
		t.Fatalf("A's own secret: status %d", resp.StatusCode)
	}
	if _, err := e.proc.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	if tpls, _ = e.store.Templates(ctx, e.ch.BusinessID); len(tpls) != 1 || tpls[0].Status != "disabled" {
		t.Fatalf("A's own update not applied: %+v", tpls)
	}
}
