package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/pricing"
)

// upload posts the import form with a rate card as its file.
func (c *client) upload(path, effectiveFrom string, file []byte) (*http.Response, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("effective_from", effectiveFrom)
	fw, _ := mw.CreateFormFile("file", "rates.csv")
	_, _ = fw.Write(file)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", c.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

func TestPricesPageImportPreviewConfirmEditQuote(t *testing.T) {
	e := newUIEnv(t, false)
	ctx := context.Background()
	admin := e.signIn(t, e.a.admin)
	res, body := admin.get("/settings/prices")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="prices-empty"`) {
		t.Fatalf("empty page: %d", res.StatusCode)
	}

	// A bad file: every bad line listed, nothing stored.
	bad := csvHeader + "Italy,EUR,x,1,1,1,1\nNarnia,EUR,1,1,1,1,1\n"
	res, body = admin.upload("/settings/prices/preview", "2026-10-01", []byte(bad))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Line 2:") || !strings.Contains(body, "Line 3:") ||
		!strings.Contains(body, "&#34;Narnia&#34;") {
		t.Fatalf("bad file: %d %s", res.StatusCode, snippetOf(body, "import-errors"))
	}

	// The preview lists the changes and stores nothing.
	res, body = admin.upload("/settings/prices/preview", "2026-10-01", pricing.SampleRateCard)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="price-preview"`) {
		t.Fatalf("preview: %d", res.StatusCode)
	}
	if rows, _ := e.store.PriceRows(ctx, e.a.biz.ID); len(rows) != 0 {
		t.Fatal("the preview stored prices")
	}
	res = admin.post("/settings/prices/import", url.Values{"effective_from": {"2026-10-01"}, "csv": {string(pricing.SampleRateCard)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", res.StatusCode)
	}
	_, body = admin.get("/settings/prices?at=2026-10-01&notice=prices.imported")
	if !strings.Contains(body, `data-testid="price-table"`) || !strings.Contains(body, "<td>0.0592</td>") || !strings.Contains(body, "Rate card imported.") {
		t.Fatal("table not shown after import")
	}

	// Re-import with one change: the preview shows old → new.
	next := strings.Replace(string(pricing.SampleRateCard), `"Italy","USD","0.0691"`, `"Italy","USD","0.0750"`, 1)
	_, body = admin.upload("/settings/prices/preview", "2027-01-01", []byte(next))
	if !strings.Contains(body, "1 prices change") && !strings.Contains(body, "; 1 prices") {
		t.Errorf("preview summary missing: %s", snippetOf(body, "price-preview"))
	}
	if !strings.Contains(body, "USD 0.0691") || !strings.Contains(body, "USD 0.0750") {
		t.Errorf("preview lacks old → new: %s", snippetOf(body, "price-changes"))
	}

	// One cell by hand, then a quote that uses it.
	res = admin.post("/settings/prices/edit", url.Values{"market": {"Italy"}, "category": {"marketing"}, "price": {"0.0800"},
		"currency": {"USD"}, "effective_from": {"2026-11-01"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", res.StatusCode)
	}
	_, body = admin.get("/settings/prices?at=2026-11-02&phone=%2B393471234567&category=marketing")
	if !strings.Contains(body, "USD 0.0800") || !strings.Contains(body, "Italy (IT)") {
		t.Errorf("quote box: %s", snippetOf(body, "quote-result"))
	}
	_, body = admin.get("/settings/prices?phone=12345&category=marketing")
	if !strings.Contains(body, "international format") {
		t.Errorf("bad phone not explained: %s", snippetOf(body, "quote-result"))
	}
	res = admin.post("/settings/prices/edit", url.Values{"market": {"Atlantis"}, "category": {"marketing"}, "price": {"1"},
		"currency": {"USD"}, "effective_from": {"2026-11-01"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("edit of an unknown market: %d", res.StatusCode)
	}

	// Italian, and closed to agents.
	if res, _ := e.signIn(t, e.a.agent).get("/settings/prices"); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent sees prices: %d", res.StatusCode)
	}
}

func TestPricesPageTooLarge(t *testing.T) {
	e := newUIEnv(t, false)
	admin := e.signIn(t, e.a.admin)
	big := bytes.Repeat([]byte("Italy,EUR,0.0691,0.03,0.03,n/a,0.02\n"), (2<<20)/36)
	if res, _ := admin.upload("/settings/prices/preview", "2026-10-01", big); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB upload: %d, want 413", res.StatusCode)
	}
}

// snippetOf is the part of a page around a data-testid, for failure messages.
func snippetOf(body, testid string) string {
	i := strings.Index(body, `data-testid="`+testid+`"`)
	if i < 0 {
		return "(no " + testid + ")"
	}
	return body[i:min(len(body), i+600)]
}
