package web

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// TestBrowserThreadOpensInPlace clicks through the inbox as an agent does:
// a row opens its thread in the pane beside the list, which is neither
// fetched nor drawn again (the same DOM node, scrolled where it was); the
// URL and the title follow; the row turns current and read; the socket
// follows the thread shown, so a live message lands in the thread on
// screen and never in the one left; history's back button shows the
// thread before; at 375 px a row opens the thread in place of the list.
func TestBrowserThreadOpensInPlace(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, true)
	startLive(t, e)
	ctx := t.Context()
	// A socket opened within wsResyncSlack of an event re-reads its page
	// (list included); this test's own events must not make every click
	// look like one.
	e.srv.hub.mu.Lock()
	e.srv.hub.resyncSlack = 0
	e.srv.hub.mu.Unlock()

	// A second customer of Alpha, with an unread message.
	other := &models.Contact{BusinessID: e.a.biz.ID, Name: "Marco Bianchi"}
	if err := e.store.CreateContact(ctx, other); err != nil {
		t.Fatal(err)
	}
	ident := addIdentity(t, e.store, e.a, other, "user-marco", other.Name)
	second, _, err := e.store.EnsureDirectThread(ctx, ident, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	addMessageKind(t, e.store, e.a, second.ID, "text", "Is the blue scarf back?", "in", time.Now().Add(-time.Minute), nil)
	e.outbox.setDecisions(openWindow(e.a.identity.ID, policy.AppMessenger), openWindow(ident.ID, policy.AppMessenger))

	p := agentPage(t, b, e.http.URL, e.a.agent)
	p.MustNavigate(e.url("/inbox")).MustWaitLoad()
	p.MustWait(`() => document.body.getAttribute("data-live") === "1"`)
	p.MustEval(`() => { window.__list = document.getElementById("thread-list"); window.__loads = performance.getEntriesByType("navigation").length }`)

	open := func(threadID int64, want string) {
		t.Helper()
		p.MustElement(`#thread-list li[data-thread-id="` + id(threadID) + `"] a.row-link`).MustClick()
		p.MustWait(`() => { const s = document.getElementById("thread-pane"); return s && s.getAttribute("data-thread-id") === "` + id(threadID) + `" }`)
		p.MustElementR(`#messages [data-testid="message"]`, want)
		p.MustWait(`() => document.body.getAttribute("data-live") === "1" && location.pathname === "/inbox/threads/` + id(threadID) + `"`)
		if same := p.MustEval(`() => window.__list === document.getElementById("thread-list")`).Bool(); !same {
			t.Fatalf("opening thread %d drew the list again", threadID)
		}
	}

	open(second.ID, "blue scarf")
	if title := p.MustEval(`() => document.title`).String(); !strings.HasPrefix(title, "Marco Bianchi") {
		t.Errorf("title %q, want the thread's", title)
	}
	row := p.MustElement(`#thread-list li[data-thread-id="` + id(second.ID) + `"]`)
	if cls := row.MustAttribute("class"); cls == nil || !strings.Contains(*cls, "current") {
		t.Errorf("the opened row is not current: class %v", cls)
	}
	if n := len(row.MustElements(".unread-count")); n != 0 {
		t.Errorf("the opened row still shows %d unread badges", n)
	}
	if got := p.MustElement(`[data-testid="contact-panel"]`).MustText(); !strings.Contains(got, "Marco Bianchi") {
		t.Errorf("contact panel shows %q, want Marco's card", got)
	}

	// The socket follows the thread: a message to it arrives live.
	// A customer's message to the thread on screen is read as it arrives:
	// no unread badge stays on its row, here or in another agent's list.
	watcher := agentPage(t, b, e.http.URL, e.a.agent)
	watcher.MustNavigate(e.url("/inbox")).MustWaitLoad()
	watcher.MustWait(`() => document.body.getAttribute("data-live") === "1"`)
	addMessageKind(t, e.store, e.a, second.ID, "text", "Size M please", "in", time.Now(), nil)
	p.MustElementR(`#messages [data-testid="message"]`, "Size M please")
	watcher.MustElementR(`#thread-list li[data-thread-id="`+id(second.ID)+`"]`, "Size M please")
	noBadge := `() => !document.querySelector('#thread-list li[data-thread-id="` + id(second.ID) + `"] .unread-count')`
	p.MustWait(noBadge)
	watcher.MustWait(noBadge)
	if th, err := e.store.Thread(ctx, e.a.biz.ID, second.ID); err != nil || th.UnreadCount != 0 {
		t.Errorf("the thread on screen got a message and stays unread: %+v, %v", th, err)
	}
	watcher.MustClose()

	open(e.a.thread.ID, "Hello from Alpha")
	if cur := p.MustElements(`#thread-list li.current`); len(cur) != 1 {
		t.Errorf("%d current rows, want 1", len(cur))
	}
	addMessage(t, e.store, e.a, "Still there?", "in", time.Now())
	p.MustElementR(`#messages [data-testid="message"]`, "Still there?")
	addMessageKind(t, e.store, e.a, second.ID, "text", "Or size L", "in", time.Now(), nil)
	p.MustElementR(`#thread-list li[data-thread-id="`+id(second.ID)+`"]`, "Or size L") // its row moves, live
	if txt := p.MustElement("#messages").MustText(); strings.Contains(txt, "size L") || strings.Contains(txt, "blue scarf") {
		t.Errorf("a message of the thread left shows in the one open: %q", txt)
	}
	if loads := p.MustEval(`() => performance.getEntriesByType("navigation").length === window.__loads && window.__list !== undefined`).Bool(); !loads {
		t.Error("opening threads reloaded the page")
	}
	shoot(t, p, "inbox-pane-1366-en")

	// Back: the thread before, whole.
	wait := p.MustWaitNavigation()
	p.MustNavigateBack()
	wait()
	p.MustWait(`() => location.pathname === "/inbox/threads/` + id(second.ID) + `"`)
	p.MustElementR(`#messages [data-testid="message"]`, "Or size L")
	// And back again: the inbox as first opened, with no thread.
	wait = p.MustWaitNavigation()
	p.MustNavigateBack()
	wait()
	p.MustWait(`() => location.pathname === "/inbox" && !document.querySelector("#thread-pane[data-thread-id]")`)

	// A phone: the list, then a row shows the thread alone.
	phone := agentPage(t, b, e.http.URL, e.a.agent)
	phone.MustSetViewport(375, 740, 2, true)
	phone.MustNavigate(e.url("/inbox")).MustWaitLoad()
	phone.MustElement(`#thread-list li[data-thread-id="` + id(second.ID) + `"] a.row-link`).MustClick()
	phone.MustElementR(`#messages [data-testid="message"]`, "Or size L")
	waitHidden(t, phone, ".list-pane")
	if !phone.MustElement("#reply-text").MustVisible() {
		t.Error("at 375px the composer should show")
	}
	shoot(t, phone, "inbox-pane-375-en")

	// The row is replaced live while its click is in flight (opening an
	// unread thread marks it read, and every list gets the row again):
	// the pane still replaces the pane, and the URL follows. The pane's
	// answer is held back here until the socket has had time to deliver.
	addMessageKind(t, e.store, e.a, second.ID, "text", "Hello again", "in", time.Now(), nil)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("HX-Target") != "thread-pane" {
			e.srv.Handler().ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, r)
		time.Sleep(500 * time.Millisecond)
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	defer slow.Close()
	p = agentPage(t, b, slow.URL, e.a.agent)
	p.MustNavigate(slow.URL + "/inbox").MustWaitLoad()
	p.MustWait(`() => document.body.getAttribute("data-live") === "1"`)
	p.MustElement(`#thread-list li[data-thread-id="` + id(second.ID) + `"] a.row-link`).MustClick()
	p.MustElementR(`#messages [data-testid="message"]`, "Hello again")
	p.MustWait(`() => location.pathname === "/inbox/threads/` + id(second.ID) + `"`)
	if n := p.MustEval(`() => document.querySelectorAll("#thread-pane").length`).Int(); n != 1 {
		t.Errorf("%d thread panes on the page, want 1 (the new one nested in the old)", n)
	}
}

// waitHidden waits until the element of selector is not displayed.
func waitHidden(t *testing.T, p *rod.Page, selector string) {
	t.Helper()
	p.MustWait(`() => { const el = document.querySelector("` + selector + `"); return el && el.offsetParent === null }`)
}
