package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

func id(n int64) string { return strconv.FormatInt(n, 10) }

func TestSignInSetsSecureSessionAndRenewsToken(t *testing.T) {
	e := newUIEnv(t, false)
	c := e.client(t)
	res, _ := c.get("/login")
	if res.StatusCode != 200 {
		t.Fatalf("login page: %d", res.StatusCode)
	}
	before := cookieValue(res, "switchboard_session")
	res = c.post("/login", url.Values{"email": {e.a.agent.Email}, "password": {testPassword}, "next": {"/inbox"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inbox" {
		t.Fatalf("sign in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var ck *http.Cookie
	for _, k := range res.Cookies() {
		if k.Name == "switchboard_session" {
			ck = k
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Value == before {
		t.Fatalf("session cookie %+v (before %q)", ck, before)
	}
	res = c.post("/login", url.Values{"email": {"evil.example/"}, "password": {"x"}, "next": {"//evil.example"}})
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad password: %d", res.StatusCode)
	}
}

func cookieValue(res *http.Response, name string) string {
	for _, k := range res.Cookies() {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

func TestSecureCookieFlagWithHTTPSBaseURL(t *testing.T) {
	e := newUIEnv(t, false)
	srv := New(e.store, e.srv.log, Options{SecureCookies: true, Argon2: cheapArgon2})
	if !srv.sessions.Cookie.Secure || !srv.sessions.Cookie.HttpOnly {
		t.Fatal("cookie flags not set")
	}
}

func TestLoginThrottledPerAddressAndIP(t *testing.T) {
	e := newUIEnv(t, false)
	c := e.client(t)
	for i := 0; i < 10; i++ {
		if res := c.post("/login", url.Values{"email": {e.a.agent.Email}, "password": {"wrong"}}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	res := c.post("/login", url.Values{"email": {e.a.agent.Email}, "password": {testPassword}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("11th attempt: %d, want 429", res.StatusCode)
	}
	// Another address from the same IP is throttled too (per IP).
	res = c.post("/login", url.Values{"email": {e.b.agent.Email}, "password": {testPassword}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("same IP, other address: %d, want 429", res.StatusCode)
	}
}

func TestRolesGateSections(t *testing.T) {
	e := newUIEnv(t, true)
	anon := e.client(t)
	if res, _ := anon.get("/inbox"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous inbox: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	cases := []struct {
		user *models.User
		path string
		want int
	}{
		{e.a.agent, "/inbox", 200}, {e.a.agent, "/inbox/closing", 200}, {e.a.agent, "/products", 403}, {e.a.agent, "/settings/channels", 403},
		{e.a.staff, "/inbox", 403}, {e.a.staff, "/products", 200}, {e.a.staff, "/settings/users", 403}, {e.a.staff, "/ws", 403},
		{e.a.admin, "/inbox", 200}, {e.a.admin, "/products", 200}, {e.a.admin, "/settings/channels", 200},
		{e.a.admin, "/settings/users", 200}, {e.a.admin, "/settings/tokens", 200}, {e.a.admin, "/settings/replies", 200},
		{e.a.admin, "/settings/webhooks", 200}, {e.a.agent, "/account", 200}, {e.a.staff, "/account", 200},
	}
	clients := map[*models.User]*client{}
	for _, tc := range cases {
		c := clients[tc.user]
		if c == nil {
			c = e.signIn(t, tc.user)
			clients[tc.user] = c
		}
		if res, _ := c.get(tc.path); res.StatusCode != tc.want {
			t.Errorf("%s GET %s: %d, want %d", tc.user.Email, tc.path, res.StatusCode, tc.want)
		}
	}
	if res, _ := clients[e.a.staff].get("/"); res.Header.Get("Location") != "/products" {
		t.Errorf("staff home goes to %q", res.Header.Get("Location"))
	}
}

func TestAnotherBusinessIDsAnswer404Everywhere(t *testing.T) {
	e := newUIEnv(t, true)
	c := e.signIn(t, e.a.admin)
	b := e.b
	gets := []string{
		"/inbox/threads/" + id(b.thread.ID),
		"/inbox/threads/" + id(b.thread.ID) + "/composer",
		"/contacts/" + id(b.contact.ID),
		"/ws?thread=" + id(b.thread.ID),
	}
	for _, p := range gets {
		if res, body := c.get(p); res.StatusCode != http.StatusNotFound || strings.Contains(body, "Beta") {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
	posts := map[string]url.Values{
		"/inbox/threads/" + id(b.thread.ID) + "/messages":   {"text": {"hi"}},
		"/inbox/threads/" + id(b.thread.ID) + "/notes":      {"body": {"x"}},
		"/inbox/threads/" + id(b.thread.ID) + "/status":     {"status": {"closed"}},
		"/inbox/threads/" + id(b.thread.ID) + "/assign":     {"assignee_id": {""}},
		"/inbox/threads/" + id(b.thread.ID) + "/labels":     {"new_label": {"vip"}},
		"/inbox/messages/" + id(b.message.ID) + "/retry":    {},
		"/contacts/" + id(b.contact.ID) + "/merge":          {"other": {id(e.a.contact.ID)}},
		"/contacts/" + id(e.a.contact.ID) + "/merge":        {"other": {id(b.contact.ID)}},
		"/identities/" + id(b.identity.ID) + "/block":       {"blocked": {"1"}},
		"/settings/channels/" + id(b.channel.ID) + "/token": {"access_token": {"new"}},
		"/settings/users/" + id(b.agent.ID) + "/role":       {"role": {"admin"}},
	}
	for p, form := range posts {
		if res := c.post(p, form); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d", p, res.StatusCode)
		}
	}
	if got := e.outbox.sends(); len(got) != 0 {
		t.Errorf("a send for another business reached the outbox: %+v", got)
	}
	th, _ := e.store.Thread(context.Background(), b.biz.ID, b.thread.ID)
	if th.Status != models.ThreadOpen {
		t.Errorf("B's thread changed to %s", th.Status)
	}
	ident, _ := e.store.Identity(context.Background(), b.biz.ID, b.identity.ID)
	if ident.BlockedAt != nil {
		t.Error("B's identity was blocked")
	}
}

func TestAPIReadsScopedToToken(t *testing.T) {
	e := newUIEnv(t, false)
	ctx := context.Background()
	token, _, err := e.store.CreateAPIToken(ctx, e.a.biz.ID, "ci")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", e.http.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	code, body := get("/api/v1/threads")
	threads, _ := body["threads"].([]any)
	if code != 200 || len(threads) != 1 || body["next_cursor"] != nil {
		t.Fatalf("threads: %d %v", code, body)
	}
	th := threads[0].(map[string]any)
	for _, k := range []string{"id", "kind", "apps", "title", "status", "assignee_id", "last_message_at", "unread_count", "participants"} {
		if _, ok := th[k]; !ok {
			t.Errorf("thread lacks %q", k)
		}
	}
	if code, _ := get("/api/v1/threads?app=whatsapp"); code != 200 {
		t.Errorf("filter by app: %d", code)
	}
	if code, _ := get("/api/v1/threads?app=telegram"); code != 400 {
		t.Errorf("bad app: %d", code)
	}
	if code, _ := get("/api/v1/threads?cursor=zzz"); code != 400 {
		t.Errorf("bad cursor: %d", code)
	}
	if code, body := get("/api/v1/threads/" + id(e.a.thread.ID)); code != 200 || body["title"] != e.a.thread.Title {
		t.Errorf("thread: %d %v", code, body)
	}
	code, body = get("/api/v1/threads/" + id(e.a.thread.ID) + "/messages")
	msgs, _ := body["messages"].([]any)
	if code != 200 || len(msgs) != 1 || msgs[0].(map[string]any)["text"] != "Hello from Alpha" {
		t.Errorf("messages: %d %v", code, body)
	}
	code, body = get("/api/v1/contacts/" + id(e.a.contact.ID))
	if ids, _ := body["identities"].([]any); code != 200 || len(ids) != 1 {
		t.Errorf("contact: %d %v", code, body)
	}
	for _, p := range []string{"/api/v1/threads/" + id(e.b.thread.ID), "/api/v1/threads/" + id(e.b.thread.ID) + "/messages",
		"/api/v1/contacts/" + id(e.b.contact.ID), "/api/v1/threads/nope"} {
		if code, body := get(p); code != 404 || body["error"] == nil {
			t.Errorf("%s: %d %v", p, code, body)
		}
	}
	token = ""
	if code, _ := get("/api/v1/threads"); code != 401 {
		t.Errorf("no token: %d", code)
	}
}

func TestAPIThreadsKeysetPages(t *testing.T) {
	e := newUIEnv(t, false)
	ctx := context.Background()
	for i := 0; i < 55; i++ {
		c := &models.Contact{BusinessID: e.a.biz.ID, Name: "P" + id(int64(i))}
		if err := e.store.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		ident := addIdentity(t, e.store, e.a, c, "psid-"+id(int64(i)), c.Name)
		if _, _, err := e.store.EnsureDirectThread(ctx, ident, time.Now().Add(-time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	token, _, _ := e.store.CreateAPIToken(ctx, e.a.biz.ID, "ci")
	seen := map[float64]bool{}
	cursor := ""
	for pages := 0; pages < 5; pages++ {
		req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/threads?cursor="+url.QueryEscape(cursor), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Threads []struct {
				ID float64 `json:"id"`
			} `json:"threads"`
			NextCursor *string `json:"next_cursor"`
		}
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		for _, th := range body.Threads {
			if seen[th.ID] {
				t.Fatalf("thread %v twice", th.ID)
			}
			seen[th.ID] = true
		}
		if body.NextCursor == nil {
			break
		}
		cursor = *body.NextCursor
	}
	if len(seen) != 56 {
		t.Fatalf("saw %d threads, want 56", len(seen))
	}
}

func TestDisplayNameAndTextAreEscaped(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	evil := `<script>alert("x")</script>`
	c := &models.Contact{BusinessID: e.a.biz.ID, Name: evil}
	if err := e.store.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	ident := addIdentity(t, e.store, e.a, c, "psid-evil", evil)
	th, _, err := e.store.EnsureDirectThread(ctx, ident, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addMessageKind(t, e.store, e.a, th.ID, "text", `<img src=x onerror=alert(1)> `+evil, "in", time.Now(), nil)
	addMessageKind(t, e.store, e.a, th.ID, "image", "", "in", time.Now(), nil)
	e.outbox.setDecisions(openWindow(ident.ID, policy.AppMessenger))
	cl := e.signIn(t, e.a.agent)
	for _, p := range []string{"/inbox", "/inbox/threads/" + id(th.ID), "/contacts/" + id(c.ID)} {
		res, body := cl.get(p)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", p, res.StatusCode)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: unescaped customer content", p)
		}
		if !strings.Contains(body, "&lt;script&gt;alert") {
			t.Errorf("%s: escaped name missing", p)
		}
	}
}

func TestInboxFiltersSearchAndPagination(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	c := &models.Contact{BusinessID: e.a.biz.ID, Name: "Marta Rossi"}
	_ = e.store.CreateContact(ctx, c)
	ident := addIdentity(t, e.store, e.a, c, "psid-marta", c.Name)
	th, _, _ := e.store.EnsureDirectThread(ctx, ident, time.Now())
	addMessageKind(t, e.store, e.a, th.ID, "text", "Avete la borsa verde?", "in", time.Now(), nil)
	cl := e.signIn(t, e.a.agent)
	_, body := cl.get("/inbox?q=borsa")
	if !strings.Contains(body, "Marta Rossi") || strings.Contains(body, "Customer of Alpha") {
		t.Errorf("search did not narrow the list")
	}
	_, body = cl.get("/inbox?app=whatsapp")
	if strings.Contains(body, "Marta Rossi") {
		t.Error("app filter ignored")
	}
	if _, body = cl.get("/inbox?status=closed"); strings.Contains(body, "Marta Rossi") {
		t.Error("status filter ignored")
	}
	if _, body = cl.get("/inbox?unread=1"); !strings.Contains(body, "Marta Rossi") {
		t.Error("unread filter lost an unread thread")
	}
	if res, _ := cl.get("/inbox?cursor=zzz"); res.StatusCode != 400 {
		t.Errorf("bad cursor: %d", res.StatusCode)
	}
	// Opening a thread marks it read.
	if res, _ := cl.get("/inbox/threads/" + id(th.ID)); res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	got, _ := e.store.Thread(ctx, e.a.biz.ID, th.ID)
	if got.UnreadCount != 0 {
		t.Errorf("unread %d after reading", got.UnreadCount)
	}
}

func TestClosingViewOrdersByWindowEnd(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	mk := func(name string, ago time.Duration, status string) *models.Thread {
		c := &models.Contact{BusinessID: e.a.biz.ID, Name: name}
		_ = e.store.CreateContact(ctx, c)
		ident := addIdentity(t, e.store, e.a, c, "psid-"+name, name)
		th, _, _ := e.store.EnsureDirectThread(ctx, ident, time.Now().Add(-ago))
		addMessageKind(t, e.store, e.a, th.ID, "text", "hi", "in", time.Now().Add(-ago), nil)
		if status != "open" {
			_ = e.store.UpdateThread(ctx, e.a.biz.ID, th.ID, models.ThreadUpdate{Status: &status})
		}
		return th
	}
	mk("Soon", 23*time.Hour, "open")
	mk("Later", 2*time.Hour, "open")
	mk("Expired", 30*time.Hour, "open")
	mk("Closed", 20*time.Hour, "closed")
	cl := e.signIn(t, e.a.agent)
	_, body := cl.get("/inbox/closing")
	soon, later := strings.Index(body, ">Soon<"), strings.Index(body, ">Later<")
	if soon < 0 || later < 0 || soon > later {
		t.Errorf("closing order wrong: soon=%d later=%d", soon, later)
	}
	if strings.Contains(body, ">Expired<") || strings.Contains(body, ">Closed<") {
		t.Error("closing view lists a thread whose window is gone or that is closed")
	}
}

func TestLanguageFollowsUserSetting(t *testing.T) {
	e := newUIEnv(t, false)
	cl := e.signIn(t, e.a.agent)
	if res := cl.post("/account/locale", url.Values{"locale": {"it"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set locale: %d", res.StatusCode)
	}
	_, body := cl.get("/inbox")
	if !strings.Contains(body, "Posta in arrivo") || !strings.Contains(body, `lang="it"`) {
		t.Error("inbox not in Italian")
	}
	if res := cl.post("/account/locale", url.Values{"locale": {"xx"}}); res.StatusCode != 400 {
		t.Errorf("bad locale: %d", res.StatusCode)
	}
}
