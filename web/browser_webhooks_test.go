package web

import (
	"strings"
	"testing"

	"github.com/go-rod/rod/lib/proto"

	"github.com/switchboard-inbox/switchboard/models"
)

// An admin sees the business's own webhook problems — a failed event they can
// replay and an entry refused for a foreign signature — at desktop and phone
// widths, in English and Italian, and never another tenant's payload.
func TestBrowserWebhookLog(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, false)
	ctx := t.Context()
	file := func(body string, bizs []int64, kind, typ, key, msg string) {
		var rawID int64
		if err := e.store.Gorm(ctx).Raw(`INSERT INTO raw_webhooks (app, body, signed_by) VALUES ('whatsapp', ?, 'app') RETURNING id`,
			[]byte(body)).Scan(&rawID).Error; err != nil {
			t.Fatal(err)
		}
		biz := bizs[0]
		if err := e.store.FinishWebhooks(ctx, []models.WebhookOutcome{{ID: rawID, Outcome: "failed", BusinessIDs: bizs,
			Problems: []models.WebhookProblem{{RawWebhookID: rawID, BusinessID: &biz, App: "whatsapp", Kind: kind,
				EventType: typ, EventKey: key, Error: msg}}}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	file(`{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[]}]}`, []int64{e.a.biz.ID},
		models.ProblemFailed, "message", "wamid.HBgM01 from 393471234567", "message event 2 of 3: <script>alert(1)</script> refused")
	file(`{"object":"whatsapp_business_account","entry":["other tenant's secret data"]}`, []int64{e.a.biz.ID, e.b.biz.ID},
		models.ProblemForeignSignature, "number_change", "from 393471234567", "signed by a secret that is neither the Meta app's nor this channel's")
	p := agentPage(t, b, e.http.URL, e.a.admin)
	p.MustNavigate(e.url("/settings/webhooks")).MustWaitLoad()
	html := p.MustHTML()
	if strings.Contains(html, "other tenant's secret data") || strings.Contains(html, "<script>alert(1)") {
		t.Fatal("a shared payload or an unescaped error reached the page")
	}
	p.MustElement(`[data-testid="webhook-foreign_signature"]`)
	shoot(t, p, "20-webhook-log")
	if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: 375, Height: 800, DeviceScaleFactor: 1, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	p.MustReload().MustWaitLoad()
	shoot(t, p, "21-webhook-log-375")
	wait := p.MustWaitNavigation()
	p.MustElement(`[data-testid="webhook-replay"]`).MustClick()
	wait()
	if notice := p.MustElement(`[data-testid="settings-notice"]`).MustText(); !strings.Contains(notice, "queued") {
		t.Fatalf("notice %q", notice)
	}
	var outcome string
	e.store.Gorm(ctx).Raw(`SELECT outcome FROM raw_webhooks ORDER BY id LIMIT 1`).Scan(&outcome)
	if outcome != "pending" {
		t.Fatalf("replayed payload is %s, want pending", outcome)
	}
	p.MustEval(`() => fetch("/account/locale", {method: "POST", body: new URLSearchParams({locale: "it"})}).then(r => r.status)`)
	p.MustNavigate(e.url("/settings/webhooks")).MustWaitLoad()
	if h := p.MustHTML(); !strings.Contains(h, "Rifiutato: firma estranea") {
		t.Fatalf("Italian webhook log not shown: %s", h[:min(len(h), 3000)])
	}
	shoot(t, p, "22-webhook-log-it-375")
}
