package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// apiCall sends one bearer-token request and decodes the JSON answer.
func apiCall(t *testing.T, e *uiEnv, token, method, path string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %.200s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, out
}

func apiToken(t *testing.T, e *uiEnv, b uiBiz) string {
	t.Helper()
	token, _, err := e.store.CreateAPIToken(context.Background(), b.biz.ID, "tests")
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func errField(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

const csvHeader = "Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service\n"

func TestAPIPricesImportBadInput(t *testing.T) {
	e := newUIEnv(t, false)
	token := apiToken(t, e, e.a)
	good := "Italy,EUR,0.0691,0.03,0.03,n/a,0.02\n"
	cases := []struct {
		name, body string
		line       float64
		contains   string
	}{
		{"wrong header", "Market,Currency,Marketing\n" + good, 1, "header"},
		{"missing header", good, 1, "header"},
		{"unknown market", csvHeader + good + "Narnia,EUR,1,1,1,1,1\n", 3, "unknown market"},
		{"negative rate", csvHeader + "Italy,EUR,-0.01,0.03,0.03,n/a,0.02\n", 2, "negative"},
		{"empty rate", csvHeader + "Italy,EUR,,0.03,0.03,n/a,0.02\n", 2, "empty"},
		{"non-numeric rate", csvHeader + "Italy,EUR,cheap,0.03,0.03,n/a,0.02\n", 2, "not a number"},
		{"currency differs", csvHeader + good + "Spain,USD,1,1,1,1,1\n", 3, "one currency per file"},
		{"market twice", csvHeader + good + good, 3, "twice"},
		{"empty file", "", 1, "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := apiCall(t, e, token, "POST", "/api/v1/prices/import?effective_from=2026-10-01", []byte(c.body))
			errs, _ := body["errors"].([]any)
			if status != http.StatusUnprocessableEntity || body["imported"] != 0.0 || len(errs) == 0 {
				t.Fatalf("status %d body %v", status, body)
			}
			first := errs[0].(map[string]any)
			if first["line"] != c.line || !strings.Contains(first["message"].(string), c.contains) {
				t.Errorf("first error %v, want line %v containing %q", first, c.line, c.contains)
			}
		})
	}
	// Nothing of any of them was kept.
	if rows, _ := e.store.PriceRows(context.Background(), e.a.biz.ID); len(rows) != 0 {
		t.Fatalf("%d rows stored from bad files", len(rows))
	}
	t.Run("over 1 MiB", func(t *testing.T) {
		big := csvHeader + strings.Repeat("Italy,EUR,0.0691,0.03,0.03,n/a,0.02\n", (1<<20)/30)
		status, _ := apiCall(t, e, token, "POST", "/api/v1/prices/import?effective_from=2026-10-01", []byte(big))
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", status)
		}
	})
	t.Run("no effective_from", func(t *testing.T) {
		status, body := apiCall(t, e, token, "POST", "/api/v1/prices/import", pricing.SampleRateCard)
		if status != http.StatusUnprocessableEntity || errField(body) != "effective_from" {
			t.Fatalf("status %d body %v", status, body)
		}
	})
}

func TestAPIPricesImportListAndQuote(t *testing.T) {
	e := newUIEnv(t, false)
	token := apiToken(t, e, e.a)
	status, body := apiCall(t, e, token, "POST", "/api/v1/prices/import?effective_from=2026-10-01", pricing.SampleRateCard)
	if status != http.StatusOK || body["imported"] != float64(len(pricing.Markets())) {
		t.Fatalf("import: %d %v", status, body)
	}
	status, body = apiCall(t, e, token, "GET", "/api/v1/prices?at=2026-10-01", nil)
	if prices, _ := body["prices"].([]any); status != http.StatusOK || len(prices) != 5*len(pricing.Markets()) {
		t.Fatalf("prices: %d, %d rows", status, len(prices))
	}
	status, body = apiCall(t, e, token, "GET", "/api/v1/prices?at=2026-09-30", nil)
	if prices, _ := body["prices"].([]any); status != http.StatusOK || len(prices) != 0 {
		t.Fatalf("prices the day before: %d, %d rows", status, len(prices))
	}
	quote := func(q string) (int, map[string]any) {
		return apiCall(t, e, token, "GET", "/api/v1/prices/quote?"+q, nil)
	}
	status, body = quote("phone=%2B436641234567&category=marketing&at=2026-11-02")
	want := map[string]any{"country": "AT", "market": "Rest of Western Europe", "category": "marketing", "currency": "USD", "price": "0.0592"}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("quote %s = %v, want %v (status %d)", k, body[k], v, status)
		}
	}
	if _, body = quote("phone=%2B12125551234&category=utility&at=2026-11-02"); body["market"] != "North America" {
		t.Errorf("+1 212: %v", body)
	}
	for _, c := range []struct{ q, field string }{
		{"phone=393471234567&category=marketing", "phone"},
		{"phone=%2Bnope&category=marketing", "phone"},
		{"category=marketing", "phone"},
		{"phone=%2B393471234567&category=promotional", "category"},
		{"phone=%2B393471234567&category=marketing&at=yesterday", "at"},
	} {
		if status, body := quote(c.q); status != http.StatusUnprocessableEntity || errField(body) != c.field {
			t.Errorf("%s: %d %v, want 422 field %s", c.q, status, body, c.field)
		}
	}
	if status, body := quote("phone=%2B393471234567&category=marketing&at=2026-09-30"); status != http.StatusNotFound {
		t.Errorf("quote before any card: %d %v, want 404 no_price", status, body)
	}
	// Another business's token sees none of it.
	other := apiToken(t, e, e.b)
	if _, body := apiCall(t, e, other, "GET", "/api/v1/prices?at=2026-10-01", nil); len(body["prices"].([]any)) != 0 {
		t.Error("prices leak across businesses")
	}
}

func TestAPITemplates(t *testing.T) {
	e := newUIEnv(t, false)
	ctx := context.Background()
	_, err := e.store.ReplaceTemplates(ctx, e.b.channel, []models.WATemplate{{Name: "order_shipped", Language: "it", Category: "utility",
		Status: "approved", Body: "Ciao {{1}}", ParameterFormat: "positional", Parameters: models.TemplateParams{{Component: "body", Name: "1"}},
		Components: models.JSON(`[]`)}}, testNowUTC())
	if err != nil {
		t.Fatal(err)
	}
	_, body := apiCall(t, e, apiToken(t, e, e.b), "GET", "/api/v1/templates", nil)
	ts, _ := body["templates"].([]any)
	if len(ts) != 1 {
		t.Fatalf("templates %v", body)
	}
	tpl := ts[0].(map[string]any)
	for _, k := range []string{"id", "channel_id", "name", "language", "category", "status", "body", "parameters"} {
		if _, ok := tpl[k]; !ok {
			t.Errorf("template lacks %q: %v", k, tpl)
		}
	}
	if _, body := apiCall(t, e, apiToken(t, e, e.a), "GET", "/api/v1/templates", nil); len(body["templates"].([]any)) != 0 {
		t.Error("templates leak across businesses")
	}
}

func testNowUTC() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
