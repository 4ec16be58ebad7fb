package web

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/switchboard-inbox/switchboard/models"
)

// seedBrowserCampaign is a campaign of b over the last two hours: n
// recipients along the funnel, two markets, Meta's actual cost on the read
// ones, and a conversion; status as given.
func seedBrowserCampaign(t *testing.T, e *uiEnv, b uiBiz, name, status string, n int) *models.Campaign {
	t.Helper()
	ctx := context.Background()
	c := &models.Campaign{BusinessID: b.biz.ID, ChannelID: b.channel.ID, Name: name, TemplateName: "saldi", TemplateLanguage: "it",
		Currency: "EUR", BudgetMicros: 25_000_000, TimeZone: "Europe/Rome"}
	if err := e.store.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-2 * time.Hour)
	code := 131049
	for i := range n {
		ct := &models.Contact{BusinessID: b.biz.ID, Name: "Cliente " + strconv.Itoa(i+1)}
		if err := e.store.CreateContact(ctx, ct); err != nil {
			t.Fatal(err)
		}
		id := addIdentity(t, e.store, b, ct, name+"-"+strconv.Itoa(i), ct.Name)
		sent := start.Add(time.Duration(i) * 100 * time.Second)
		r := &models.CampaignRecipient{CampaignID: c.ID, IdentityID: &id.ID, Country: "IT", Market: "Italy", Currency: "EUR",
			PriceMicros: 69_100, Status: models.RecipientPending}
		if i%4 == 0 {
			r.Country, r.Market, r.PriceMicros = "DE", "Germany", 136_500
		}
		switch {
		case status == models.CampaignRunning && i > n*2/3:
		case i%11 == 5:
			r.Status, r.SkipReason, r.PriceMicros = models.RecipientSkipped, models.SkipOptedOut, 0
		case i%13 == 7:
			r.Status, r.FailedAt, r.ErrorCode, r.ErrorTitle = models.RecipientFailed, &sent, &code, "Message failed to send because of an unknown error"
		default:
			r.Status, r.QueuedAt, r.SentAt = models.RecipientSent, &sent, &sent
			if i%5 != 0 {
				at := sent.Add(40 * time.Second)
				r.Status, r.DeliveredAt = models.RecipientDelivered, &at
			}
			if i%3 != 0 && i%5 != 0 {
				at := sent.Add(10 * time.Minute)
				actual := r.PriceMicros
				r.Status, r.ReadAt, r.ActualMicros = models.RecipientRead, &at, &actual
				if i%4 == 1 {
					r.RepliedAt = &at
				}
				if i%6 == 1 {
					r.ClickedAt = &at
				}
			}
		}
		if err := e.store.Gorm(ctx).Create(r).Error; err != nil {
			t.Fatal(err)
		}
	}
	to := []string{models.CampaignDraft}
	if ok, err := e.store.TransitionCampaign(ctx, b.biz.ID, c.ID, to, models.CampaignRunning, ""); !ok || err != nil {
		t.Fatal(ok, err)
	}
	// It started when its first message went (the seed wrote them first).
	if err := e.store.Gorm(ctx).Exec(`UPDATE campaigns SET started_at = ? WHERE id = ?`, start, c.ID).Error; err != nil {
		t.Fatal(err)
	}
	if status == models.CampaignDone {
		if ok, err := e.store.TransitionCampaign(ctx, b.biz.ID, c.ID, []string{models.CampaignRunning}, models.CampaignDone, ""); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if _, err := e.store.RecordConversion(ctx, b.biz.ID, models.Conversion{CampaignID: c.ID, IdentityID: firstReader(t, e, b, c),
		AmountMicros: 89_900_000, Currency: "EUR", ExternalID: "shop-1001"}); err != nil {
		t.Fatal(err)
	}
	return c
}

func firstReader(t *testing.T, e *uiEnv, b uiBiz, c *models.Campaign) int64 {
	rows, err := e.store.CampaignRecipientRows(context.Background(), b.biz.ID, c.ID, models.RecipientFilter{Status: "read"}, 0, 1)
	if err != nil || len(rows) == 0 {
		t.Fatal("no reader", err)
	}
	return *rows[0].IdentityID
}

