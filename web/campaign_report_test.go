package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// reportCampaign is a campaign of b with recipients in every state the funnel knows.
type reportCampaign struct {
	c          *models.Campaign
	recipients map[string]*models.CampaignRecipient // by customer name
	identities map[string]*models.Identity
}

func seedReportCampaign(t *testing.T, e *uiEnv, b uiBiz, name string, vars []string) reportCampaign {
	t.Helper()
	ctx := context.Background()
	raw, _ := json.Marshal(vars)
	c := &models.Campaign{BusinessID: b.biz.ID, ChannelID: b.channel.ID, Name: name, TemplateName: "saldi", TemplateLanguage: "it",
		Currency: "EUR", Variables: models.JSON(raw), BudgetMicros: 50_000_000}
	if err := e.store.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	rc := reportCampaign{c: c, recipients: map[string]*models.CampaignRecipient{}, identities: map[string]*models.Identity{}}
	sent := time.Now().Add(-2 * time.Hour)
	read, delivered := sent.Add(time.Minute), sent.Add(30*time.Second)
	failed, replied := sent.Add(time.Second), sent.Add(5*time.Minute)
	code := 131049
	for i, r := range []struct {
		name   string
		status string
		edit   func(*models.CampaignRecipient)
	}{
		{"Anna", models.RecipientRead, func(r *models.CampaignRecipient) { r.DeliveredAt, r.ReadAt, r.RepliedAt = &delivered, &read, &replied }},
		{`<b>Bold</b> "Rossi, Mario"`, models.RecipientRead, func(r *models.CampaignRecipient) { r.DeliveredAt, r.ReadAt = &delivered, &read }},
		{`=HYPERLINK("https://evil.example")`, models.RecipientDelivered, func(r *models.CampaignRecipient) { r.DeliveredAt = &delivered }},
		{"Dario", models.RecipientSent, nil},
		{"Elena", models.RecipientFailed, func(r *models.CampaignRecipient) {
			r.SentAt, r.FailedAt, r.ErrorCode, r.ErrorTitle = nil, &failed, &code, "Per-user marketing message cap"
		}},
		{"Fabio", models.RecipientSkipped, func(r *models.CampaignRecipient) { r.SentAt, r.SkipReason = nil, models.SkipOptedOut }},
	} {
		ct := &models.Contact{BusinessID: b.biz.ID, Name: r.name}
		if err := e.store.CreateContact(ctx, ct); err != nil {
			t.Fatal(err)
		}
		id := addIdentity(t, e.store, b, ct, "39333"+strconv.Itoa(1000+i)+"-"+name, r.name)
		rec := &models.CampaignRecipient{CampaignID: c.ID, IdentityID: &id.ID, Status: r.status, SentAt: &sent,
			Country: "IT", Market: "Italy", Currency: "EUR", PriceMicros: 68_000}
		if r.edit != nil {
			r.edit(rec)
		}
		if err := e.store.Gorm(ctx).Create(rec).Error; err != nil {
			t.Fatal(err)
		}
		rc.recipients[r.name], rc.identities[r.name] = rec, id
	}
	return rc
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// A tracked link answers 302 to the campaign's stored URL, counts the
// recipient's first click only, and never redirects for a token we did not sign.
func TestCampaignClickRedirect(t *testing.T) {
	e := newUIEnv(t, false)
	rc := seedReportCampaign(t, e, e.b, "Saldi", []string{"{first_name|cliente}", "SALDI20", "Scopri: {link:https://shop.example/saldi?utm=wa&x=<1>}", "{link:javascript:alert(1)}", "https://shop.example/untracked"})
	anna := rc.recipients["Anna"]
	cipher := e.store.Cipher()
	click := func(token string) *http.Response {
		t.Helper()
		res, err := noRedirects().Get(e.http.URL + "/c/" + token)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	good := cipher.CampaignClickToken(anna.ID, 2)
	for i := range 3 {
		res := click(good)
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://shop.example/saldi?utm=wa&x=<1>" {
			t.Fatalf("click %d: %d → %q", i, res.StatusCode, res.Header.Get("Location"))
		}
	}
	n, err := e.store.CampaignCounts(context.Background(), rc.c.ID)
	if err != nil || n.Clicked != 1 {
		t.Fatalf("clicked = %d, %v; want 1 after three clicks", n.Clicked, err)
	}
	forged := good[:len(good)-2] + "xx"
	for name, tok := range map[string]string{
		"forged mac":       forged,
		"garbage":          "not-a-token",
		"fixed value slot": cipher.CampaignClickToken(anna.ID, 1),
		"javascript slot":  cipher.CampaignClickToken(anna.ID, 3),
		"untracked URL":    cipher.CampaignClickToken(anna.ID, 4),
		"slot past end":    cipher.CampaignClickToken(anna.ID, 9),
		"no such person":   cipher.CampaignClickToken(anna.ID+10_000, 2),
	} {
		if res := click(tok); res.StatusCode != http.StatusNotFound || res.Header.Get("Location") != "" {
			t.Errorf("%s: %d → %q, want 404 and no redirect", name, res.StatusCode, res.Header.Get("Location"))
		}
	}
	if n, _ := e.store.CampaignCounts(context.Background(), rc.c.ID); n.Clicked != 1 {
		t.Fatalf("a refused click was counted: %d", n.Clicked)
	}
}

func postJSON(t *testing.T, e *uiEnv, token, path string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.http.URL+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// Conversions posted by the shop count once per external_id, for the
// token's own campaigns and their recipients only.
func TestCampaignConversionsAPI(t *testing.T) {
	e := newUIEnv(t, false)
	rc := seedReportCampaign(t, e, e.b, "Saldi", nil)
	token, otherToken := apiToken(t, e, e.b), apiToken(t, e, e.a)
	path := "/api/v1/campaigns/" + strconv.FormatInt(rc.c.ID, 10) + "/conversions"
	anna := rc.identities["Anna"]
	body := map[string]any{"identity_id": anna.ID, "amount": "12.50", "currency": "eur", "external_id": "shop-order-77"}
	for i, want := range []int{http.StatusCreated, http.StatusOK, http.StatusOK} {
		if code, out := postJSON(t, e, token, path, body); code != want || out["amount"] != "12.5000" || out["counted"] != true {
			t.Fatalf("post %d: %d %v, want %d", i, code, out, want)
		}
	}
	body["amount"] = "13.00"
	if code, _ := postJSON(t, e, token, path, body); code != http.StatusConflict {
		t.Fatalf("same external_id, other amount: %d", code)
	}
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"amount": "1", "currency": "EUR", "external_id": "a"}, "identity_id"},
		{map[string]any{"identity_id": anna.ID, "amount": "12,50", "currency": "EUR", "external_id": "a"}, "amount"},
		{map[string]any{"identity_id": anna.ID, "amount": "-1", "currency": "EUR", "external_id": "a"}, "amount"},
		{map[string]any{"identity_id": anna.ID, "amount": "1", "currency": "EURO", "external_id": "a"}, "currency"},
		{map[string]any{"identity_id": anna.ID, "amount": "1", "currency": "EUR"}, "external_id"},
		{map[string]any{"identity_id": e.b.identity.ID, "amount": "1", "currency": "EUR", "external_id": "b"}, "identity_id"},
	} {
		if code, out := postJSON(t, e, token, path, bad.body); code != http.StatusUnprocessableEntity || errField(out) != bad.field {
			t.Errorf("%v: %d %v, want 422 on %s", bad.body, code, out, bad.field)
		}
	}
	if code, _ := postJSON(t, e, otherToken, path, map[string]any{"identity_id": anna.ID, "amount": "1", "currency": "EUR", "external_id": "c"}); code != http.StatusNotFound {
		t.Fatalf("another business's campaign: %d, want 404", code)
	}
	o, err := e.store.CampaignOutcome(context.Background(), e.b.biz.ID, rc.c.ID)
	if err != nil || o.RevenueMicros != 12_500_000 || o.OrdersCount != 1 || o.OrderedCount != 1 {
		t.Fatalf("outcome = %+v, %v", o, err)
	}
}

