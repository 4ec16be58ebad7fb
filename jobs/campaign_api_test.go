package jobs_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/web"
)

// campaignAPI serves the web server with campaigns on, for the test's token.
func (e *env) campaignAPI() func(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	h := web.New(e.store, discardLog(), web.Options{Outbox: e.pipe.Outbox(), Campaigns: e.pipe.Campaigns(),
		Argon2: web.Argon2Params{Memory: 64, Time: 1, Threads: 1}}).Handler()
	srv := httptest.NewServer(h)
	e.t.Cleanup(srv.Close)
	return func(method, path string, body any) (int, map[string]any) {
		e.t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "application/json")
		return e.do(req)
	}
}

func fieldOf(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// Every bad input of the issue is refused with the contract's 422 and the
// field (or 404 for an id), and nothing is sent.
func TestCampaignAPIBadInput(t *testing.T) {
	e := newEnv(t, nil)
	e.campaignWorld()
	e.waCustomers(2, nil)
	call := e.campaignAPI()
	ch := e.channel(models.AppWhatsApp, true)
	good := func() map[string]any {
		return map[string]any{"name": "Saldi", "channel_id": ch.ID, "template": map[string]string{"name": "saldi", "language": "it"},
			"variables": []string{"{first_name|cliente}", "SALDI20", "{link:https://shop.example/saldi}"},
			"audience":  map[string]any{"countries": []string{}}, "time_zone": "Europe/Rome", "budget": "50.00", "currency": "EUR"}
	}
	other, _ := e.store.CreateBusiness(e.ctx, "Other")
	theirs, err := e.store.CreateChannel(e.ctx, models.NewChannel{BusinessID: other.ID, App: models.AppWhatsApp, AccountID: "999",
		AccessToken: "t", AppSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	past := testNow.Add(-time.Hour).Format(time.RFC3339)
	cases := []struct {
		name  string
		edit  func(map[string]any)
		field string
	}{
		{"required parameter unmapped", func(b map[string]any) { b["variables"] = []string{"{first_name|cliente}", ""} }, "variables[1]"},
		{"parameter missing", func(b map[string]any) { b["variables"] = []string{"{first_name|cliente}"} }, "variables[1]"},
		{"unknown field", func(b map[string]any) { b["variables"] = []string{"{nickname|x}", "A", "B"} }, "variables[0]"},
		{"budget below one message", func(b map[string]any) { b["budget"] = "0.01" }, "budget"},
		{"no budget", func(b map[string]any) { b["budget"] = "" }, "budget"},
		{"schedule in the past", func(b map[string]any) { b["scheduled_at"] = past }, "scheduled_at"},
		{"unknown time zone", func(b map[string]any) { b["time_zone"] = "Mars/Olympus" }, "time_zone"},
		{"channel of another business", func(b map[string]any) { b["channel_id"] = theirs.ID }, "channel_id"},
		{"unknown template", func(b map[string]any) { b["template"] = map[string]string{"name": "nope", "language": "it"} }, "template"},
	}
	for _, c := range cases {
		b := good()
		c.edit(b)
		status, body := call("POST", "/api/v1/campaigns", b)
		if status != http.StatusUnprocessableEntity || fieldOf(body) != c.field {
			t.Fatalf("%s: %d %v", c.name, status, body)
		}
	}
	// An empty audience is refused at start.
	b := good()
	b["audience"] = map[string]any{"countries": []string{"FR"}}
	status, body := call("POST", "/api/v1/campaigns", b)
	if status != http.StatusCreated || body["status"] != "draft" {
		t.Fatalf("create: %d %v", status, body)
	}
	empty := idOf(t, body)
	if status, body := call("POST", "/api/v1/campaigns/"+itoa(empty)+"/estimate", nil); status != 200 || body["recipients"] != 0.0 {
		t.Fatalf("estimate of an empty audience: %d %v", status, body)
	}
	if status, body := call("POST", "/api/v1/campaigns/"+itoa(empty)+"/start", nil); status != 422 || fieldOf(body) != "audience" {
		t.Fatalf("start of an empty audience: %d %v", status, body)
	}
	// A template REJECTED or PAUSED at start is refused.
	status, body = call("POST", "/api/v1/campaigns", good())
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, body)
	}
	id := idOf(t, body)
	for _, st := range []string{"rejected", "paused"} {
		if err := e.store.Gorm(e.ctx).Exec(`UPDATE wa_templates SET status = ? WHERE name = 'saldi'`, st).Error; err != nil {
			t.Fatal(err)
		}
		if status, body := call("POST", "/api/v1/campaigns/"+itoa(id)+"/start", nil); status != 422 || fieldOf(body) != "template" {
			t.Fatalf("start with a %s template: %d %v", st, status, body)
		}
	}
	// Another business's campaign is not found; so is an unknown one.
	camp, _ := e.store.Campaign(e.ctx, e.biz.ID, id)
	oc := &models.Campaign{BusinessID: other.ID, ChannelID: theirs.ID, Name: "theirs"}
	if err := e.store.CreateCampaign(e.ctx, oc); err != nil {
		t.Fatal(err)
	}
	if status, _ := call("GET", "/api/v1/campaigns/"+itoa(oc.ID), nil); status != 404 {
		t.Fatalf("another business's campaign: %d", status)
	}
	if status, _ := call("POST", "/api/v1/campaigns/"+itoa(oc.ID)+"/start", nil); status != 404 {
		t.Fatalf("starting another business's campaign: %d", status)
	}
	if camp.Status != models.CampaignDraft || len(e.sendsOf(ch.AccountID)) != 0 {
		t.Fatalf("something was sent: %v %d", camp.Status, len(e.sendsOf(ch.AccountID)))
	}
	// The good one: estimate, start, read.
	if err := e.store.Gorm(e.ctx).Exec(`UPDATE wa_templates SET status = 'approved' WHERE name = 'saldi'`).Error; err != nil {
		t.Fatal(err)
	}
	status, body = call("POST", "/api/v1/campaigns/"+itoa(id)+"/estimate", nil)
	if status != 200 || body["recipients"] != 2.0 || dig(body, "cost.total") != "0.1382" || dig(body, "cost.currency") != "EUR" {
		t.Fatalf("estimate: %d %v", status, body)
	}
	if status, body := call("POST", "/api/v1/campaigns/"+itoa(id)+"/start", nil); status != 200 || body["status"] != "running" {
		t.Fatalf("start: %d %v", status, body)
	}
	if status, body := call("POST", "/api/v1/campaigns/"+itoa(id)+"/start", nil); status != 409 {
		t.Fatalf("second start: %d %v", status, body)
	}
	e.waitFor("done", func() bool {
		_, body := call("GET", "/api/v1/campaigns/"+itoa(id), nil)
		return body["status"] == "done" && dig(body, "counts.queued") == 0.0
	})
	_, body = call("GET", "/api/v1/campaigns/"+itoa(id), nil)
	if dig(body, "counts.total") != 2.0 || dig(body, "cost.estimated") != "0.1382" {
		t.Fatalf("campaign: %v", body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
