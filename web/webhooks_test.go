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

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/web"
)

const (
	testAppSecret   = "meta-app-secret"
	channelSecret   = "channel-own-secret"
	testVerifyToken = "verify-me"
)

type webhookEnv struct {
	store *models.Store
	proc  *inbound.Processor
	srv   *httptest.Server
	ch    *models.Channel
}

func newWebhookEnv(t *testing.T) *webhookEnv {
	t.Helper()
	store := modelstest.NewStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	proc := inbound.NewProcessor(store, log, 50)
	journal := inbound.NewJournal(store, 2, nil)
	done := make(chan struct{})
	go func() { _ = journal.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	biz, err := store.CreateBusiness(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: "whatsapp", AccountID: "106540352242922",
		AccessToken: "tok", AppSecret: channelSecret, VerifyToken: "channel-verify"})
	if err != nil {
		t.Fatal(err)
	}
	s := web.New(store, log, web.Options{MetaAppSecret: testAppSecret, MetaVerifyToken: testVerifyToken, Journal: journal,
		Argon2: web.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &webhookEnv{store: store, proc: proc, srv: srv, ch: ch}
}

func (e *webhookEnv) post(t *testing.T, app string, body []byte, sig string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/webhooks/"+app, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (e *webhookEnv) rawCount(t *testing.T) int64 {
	var n int64
	if err := e.store.Gorm(context.Background()).Model(&models.RawWebhook{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

const waText = `{"object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[{"field":"messages","value":{
"messaging_product":"whatsapp","metadata":{"display_phone_number":"390212345678","phone_number_id":"106540352242922"},
"contacts":[{"profile":{"name":"Zo\u00eb <b>"},"wa_id":"393471234567"}],
"messages":[{"from":"393471234567","id":"wamid.A1","timestamp":"1763700000","type":"text","text":{"body":"Ciao!"}},
{"from":"393471234567","id":"wamid.A2","timestamp":"1763700005","type":"text","text":{"body":"Is the red one back?"}}]}}]}]}`

func TestWebhookSignatureChecks(t *testing.T) {
	e := newWebhookEnv(t)
	body := []byte(waText)
	cases := []struct {
		name string
		sig  string
		want int
	}{
		{"missing", "", http.StatusUnauthorized},
		{"wrong secret", meta.Sign(body, []byte("nope")), http.StatusForbidden},
		{"garbage", "sha256=zz", http.StatusForbidden},
		{"sha1 header style", "sha1=" + strings.Repeat("0", 40), http.StatusForbidden},
	}
	for _, c := range cases {
		if resp := e.post(t, "whatsapp", body, c.sig); resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
	if n := e.rawCount(t); n != 0 {
		t.Fatalf("%d payloads stored from unsigned or badly signed requests", n)
	}
	// The Meta app's secret and the channel's own secret are both accepted.
	for _, secret := range []string{testAppSecret, channelSecret} {
		if resp := e.post(t, "whatsapp", body, meta.Sign(body, []byte(secret))); resp.StatusCode != http.StatusOK {
			t.Fatalf("valid signature with %q: status %d", secret, resp.StatusCode)
		}
	}
	if n := e.rawCount(t); n != 2 {
		t.Fatalf("stored %d payloads, want 2 (stored before the 200)", n)
	}
}

func TestWebhookRejectsOversizeAndMalformed(t *testing.T) {
	e := newWebhookEnv(t)
	big := bytes.Repeat([]byte("x"), 9<<20)
	if resp := e.post(t, "whatsapp", big, meta.Sign(big, []byte(testAppSecret))); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize: status %d", resp.StatusCode)
	}
	bad := []byte(`{"object": "whatsapp_business_account", "entry": [`)
	if resp := e.post(t, "whatsapp", bad, meta.Sign(bad, []byte(testAppSecret))); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed: status %d", resp.StatusCode)
	}
	if n := e.rawCount(t); n != 0 {
		t.Fatalf("%d rejected payloads stored", n)
	}
}

func TestWebhookVerifyHandshake(t *testing.T) {
	e := newWebhookEnv(t)
	get := func(q string) (int, string) {
		resp, err := http.Get(e.srv.URL + "/webhooks/whatsapp?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, token := range []string{testVerifyToken, "channel-verify"} {
		if code, body := get("hub.mode=subscribe&hub.verify_token=" + token + "&hub.challenge=1158201444"); code != 200 || body != "1158201444" {
			t.Fatalf("token %s: %d %q", token, code, body)
		}
	}
	for _, q := range []string{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", "hub.mode=unsubscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=1", ""} {
		if code, _ := get(q); code != http.StatusForbidden {
			t.Fatalf("%q: status %d, want 403", q, code)
		}
	}
}

func TestWebhookBatchProcessedOnceEach(t *testing.T) {
	e := newWebhookEnv(t)
	ctx := context.Background()
	body := []byte(waText)
	sig := meta.Sign(body, []byte(testAppSecret))
	for i := 0; i < 2; i++ { // Meta retries: the same batch twice
		if resp := e.post(t, "whatsapp", body, sig); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	unknown := []byte(strings.ReplaceAll(waText, "106540352242922", "999999"))
	e.post(t, "whatsapp", unknown, meta.Sign(unknown, []byte(testAppSecret)))
	if _, err := e.proc.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	var msgs []models.Message
	e.store.Gorm(ctx).Order("sent_at").Find(&msgs)
	if len(msgs) != 2 || msgs[0].Text != "Ciao!" || msgs[1].Text != "Is the red one back?" {
		t.Fatalf("messages: %+v", msgs)
	}
	var raws []models.RawWebhook
	e.store.Gorm(ctx).Order("id").Find(&raws)
	outcomes := []string{raws[0].Outcome, raws[1].Outcome, raws[2].Outcome}
	if outcomes[0] != "processed" || outcomes[1] != "processed" || outcomes[2] != "unknown_account" {
		t.Fatalf("outcomes %v", outcomes)
	}
	if !strings.Contains(raws[2].Error, "999999") {
		t.Fatalf("unknown account not named: %q", raws[2].Error)
	}
	page, _ := e.store.ListThreads(ctx, e.ch.BusinessID, models.ThreadFilter{})
	if len(page.Threads) != 1 || page.Threads[0].UnreadCount != 2 || page.Threads[0].Title != "Zoë <b>" {
		t.Fatalf("thread %+v", page.Threads)
	}
}
