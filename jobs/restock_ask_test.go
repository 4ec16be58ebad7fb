package jobs_test

import (
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
	"github.com/switchboard-inbox/switchboard/web"
)

const agentPassword = "correct horse battery staple"

// agentUI signs an agent of the test's business in to the web UI.
func (e *env) agentUI() (*http.Client, *models.User) {
	e.t.Helper()
	hash, err := web.HashPassword(agentPassword, web.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.store.CreateUser(e.ctx, e.biz.ID, "agent@bottega.test", "Bottega agent", hash, "agent")
	if err != nil {
		e.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if res := e.form(c, "/login", url.Values{"email": {u.Email}, "password": {agentPassword}}); res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign in: %d", res.StatusCode)
	}
	return c, u
}

func (e *env) form(c *http.Client, path string, v url.Values) *http.Response {
	e.t.Helper()
	res, err := c.PostForm(e.api.URL+path, v)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res
}

func (e *env) page(c *http.Client, path string) string {
	e.t.Helper()
	res, err := c.Get(e.api.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func (e *env) waiting(c *customer, p *models.Product) int64 {
	e.t.Helper()
	var n int64
	if err := e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM restock_waitlist WHERE identity_id = ? AND product_id = ?`,
		c.identity.ID, p.ID).Scan(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// The thread's "Ask: Notify me" where there is no OTN: a quick reply (a reply
// button on WhatsApp) whose payload is restock:<SKU>; the customer's tap puts
// them on the waitlist, once.
func TestRestockAskByQuickReply(t *testing.T) {
	e := newEnv(t, nil)
	p := e.product("GB-1", "Giacca blu", 0)
	agent, _ := e.agentUI()
	for _, app := range []string{models.AppMessenger, models.AppInstagram, models.AppWhatsApp} {
		c := e.customer(app, users[app], testNow.Add(-time.Hour))
		path := "/inbox/threads/" + strconv.FormatInt(c.thread.ID, 10)
		if body := e.page(agent, path); !strings.Contains(body, `data-testid="restock-ask"`) {
			t.Fatalf("%s: the thread does not offer asking", app)
		}
		if res := e.form(agent, path+"/restock", url.Values{"sku": {"GB-1"}, "mode": {"ask"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s ask: %d", app, res.StatusCode)
		}
		s := e.waitSend(c, "Giacca blu")
		choices := metasim.ChoicesOf(s)
		want := "Notify me"
		if app == models.AppWhatsApp { // a +39 number: the customer reads Italian
			want = "Avvisami"
		}
		if len(choices) != 1 || choices[0].ID != "restock:GB-1" || choices[0].Title != want {
			t.Fatalf("%s choices %+v in %s", app, choices, s.Raw)
		}
		if app == models.AppWhatsApp && dig(s.Body(), "interactive.type") != "button" {
			t.Fatalf("WhatsApp: not a reply button: %s", s.Raw)
		}
		var m models.Message
		e.store.Gorm(e.ctx).Where("thread_id = ? AND direction = 'out' AND kind = 'text'", c.thread.ID).Order("id DESC").Limit(1).Find(&m)
		if m.ID == 0 || m.AuthorUserID == nil {
			t.Fatalf("%s: the ask is not the agent's message in the thread: %+v", app, m)
		}
		e.waitStatus(m.ID, "sent", "delivered", "read")
		e.tap(c, s, 0)
		e.tap(c, s, 0) // a double tap makes one entry
		e.waitFor(app+" waitlist entry", func() bool { return e.waiting(c, p) == 1 })
		time.Sleep(200 * time.Millisecond)
		if n := e.waiting(c, p); n != 1 {
			t.Fatalf("%s: %d waitlist entries after two taps", app, n)
		}
		var source string
		e.store.Gorm(e.ctx).Raw(`SELECT source FROM restock_waitlist WHERE identity_id = ?`, c.identity.ID).Scan(&source)
		if source != "quick_reply" && source != "button" {
			t.Fatalf("%s: source %q", app, source)
		}
	}
}

// Outside the window the ask is refused by the policy with its reason and
// nothing reaches Meta.
func TestRestockAskOutsideTheWindow(t *testing.T) {
	e := newEnv(t, nil)
	e.product("GB-1", "Giacca blu", 0)
	agent, u := e.agentUI()
	for _, app := range []string{models.AppMessenger, models.AppInstagram, models.AppWhatsApp} {
		c := e.customer(app, users[app], testNow.Add(-10*24*time.Hour))
		before := len(e.sendsOf(c.account))
		// The request the thread's ask makes, straight to the outbox: the policy says why not.
		uid := u.ID
		_, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, AuthorUserID: &uid,
			Text: "Shall we tell you?", QuickReplies: []string{"Notify me"}, ChoiceIDs: []string{"restock:GB-1"}})
		var refused *jobs.RefusedError
		if !errors.As(err, &refused) || refused.Decision.Allowed || refused.Decision.Reason == "" {
			t.Fatalf("%s: %v, want a policy refusal with its reason", app, err)
		}
		t.Logf("%s: refused, %s", app, refused.Decision.Reason)
		// Through the thread: the agent sees the reason.
		path := "/inbox/threads/" + strconv.FormatInt(c.thread.ID, 10)
		if res := e.form(agent, path+"/restock", url.Values{"sku": {"GB-1"}, "mode": {"ask"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s ask: %d", app, res.StatusCode)
		}
		why := html.EscapeString(views.T(e.ctx, "reason."+string(refused.Decision.Reason)))
		if body := e.page(agent, path); !strings.Contains(body, why) {
			t.Fatalf("%s: the refusal %q is not shown", app, why)
		}
		var n int64
		e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM messages WHERE thread_id = ? AND direction = 'out'`, c.thread.ID).Scan(&n)
		time.Sleep(100 * time.Millisecond)
		if n != 0 || len(e.sendsOf(c.account)) != before {
			t.Fatalf("%s: %d messages queued, %d sends, after refusals", app, n, len(e.sendsOf(c.account))-before)
		}
	}
}

// Choice payloads must match the quick replies one for one.
func TestChoiceIDsMustMatchQuickReplies(t *testing.T) {
	e := newEnv(t, nil)
	c := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-time.Hour))
	_, u := e.agentUI()
	uid := u.ID
	for _, ids := range [][]string{{"a", "b"}, {" "}} {
		_, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, AuthorUserID: &uid,
			Text: "Which?", QuickReplies: []string{"One"}, ChoiceIDs: ids})
		var invalid *jobs.InvalidError
		if !errors.As(err, &invalid) || !strings.HasPrefix(invalid.Message, "choice_ids") {
			t.Fatalf("%q: %v", ids, err)
		}
	}
}