// The report shows the funnel as it happened, escapes every customer's
// text, filters recipients, and belongs to its business's admins only.
func TestCampaignReportPage(t *testing.T) {
	e := newUIEnv(t, false)
	rc := seedReportCampaign(t, e, e.b, `Saldi <script>alert("x")</script>`, nil)
	path := "/campaigns/" + strconv.FormatInt(rc.c.ID, 10)
	admin := e.signIn(t, e.b.admin)
	res, body := admin.get(path)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("report: %d", res.StatusCode)
	}
	_, rowsPage := admin.get(path + "?rows=1")
	_, fragment := admin.get(path + "/recipients")
	for _, body := range []string{body + rowsPage, rowsPage, fragment} {
		if strings.Contains(body, `<script>alert("x")</script>`) || strings.Contains(body, "<b>Bold</b>") {
			t.Fatal("a campaign or customer name reached the page unescaped")
		}
	}
	if !strings.Contains(body, "Saldi &lt;script&gt;") || !strings.Contains(rowsPage, "&lt;b&gt;Bold&lt;/b&gt;") || !strings.Contains(fragment, "&lt;b&gt;Bold&lt;/b&gt;") {
		t.Fatal("names missing from the report")
	}
	for step, want := range map[string]string{"sent": "4 (100.0%)", "delivered": "3 (75.0%)", "read": "2 (50.0%)",
		"replied": "1 (25.0%)", "clicked": "0 (0.0%)", "ordered": "0 (0.0%)"} {
		if !strings.Contains(body, `data-testid="funnel-`+step+`">`+want+`</text>`) {
			t.Errorf("funnel %s: want %q", step, want)
		}
	}
	// Five messages left at EUR 0.068 each, no revenue yet: all of it lost so far.
	if !strings.Contains(body, `data-testid="report-estimated">EUR 0.3400`) || !strings.Contains(body, `data-testid="report-roi">-100.0%`) {
		t.Error("estimated cost EUR 0.3400 and ROI -100.0% expected")
	}
	// The table is not on the page: htmx loads it after the counters, and
	// the no-JavaScript link shows the page with it (rows=1).
	if strings.Contains(body, `data-testid="report-row"`) || !strings.Contains(body, `hx-get="`+path+`/recipients"`) ||
		!strings.Contains(body, `href="`+path+`?rows=1"`) {
		t.Error("the report page should defer its recipient table to a fragment, with a no-JS link")
	}
	if _, frag := admin.get(path + "/recipients"); strings.Count(frag, `data-testid="report-row"`) != 6 || strings.Contains(frag, "<html") {
		t.Errorf("the recipients fragment: %d rows", strings.Count(frag, `data-testid="report-row"`))
	}
	if _, frag := admin.get(path + "/recipients?status=failed"); strings.Count(frag, `data-testid="report-row"`) != 1 {
		t.Error("the recipients fragment ignores the filter")
	}
	if res, _ := e.signIn(t, e.a.admin).get(path + "/recipients"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another business's admin read the recipients: %d", res.StatusCode)
	}
	path += "?rows=1"
	_, body = admin.get(path)
	if n := strings.Count(body, `data-testid="report-row"`); n != 6 {
		t.Errorf("%d recipient rows, want 6", n)
	}
	res, body = admin.get(path + "&status=failed")
	if n := strings.Count(body, `data-testid="report-row"`); res.StatusCode != 200 || n != 1 ||
		!strings.Contains(body, "<code>131049</code> Per-user marketing message cap") {
		t.Fatalf("failed filter: %d rows, status %d", n, res.StatusCode)
	}
	if _, body = admin.get(path + "&reason=marketing_opted_out"); strings.Count(body, `data-testid="report-row"`) != 1 || !strings.Contains(body, "Opted out of marketing") {
		t.Fatal("reason filter")
	}
	if _, body = admin.get(path + "&status=replied"); strings.Count(body, `data-testid="report-row"`) != 1 {
		t.Fatal("replied filter")
	}
	if res, _ := e.signIn(t, e.a.admin).get(path); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another business's admin: %d, want 404", res.StatusCode)
	}
	if res, _ := e.signIn(t, e.b.agent).get(path); res.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent: %d, want 403", res.StatusCode)
	}
	it := e.signIn(t, e.b.admin)
	it.post("/account/locale", map[string][]string{"locale": {"it"}})
	if _, body := it.get(path); !strings.Contains(body, "Imbuto") || !strings.Contains(body, "Ha rifiutato il marketing") {
		t.Fatal("the Italian report is not in Italian")
	}
}

