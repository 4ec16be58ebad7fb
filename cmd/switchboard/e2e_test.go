package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/web"
)

// TestReplyTicksArriveLive runs the whole product — webhooks, ingest, policy,
// River pipeline, Meta simulator, websocket — and drives it from Chromium: a
// customer writes on WhatsApp, an agent answers, and the reply's ticks move
// queued → sent → delivered/read on the open page, with no reload.
func TestReplyTicksArriveLive(t *testing.T) {
	bin := chromiumPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := modelstest.NewStore(t)

	const secret = "e2e-app-secret"
	var appURL atomic.Value
	appURL.Store("")
	sim := metasim.New(metasim.Config{AppSecret: secret, StatusDelay: 400 * time.Millisecond,
		WebhookURL: func(app metasim.App) string { return appURL.Load().(string) + "/webhooks/" + string(app) }})
	defer sim.Close()
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	sim.SetBaseURL(simSrv.URL)
	acct := metasim.Account{App: metasim.WhatsApp, ID: "PN-E2E", WABAID: "WABA-E2E", AccessToken: "e2e-token"}
	if err := sim.AddAccount(acct); err != nil {
		t.Fatal(err)
	}
	biz, _ := store.CreateBusiness(ctx, "E2E shop")
	hash, _ := web.HashPassword("e2e-password", web.Argon2Params{Memory: 1024, Time: 1, Threads: 1})
	if _, err := store.CreateUser(ctx, biz.ID, "agent@e2e.test", "Agent", hash, models.RoleAgent); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: "whatsapp", AccountID: acct.ID,
		AccessToken: acct.AccessToken, AppSecret: secret}); err != nil {
		t.Fatal(err)
	}

	cfg := &Config{ListenAddr: "127.0.0.1:0", BaseURL: "http://127.0.0.1", GraphAPIURL: simSrv.URL, GraphAPIVersion: "v25.0"}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runApp(ctx, cfg, log, store, "all", func(u string) { ready <- u }) }()
	base := <-ready
	appURL.Store(base)
	defer func() { cancel(); <-done }()

	// The customer writes first (Meta's clock opens the window).
	in, err := sim.Build(metasim.Event{App: metasim.WhatsApp, Kind: "text", Text: "Is the linen shirt back?"})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := sim.Deliver(ctx, in); err != nil || status != 200 {
		t.Fatalf("webhook: %d %v", status, err)
	}
	var threadID int64
	for i := 0; i < 200 && threadID == 0; i++ { // bounded wait for the ingest
		page, _ := store.ListThreads(ctx, biz.ID, models.ThreadFilter{})
		if page != nil && len(page.Threads) == 1 {
			threadID = page.Threads[0].ID
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if threadID == 0 {
		t.Fatal("the customer's message never reached the inbox")
	}

	browser := rod.New().ControlURL(launcher.New().Bin(bin).NoSandbox(true).Headless(true).
		Set("disable-gpu").Set("disable-background-networking").Set("disable-component-update").
		Set("disable-sync").Set("no-first-run").MustLaunch()).MustConnect()
	defer browser.MustClose()
	p := browser.Timeout(60 * time.Second).MustPage(base + "/login")
	p.MustElement("#email").MustInput("agent@e2e.test")
	p.MustElement("#password").MustInput("e2e-password")
	signedIn := p.WaitNavigation(proto.PageLifecycleEventNameLoad)
	p.MustElement("button[type=submit]").MustClick()
	signedIn() // the redirect after sign-in must finish before we navigate on
	p.MustNavigate(base + "/inbox/threads/" + itoa(threadID)).MustWaitLoad()
	p.MustElement("[data-testid=composer] textarea[name=text], textarea[name=text]").MustInput("Yes! Shall I keep one for you?")
	p.MustEval(`() => { window.__noReload = true }`)
	p.MustElement("[data-testid=send]").MustClick()

	// Watch the reply's status attribute change on the open page.
	var seen []string
	for i := 0; i < 600; i++ { // bounded: 30 s
		res, err := p.Eval(`() => { const m = [...document.querySelectorAll('li.msg.out')].pop(); return m ? m.dataset.status : "" }`)
		if err == nil {
			if st := res.Value.Str(); st != "" && (len(seen) == 0 || seen[len(seen)-1] != st) {
				seen = append(seen, st)
			}
		}
		if slices.Contains(seen, "read") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !slices.Contains(seen, "read") && !slices.Contains(seen, "delivered") {
		t.Fatalf("ticks seen on the page: %v; want them to reach delivered/read live", seen)
	}
	if seen[0] != "queued" && seen[0] != "sent" {
		t.Fatalf("first status shown %q, want queued or sent (seen %v)", seen[0], seen)
	}
	if p.MustEval(`() => window.__noReload === true`).Bool() != true {
		t.Fatal("the page reloaded")
	}
	if sends := sim.Sends(acct.ID); len(sends) != 1 {
		t.Fatalf("Meta received %d sends, want exactly 1", len(sends))
	}
	t.Logf("statuses seen live: %v", seen)
}

func chromiumPath(t *testing.T) string {
	if testing.Short() {
		t.Skip("browser test")
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed; CI must run the browser tests")
	}
	t.Skip("Chromium not installed")
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
