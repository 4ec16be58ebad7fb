package jobs_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

const (
	waNumber = "106540352299001"
	waWABA   = "102290129399001"
)

func (e *env) waTemplateChannel() *models.Channel {
	e.t.Helper()
	ch, err := e.store.CreateChannel(e.ctx, models.NewChannel{BusinessID: e.biz.ID, App: models.AppWhatsApp, AccountID: waNumber,
		WABAID: waWABA, AccessToken: "token-templates", AppSecret: appSecret})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.sim.AddAccount(metasim.Account{App: metasim.WhatsApp, ID: waNumber, WABAID: waWABA, AccessToken: "token-templates"}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.sim.AddTemplateExamples(waNumber); err != nil {
		e.t.Fatal(err)
	}
	return ch
}

func (e *env) templates() map[string]models.WATemplate {
	e.t.Helper()
	ts, err := e.store.Templates(e.ctx, e.biz.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]models.WATemplate{}
	for _, t := range ts {
		out[t.Name] = t
	}
	return out
}

func TestTemplateSyncWebhooksAndPrice(t *testing.T) {
	e := newEnv(t, nil)
	ch := e.waTemplateChannel()
	syncer := jobs.NewTemplateSyncer(e.store, &meta.Client{BaseURL: e.cfg.GraphURL}, slog.New(slog.NewTextHandler(io.Discard, nil)), e.clock)
	syncer.PageSize = 2 // five templates: three pages

	res, err := syncer.SyncChannel(e.ctx, ch)
	if err != nil || res.Fetched != 5 || res.Deleted != 0 {
		t.Fatalf("sync = %+v, %v; want 5 fetched", res, err)
	}
	ts := e.templates()
	if ts["spring_teaser"].Status != "rejected" || ts["winter_sale"].Status != "paused" || ts["order_shipped"].Status != "approved" {
		t.Fatalf("statuses: rejected %q, paused %q, approved %q", ts["spring_teaser"].Status, ts["winter_sale"].Status, ts["order_shipped"].Status)
	}
	if got := len(ts["back_in_stock_named"].Parameters); got != 4 {
		t.Errorf("named template has %d parameters, want 4 (header, 2 body, URL button)", got)
	}
	if tpl, err := e.store.ApprovedTemplate(e.ctx, e.biz.ID, ch.ID, "winter_sale", "en_US"); err != nil || tpl != nil {
		t.Errorf("a paused template is offered for sending: %v, %v", tpl, err)
	}

	// Meta re-categorises order_shipped; from then on it is priced (and
	// policed) as marketing.
	rows, _ := pricing.ParseRateCard(pricing.SampleRateCard, testNow.AddDate(0, -1, 0))
	if _, err := e.store.ImportPrices(e.ctx, e.biz.ID, nil, rows); err != nil {
		t.Fatal(err)
	}
	book := pricing.NewBook(e.store, 0)
	price := func() int64 {
		tpl, err := e.store.ApprovedTemplate(e.ctx, e.biz.ID, ch.ID, "order_shipped", "it")
		if err != nil || tpl == nil {
			t.Fatalf("order_shipped: %v, %v", tpl, err)
		}
		q, err := book.QuotePhone(e.ctx, e.biz.ID, "+393471234567", tpl.Category, testNow)
		if err != nil {
			t.Fatal(err)
		}
		return q.PriceMicros
	}
	utility := price()
	if err := e.sim.SetTemplateCategory(waNumber, "order_shipped", "it", "MARKETING"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the category webhook", func() bool { return e.templates()["order_shipped"].Category == "marketing" })
	if marketing := price(); marketing != 69_100 || marketing == utility {
		t.Errorf("after re-categorisation the price is %d micros (was %d), want Italy's marketing 69100", marketing, utility)
	}

	// Review outcomes arrive as status webhooks.
	if err := e.sim.SetTemplateStatus(waNumber, "winter_sale", "en_US", "APPROVED", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetTemplateStatus(waNumber, "order_shipped", "it", "DISABLED", ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the status webhooks", func() bool {
		ts := e.templates()
		return ts["winter_sale"].Status == "approved" && ts["order_shipped"].Status == "disabled"
	})

	// A template Meta stops listing becomes deleted, never vanishes.
	if err := e.sim.RemoveTemplate(waNumber, "spring_teaser", "en_US"); err != nil {
		t.Fatal(err)
	}
	res, err = syncer.SyncChannel(e.ctx, ch)
	if err != nil || res.Fetched != 4 || res.Deleted != 1 {
		t.Fatalf("second sync = %+v, %v; want 4 fetched, 1 deleted", res, err)
	}
	if s := e.templates()["spring_teaser"].Status; s != "deleted" {
		t.Errorf("unlisted template status %q, want deleted", s)
	}
	syncs, err := e.store.TemplateSyncs(e.ctx, e.biz.ID)
	if err != nil || syncs[ch.ID].Fetched != 4 || syncs[ch.ID].Error != "" {
		t.Errorf("last sync recorded %+v, %v", syncs[ch.ID], err)
	}
}

func TestTemplateSyncFailureIsRecorded(t *testing.T) {
	e := newEnv(t, nil)
	ch := e.waTemplateChannel()
	if err := e.store.UpdateChannelToken(e.ctx, e.biz.ID, ch.ID, "revoked-token"); err != nil {
		t.Fatal(err)
	}
	ch, _ = e.store.Channel(e.ctx, e.biz.ID, ch.ID)
	syncer := jobs.NewTemplateSyncer(e.store, &meta.Client{BaseURL: e.cfg.GraphURL}, slog.New(slog.NewTextHandler(io.Discard, nil)), e.clock)
	if _, err := syncer.SyncChannel(e.ctx, ch); err == nil {
		t.Fatal("sync with a bad token succeeded")
	}
	syncs, _ := e.store.TemplateSyncs(e.ctx, e.biz.ID)
	if syncs[ch.ID].Error == "" {
		t.Errorf("failure not recorded: %+v", syncs[ch.ID])
	}
	noWABA := e.channel(models.AppWhatsApp, false)
	if _, err := syncer.SyncChannel(e.ctx, noWABA); err != jobs.ErrNoWABA {
		t.Errorf("channel without WABA: %v, want ErrNoWABA", err)
	}
}

func TestNamedTemplateSendFillsHeaderBodyAndButton(t *testing.T) {
	e := newEnv(t, nil)
	ch := e.waTemplateChannel()
	syncer := jobs.NewTemplateSyncer(e.store, &meta.Client{BaseURL: e.cfg.GraphURL}, slog.New(slog.NewTextHandler(io.Discard, nil)), e.clock)
	if _, err := syncer.SyncChannel(e.ctx, ch); err != nil {
		t.Fatal(err)
	}
	c := &models.Contact{BusinessID: e.biz.ID, Name: "Anna"}
	if err := e.store.CreateContact(e.ctx, c); err != nil {
		t.Fatal(err)
	}
	id := &models.Identity{BusinessID: e.biz.ID, ContactID: c.ID, ChannelID: ch.ID, App: models.AppWhatsApp, ExternalID: "393471234567",
		Phone: "+393471234567", DisplayName: "Anna"}
	if err := e.store.CreateIdentity(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	th, _, err := e.store.EnsureDirectThread(e.ctx, id, testNow.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/threads/" + strconv.FormatInt(th.ID, 10) + "/messages"
	tpl := map[string]any{"name": "back_in_stock_named", "language": "en_US"}

	tpl["variables"] = []string{"Linen shirt", "Anna", ""} // the third (body {{product}}) empty, the button missing
	if status, body := e.post(path, map[string]any{"template": tpl}); status != 400 || !strings.Contains(fmt.Sprint(body), "required") {
		t.Fatalf("empty variable: %d %v", status, body)
	}

	tpl["variables"] = []string{"Linen shirt", "Anna", "Linen shirt", "LINEN-M"}
	status, body := e.post(path, map[string]any{"template": tpl})
	if status != 201 {
		t.Fatalf("send: %d %v", status, body)
	}
	m := e.waitStatus(idOf(t, body), "sent", "delivered", "read")
	if m.Text != "Hi Anna, Linen shirt is back in stock. Tap below before it goes again." {
		t.Errorf("message text %q", m.Text)
	}
	sends := e.sendsOf(waNumber)
	if len(sends) != 1 {
		t.Fatalf("%d sends", len(sends))
	}
	got, _ := json.Marshal(sends[0].Body()["template"].(map[string]any)["components"])
	want := `[{"parameters":[{"parameter_name":"product","text":"Linen shirt","type":"text"}],"type":"header"},` +
		`{"parameters":[{"parameter_name":"first_name","text":"Anna","type":"text"},{"parameter_name":"product","text":"Linen shirt","type":"text"}],"type":"body"},` +
		`{"index":"0","parameters":[{"text":"LINEN-M","type":"text"}],"sub_type":"url","type":"button"}]`
	if string(got) != want {
		t.Errorf("components sent to Meta:\n%s\nwant\n%s", got, want)
	}
}

func TestCostEstimatedWhenQueuedAndActualFromStatuses(t *testing.T) {
	e := newEnv(t, nil)
	rows, _ := pricing.ParseRateCard(pricing.SampleRateCard, testNow.AddDate(0, -1, 0))
	if _, err := e.store.ImportPrices(e.ctx, e.biz.ID, nil, rows); err != nil {
		t.Fatal(err)
	}
	in := e.customer(models.AppWhatsApp, "393471234567", testNow.Add(-time.Hour))     // window open: a free-form reply
	out := e.customer(models.AppWhatsApp, "436641234567", testNow.Add(-72*time.Hour)) // window closed: a template
	if err := e.sim.AddTemplate(in.account, metasim.Template{Name: "back_in_stock", Language: "en_US", Category: "MARKETING", Body: "Hi {{1}}"}); err != nil {
		t.Fatal(err)
	}
	e.store.Gorm(e.ctx).Create(&models.WATemplate{BusinessID: e.biz.ID, ChannelID: in.channel.ID, Name: "back_in_stock", Language: "en_US",
		Category: "marketing", Status: "approved", Body: "Hi {{1}}", Components: models.JSON(`[]`)})

	send := func(c *customer, body map[string]any) int64 {
		status, res := e.post("/api/v1/threads/"+strconv.FormatInt(c.thread.ID, 10)+"/messages", body)
		if status != 201 {
			t.Fatalf("send: %d %v", status, res)
		}
		return idOf(t, res)
	}
	reply := send(in, map[string]any{"text": "Grazie!"})
	promo := send(out, map[string]any{"template": map[string]any{"name": "back_in_stock", "language": "en_US", "variables": []string{"Anna"}}})
	cost := func(id int64) *models.MessageCost {
		c, err := e.store.MessageCostOf(e.ctx, e.biz.ID, id)
		if err != nil || c == nil {
			t.Fatalf("cost of %d: %v, %v", id, c, err)
		}
		return c
	}
	if c := cost(reply); c.Market != "Italy" || c.Category != "service" || c.EstimatedMicros == nil || *c.EstimatedMicros != 18_000 {
		t.Errorf("reply estimate %+v", c)
	}
	if c := cost(promo); c.Market != pricing.RestOfWestEurope || c.Category != "marketing" || c.EstimatedMicros == nil ||
		*c.EstimatedMicros != 59_200 || c.Currency != "USD" {
		t.Errorf("template estimate %+v", c)
	}
	e.waitFor("Meta's pricing on the statuses", func() bool {
		return cost(reply).ActualType != "" && cost(promo).ActualType != ""
	})
	// From 1 Oct 2026 Meta bills a service reply inside the window (meta-platform.md §6.3).
	if c := cost(reply); c.ActualType != "regular" || c.ActualCategory != "service" {
		t.Errorf("reply actual %s/%s, want service/regular", c.ActualCategory, c.ActualType)
	}
	if c := cost(promo); c.ActualType != "regular" || c.ActualCategory != "marketing" || c.ActualMicros == nil || *c.ActualMicros != 59_200 {
		t.Errorf("template actual %s/%s %v, want marketing/regular at 59200", c.ActualCategory, c.ActualType, c.ActualMicros)
	}
	// The daily aggregate the Spend page reads, kept as the facts arrive.
	y, mo, _ := time.Now().UTC().Date()
	from := time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	spend, err := e.store.Spend(e.ctx, e.biz.ID, from, from.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]models.SpendRow{}
	for _, r := range spend {
		got[r.Market+"/"+r.Category] = r
	}
	if r := got["Italy/service"]; r.Messages != 1 || r.EstimatedMicros != 18_000 || r.Charged != 1 || r.ActualMicros != 18_000 {
		t.Errorf("Italy service spend %+v: estimated and charged (billed since 1 Oct 2026)", r)
	}
	if r := got[pricing.RestOfWestEurope+"/marketing"]; r.Messages != 1 || r.EstimatedMicros != 59_200 || r.Charged != 1 || r.ActualMicros != 59_200 {
		t.Errorf("marketing spend %+v", r)
	}
}