// The CSV export holds every recipient of the filter, quoted, with formulas
// defused, and only for the business's own campaigns.
func TestCampaignRecipientsCSV(t *testing.T) {
	e := newUIEnv(t, false)
	rc := seedReportCampaign(t, e, e.b, "Saldi", nil)
	path := "/campaigns/" + strconv.FormatInt(rc.c.ID, 10) + "/recipients.csv"
	admin := e.signIn(t, e.b.admin)
	res, body := admin.get(path)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 7 || recs[0][0] != "recipient_id" {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}
	names := map[string]bool{}
	for _, r := range recs[1:] {
		names[r[2]] = true
	}
	if !names[`'=HYPERLINK("https://evil.example")`] || !names[`<b>Bold</b> "Rossi, Mario"`] {
		t.Fatalf("names in the CSV: %v", names)
	}
	if _, body := admin.get(path + "?status=failed"); strings.Count(body, "\n") != 2 || !strings.Contains(body, "131049,Per-user marketing message cap") {
		t.Fatalf("failed only:\n%s", body)
	}
	if res, _ := e.signIn(t, e.a.admin).get(path); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another business's admin: %d, want 404", res.StatusCode)
	}
}

func TestROI(t *testing.T) {
	for _, c := range []struct {
		revenue, actual, estimated int64
		finished                   bool
		want, on                   string
	}{
		{0, 0, 0, false, "—", ""},
		{20_000_000, 0, 10_000_000, false, "+100.0%", "estimated"},
		{5_000_000, 10_000_000, 8_000_000, true, "-50.0%", "actual"},
		// Running, Meta has charged 1 of the 8 estimated so far: the estimate stands.
		{5_000_000, 1_000_000, 8_000_000, false, "-37.5%", "estimated"},
		// Running, the charges already exceed the estimate: they stand.
		{5_000_000, 10_000_000, 8_000_000, false, "-50.0%", "actual"},
		// Finished, Meta charged less than estimated (free entry points): the charges.
		{5_000_000, 4_000_000, 8_000_000, true, "+25.0%", "actual"},
	} {
		if got, on := roi(c.revenue, c.actual, c.estimated, c.finished); got != c.want || on != c.on {
			t.Errorf("roi(%d, %d, %d, finished %v) = %s on %s, want %s on %s", c.revenue, c.actual, c.estimated, c.finished, got, on, c.want, c.on)
		}
	}
}

