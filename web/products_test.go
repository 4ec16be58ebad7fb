package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// productsEnv is the UI env with the real restock runner (no workers run:
// the runs' jobs are only queued) and an API token per business.
type productsEnv struct {
	*uiEnv
	tokenA, tokenB string
}

func newProductsEnv(t *testing.T) *productsEnv {
	t.Helper()
	e := &productsEnv{uiEnv: newUIEnv(t, false)}
	pipe, err := jobs.New(e.store, slog.New(slog.NewTextHandler(io.Discard, nil)), jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.restock = pipe.Restocker()
	if e.tokenA, _, err = e.store.CreateAPIToken(context.Background(), e.a.biz.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if e.tokenB, _, err = e.store.CreateAPIToken(context.Background(), e.b.biz.ID, "b"); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *productsEnv) api(t *testing.T, token, method, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, out
}

func (e *productsEnv) json(t *testing.T, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	return e.api(t, token, method, path, "application/json", body)
}

func TestProductsAPIBadInput(t *testing.T) {
	e := newProductsEnv(t)
	if st, body := e.json(t, e.tokenA, "POST", "/api/v1/products", `{"sku":"GB-1","name":"Giacca blu","stock":0,"url":"https://shop.example/gb",
		"whatsapp_template":{"name":"back_in_stock","language":"it"}}`); st != 201 || body["sku"] != "GB-1" {
		t.Fatalf("create: %d %v", st, body)
	}
	cases := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"duplicate SKU", "POST", "/api/v1/products", `{"sku":"GB-1","name":"Again"}`, 409, ""},
		{"negative stock on create", "POST", "/api/v1/products", `{"sku":"N-1","name":"Neg","stock":-1}`, 422, "stock"},
		{"negative stock", "PATCH", "/api/v1/products/GB-1", `{"stock":-3}`, 422, "stock"},
		{"fractional stock", "PATCH", "/api/v1/products/GB-1", `{"stock":2.5}`, 422, "stock"},
		{"stock as a string", "PATCH", "/api/v1/products/GB-1", `{"stock":"4"}`, 422, "stock"},
		{"unknown SKU", "PATCH", "/api/v1/products/NOPE", `{"stock":4}`, 404, ""},
		{"unknown SKU's waitlist", "GET", "/api/v1/products/NOPE/waitlist", ``, 404, ""},
		{"no name", "POST", "/api/v1/products", `{"sku":"X-1"}`, 422, "name"},
		{"unknown restock", "GET", "/api/v1/restocks/999999", ``, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, body := e.json(t, e.tokenA, c.method, c.path, c.body)
			if st != c.status || errField(body) != c.field {
				t.Fatalf("%d %v, want %d with field %q", st, body, c.status, c.field)
			}
		})
	}
	// Another business sees none of it.
	if st, _ := e.json(t, e.tokenB, "PATCH", "/api/v1/products/GB-1", `{"stock":4}`); st != 404 {
		t.Fatalf("another business's SKU: %d", st)
	}
	if _, body := e.json(t, e.tokenA, "GET", "/api/v1/products/GB-1/waitlist", ``); len(body["entries"].([]any)) != 0 {
		t.Fatalf("entries %v", body)
	}
}

func TestProductsAPIWaitlistAndRestock(t *testing.T) {
	e := newProductsEnv(t)
	e.json(t, e.tokenA, "POST", "/api/v1/products", `{"sku":"GB-1","name":"Giacca blu"}`)
	add := `{"identity_id":` + strconv.FormatInt(e.a.identity.ID, 10) + `}`
	if st, body := e.json(t, e.tokenA, "POST", "/api/v1/products/GB-1/waitlist", add); st != 201 || body["status"] != "waiting" || body["app"] != "messenger" {
		t.Fatalf("add: %d %v", st, body)
	}
	if st, _ := e.json(t, e.tokenA, "POST", "/api/v1/products/GB-1/waitlist", add); st != 409 {
		t.Fatalf("second add: %d, want 409", st)
	}
	other := `{"identity_id":` + strconv.FormatInt(e.b.identity.ID, 10) + `}`
	if st, _ := e.json(t, e.tokenA, "POST", "/api/v1/products/GB-1/waitlist", other); st != 404 {
		t.Fatalf("another business's identity: %d, want 404", st)
	}
	_, list := e.json(t, e.tokenA, "GET", "/api/v1/products", ``)
	ps := list["products"].([]any)
	if w := ps[0].(map[string]any)["waiting"].(map[string]any); len(ps) != 1 || w["messenger"] != float64(1) || w["whatsapp"] != float64(0) {
		t.Fatalf("products %v", list)
	}
	st, body := e.json(t, e.tokenA, "PATCH", "/api/v1/products/GB-1", `{"stock":3}`)
	rid, ok := body["restock_id"].(float64)
	if st != 200 || !ok || body["stock"] != float64(3) {
		t.Fatalf("0 → 3: %d %v", st, body)
	}
	path := "/api/v1/restocks/" + strconv.FormatInt(int64(rid), 10)
	if st, run := e.json(t, e.tokenA, "GET", path, ``); st != 200 || run["status"] != "running" || run["total"] != float64(1) || run["sku"] != "GB-1" {
		t.Fatalf("restock: %d %v", st, run)
	}
	if st, _ := e.json(t, e.tokenB, "GET", path, ``); st != 404 {
		t.Fatalf("another business's restock: %d", st)
	}
	if _, body := e.json(t, e.tokenA, "PATCH", "/api/v1/products/GB-1", `{"stock":5}`); body["restock_id"] != nil {
		t.Fatalf("3 → 5 started a run: %v", body)
	}
}

