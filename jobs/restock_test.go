package jobs_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// product creates a product of the test's business with the restock template.
func (e *env) product(sku, name string, stock int) *models.Product {
	e.t.Helper()
	p, err := e.store.CreateProduct(e.ctx, e.biz.ID, models.ProductInput{SKU: sku, Name: name, Stock: stock,
		URL: "https://shop.example/p/" + sku, WATemplateName: "back_in_stock", WATemplateLanguage: "it"})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// restockTemplate approves the marketing template on the WhatsApp channel, here and at Meta.
func (e *env) restockTemplate() {
	e.t.Helper()
	ch := e.channel(models.AppWhatsApp, true)
	if err := e.store.Gorm(e.ctx).Create(&models.WATemplate{BusinessID: e.biz.ID, ChannelID: ch.ID, Name: "back_in_stock",
		Language: "it", Category: "marketing", Status: "approved", Body: "Ciao {{1}}, {{2}} è tornato: {{3}}"}).Error; err != nil {
		e.t.Fatal(err)
	}
	if err := e.sim.AddTemplate(ch.AccountID, metasim.Template{Name: "back_in_stock", Language: "it", Category: "MARKETING"}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) join(c *customer, p *models.Product, token int64) *models.RestockWaitlist {
	e.t.Helper()
	j := models.Join{BusinessID: e.biz.ID, ProductID: p.ID, IdentityID: c.identity.ID, ThreadID: &c.thread.ID, Source: "postback"}
	if token != 0 {
		j.OTNTokenID, j.Source = &token, "otn_optin"
	}
	w, _, err := e.store.JoinWaitlist(e.ctx, j)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

// otn gives the Messenger customer a token, at Meta and in our database.
func (e *env) otn(c *customer) int64 {
	e.t.Helper()
	tok, err := e.sim.IssueOTN(c.account, c.identity.ExternalID, testNow.Add(-48*time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	id, err := e.store.AddOTNToken(e.ctx, e.biz.ID, c.identity.ID, "Giacca blu", "restock:GB-1", tok, testNow.Add(-48*time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) setStock(sku string, n int) *models.StockChange {
	e.t.Helper()
	ch, err := e.pipe.Restocker().SetStock(e.ctx, e.biz.ID, sku, n, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return ch
}

func (e *env) runSummary(id int64) models.RunSummary {
	e.t.Helper()
	s, err := e.store.RunSummaries(e.ctx, e.biz.ID, []int64{id})
	if err != nil || len(s) != 1 {
		e.t.Fatalf("run %d: %v %v", id, s, err)
	}
	return s[0]
}

func (e *env) runDone(id int64) models.RunSummary {
	e.t.Helper()
	var s models.RunSummary
	e.waitFor("restock run to finish", func() bool { s = e.runSummary(id); return s.Status == models.RunDone })
	return s
}

func (e *env) entry(id int64) models.RestockWaitlist {
	e.t.Helper()
	var w models.RestockWaitlist
	if err := e.store.Gorm(e.ctx).First(&w, id).Error; err != nil {
		e.t.Fatal(err)
	}
	return w
}

// alertsTo counts what Meta accepted for one customer.
func (e *env) alertsTo(c *customer) []metasim.Send {
	var out []metasim.Send
	for _, s := range e.sendsOf(c.account) {
		if s.Recipient == c.identity.ExternalID || strings.TrimPrefix(s.Recipient, "+") == c.identity.ExternalID {
			out = append(out, s)
		}
	}
	return out
}

// TestRestockPerApp: one run, every app, each entry notified the way its app
// allows now or skipped with the policy's reason.
func TestRestockPerApp(t *testing.T) {
	e := newEnv(t, nil)
	e.restockTemplate()
	open, closed := testNow.Add(-2*time.Hour), testNow.Add(-30*time.Hour)
	msOpen := e.customer(models.AppMessenger, "5001", open)
	msOTN := e.customer(models.AppMessenger, "5002", closed)
	msNone := e.customer(models.AppMessenger, "5003", closed)
	igOpen := e.customer(models.AppInstagram, "6001", open)
	igClosed := e.customer(models.AppInstagram, "6002", closed)
	waOpen := e.customer(models.AppWhatsApp, "393470000001", open)
	waClosed := e.customer(models.AppWhatsApp, "393470000002", closed)
	waOptOut := e.customer(models.AppWhatsApp, "393470000003", closed)
	waUS := e.customer(models.AppWhatsApp, "12025550104", closed)
	if err := e.store.Gorm(e.ctx).Model(waOptOut.identity).Update("marketing_opt_out_at", testNow.Add(-time.Hour)).Error; err != nil {
		t.Fatal(err)
	}
	p := e.product("GB-1", "Giacca blu", 0)
	token := e.otn(msOTN)
	want := map[*customer]string{msOpen: "notified", msOTN: "notified", msNone: "window_closed", igOpen: "notified",
		igClosed: "window_closed", waOpen: "notified", waClosed: "notified", waOptOut: "marketing_opted_out", waUS: "marketing_paused_region"}
	entries := map[*customer]int64{}
	for _, c := range []*customer{msOpen, msOTN, msNone, igOpen, igClosed, waOpen, waClosed, waOptOut, waUS} {
		var tok int64
		if c == msOTN {
			tok = token
		}
		entries[c] = e.join(c, p, tok).ID
	}

	ch := e.setStock("GB-1", 20)
	if ch.Run == nil {
		t.Fatal("0 → 20 started no restock run")
	}
	sum := e.runDone(ch.Run.ID)
	e.jobsDone()
	if sum.Notified != 5 || sum.Skipped != 4 || sum.ByReason["window_closed"] != 2 || sum.ByReason["marketing_opted_out"] != 1 ||
		sum.ByReason["marketing_paused_region"] != 1 || sum.Outcome != models.RunCompleted {
		t.Fatalf("run summary %+v", sum)
	}
	for c, w := range want {
		got := e.entry(entries[c])
		if w == "notified" && got.Status != models.WaitlistNotified || w != "notified" && (got.Status != models.WaitlistSkipped || got.Reason != w) {
			t.Errorf("%s %s: entry %s/%s, want %s", c.app, c.identity.ExternalID, got.Status, got.Reason, w)
		}
	}

	// The shapes Meta received.
	body := func(c *customer) map[string]any {
		t.Helper()
		var bodies []map[string]any
		for _, s := range e.sendsOf(c.account) {
			b := s.Body()
			to := fmt.Sprint(dig(b, "recipient.id"), b["to"])
			if strings.Contains(to, c.identity.ExternalID) || c == msOTN && dig(b, "recipient.one_time_notif_token") != nil {
				bodies = append(bodies, b)
			}
		}
		if len(bodies) != 1 {
			t.Fatalf("%s %s: Meta received %d alerts, want 1", c.app, c.identity.ExternalID, len(bodies))
		}
		return bodies[0]
	}
	if b := body(msOpen); b["messaging_type"] != "UPDATE" || !strings.Contains(fmt.Sprint(dig(b, "message.text")), "Giacca blu") {
		t.Errorf("Messenger in the window: %v", b)
	}
	if b := body(msOTN); dig(b, "recipient.one_time_notif_token") == nil || dig(b, "recipient.id") != nil {
		t.Errorf("Messenger with a token: %v", b)
	}
	if b := body(igOpen); b["messaging_type"] != "UPDATE" {
		t.Errorf("Instagram in the window: %v", b)
	}
	if b := body(waOpen); b["type"] != "text" {
		t.Errorf("WhatsApp in the window: %v", b)
	}
	b := body(waClosed)
	params := string(mustJSON(dig(b, "template.components")))
	if b["type"] != "template" || dig(b, "template.name") != "back_in_stock" || !strings.Contains(params, "Giacca blu") ||
		!strings.Contains(params, "https://shop.example/p/GB-1") || !strings.Contains(params, "Zoë") {
		t.Errorf("WhatsApp outside the window: %v", b)
	}
	for _, c := range []*customer{msNone, igClosed, waOptOut, waUS} {
		for _, s := range e.sendsOf(c.account) {
			if strings.Contains(s.Recipient, c.identity.ExternalID) {
				t.Errorf("%s %s was skipped but Meta got %v", c.app, c.identity.ExternalID, s.Body())
			}
		}
	}
	var used int64
	e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM otn_tokens WHERE id = ? AND used_at IS NOT NULL`, token).Scan(&used)
	if used != 1 {
		t.Errorf("the OTN token was not consumed")
	}
	// A skipped customer's thread tells the agent.
	var lines int64
	e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM messages WHERE thread_id = ? AND kind = 'system' AND text LIKE 'Waiting for Giacca blu, back in stock%'`,
		igClosed.thread.ID).Scan(&lines)
	if lines != 1 {
		t.Errorf("%d system lines in the skipped customer's thread, want 1", lines)
	}
}

// TestRestockUnitsOldestFirst: 2 units back, 3 waiting → the 2 oldest.
func TestRestockUnitsOldestFirst(t *testing.T) {
	e := newEnv(t, nil)
	p := e.product("SC-1", "Sciarpa", 0)
	var cs []*customer
	var ids []int64
	for i := range 3 {
		c := e.customer(models.AppInstagram, fmt.Sprintf("700%d", i), testNow.Add(-time.Hour))
		cs = append(cs, c)
		ids = append(ids, e.join(c, p, 0).ID)
	}
	sum := e.runDone(e.setStock("SC-1", 2).Run.ID)
	if sum.Notified != 2 || sum.Outcome != models.RunUnitsUsed || sum.Total != 2 {
		t.Fatalf("summary %+v", sum)
	}
	e.jobsDone()
	for i, want := range []string{models.WaitlistNotified, models.WaitlistNotified, models.WaitlistWaiting} {
		if got := e.entry(ids[i]).Status; got != want {
			t.Errorf("entry %d (signed up %d°): %s, want %s", ids[i], i+1, got, want)
		}
		if n, heard := len(e.alertsTo(cs[i])), want == models.WaitlistNotified; n != map[bool]int{true: 1, false: 0}[heard] {
			t.Errorf("customer %d: Meta received %d alerts", i+1, n)
		}
	}
}

// TestRestockSoldOutMidRun: stock re-checked between batches stops the run;
// the rest keep waiting, and the next restock reaches them.
func TestRestockSoldOutMidRun(t *testing.T) {
	e := newEnv(t, func(c *jobs.Config) { c.BatchSize = 2 })
	e.pipe.Restocker().SetBatchSize(2)
	e.halt() // batches are driven by hand
	p := e.product("CM-1", "Camicia", 0)
	for i := range 6 {
		e.join(e.customer(models.AppWhatsApp, fmt.Sprintf("39347100000%d", i), testNow.Add(-time.Hour)), p, 0)
	}
	run := e.setStock("CM-1", 10).Run
	r := e.pipe.Restocker()
	if more, err := r.BatchOnce(e.ctx, e.biz.ID, run.ID); err != nil || !more {
		t.Fatalf("first batch: %v %v", more, err)
	}
	e.setStock("CM-1", 0)
	if more, err := r.BatchOnce(e.ctx, e.biz.ID, run.ID); err != nil || more {
		t.Fatalf("batch after the sell-out: more %v, %v", more, err)
	}
	sum := e.runSummary(run.ID)
	if sum.Status != models.RunDone || sum.Outcome != models.RunSoldOut || sum.Notified != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if n, _ := e.store.OpenWaitlistCount(e.ctx, p.ID); n != 4 {
		t.Fatalf("%d still waiting, want 4", n)
	}
	next := e.setStock("CM-1", 10).Run
	for more := true; more; {
		var err error
		if more, err = r.BatchOnce(e.ctx, e.biz.ID, next.ID); err != nil {
			t.Fatal(err)
		}
	}
	if sum := e.runSummary(next.ID); sum.Notified != 4 {
		t.Fatalf("the next restock notified %d, want the 4 left", sum.Notified)
	}
}

// TestRestockFlappingNotifiesOnce: 0→5→0→5 while the first run is going, and
// several workers (replicas) racing on both runs: everyone hears once.
func TestRestockFlappingNotifiesOnce(t *testing.T) {
	e := newEnv(t, func(c *jobs.Config) { c.BatchSize = 3 })
	e.pipe.Restocker().SetBatchSize(3)
	e.halt()
	p := e.product("FL-1", "Felpa", 0)
	var cs []*customer
	for i := range 12 {
		c := e.customer(models.AppMessenger, fmt.Sprintf("81%02d", i), testNow.Add(-time.Hour))
		cs = append(cs, c)
		e.join(c, p, 0)
	}
	r := e.pipe.Restocker()
	first := e.setStock("FL-1", 5).Run
	if _, err := r.BatchOnce(e.ctx, e.biz.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	e.setStock("FL-1", 0)
	second := e.setStock("FL-1", 5).Run
	var wg sync.WaitGroup
	for range 4 { // replicas working both runs at once
		for _, run := range []*models.RestockRun{first, second} {
			wg.Go(func() {
				for more := true; more; {
					var err error
					if more, err = r.BatchOnce(e.ctx, e.biz.ID, run.ID); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	e.start()
	e.jobsDone()
	total := 0
	for _, c := range cs {
		n := countText(e.alertsTo(c), "Good news: Felpa is back in stock! https://shop.example/p/FL-1")
		if n > 1 {
			t.Errorf("%s heard %d times", c.identity.ExternalID, n)
		}
		total += n
	}
	// The first run's one batch (3), then the second run's 5 units; the first
	// run ended when the second began, so its racing workers found nothing.
	if total != 8 {
		t.Fatalf("Meta got %d alerts, want 3 + 5", total)
	}
}

// TestRestockWorkerStoppedMidRun: the workers stop (a deploy, a crash) in the
// middle of a run and start again; each entry is notified exactly once,
// counted at Meta.
func TestRestockWorkerStoppedMidRun(t *testing.T) {
	// A deploy's stop: sends in flight get time to finish. (One cut off mid-request would
	// rightly end "unknown", never resent, and the count at Meta would then be 0, not 1.)
	e := newEnv(t, func(c *jobs.Config) { c.BatchSize, c.ShutdownTimeout = 5, 10*time.Second })
	e.pipe.Restocker().SetBatchSize(5)
	p := e.product("KL-1", "Kill", 0)
	var cs []*customer
	for i := range 60 {
		c := e.customer(models.AppInstagram, fmt.Sprintf("91%03d", i), testNow.Add(-time.Hour))
		cs = append(cs, c)
		e.join(c, p, 0)
	}
	run := e.setStock("KL-1", 100).Run
	e.waitFor("the run to start", func() bool { return e.runSummary(run.ID).Handled > 0 })
	e.halt()
	mid := e.runSummary(run.ID).Handled
	e.start()
	sum := e.runDone(run.ID)
	e.jobsDone()
	if sum.Notified != 60 {
		t.Fatalf("notified %d, want 60 (stopped after %d)", sum.Notified, mid)
	}
	for _, c := range cs {
		if n := len(e.alertsTo(c)); n != 1 {
			t.Errorf("%s: Meta received %d alerts", c.identity.ExternalID, n)
		}
	}
}

// A template whose URL button the product cannot fill is not "no template":
// the entry says the alert was unsendable, and nothing reaches Meta.
func TestRestockAlertTheProductCannotFill(t *testing.T) {
	e := newEnv(t, nil)
	ch := e.channel(models.AppWhatsApp, true)
	if err := e.store.Gorm(e.ctx).Create(&models.WATemplate{BusinessID: e.biz.ID, ChannelID: ch.ID, Name: "back_in_stock",
		Language: "it", Category: "marketing", Status: "approved", Body: "Ciao {{1}}, {{2}} è tornato", ParameterFormat: "positional",
		Parameters: models.TemplateParams{{Component: "body", Name: "1"}, {Component: "body", Name: "2"},
			{Component: "button", Index: 0, Name: "1"}}}).Error; err != nil {
		t.Fatal(err)
	}
	c := e.customer(models.AppWhatsApp, "393470000009", testNow.Add(-30*time.Hour))
	p, err := e.store.CreateProduct(e.ctx, e.biz.ID, models.ProductInput{SKU: "NU-1", Name: "Senza link", Stock: 0,
		WATemplateName: "back_in_stock", WATemplateLanguage: "it"})
	if err != nil {
		t.Fatal(err)
	}
	entry := e.join(c, p, 0)
	sum := e.runDone(e.setStock("NU-1", 3).Run.ID)
	if got := e.entry(entry.ID); got.Status != models.WaitlistSkipped || got.Reason != jobs.ReasonAlertUnsendable || sum.Skipped != 1 {
		t.Fatalf("entry %s/%s, run %+v", got.Status, got.Reason, sum)
	}
	if sent := e.alertsTo(c); len(sent) != 0 {
		t.Fatalf("Meta got %d alerts", len(sent))
	}
}
