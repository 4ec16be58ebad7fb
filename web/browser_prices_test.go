package web

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/switchboard-inbox/switchboard/pricing"
)

// fitsWidth fails when the page scrolls sideways at its viewport width
// (tables may scroll inside their own box).
func fitsWidth(t *testing.T, p *rod.Page, name string) {
	t.Helper()
	if w := p.MustEval(`() => document.documentElement.scrollWidth - window.innerWidth`).Int(); w > 0 {
		t.Errorf("%s is %d px wider than the phone", name, w)
	}
}

func phone(t *testing.T, p *rod.Page) {
	t.Helper()
	if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: 375, Height: 812, DeviceScaleFactor: 2, Mobile: true}); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserTemplatesAndPrices(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, false)
	ctx := context.Background()
	sync := &fakeSync{store: e.store}
	e.srv.templates = sync
	if _, err := sync.SyncChannel(ctx, e.b.channel); err != nil {
		t.Fatal(err)
	}
	rows, _ := pricing.ParseRateCard(pricing.SampleRateCard, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	if _, err := e.store.ImportSamplePrices(ctx, e.b.biz.ID, rows); err != nil {
		t.Fatal(err)
	}
	seedSpend(t, e)
	p := agentPage(t, b, e.http.URL, e.b.admin)
	p.MustNavigate(e.url("/settings/spend")).MustWaitLoad()
	p.MustElement(`[data-testid="spend-chart"]`)
	shoot(t, p, "spend-desktop")

	p.MustNavigate(e.url("/settings/templates")).MustWaitLoad()
	p.MustElement(`[data-testid="template"]`)
	shoot(t, p, "templates-desktop")
	p.MustElement(`[data-testid="sync-now"]`).MustClick()
	p.MustWaitLoad()
	p.MustElement(`[data-testid="templates-notice"]`)

	q := url.Values{"at": {"2026-11-02"}, "phone": {"+436641234567"}, "category": {"marketing"}}
	p.MustNavigate(e.url("/settings/prices?" + q.Encode())).MustWaitLoad()
	if got := p.MustElement(`[data-testid="quote-result"]`).MustText(); !strings.Contains(got, "Rest of Western Europe") {
		t.Errorf("quote shows %q", got)
	}
	p.MustElement(`[data-testid="prices-sample"]`)
	shoot(t, p, "prices-desktop")

	// Import through the form: the preview, as an admin sees it.
	card := filepath.Join(t.TempDir(), "rates.csv")
	if err := os.WriteFile(card, pricing.SampleRateCard, 0o644); err != nil {
		t.Fatal(err)
	}
	p.MustNavigate(e.url("/settings/prices?at=2026-11-02")).MustWaitLoad()
	p.MustElement("#p-file").MustSetFiles(card)
	p.MustElement("#p-from").MustInput("01012027")
	wait := p.MustWaitNavigation()
	p.MustElement(`[data-testid="import-form"] button[type=submit]`).MustClick()
	wait()
	p.MustElement(`[data-testid="price-preview"]`)
	shoot(t, p, "prices-preview-desktop")

	phone(t, p)
	p.MustNavigate(e.url("/settings/templates")).MustWaitLoad()
	fitsWidth(t, p, "templates")
	shoot(t, p, "templates-375")
	p.MustNavigate(e.url("/settings/prices?" + q.Encode())).MustWaitLoad()
	fitsWidth(t, p, "prices")
	shoot(t, p, "prices-375")
	p.MustNavigate(e.url("/settings/spend")).MustWaitLoad()
	fitsWidth(t, p, "spend")
	shoot(t, p, "spend-375")

	// Italian.
	p.MustNavigate(e.url("/account")).MustWaitLoad()
	p.MustElement(`[data-testid="locale"]`).MustSelect("Italiano")
	wait = p.MustWaitNavigation()
	p.MustElement(`form[action="/account/locale"] button`).MustClick()
	wait()
	p.MustNavigate(e.url("/settings/prices?" + q.Encode())).MustWaitLoad()
	if h := p.MustElement("h1").MustText(); h != "Prezzi" {
		t.Errorf("Italian heading %q", h)
	}
	shoot(t, p, "prices-375-it")
	p.MustNavigate(e.url("/settings/templates")).MustWaitLoad()
	shoot(t, p, "templates-375-it")
}
