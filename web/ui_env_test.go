package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/policy"
)

// cheapArgon2 keeps tests fast; production uses DefaultArgon2.
var cheapArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1}

const testPassword = "correct horse battery"

// uiBiz is one business with a user per role, a channel, a contact with
// its identity, and their direct thread.
type uiBiz struct {
	biz      *models.Business
	admin    *models.User
	agent    *models.User
	staff    *models.User
	channel  *models.Channel
	contact  *models.Contact
	identity *models.Identity
	thread   *models.Thread
	message  *models.Message
}

type uiEnv struct {
	store  *models.Store
	srv    *Server
	http   *httptest.Server
	outbox *fakeOutbox
	a, b   uiBiz
}

// newUIEnv starts a server on a fresh database with two businesses.
func newUIEnv(t testing.TB, withOutbox bool) *uiEnv {
	t.Helper()
	store := modelstest.NewStore(t)
	e := &uiEnv{store: store}
	opts := Options{BaseURL: "https://inbox.example", Argon2: cheapArgon2}
	if withOutbox {
		e.outbox = &fakeOutbox{}
		opts.Outbox = e.outbox
	}
	e.srv = New(store, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	e.http = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.http.Close)
	e.a = seedBiz(t, store, "Alpha", models.AppMessenger, "page-a")
	e.b = seedBiz(t, store, "Beta", models.AppWhatsApp, "phone-b")
	return e
}

func seedBiz(t testing.TB, s *models.Store, name, app, account string) uiBiz {
	t.Helper()
	ctx := context.Background()
	var b uiBiz
	var err error
	if b.biz, err = s.CreateBusiness(ctx, name); err != nil {
		t.Fatal(err)
	}
	hash, err := HashPassword(testPassword, cheapArgon2)
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(name)
	for _, u := range []struct {
		dst  **models.User
		role string
	}{{&b.admin, "admin"}, {&b.agent, "agent"}, {&b.staff, "staff"}} {
		if *u.dst, err = s.CreateUser(ctx, b.biz.ID, u.role+"@"+lower+".test", name+" "+u.role, hash, u.role); err != nil {
			t.Fatal(err)
		}
	}
	if b.channel, err = s.CreateChannel(ctx, models.NewChannel{BusinessID: b.biz.ID, App: app, AccountID: account,
		AccessToken: "tok", AppSecret: "sec", VerifyToken: "verify-" + account}); err != nil {
		t.Fatal(err)
	}
	b.contact = &models.Contact{BusinessID: b.biz.ID, Name: "Customer of " + name}
	if err := s.CreateContact(ctx, b.contact); err != nil {
		t.Fatal(err)
	}
	b.identity = addIdentity(t, s, b, b.contact, "user-"+account, b.contact.Name)
	if b.thread, _, err = s.EnsureDirectThread(ctx, b.identity, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	b.message = addMessage(t, s, b, "Hello from "+name, "in", time.Now().Add(-30*time.Minute))
	return b
}

func addIdentity(t testing.TB, s *models.Store, b uiBiz, c *models.Contact, ext, display string) *models.Identity {
	t.Helper()
	id := &models.Identity{BusinessID: b.biz.ID, ContactID: c.ID, ChannelID: b.channel.ID, App: b.channel.App,
		ExternalID: ext, DisplayName: display}
	if err := s.CreateIdentity(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	return id
}

var extSeq struct {
	sync.Mutex
	n int
}

func nextExt() string {
	extSeq.Lock()
	defer extSeq.Unlock()
	extSeq.n++
	return "mid." + strconv.Itoa(extSeq.n) + "." + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// addMessage stores a message the way ingest does (AddMessage in a transaction, which notifies).
func addMessage(t testing.TB, s *models.Store, b uiBiz, text, dir string, at time.Time) *models.Message {
	t.Helper()
	return addMessageKind(t, s, b, b.thread.ID, "text", text, dir, at, nil)
}

func addMessageKind(t testing.TB, s *models.Store, b uiBiz, threadID int64, kind, text, dir string, at time.Time, details []byte) *models.Message {
	t.Helper()
	ext := nextExt()
	status := models.StatusReceived
	m := &models.Message{BusinessID: b.biz.ID, ThreadID: threadID, ChannelID: &b.channel.ID, Direction: dir,
		App: b.channel.App, Kind: kind, ExternalID: &ext, Text: text, SentAt: at, Status: status, Details: details}
	if dir == "in" {
		m.SenderIdentityID = &b.identity.ID
	} else {
		m.Status = models.StatusSent
	}
	err := s.InTx(context.Background(), func(tx *models.Store) error {
		_, err := tx.AddMessage(context.Background(), m, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// client is a signed-in browser stand-in with its own cookie jar.
type client struct {
	t    testing.TB
	http *http.Client
	base string
}

func (e *uiEnv) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: e.http.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signIn returns a client signed in as u.
func (e *uiEnv) signIn(t testing.TB, u *models.User) *client {
	t.Helper()
	c := e.client(t)
	res := c.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d", u.Email, res.StatusCode)
	}
	return c
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) *http.Response {
	c.t.Helper()
	res, _ := c.postBody(path, form)
	return res
}

func (c *client) postBody(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// fakeOutbox stands in for jobs.Outbox: it answers with a set decision and
// records what reached it.
type fakeOutbox struct {
	mu        sync.Mutex
	decisions []policy.Decision
	refuse    *policy.Decision
	sent      []jobs.SendRequest
	retried   []int64
}

func (o *fakeOutbox) setDecisions(ds ...policy.Decision) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.decisions = ds
}

func (o *fakeOutbox) Decisions(ctx context.Context, businessID, threadID int64) ([]policy.Decision, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]policy.Decision(nil), o.decisions...), nil
}

func (o *fakeOutbox) Send(ctx context.Context, req jobs.SendRequest) (*models.Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.refuse != nil {
		return nil, &jobs.RefusedError{Decision: *o.refuse}
	}
	o.sent = append(o.sent, req)
	return &models.Message{ThreadID: req.ThreadID, Status: models.StatusQueued, Text: req.Text}, nil
}

func (o *fakeOutbox) Retry(ctx context.Context, businessID, messageID int64) (*models.Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retried = append(o.retried, messageID)
	return &models.Message{ID: messageID, Status: models.StatusQueued}, nil
}

func (o *fakeOutbox) retries() []int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]int64(nil), o.retried...)
}

func (o *fakeOutbox) sends() []jobs.SendRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]jobs.SendRequest(nil), o.sent...)
}

// openWindow is the engine's answer inside the 24-hour window.
func openWindow(identityID int64, app policy.App) policy.Decision {
	return policy.Decision{IdentityID: identityID, App: app, Allowed: true, MessagingType: policy.MessagingResponse,
		Reason: policy.ReasonOK, ExpiresAt: time.Now().Add(20 * time.Hour)}
}

// waTemplateOnly is WhatsApp outside the window: only a template.
func waTemplateOnly(identityID int64) policy.Decision {
	return policy.Decision{IdentityID: identityID, App: policy.AppWhatsApp, Reason: policy.ReasonTemplateRequired,
		Options: policy.OptionTemplate}
}