// shotsDir is where the report's pictures go: SHOTS_DIR, else the test artefacts.
func shotsDir(t *testing.T) string {
	if d := os.Getenv("SHOTS_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return screenshotDir(t)
}

func shootFull(t *testing.T, p *rod.Page, name string) {
	t.Helper()
	b, err := p.Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(shotsDir(t), name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The running report updates itself from the live frames as recipients move;
// both reports are pictured at 1366 and 375 px, in English and Italian.
func TestBrowserCampaignReport(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, false)
	running := seedBrowserCampaign(t, e, e.b, "Saldi d'inverno", models.CampaignRunning, 60)
	done := seedBrowserCampaign(t, e, e.b, "Black Friday", models.CampaignDone, 60)
	p := agentPage(t, b, e.http.URL, e.b.admin)
	p.MustNavigate(e.url(campaignPath(running.ID))).MustWaitLoad()
	before := svgText(p, `[data-testid="funnel-read"]`)
	// Status webhooks move five pending recipients to read: the page hears it within a frame or two.
	ctx := context.Background()
	rows, err := e.store.CampaignRecipientRows(ctx, e.b.biz.ID, running.ID, models.RecipientFilter{Status: models.RecipientPending}, 0, 5)
	if err != nil || len(rows) != 5 {
		t.Fatal(rows, err)
	}
	now := time.Now()
	for _, r := range rows {
		if err := e.store.Gorm(ctx).Model(&models.CampaignRecipient{}).Where("id = ?", r.ID).
			Updates(map[string]any{"status": models.RecipientRead, "sent_at": now, "delivered_at": now, "read_at": now}).Error; err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for svgText(p, `[data-testid="funnel-read"]`) == before {
		if time.Now().After(deadline) {
			t.Fatalf("the running report did not update: still %q", before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, locale := range []string{"en", "it"} {
		if err := e.store.SetLocale(ctx, e.b.admin.ID, locale); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			id   int64
		}{{"running", running.ID}, {"finished", done.ID}} {
			for _, w := range []int{1366, 375} {
				if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: w, Height: 900, DeviceScaleFactor: 1, Mobile: w < 500}); err != nil {
					t.Fatal(err)
				}
				p.MustNavigate(e.url(campaignPath(c.id))).MustWaitLoad()
				p.MustElement(`[data-testid="report-funnel"]`)
				p.Timeout(10 * time.Second).MustElement(`[data-testid="report-table"]`) // loaded by htmx after the counters
				if w == 375 {
					// Nothing but the recipient table (which scrolls in its box) may be wider than the screen.
					if sw := p.MustEval(`() => document.documentElement.scrollWidth`).Int(); sw > 380 {
						wide := p.MustEval(`() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 380 && !e.closest('.table-scroll')).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')`).String()
						t.Errorf("%s %s at 375 px: the page is %d px wide: %s", c.name, locale, sw, wide)
					}
				}
				shootFull(t, p, "campaign-"+c.name+"-"+locale+"-"+strconv.Itoa(w))
			}
		}
	}
	if !strings.Contains(p.MustElement("h1").MustText(), "Black Friday") {
		t.Fatal("last page was not the finished report")
	}
}

// svgText is an SVG element's text (SVG has no innerText).
func svgText(p *rod.Page, selector string) string {
	return p.MustElement(selector).MustEval(`() => this.textContent`).String()
}

// The pages of the campaign settings: the stop words tab (with a field
// error) and the report's attribution window, recipients loaded by htmx,
// pictured at 1280 and 375 px in English and Italian.
func TestBrowserCampaignSettings(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, false)
	running := seedBrowserCampaign(t, e, e.b, "Saldi d'inverno", models.CampaignRunning, 60)
	p := agentPage(t, b, e.http.URL, e.b.admin)
	ctx := context.Background()
	for _, locale := range []string{"en", "it"} {
		if err := e.store.SetLocale(ctx, e.b.admin.ID, locale); err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{1280, 375} {
			if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: w, Height: 900, DeviceScaleFactor: 1, Mobile: w < 500}); err != nil {
				t.Fatal(err)
			}
			suffix := locale + "-" + strconv.Itoa(w)
			p.MustNavigate(e.url("/settings/campaigns")).MustWaitLoad()
			p.MustElement(`[data-testid="stop-words"]`).MustSelectAllText().MustInput("STOP, , basta")
			p.MustElement(`[data-testid="stop-words-form"] button[type=submit]`).MustClick()
			p.Timeout(10 * time.Second).MustElement(`[data-testid="stop-words-error"]`)
			shootFull(t, p, "settings-campaigns-error-"+suffix)
			p.MustElement(`[data-testid="stop-words"]`).MustSelectAllText().MustInput("STOP, basta, annulla, cancella")
			p.MustElement(`[data-testid="stop-words-form"] button[type=submit]`).MustClick()
			p.Timeout(10 * time.Second).MustElement(`[data-testid="settings-notice"]`)
			shootFull(t, p, "settings-campaigns-saved-"+suffix)

			p.MustNavigate(e.url(campaignPath(running.ID))).MustWaitLoad()
			p.Timeout(10 * time.Second).MustElement(`[data-testid="report-table"]`)
			// The filter reloads only the table (htmx), with the chosen status alone.
			p.MustElement(`[data-testid="report-filter"] select[name=status]`).MustSelect(map[string]string{"en": "Skipped", "it": "Escluso"}[locale])
			p.MustElement(`[data-testid="report-filter"] button[type=submit]`).MustClick()
			deadline := time.Now().Add(10 * time.Second)
			for len(p.MustElements(`[data-testid="report-row"]`)) != 4 {
				if time.Now().After(deadline) {
					t.Fatalf("the skipped filter shows %d rows, want 4", len(p.MustElements(`[data-testid="report-row"]`)))
				}
				time.Sleep(100 * time.Millisecond)
			}
			p.MustElement(`[data-testid="attribution-days"]`).MustSelectAllText().MustInput("45")
			// The browser's own range check would stop the form: post it as a client without one would.
			p.MustEval(`() => { const f = document.querySelector('[data-testid="attribution-form"]'); f.noValidate = true; f.requestSubmit(); }`)
			p.Timeout(10 * time.Second).MustElement(`[data-testid="attribution-error"]`)
			p.Timeout(10 * time.Second).MustElement(`[data-testid="report-table"]`)
			if w == 375 {
				if sw := p.MustEval(`() => document.documentElement.scrollWidth`).Int(); sw > 380 {
					t.Errorf("report %s at 375 px: the page is %d px wide", locale, sw)
				}
			}
			shootFull(t, p, "campaign-attribution-error-"+suffix)
		}
	}
	if words, _ := e.store.StopWords(ctx, e.b.biz.ID); strings.Join(words, ",") != "STOP,basta,annulla,cancella" {
		t.Fatalf("stop words %q", words)
	}
}
