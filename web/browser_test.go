package web

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// chromium finds the system browser; rod is never allowed to download one.
// Without it the browser tests skip, except under CI=true where they fail.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM_BIN"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed (/usr/bin/chromium); CI must run the browser tests")
	}
	t.Skip("Chromium not installed; skipping browser tests")
	return ""
}

func newBrowser(t *testing.T) *rod.Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	l := launcher.New().Bin(chromium(t)).NoSandbox(true).Headless(true).Leakless(false).
		Set("disable-gpu").Set("disable-background-networking").Set("disable-component-update").
		Set("disable-sync").Set("no-first-run").Set("disable-dev-shm-usage")
	u, err := l.Launch()
	if err != nil {
		t.Fatalf("launch chromium: %v", err)
	}
	b := rod.New().ControlURL(u)
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(); l.Kill(); l.Cleanup() })
	return b
}

// screenshotDir is where page pictures go (test artefacts, never committed).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir != "" {
		dir = filepath.Join(dir, "screenshots")
	} else {
		dir = filepath.Join("artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func shoot(t *testing.T, p *rod.Page, name string) {
	t.Helper()
	b, err := p.Screenshot(false, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir(t), name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// agentPage opens a fresh browser context (its own cookies) signed in as u.
func agentPage(t *testing.T, b *rod.Browser, base string, u *models.User) *rod.Page {
	t.Helper()
	ctx, err := b.Incognito()
	if err != nil {
		t.Fatal(err)
	}
	p, err := ctx.Page(proto.TargetCreateTarget{URL: base + "/login"})
	if err != nil {
		t.Fatal(err)
	}
	p = p.Timeout(30 * time.Second)
	if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: 1366, Height: 860, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	p.MustWaitLoad()
	p.MustElement("#email").MustInput(u.Email)
	p.MustElement("#password").MustInput(testPassword)
	wait := p.MustWaitNavigation()
	p.MustElement("button[type=submit]").MustClick()
	wait()
	return p
}

func (e *uiEnv) url(path string) string { return e.http.URL + path }

func TestBrowserInboxLive(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, true)
	startLive(t, e)
	e.outbox.setDecisions(openWindow(e.a.identity.ID, policy.AppMessenger))
	if err := e.store.SaveCannedResponse(t.Context(), e.a.biz.ID, "grazie", "Grazie mille, a presto!"); err != nil {
		t.Fatal(err)
	}

	// Sign in shows the login page, then the inbox.
	ctx, _ := b.Incognito()
	login := ctx.MustPage(e.url("/login")).Timeout(30 * time.Second)
	login.MustSetViewport(1366, 860, 1, false)
	login.MustWaitLoad()
	shoot(t, login, "01-login")

	agent := agentPage(t, b, e.http.URL, e.a.agent)
	agent.MustNavigate(e.url("/inbox/threads/" + id(e.a.thread.ID))).MustWaitLoad()
	agent.MustElement(`[data-testid="thread"]`)
	agent.MustWait(`() => document.body.getAttribute("data-live") === "1"`)
	second := agentPage(t, b, e.http.URL, e.a.admin)
	second.MustNavigate(e.url("/inbox")).MustWaitLoad()
	second.MustWait(`() => document.body.getAttribute("data-live") === "1"`)
	other := agentPage(t, b, e.http.URL, e.b.agent)
	other.MustNavigate(e.url("/inbox")).MustWaitLoad()
	other.MustWait(`() => document.body.getAttribute("data-live") === "1"`)

	// A customer writes: both agents of Alpha see it without a reload.
	addMessage(t, e.store, e.a, "Avete ancora la borsa rossa?", "in", time.Now())
	agent.MustElementR(`#messages [data-testid="message"]`, "borsa rossa")
	second.MustElementR(`#thread-list [data-testid="preview"]`, "borsa rossa")
	shoot(t, agent, "02-thread-live")
	shoot(t, second, "03-inbox-second-agent")

	// Beta's agent: 404 for Alpha's thread, and nothing arrived on its socket.
	if has, _, _ := other.HasR("body", "borsa rossa"); has {
		t.Fatal("business B's page received business A's message")
	}
	other.MustNavigate(e.url("/inbox/threads/" + id(e.a.thread.ID))).MustWaitLoad()
	other.MustElement(`[data-testid="error"]`)
	if res, _ := e.signIn(t, e.b.agent).get("/inbox/threads/" + id(e.a.thread.ID)); res.StatusCode != 404 {
		t.Fatalf("B agent got %d for A's thread", res.StatusCode)
	}

	// Sending a reply: the composer clears and the message arrives with its tick.
	agent.MustElement("#reply-text").MustInput("/gra")
	agent.MustElement(`#canned-list li[data-shortcut="grazie"]`).MustWaitVisible()
	agent.MustElement("#reply-text").MustType(input.Enter)
	if v := agent.MustElement("#reply-text").MustProperty("value").String(); v != "Grazie mille, a presto!" {
		t.Fatalf("canned response not inserted: %q", v)
	}
	addMessage(t, e.store, e.a, "Grazie mille, a presto!", "out", time.Now())
	agent.MustElementR(`#messages .msg.out`, "Grazie mille")
	shoot(t, agent, "04-thread-after-reply")

	// Other pages, for the record.
	agent.MustNavigate(e.url("/inbox/closing")).MustWaitLoad()
	shoot(t, agent, "05-closing")
	agent.MustNavigate(e.url("/contacts/" + id(e.a.contact.ID) + "?thread=" + id(e.a.thread.ID))).MustWaitLoad()
	shoot(t, agent, "06-contact")
	agent.MustNavigate(e.url("/account")).MustWaitLoad()
	shoot(t, agent, "07-account")
	for _, tab := range []string{"channels", "users", "tokens", "replies", "webhooks"} {
		second.MustNavigate(e.url("/settings/" + tab)).MustWaitLoad()
		shoot(t, second, "08-settings-"+tab)
	}
	staff := agentPage(t, b, e.http.URL, e.a.staff)
	staff.MustNavigate(e.url("/products")).MustWaitLoad()
	shoot(t, staff, "09-products")

	// A phone: one pane at a time.
	agent.MustSetViewport(375, 740, 2, true)
	agent.MustNavigate(e.url("/inbox")).MustWaitLoad()
	shoot(t, agent, "10-mobile-list")
	agent.MustNavigate(e.url("/inbox/threads/" + id(e.a.thread.ID))).MustWaitLoad()
	if visible := agent.MustElement(".list-pane").MustVisible(); visible {
		t.Error("at 375px the list should hide while a thread is open")
	}
	shoot(t, agent, "11-mobile-thread")
	second.MustSetViewport(375, 740, 2, true)
	for _, p := range []string{"users", "tokens"} {
		second.MustNavigate(e.url("/settings/" + p)).MustWaitLoad()
		shoot(t, second, "14-mobile-settings-"+p)
	}
	second.MustNavigate(e.url("/account")).MustWaitLoad()
	shoot(t, second, "14-mobile-account")
}

func TestBrowserComposerOutsideWindow(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, true)
	if err := e.store.Gorm(t.Context()).Exec(`INSERT INTO wa_templates (business_id, channel_id, name, language, category, body)
		VALUES (?, ?, 'back_in_stock', 'it', 'marketing', 'Ciao {{1}}, {{2}} è tornato disponibile!')`, e.b.biz.ID, e.b.channel.ID).Error; err != nil {
		t.Fatal(err)
	}
	e.outbox.setDecisions(waTemplateOnly(e.b.identity.ID))
	p := agentPage(t, b, e.http.URL, e.b.agent)
	p.MustNavigate(e.url("/inbox/threads/" + id(e.b.thread.ID))).MustWaitLoad()
	reason := p.MustElement(`[data-testid="policy-reason"]`).MustText()
	if !strings.Contains(reason, "Only an approved WhatsApp template") {
		t.Fatalf("reason %q", reason)
	}
	p.MustElement(`[data-testid="template-picker"]`)
	if has, _, _ := p.Has("#reply-text"); has {
		t.Fatal("free text offered outside the window")
	}
	p.MustElement("#tpl").MustSelect("back_in_stock (it, marketing)")
	if got := p.MustElement(`label[for="var-1"]`).MustText(); got != "Testo {{1}}" && got != "Body {{1}}" {
		t.Errorf("label %q", got)
	}
	p.MustElement("#var-1").MustInput("Anna")
	p.MustElement("#var-2").MustInput("La borsa rossa")
	p.MustElementR(`[data-testid="preview-body"]`, "Ciao Anna, La borsa rossa è tornato")
	shoot(t, p, "12-composer-template-only")
	p.MustElement(`[data-testid="send"]`).MustClick()
	p.MustElement(`[data-testid="composer-notice"]`)
	sent := e.outbox.sends()
	if len(sent) != 1 || sent[0].Template == nil || strings.Join(sent[0].Template.Variables, "|") != "Anna|La borsa rossa" {
		t.Fatalf("sent %+v", sent)
	}

	// A synced template with named header, body and URL-button parameters, on a phone.
	seedParamTemplate(t, e)
	if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: 375, Height: 812, DeviceScaleFactor: 1, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	p.MustNavigate(e.url("/inbox/threads/" + id(e.b.thread.ID))).MustWaitLoad()
	p.MustElement("#tpl").MustSelect("order_ready (en, ")
	p.MustElement("#var-3")
	p.MustElement("#var-1").MustInput("B-7")
	p.MustElement(`[data-testid="send"]`).MustClick() // body and button still empty: the browser refuses
	time.Sleep(300 * time.Millisecond)
	if n := len(e.outbox.sends()); n != 1 {
		t.Fatalf("a template with empty parameters was sent (%d sends)", n)
	}
	p.MustElement("#var-2").MustInput("Anna")
	p.MustElementR(`[data-testid="preview-body"]`, "Hi Anna, <script>alert")
	p.MustElementR(`[data-testid="preview-header"]`, "Order B-7")
	shoot(t, p, "12b-composer-template-params-mobile")
	p.MustElement("#var-3").MustInput("42")
	p.MustElementR(`[data-testid="preview-url"]`, "shop.example/t/42")
	p.MustElement(`[data-testid="send"]`).MustClick()
	p.MustElement(`[data-testid="composer-notice"]`)
	if sent := e.outbox.sends(); len(sent) != 2 || strings.Join(sent[1].Template.Variables, "|") != "B-7|Anna|42" {
		t.Fatalf("sent %+v", sent)
	}

	// Messenger past 24 hours: a person may reply with HUMAN_AGENT only.
	e.outbox.setDecisions(policy.Decision{IdentityID: e.a.identity.ID, App: policy.AppMessenger, Allowed: true,
		MessagingType: policy.MessagingMessageTag, Tag: policy.TagHumanAgent, Reason: policy.ReasonOK,
		ExpiresAt: time.Now().Add(4 * 24 * time.Hour), Options: policy.OptionHumanAgent})
	pa := agentPage(t, b, e.http.URL, e.a.agent)
	pa.MustNavigate(e.url("/inbox/threads/" + id(e.a.thread.ID))).MustWaitLoad()
	pa.MustElement(`[data-testid="human-agent"]`)
	if has, _, _ := pa.Has(`[data-testid="otn-request"]`); has {
		t.Error("OTN request offered outside the window")
	}
	shoot(t, pa, "13-composer-human-agent")
}