func TestProductsCSVImport(t *testing.T) {
	e := newProductsEnv(t)
	e.json(t, e.tokenA, "POST", "/api/v1/products", `{"sku":"GB-1","name":"Giacca blu","url":"https://shop.example/gb"}`)
	e.json(t, e.tokenA, "POST", "/api/v1/products/GB-1/waitlist", `{"identity_id":`+strconv.FormatInt(e.a.identity.ID, 10)+`}`)
	bad := "sku,name,stock,url,image_url\nGB-1,Giacca blu,4\nGR-2,Giacca rossa,-1\nGV-3,Giacca verde,tre\nGN-4,Giacca nera,2,ftp://x\nGB-1,Again,1\n"
	st, body := e.api(t, e.tokenA, "POST", "/api/v1/products/import", "text/csv", bad)
	errs, _ := body["errors"].([]any)
	if st != 422 || len(errs) != 4 {
		t.Fatalf("bad CSV: %d %v", st, body)
	}
	for i, line := range []float64{3, 4, 5, 6} {
		if got := errs[i].(map[string]any)["line"]; got != line {
			t.Errorf("error %d on line %v, want %v", i, got, line)
		}
	}
	if _, list := e.json(t, e.tokenA, "GET", "/api/v1/products", ``); len(list["products"].([]any)) != 1 {
		t.Fatalf("a bad CSV changed products: %v", list)
	}
	p, _ := e.store.Product(context.Background(), e.a.biz.ID, "GB-1")
	if p.Stock != 0 {
		t.Fatalf("a bad CSV changed stock to %d", p.Stock)
	}
	good := "GB-1,Giacca blu,4\nGR-2,\"Giacca rossa, lana\",0,https://shop.example/gr,https://cdn.example/gr.jpg\n"
	st, body = e.api(t, e.tokenA, "POST", "/api/v1/products/import", "text/csv", good)
	if st != 200 || body["created"] != float64(1) || body["updated"] != float64(1) || len(body["restock_ids"].([]any)) != 1 {
		t.Fatalf("good CSV: %d %v", st, body)
	}
	p, _ = e.store.Product(context.Background(), e.a.biz.ID, "GB-1")
	if p.Stock != 4 || p.URL != "https://shop.example/gb" {
		t.Fatalf("GB-1 after import: %+v", p)
	}
}