// A campaign's message in the customer's thread carries the campaign's name,
// so the replies below it read as answers to the campaign.
func TestCampaignBadgeInThread(t *testing.T) {
	e := newUIEnv(t, false)
	ctx := context.Background()
	c := &models.Campaign{BusinessID: e.b.biz.ID, ChannelID: e.b.channel.ID, Name: "Saldi <estivi>", TemplateName: "saldi", TemplateLanguage: "it", Currency: "EUR"}
	if err := e.store.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	sent := time.Now().Add(-20 * time.Minute)
	m := addMessageKind(t, e.store, e.b, e.b.thread.ID, "template", "Ciao! Saldi fino al 50%", "out", sent, nil)
	addMessage(t, e.store, e.b, "Quanto costa?", "in", sent.Add(time.Minute))
	if err := e.store.Gorm(ctx).Create(&models.CampaignRecipient{CampaignID: c.ID, IdentityID: &e.b.identity.ID, MessageID: &m.ID,
		ThreadID: &e.b.thread.ID, Status: models.RecipientSent, SentAt: &sent}).Error; err != nil {
		t.Fatal(err)
	}
	_, body := e.signIn(t, e.b.agent).get("/inbox/threads/" + strconv.FormatInt(e.b.thread.ID, 10))
	if strings.Count(body, `data-testid="campaign-badge"`) != 1 || !strings.Contains(body, "Campaign: Saldi &lt;estivi&gt;") {
		t.Fatal("the campaign's message carries no (escaped) campaign badge")
	}
}

