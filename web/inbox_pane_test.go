package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// paneGet asks for path as a row's link in an inbox on screen does.
func (c *client) paneGet(path string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Boosted", "true")
	req.Header.Set("HX-Target", "thread-pane")
	req.Header.Set("HX-Current-URL", c.base+"/inbox")
	return c.do(req)
}

// TestThreadPaneResponse: a row's click gets the thread's pane and what
// follows it out of band (contacts, socket, title, its row), never the
// list; the thread is read; the full page is still there for a link, a
// reload and history.
func TestThreadPaneResponse(t *testing.T) {
	e := newUIEnv(t, true)
	addMessage(t, e.store, e.a, "Avete la taglia 42?", "in", time.Now())
	c := e.signIn(t, e.a.agent)
	path := "/inbox/threads/" + id(e.a.thread.ID)

	res, body := c.paneGet(path + "?unread=1")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("pane: status %d", res.StatusCode)
	}
	if vary := strings.Join(res.Header.Values("Vary"), ", "); !strings.Contains(vary, "HX-Target") {
		t.Errorf("pane: Vary %q, want HX-Target in it", vary)
	}
	for _, want := range []string{
		`id="thread-pane"`, "Avete la taglia 42?", "<title>Customer of Alpha · Switchboard</title>",
		`id="contact-panel"`, `hx-swap-oob="true"`, `id="live-socket"`,
		"ws-connect=\"/ws?", "thread=" + id(e.a.thread.ID),
		// Read now, it has left the list of unread threads on screen.
		`id="thread-row-` + id(e.a.thread.ID) + `" class="thread-row current" data-testid="thread-row" data-thread-id="` + id(e.a.thread.ID) + `" hx-swap-oob="delete"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("pane lacks %q", want)
		}
	}
	for _, not := range []string{`id="thread-list"`, "<html", "list-heading"} {
		if strings.Contains(body, not) {
			t.Errorf("pane has %q: the list was rendered", not)
		}
	}
	if th, _ := e.store.Thread(t.Context(), e.a.biz.ID, e.a.thread.ID); th.UnreadCount != 0 {
		t.Errorf("unread %d after the pane, want 0", th.UnreadCount)
	}

	// In the list of all open threads the row stays, current and read.
	_, body = c.paneGet(path)
	if !strings.Contains(body, `class="thread-row current" data-testid="thread-row" data-thread-id="`+id(e.a.thread.ID)+`" hx-swap-oob="true"`) {
		t.Error("pane: the row is not sent as current, in place")
	}
	if strings.Contains(body, "unread-count") {
		t.Error("pane: the opened row still counts unread messages")
	}
	// The link says where its thread goes: a live update may replace the
	// row (and detach the link) while the click's request is in flight.
	if !strings.Contains(body, `class="row-link" hx-target="#thread-pane" hx-swap="outerHTML" hx-push-url="true"`) {
		t.Error("pane: the row's link does not carry its target and swap")
	}

	// The same URL without htmx, or restoring history, is the whole page.
	for _, hdr := range []map[string]string{nil, {"HX-Request": "true", "HX-Target": "thread-pane", "HX-History-Restore-Request": "true"}} {
		req, _ := http.NewRequest("GET", c.base+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		_, body := c.do(req)
		if !strings.Contains(body, `id="thread-list"`) || !strings.Contains(body, "<html") {
			t.Errorf("headers %v: want the whole page", hdr)
		}
	}

	// Another business's thread, and a tampered cursor, as for the page.
	if res, _ := c.paneGet("/inbox/threads/" + id(e.b.thread.ID)); res.StatusCode != http.StatusNotFound {
		t.Errorf("another business's thread: status %d, want 404", res.StatusCode)
	}
	if res, _ := c.paneGet(path + "?cursor=not-a-cursor"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("tampered cursor: status %d, want 400", res.StatusCode)
	}
}

// TestPaneSignedOut: a pane asked for after the session ended sends the
// whole window to sign in (htmx follows HX-Redirect), and back after.
func TestPaneSignedOut(t *testing.T) {
	e := newUIEnv(t, true)
	c := e.client(t)
	res, _ := c.paneGet("/inbox/threads/" + id(e.a.thread.ID))
	want := "/login?next=" + url.QueryEscape("/inbox/threads/"+id(e.a.thread.ID))
	if got := res.Header.Get("HX-Redirect"); got != want {
		t.Errorf("HX-Redirect %q (status %d), want %q", got, res.StatusCode, want)
	}
}

// TestReadShowsInEveryInbox: when one agent opens an unread thread, every
// other agent's list shows it read, live (it showed unread until a reload).
func TestReadShowsInEveryInbox(t *testing.T) {
	e := newUIEnv(t, false)
	startLive(t, e)
	addMessage(t, e.store, e.a, "Any news on my order?", "in", time.Now())
	since := "&since=" + id(time.Now().Add(time.Minute).UnixMilli()) // nothing missed: no resync frames
	other, _, err := e.signIn(t, e.a.admin).dialWS("/ws?status=open" + since)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	waitClients(t, e, 1)

	if res, _ := e.signIn(t, e.a.agent).paneGet("/inbox/threads/" + id(e.a.thread.ID)); res.StatusCode != http.StatusOK {
		t.Fatalf("pane: status %d", res.StatusCode)
	}
	f := readUntil(t, other, `id="thread-row-`+id(e.a.thread.ID)+`"`)
	if strings.Contains(f, "unread-count") {
		t.Errorf("the other agent's row still counts unread messages: %s", f)
	}
	// Opening it again (read already) tells nobody anything.
	e.signIn(t, e.a.agent).paneGet("/inbox/threads/" + id(e.a.thread.ID))
	_ = other.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, b, err := other.ReadMessage(); err == nil {
		t.Errorf("a read thread's second opening sent %s", b)
	}
}

// TestThreadReadWhileOpen: the page on screen asks for the thread to be
// read as a customer's message arrives (app.js); only the asker's business
// is touched.
func TestThreadReadWhileOpen(t *testing.T) {
	e := newUIEnv(t, true)
	addMessage(t, e.store, e.a, "Ci siete?", "in", time.Now())
	unread := func() int {
		t.Helper()
		th, err := e.store.Thread(t.Context(), e.a.biz.ID, e.a.thread.ID)
		if err != nil {
			t.Fatal(err)
		}
		return th.UnreadCount
	}
	if n := unread(); n == 0 {
		t.Fatal("the customer's message left the thread read")
	}
	path := "/inbox/threads/" + id(e.a.thread.ID) + "/read"
	if res := e.signIn(t, e.b.agent).post(path, nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("another business's agent: %d, want 204 that changes nothing", res.StatusCode)
	}
	if n := unread(); n == 0 {
		t.Error("another business's agent read Alpha's thread")
	}
	if res := e.signIn(t, e.a.agent).post(path, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("read: %d, want 204", res.StatusCode)
	}
	if n := unread(); n != 0 {
		t.Errorf("unread %d after read, want 0", n)
	}
	if res := e.signIn(t, e.a.agent).post("/inbox/threads/x/read", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a bad id: %d, want 404", res.StatusCode)
	}
}