func TestProductsPages(t *testing.T) {
	e := newProductsEnv(t)
	staff := e.signIn(t, e.a.staff)
	res := staff.post("/products", url.Values{"sku": {"GB-1"}, "name": {"Giacca <b>blu</b>"}, "stock": {"0"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", res.StatusCode)
	}
	if res, body := staff.postBody("/products", url.Values{"sku": {"GB-1"}, "name": {"Again"}}); res.StatusCode != 422 || !strings.Contains(body, "already exists") {
		t.Fatalf("duplicate: %d", res.StatusCode)
	}
	if res, _ := staff.postBody("/products", url.Values{"sku": {"X-1"}, "name": {"X"}, "stock": {"-2"}}); res.StatusCode != 422 {
		t.Fatalf("negative stock: %d", res.StatusCode)
	}
	if _, _, err := e.store.JoinWaitlist(context.Background(), models.Join{BusinessID: e.a.biz.ID, ProductID: mustProduct(t, e, "GB-1").ID,
		IdentityID: e.a.identity.ID, Source: "postback"}); err != nil {
		t.Fatal(err)
	}
	res, body := staff.get("/products")
	if res.StatusCode != 200 || strings.Contains(body, "<b>blu</b>") || !strings.Contains(body, "Giacca &lt;b&gt;blu&lt;/b&gt;") ||
		!strings.Contains(body, `data-testid="product-row"`) {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	if res := staff.post("/products/GB-1/stock", url.Values{"delta": {"1"}, "back": {"product"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("stock +1: %d", res.StatusCode)
	}
	if p := mustProduct(t, e, "GB-1"); p.Stock != 1 {
		t.Fatalf("stock %d after +1", p.Stock)
	}
	res, body = staff.get("/products/GB-1")
	if res.StatusCode != 200 || !strings.Contains(body, `data-testid="restock-progress"`) || !strings.Contains(body, `data-testid="waitlist-row"`) ||
		!strings.Contains(body, "Customer of Alpha") {
		t.Fatalf("product page: %d %s", res.StatusCode, body)
	}
	if res, _ := staff.get("/products/NOPE"); res.StatusCode != 404 {
		t.Fatalf("unknown product page: %d", res.StatusCode)
	}
	beta := e.signIn(t, e.b.staff)
	if res, _ := beta.get("/products/GB-1"); res.StatusCode != 404 {
		t.Fatalf("another business's product page: %d", res.StatusCode)
	}
	if res, _ := e.signIn(t, e.a.agent).get("/products"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("agent on products: %d", res.StatusCode)
	}
	// A bad CSV in the form: nothing applied, the lines shown.
	res, body = staff.postBody("/products/import", url.Values{"csv_text": {"GB-1,Giacca,9\nGZ-9,,1\n"}})
	if res.StatusCode != 422 || !strings.Contains(body, `data-testid="import-errors"`) || mustProduct(t, e, "GB-1").Stock != 1 {
		t.Fatalf("bad CSV form: %d", res.StatusCode)
	}
}

func mustProduct(t *testing.T, e *productsEnv, sku string) *models.Product {
	t.Helper()
	p, err := e.store.Product(context.Background(), e.a.biz.ID, sku)
	if err != nil || p == nil {
		t.Fatalf("product %s: %v", sku, err)
	}
	return p
}

// TestProductLiveProgress: the product page's socket gets the run's progress
// bar when stock comes back; another business's page hears nothing.
func TestProductLiveProgress(t *testing.T) {
	e := newProductsEnv(t)
	startLive(t, e.uiEnv)
	e.json(t, e.tokenA, "POST", "/api/v1/products", `{"sku":"GB-1","name":"Giacca blu"}`)
	e.json(t, e.tokenB, "POST", "/api/v1/products", `{"sku":"GB-1","name":"Theirs"}`)
	e.json(t, e.tokenA, "POST", "/api/v1/products/GB-1/waitlist", `{"identity_id":`+strconv.FormatInt(e.a.identity.ID, 10)+`}`)
	ws, _, err := e.signIn(t, e.a.staff).dialWS("/products/GB-1/live")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	other, _, err := e.signIn(t, e.b.staff).dialWS("/products/GB-1/live")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for !e.srv.restockLive.watched(e.a.biz.ID) || !e.srv.restockLive.watched(e.b.biz.ID) {
		time.Sleep(10 * time.Millisecond)
	}
	e.json(t, e.tokenA, "PATCH", "/api/v1/products/GB-1", `{"stock":4}`)
	frame := readUntil(t, ws, `id="restock-progress"`)
	if !strings.Contains(frame, `hx-swap-oob="true"`) || !strings.Contains(frame, `data-status="running"`) || !strings.Contains(frame, "0 of 1") {
		t.Fatalf("frame %s", frame)
	}
	_ = other.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, b, err := other.ReadMessage(); err == nil {
		t.Fatalf("another business's page got %s", b)
	}
}

// A product's bad input is said in the staff member's language.
func TestProductErrorsInTheReadersLanguage(t *testing.T) {
	e := newUIEnv(t, false)
	staff := e.signIn(t, e.a.staff)
	if res := staff.post("/account/locale", url.Values{"locale": {"it"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("locale: %d", res.StatusCode)
	}
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"sku": {"GB 1"}, "name": {"Borsa"}}, "Uno SKU è di 1–64 caratteri"},
		{url.Values{"sku": {"GB-1"}, "name": {"Borsa"}, "stock": {"-2"}}, "un numero intero, 0 o più"},
		{url.Values{"sku": {"GB-1"}, "name": {"Borsa"}, "url": {"javascript:alert(1)"}}, "L&#39;URL deve iniziare"},
	} {
		if res, body := staff.postBody("/products", c.form); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) {
			t.Errorf("%v: %d, want the Italian %q", c.form, res.StatusCode, c.want)
		}
	}
}
