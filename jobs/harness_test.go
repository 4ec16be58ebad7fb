package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/web"
)

const appSecret = "meta-app-secret-for-tests"

// env is one test's world: a fresh database, the Meta simulator on httptest,
// our web server receiving its webhooks (journal + ingest processor running),
// and the outbound pipeline, all on one fake policy clock shared with Meta's.
type env struct {
	t      *testing.T
	ctx    context.Context
	store  *models.Store
	sim    *metasim.Sim
	pipe   *jobs.Pipeline
	api    *httptest.Server
	token  string
	biz    *models.Business
	cfg    jobs.Config
	mu     sync.Mutex
	now    time.Time
	stop   func() // stops the pipeline's workers
	stopMu sync.Mutex
}

// testNow is "today" in these tests.
var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) setClock(t time.Time) {
	e.mu.Lock()
	e.now = t
	e.mu.Unlock()
}

func newEnv(t *testing.T, tune func(*jobs.Config)) *env {
	t.Helper()
	return newEnvWithSim(t, tune, nil)
}

// newEnvWithSim is newEnv with the simulator tuned too (e.g. no status webhooks).
func newEnvWithSim(t *testing.T, tune func(*jobs.Config), tuneSim func(*metasim.Config)) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, store: modelstest.NewStore(t), now: testNow}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("JOBS_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	var handler http.Handler = http.NotFoundHandler()
	e.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.api.Close)

	simCfg := metasim.Config{Now: e.clock, WebhookBase: e.api.URL, AppSecret: appSecret,
		StatusDelay: 200 * time.Millisecond, HangLimit: 20 * time.Second, FetchMediaFrom: e.api.URL}
	if tuneSim != nil {
		tuneSim(&simCfg)
	}
	e.sim = metasim.New(simCfg)
	simSrv := httptest.NewServer(e.sim)
	t.Cleanup(func() { _ = e.sim.Close(); simSrv.Close() })

	e.cfg = jobs.Config{
		MediaBaseURL: e.api.URL, GraphURL: simSrv.URL, Now: e.clock, FetchPollInterval: 50 * time.Millisecond,
		ReconcileAfter: 3 * time.Second, SendTimeout: 5 * time.Second, JobTimeout: 10 * time.Second,
		ShutdownTimeout: 100 * time.Millisecond,
		Backoff:         func(meta.Class, int, int) time.Duration { return 20 * time.Millisecond },
	}
	if tune != nil {
		tune(&e.cfg)
	}
	var err error
	if e.pipe, err = jobs.New(e.store, log, e.cfg); err != nil {
		t.Fatal(err)
	}
	proc := inbound.NewProcessor(e.store, log, 50)
	proc.Relay = e.pipe.Relay()
	journal := inbound.NewJournal(e.store, 2, proc.Wake)
	var bg sync.WaitGroup
	bg.Go(func() { _ = journal.Run(ctx) })
	bg.Go(func() { _ = proc.Run(ctx) })
	t.Cleanup(func() { cancel(); bg.Wait() })
	handler = web.New(e.store, log, web.Options{MetaAppSecret: appSecret, Journal: journal, Outbox: e.pipe.Outbox(),
		Groups: e.pipe.Relay(), Polls: e.pipe.Polls(), Graph: &meta.Client{BaseURL: simSrv.URL},
		Argon2: web.Argon2Params{Memory: 64, Time: 1, Threads: 1}}).Handler()

	if e.biz, err = e.store.CreateBusiness(ctx, "Bottega"); err != nil {
		t.Fatal(err)
	}
	// A person's token: these tests are an agent replying (HUMAN_AGENT included).
	if e.token, _, err = e.store.CreatePersonAPIToken(ctx, e.biz.ID, "tests"); err != nil {
		t.Fatal(err)
	}
	e.start()
	return e
}

// start runs the pipeline's workers until stop (or the test's end).
func (e *env) start() {
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.pipe.Run(ctx) }()
	e.stopMu.Lock()
	e.stop = func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("pipeline run: %v", err)
		}
	}
	e.stopMu.Unlock()
	e.t.Cleanup(e.halt)
}

// halt stops the workers, as a deploy or a crash would; idempotent.
func (e *env) halt() {
	e.stopMu.Lock()
	stop := e.stop
	e.stop = nil
	e.stopMu.Unlock()
	if stop != nil {
		stop()
	}
}

// customer is one customer of one channel with their direct thread.
type customer struct {
	app      string
	account  string // the channel's Page / IG / phone-number id
	channel  *models.Channel
	identity *models.Identity
	thread   *models.Thread
}

var accounts = map[string]string{models.AppMessenger: "100200300", models.AppInstagram: "178400500", models.AppWhatsApp: "106540352242922"}

