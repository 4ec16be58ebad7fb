package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/web"
)

// sendAPI is the JSON send API on a real database and the real outbox (its
// workers are not started: these tests stop at "queued").
type sendAPI struct {
	store *models.Store
	srv   *httptest.Server
	token string
	other string // a token of another business
	open  int64  // a WhatsApp thread whose customer wrote an hour ago
	shut  int64  // a WhatsApp thread whose customer wrote two days ago
}

func newSendAPI(t *testing.T) *sendAPI {
	t.Helper()
	ctx := context.Background()
	store := modelstest.NewStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pipe, err := jobs.New(store, log, jobs.Config{GraphURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(store, log, web.Options{Outbox: pipe.Outbox(),
		Argon2: web.Argon2Params{Memory: 64, Time: 1, Threads: 1}}).Handler())
	t.Cleanup(srv.Close)
	a := &sendAPI{store: store, srv: srv}
	biz, _ := store.CreateBusiness(ctx, "Bottega")
	other, _ := store.CreateBusiness(ctx, "Elsewhere")
	a.token, _, _ = store.CreateAPIToken(ctx, biz.ID, "api")
	a.other, _, _ = store.CreateAPIToken(ctx, other.ID, "api")
	ch, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: models.AppWhatsApp, AccountID: "1065",
		AccessToken: "t", AppSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	thread := func(waID string, last time.Time) int64 {
		c := &models.Contact{BusinessID: biz.ID, Name: waID}
		if err := store.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		id := &models.Identity{BusinessID: biz.ID, ContactID: c.ID, ChannelID: ch.ID, App: ch.App, ExternalID: waID, Phone: "+" + waID}
		if err := store.CreateIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
		th, _, err := store.EnsureDirectThread(ctx, id, last)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.RecordCustomerEvent(ctx, id.ID, "message", last); err != nil {
			t.Fatal(err)
		}
		return th.ID
	}
	a.open = thread("393470000001", time.Now().Add(-time.Hour))
	a.shut = thread("393470000002", time.Now().Add(-48*time.Hour))
	return a
}

func (a *sendAPI) call(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func messagesPath(id int64) string {
	return "/api/v1/threads/" + strconv.FormatInt(id, 10) + "/messages"
}

func TestSendAPIQueuesAllowedMessage(t *testing.T) {
	a := newSendAPI(t)
	code, body := a.call(t, "POST", messagesPath(a.open), a.token, `{"text":"Ciao! It is back in stock."}`)
	if code != http.StatusCreated || body["status"] != "queued" || body["text"] != "Ciao! It is back in stock." ||
		body["direction"] != "out" || body["policy_reason"] != "ok" {
		t.Fatalf("%d %v", code, body)
	}
	var jobsQueued int64
	a.store.Gorm(context.Background()).Raw(`SELECT count(*) FROM river_job WHERE kind = 'outbound_send'`).Scan(&jobsQueued)
	if jobsQueued != 1 {
		t.Fatalf("%d send jobs queued with the message, want 1", jobsQueued)
	}
}

func TestSendAPIRefusesWithReasonAndWritesNothing(t *testing.T) {
	a := newSendAPI(t)
	code, body := a.call(t, "POST", messagesPath(a.shut), a.token, `{"text":"Still interested?"}`)
	e, _ := body["error"].(map[string]any)
	if code != http.StatusUnprocessableEntity || e["code"] != "template_required" || !strings.Contains(e["message"].(string), "template") {
		t.Fatalf("%d %v", code, body)
	}
	var n int64
	a.store.Gorm(context.Background()).Raw(`SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM river_job)`).Scan(&n)
	if n != 0 {
		t.Fatalf("a refused send wrote %d rows", n)
	}
}

func TestSendAPIErrors(t *testing.T) {
	a := newSendAPI(t)
	cases := []struct {
		name, method, path, token, body string
		code                            int
		errCode                         string
	}{
		{"no token", "POST", messagesPath(a.open), "", `{"text":"x"}`, 401, "unauthorized"},
		{"another business's thread", "POST", messagesPath(a.open), a.other, `{"text":"x"}`, 404, "not_found"},
		{"another business's policy", "GET", "/api/v1/threads/" + strconv.FormatInt(a.open, 10) + "/policy", a.other, "", 404, "not_found"},
		{"unknown thread", "POST", messagesPath(999999), a.token, `{"text":"x"}`, 404, "not_found"},
		{"bad id", "POST", "/api/v1/threads/abc/messages", a.token, `{"text":"x"}`, 404, "not_found"},
		{"invalid JSON", "POST", messagesPath(a.open), a.token, `{"text":`, 400, "invalid_request"},
		{"two objects", "POST", messagesPath(a.open), a.token, `{"text":"a"}{"text":"b"}`, 400, "invalid_request"},
		{"empty", "POST", messagesPath(a.open), a.token, `{"text":"  "}`, 400, "invalid_request"},
		{"unknown template", "POST", messagesPath(a.shut), a.token, `{"template":{"name":"nope","language":"en_US"}}`, 400, "invalid_request"},
		{"human agent on automated", "POST", messagesPath(a.open), a.token, `{"text":"x","human_agent":true,"automated":true}`, 422, "human_agent_automated"},
		{"too many buttons", "POST", messagesPath(a.open), a.token, `{"text":"Pick","quick_replies":["a","b","c","d"]}`, 400, "invalid_request"},
	}
	for _, c := range cases {
		code, body := a.call(t, c.method, c.path, c.token, c.body)
		e, _ := body["error"].(map[string]any)
		if code != c.code || e["code"] != c.errCode {
			t.Errorf("%s: %d %v, want %d %s", c.name, code, body, c.code, c.errCode)
		}
	}
}

func TestPolicyAPIOneDecisionPerCustomer(t *testing.T) {
	a := newSendAPI(t)
	for _, tc := range []struct {
		thread  int64
		allowed bool
		reason  string
	}{{a.open, true, "ok"}, {a.shut, false, "template_required"}} {
		code, body := a.call(t, "GET", "/api/v1/threads/"+strconv.FormatInt(tc.thread, 10)+"/policy", a.token, "")
		ds, _ := body["decisions"].([]any)
		if code != http.StatusOK || len(ds) != 1 {
			t.Fatalf("%d %v", code, body)
		}
		d := ds[0].(map[string]any)
		opts, _ := d["options"].([]any)
		if d["allowed"] != tc.allowed || d["reason"] != tc.reason || d["app"] != "whatsapp" || len(opts) != 1 || opts[0] != "template" {
			t.Fatalf("decision %v", d)
		}
		if tc.allowed && d["expires_at"] == nil {
			t.Fatalf("an open window has no expires_at: %v", d)
		}
	}
}

// TestSendAPIBodyIsTheContracts posts every optional field the contract names.
func TestSendAPIBodyIsTheContracts(t *testing.T) {
	a := newSendAPI(t)
	body, _ := json.Marshal(map[string]any{
		"text": "The red one", "attachments": []map[string]string{{"kind": "image", "url": "https://cdn.example/red.jpg"}},
		"human_agent": false,
	})
	code, out := a.call(t, "POST", messagesPath(a.open), a.token, string(bytes.TrimSpace(body)))
	atts, _ := out["attachments"].([]any)
	if code != http.StatusCreated || out["kind"] != "image" || len(atts) != 1 {
		t.Fatalf("%d %v", code, out)
	}
}