// The API lists recipients as JSON pages, or as CSV for Accept: text/csv,
// scoped to the token's business.
func TestAPICampaignRecipients(t *testing.T) {
	e := newUIEnv(t, false)
	rc := seedReportCampaign(t, e, e.b, "Saldi", nil)
	path := e.http.URL + "/api/v1/campaigns/" + strconv.FormatInt(rc.c.ID, 10) + "/recipients"
	get := func(token, accept, query string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", path+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	token := apiToken(t, e, e.b)
	res, body := get(token, "", "?status=failed")
	var out struct {
		Recipients []struct {
			Status string `json:"status"`
			Error  *struct {
				Code  int    `json:"code"`
				Title string `json:"title"`
			} `json:"error"`
		} `json:"recipients"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || res.StatusCode != 200 || len(out.Recipients) != 1 ||
		out.Recipients[0].Error == nil || out.Recipients[0].Error.Code != 131049 {
		t.Fatalf("json: %d %s", res.StatusCode, body)
	}
	res, body = get(token, "text/csv", "")
	if recs, err := csv.NewReader(strings.NewReader(body)).ReadAll(); err != nil || res.StatusCode != 200 || len(recs) != 7 ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v %d records", res.StatusCode, err, len(recs))
	}
	for _, accept := range []string{"", "text/csv"} {
		if res, _ := get(apiToken(t, e, e.a), accept, ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("another business's token (Accept %q): %d, want 404", accept, res.StatusCode)
		}
	}
	if res, _ := get(token, "", "?status=bogus"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad status: %d", res.StatusCode)
	}
}

// retryOnly is a Campaigns whose only working method is RetryFailed.
type retryOnly struct {
	Campaigns
	asked []int64
	make  func(id int64) *models.Campaign
	err   error // what a retry answers, when set
}

func (r *retryOnly) RetryFailed(_ context.Context, _ int64, id int64, _ *int64) (*models.Campaign, error) {
	r.asked = append(r.asked, id)
	if r.err != nil {
		return nil, r.err
	}
	return r.make(id), nil
}

// Previews and Estimate: the editor a refused retry shows again has none.
func (r *retryOnly) Previews(context.Context, int64, int64, int) ([]jobs.Preview, error) {
	return nil, nil
}

func (r *retryOnly) Estimate(context.Context, int64, int64) (*jobs.Estimate, error) {
	return &jobs.Estimate{}, nil
}

// The report offers "retry failed after 24 h" when the per-user cap stopped
// someone; the button is the campaign's own retry action.
func TestCampaignReportRetry(t *testing.T) {
	e := newUIEnv(t, false)
	rc := seedReportCampaign(t, e, e.b, "Saldi", nil)
	follow := seedReportCampaign(t, e, e.b, "Saldi (retry 131049)", nil)
	fake := &retryOnly{make: func(int64) *models.Campaign { return follow.c }}
	e.srv.opts.Campaigns = fake
	admin := e.signIn(t, e.b.admin)
	path := "/campaigns/" + strconv.FormatInt(rc.c.ID, 10)
	if _, body := admin.get(path); !strings.Contains(body, `data-testid="report-retry"`) {
		t.Fatal("no retry button for a 131049 failure")
	}
	if res := admin.post(path+"/retry", nil); res.StatusCode != http.StatusSeeOther || len(fake.asked) != 1 || fake.asked[0] != rc.c.ID {
		t.Fatalf("retry: %d → %q, asked %v", res.StatusCode, res.Header.Get("Location"), fake.asked)
	}
	// Nobody left to retry (each already in a follow-up): said in the admin's language.
	fake.err = &models.FieldError{Field: "recipients", Message: "every recipient that failed with 131049 is already in a follow-up",
		Key: "campaign.retry_nothing"}
	if res := admin.post("/account/locale", url.Values{"locale": {"it"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("locale: %d", res.StatusCode)
	}
	res, body := admin.postBody(path+"/retry", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Nessuno da riprovare") {
		t.Fatalf("a retry with nobody left: %d %s", res.StatusCode, body)
	}
}

// The attribution window is edited on the report, 1–30 days, audited; a
// bad one is a field error and changes nothing; only the business's admins.
func TestCampaignAttributionWindow(t *testing.T) {
	e := newUIEnv(t, false)
	rc := seedReportCampaign(t, e, e.b, "Saldi", nil)
	path := "/campaigns/" + strconv.FormatInt(rc.c.ID, 10)
	admin := e.signIn(t, e.b.admin)
	if _, body := admin.get(path); !strings.Contains(body, `data-testid="attribution-days"`) || !strings.Contains(body, `value="7"`) {
		t.Fatal("no attribution window field showing the default 7 days")
	}
	for _, bad := range []string{"0", "31", "", "seven", "2.5"} {
		res, body := admin.postBody(path+"/attribution", url.Values{"attribution_days": {bad}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="attribution-error"`) ||
			!strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("window %q: %d, want 422 with the field error", bad, res.StatusCode)
		}
	}
	ctx := context.Background()
	if o, _ := e.store.CampaignOutcome(ctx, e.b.biz.ID, rc.c.ID); o.AttributionDays != 7 {
		t.Fatalf("a refused window changed it to %d", o.AttributionDays)
	}
	if res := admin.post(path+"/attribution", url.Values{"attribution_days": {"30"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save 30 days: %d", res.StatusCode)
	}
	if o, _ := e.store.CampaignOutcome(ctx, e.b.biz.ID, rc.c.ID); o.AttributionDays != 30 {
		t.Fatalf("window %d, want 30", o.AttributionDays)
	}
	evs, _ := e.store.AuditEvents(ctx, e.b.biz.ID, 5)
	if len(evs) == 0 || evs[0].Action != "campaign.attribution" || !strings.Contains(string(evs[0].After), "30") || !strings.Contains(string(evs[0].Before), "7") {
		t.Fatalf("no audit entry for the window: %+v", evs)
	}
	if res := e.signIn(t, e.a.admin).post(path+"/attribution", url.Values{"attribution_days": {"3"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another business's admin: %d, want 404", res.StatusCode)
	}
	if res := e.signIn(t, e.b.agent).post(path+"/attribution", url.Values{"attribution_days": {"3"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent: %d, want 403", res.StatusCode)
	}
	if o, _ := e.store.CampaignOutcome(ctx, e.b.biz.ID, rc.c.ID); o.AttributionDays != 30 {
		t.Fatalf("window %d after refused changes, want 30", o.AttributionDays)
	}
	it := e.signIn(t, e.b.admin)
	it.post("/account/locale", url.Values{"locale": {"it"}})
	if _, body := it.postBody(path+"/attribution", url.Values{"attribution_days": {"40"}}); !strings.Contains(body, "da 1 a 30") {
		t.Fatal("the Italian field error is not in Italian")
	}
}

// A dry run's recipients were judged and priced but nothing went: the table
// says so rather than leaving them "in the outbox" for good.
func TestCampaignReportDryRunRows(t *testing.T) {
	e := newUIEnv(t, false)
	rc := seedReportCampaign(t, e, e.b, "Prova", nil)
	ctx := context.Background()
	if err := e.store.Gorm(ctx).Exec(`UPDATE campaigns SET dry_run = true WHERE id = ?`, rc.c.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := e.store.Gorm(ctx).Exec(`UPDATE campaign_recipients SET status = 'queued', sent_at = NULL WHERE campaign_id = ? AND status = 'sent'`, rc.c.ID).Error; err != nil {
		t.Fatal(err)
	}
	_, body := e.signIn(t, e.b.admin).get("/campaigns/" + strconv.FormatInt(rc.c.ID, 10) + "/recipients")
	if !strings.Contains(body, "Would be sent (dry run)") || strings.Contains(body, `rs-queued"`) {
		t.Fatalf("a dry run's queued recipient: %s", body)
	}
}

// testOnly is a Campaigns that records test sends.
type testOnly struct {
	retryOnly
	sentTo []int64
}

func (f *testOnly) TestSend(_ context.Context, _ int64, _ int64, identityID int64) (*models.Message, error) {
	f.sentTo = append(f.sentTo, identityID)
	return &models.Message{ID: 1}, nil
}

// A test send goes to a WhatsApp number the admin types (their own phone),
// found among the channel's customers whatever its spacing; a number the
// channel does not know is a field error, kept as typed.
func TestCampaignTestSendToATypedNumber(t *testing.T) {
	e := newUIEnv(t, false)
	rc := seedReportCampaign(t, e, e.b, "Saldi", nil)
	ct := &models.Contact{BusinessID: e.b.biz.ID, Name: "Admin's phone"}
	if err := e.store.CreateContact(context.Background(), ct); err != nil {
		t.Fatal(err)
	}
	own := addIdentity(t, e.store, e.b, ct, "393331234567", ct.Name)
	fake := &testOnly{}
	e.srv.opts.Campaigns = fake
	admin := e.signIn(t, e.b.admin)
	path := "/campaigns/" + strconv.FormatInt(rc.c.ID, 10)
	if _, body := admin.get(path + "/edit"); !strings.Contains(body, `data-testid="campaign-test-phone"`) {
		t.Fatal("the editor offers no number for a test send")
	}
	if res := admin.post(path+"/test", url.Values{"test_phone": {"+39 333 123-4567"}}); res.StatusCode != http.StatusSeeOther ||
		len(fake.sentTo) != 1 || fake.sentTo[0] != own.ID {
		t.Fatalf("a test to a typed number: %d, sent to %v, want [%d]", res.StatusCode, fake.sentTo, own.ID)
	}
	res, body := admin.postBody(path+"/test", url.Values{"test_phone": {"0039 347 000 0000"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "No customer with that WhatsApp number") ||
		!strings.Contains(body, `value="0039 347 000 0000"`) || len(fake.sentTo) != 1 {
		t.Fatalf("a number the channel does not know: %d, sent to %v", res.StatusCode, fake.sentTo)
	}
}

// previewOnly is a Campaigns whose PreviewDraft answers what it is given.
type previewOnly struct {
	retryOnly
	got []jobs.CampaignInput
	ps  []jobs.Preview
	err error
}

func (f *previewOnly) PreviewDraft(_ context.Context, _ int64, in jobs.CampaignInput, _ int) ([]jobs.Preview, error) {
	f.got = append(f.got, in)
	return f.ps, f.err
}

// The editor's preview follows the form live: the form as typed is posted,
// the panel comes back with header, body and links (escaped); a form not
// complete enough says what it needs.
func TestCampaignPreviewFollowsTheForm(t *testing.T) {
	e := newUIEnv(t, false)
	fake := &previewOnly{ps: []jobs.Preview{{IdentityID: 1, Name: "Giulia", Header: "<b>Saldi</b>", Text: "Ciao Giulia, codice SALDI20",
		Links: []jobs.PreviewLink{{Text: "Vai", URL: "https://shop.example/c/x"}}}}}
	e.srv.opts.Campaigns = fake
	admin := e.signIn(t, e.b.admin)
	if _, body := admin.get("/campaigns/new"); !strings.Contains(body, `hx-post="/campaigns/preview"`) || !strings.Contains(body, `data-testid="preview-incomplete"`) {
		t.Fatal("the new campaign's page has no live preview waiting for the form")
	}
	form := url.Values{"name": {"Saldi"}, "channel_id": {id(e.b.channel.ID)}, "template": {"saldi|it"}, "var_0": {"{first_name|cliente}"}, "time_zone": {"Europe/Rome"}}
	res, body := admin.postBody("/campaigns/preview", form)
	if res.StatusCode != http.StatusOK || len(fake.got) != 1 || fake.got[0].Variables[0] != "{first_name|cliente}" || fake.got[0].Template.Name != "saldi" {
		t.Fatalf("preview: %d, asked %+v", res.StatusCode, fake.got)
	}
	for _, want := range []string{`id="campaign-preview"`, "&lt;b&gt;Saldi&lt;/b&gt;", "Ciao Giulia, codice SALDI20", "https://shop.example/c/x"} {
		if !strings.Contains(body, want) {
			t.Errorf("the preview lacks %s", want)
		}
	}
	if strings.Contains(body, "<b>Saldi</b>") || strings.Contains(body, "<html") {
		t.Error("the preview is not an escaped fragment")
	}
	fake.err, fake.ps = &models.FieldError{Field: "template", Message: "choose one"}, nil
	if _, body := admin.postBody("/campaigns/preview", form); !strings.Contains(body, `data-testid="preview-incomplete"`) {
		t.Error("an incomplete form's preview does not say what it needs")
	}
	if res := e.signIn(t, e.b.agent).post("/campaigns/preview", form); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
		t.Errorf("an agent's preview: %d", res.StatusCode)
	}
}