// channel connects the app's account once, in our database and at Meta.
func (e *env) channel(app string, humanAgent bool) *models.Channel {
	e.t.Helper()
	account := accounts[app]
	ch, err := e.store.ChannelByAccount(e.ctx, app, account)
	if err != nil {
		e.t.Fatal(err)
	}
	if ch != nil {
		return ch
	}
	ch, err = e.store.CreateChannel(e.ctx, models.NewChannel{BusinessID: e.biz.ID, App: app, AccountID: account,
		AccessToken: "token-" + account, AppSecret: appSecret, HumanAgent: humanAgent})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.sim.AddAccount(metasim.Account{App: metasim.App(app), ID: account, AccessToken: "token-" + account,
		HumanAgent: humanAgent}); err != nil {
		e.t.Fatal(err)
	}
	return ch
}

// customer creates a customer of the app whose last message was at last
// (zero: never), known identically to our database and to Meta.
func (e *env) customer(app, user string, last time.Time) *customer {
	e.t.Helper()
	ch := e.channel(app, true)
	c := &models.Contact{BusinessID: e.biz.ID, Name: "Zoë " + user}
	if err := e.store.CreateContact(e.ctx, c); err != nil {
		e.t.Fatal(err)
	}
	id := &models.Identity{BusinessID: e.biz.ID, ContactID: c.ID, ChannelID: ch.ID, App: app, ExternalID: user, DisplayName: c.Name}
	if app == models.AppWhatsApp {
		id.Phone = "+" + user
	}
	if err := e.store.CreateIdentity(e.ctx, id); err != nil {
		e.t.Fatal(err)
	}
	th, _, err := e.store.EnsureDirectThread(e.ctx, id, testNow.Add(-30*24*time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	cu := &customer{app: app, account: ch.AccountID, channel: ch, identity: id, thread: th}
	if !last.IsZero() {
		e.wrote(cu, last)
	}
	return cu
}

// wrote records that the customer messaged at t, for us and for Meta.
func (e *env) wrote(c *customer, t time.Time) {
	e.t.Helper()
	if err := e.store.RecordCustomerEvent(e.ctx, c.identity.ID, "message", t); err != nil {
		e.t.Fatal(err)
	}
	if err := e.sim.SetLastUserMessage(c.account, c.identity.ExternalID, t); err != nil {
		e.t.Fatal(err)
	}
}

// post calls the JSON API with the test's token.
func (e *env) post(path string, body any) (int, map[string]any) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.api.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

func (e *env) get(path string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.api.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	return e.do(req)
}

func (e *env) do(req *http.Request) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// waitFor polls cond until it holds; the deadline only stops a broken test.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	// A hang guard, not a timing assertion: under -race the whole suite
	// shares two cores, and a campaign's 40 sends with their statuses have
	// been seen to need more than 30 s there.
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// message reloads one of the business's messages.
func (e *env) message(id int64) *models.Message {
	e.t.Helper()
	m, err := e.store.Message(e.ctx, e.biz.ID, id)
	if err != nil || m == nil {
		e.t.Fatalf("message %d: %v", id, err)
	}
	return m
}

// waitStatus waits until the message reaches one of the statuses.
func (e *env) waitStatus(id int64, statuses ...string) *models.Message {
	e.t.Helper()
	var m *models.Message
	defer func() {
		if e.t.Failed() && m != nil {
			e.t.Logf("message %d: status %s, error %v, attempts %d", m.ID, m.Status, m.Error, m.Attempts)
		}
	}()
	e.waitFor("message "+strings.Join(statuses, "/"), func() bool {
		m = e.message(id)
		for _, s := range statuses {
			if m.Status == s {
				return true
			}
		}
		return false
	})
	return m
}

// jobsDone waits until no send job is left to run.
func (e *env) jobsDone() {
	e.t.Helper()
	e.waitFor("send jobs to finish", func() bool {
		var n int64
		if err := e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM river_job WHERE kind = 'outbound_send'
			AND state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&n).Error; err != nil {
			e.t.Fatal(err)
		}
		return n == 0
	})
}

// sendsOf lists what Meta accepted for the account (messages, not actions).
func (e *env) sendsOf(account string) []metasim.Send { return e.sim.Sends(account) }

// countText counts Meta's accepted sends carrying text.
func countText(sends []metasim.Send, text string) int {
	n := 0
	for _, s := range sends {
		if s.Text == text {
			n++
		}
	}
	return n
}

func idOf(t *testing.T, body map[string]any) int64 {
	t.Helper()
	id, ok := body["id"].(float64)
	if !ok {
		t.Fatalf("no id in %v", body)
	}
	return int64(id)
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
