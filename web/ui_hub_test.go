package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-inbox/switchboard/models"
)

// dialWS opens the inbox socket as the signed-in client.
func (c *client) dialWS(path string) (*websocket.Conn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(c.base, "http") + path
	hdr := http.Header{}
	req, _ := http.NewRequest("GET", c.base+path, nil)
	for _, k := range c.http.Jar.Cookies(req.URL) {
		hdr.Add("Cookie", k.Name+"="+k.Value)
	}
	return websocket.DefaultDialer.Dial(u, hdr)
}

// readUntil reads frames until one contains want, or fails after a generous bound.
func readUntil(t *testing.T, ws *websocket.Conn, want string) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if strings.Contains(string(b), want) {
			return string(b)
		}
	}
}

// startLive runs the listener for the test and waits until it listens.
func startLive(t *testing.T, e *uiEnv) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.srv.RunLive(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; i < 500; i++ {
		e.srv.hub.mu.RLock()
		ok := !e.srv.hub.listening.IsZero()
		e.srv.hub.mu.RUnlock()
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("listener did not start")
}

func waitClients(t *testing.T, e *uiEnv, n int) {
	t.Helper()
	for i := 0; i < 1000 && e.srv.hub.count() != n; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if got := e.srv.hub.count(); got != n {
		t.Fatalf("%d sockets registered, want %d", got, n)
	}
}

func TestHubSendsOnlyToTheEventsBusiness(t *testing.T) {
	e := newUIEnv(t, false)
	startLive(t, e)
	since := "&since=" + id(time.Now().Add(time.Minute).UnixMilli()) // nothing missed: no resync frames
	a1, _, err := e.signIn(t, e.a.agent).dialWS("/ws?thread=" + id(e.a.thread.ID) + since)
	if err != nil {
		t.Fatal(err)
	}
	defer a1.Close()
	a2, _, err := e.signIn(t, e.a.admin).dialWS("/ws?status=all" + since)
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	bws, _, err := e.signIn(t, e.b.agent).dialWS("/ws?thread=" + id(e.b.thread.ID) + since)
	if err != nil {
		t.Fatal(err)
	}
	defer bws.Close()
	waitClients(t, e, 3)

	m := addMessage(t, e.store, e.a, "Is the red one back?", "in", time.Now())
	f1 := readUntil(t, a1, "Is the red one back?")
	if !strings.Contains(f1, `hx-swap-oob="beforeend:#messages"`) || !strings.Contains(f1, "msg-"+id(m.ID)) || !strings.Contains(f1, `id="policy"`) {
		t.Errorf("thread socket frame lacks the message or policy: %s", f1)
	}
	f2 := readUntil(t, a2, "thread-row-"+id(e.a.thread.ID))
	if !strings.Contains(f2, `hx-swap-oob="afterbegin:#thread-list"`) || strings.Contains(f2, "beforeend:#messages") {
		t.Errorf("list socket frame: %s", f2)
	}
	// A status tick reaches the open thread as a replacement of the message.
	out := addMessage(t, e.store, e.a, "Yes, tomorrow", "out", time.Now())
	readUntil(t, a1, "Yes, tomorrow")
	if _, err := e.store.AdvanceStatus(context.Background(), models.StatusUpdate{MessageID: out.ID, Status: "delivered", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f3 := readUntil(t, a1, `data-status="delivered"`)
	if !strings.Contains(f3, `id="msg-`+id(out.ID)+`"`) {
		t.Errorf("status frame: %s", f3)
	}
	// Business B's socket got nothing at all.
	_ = bws.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, b, err := bws.ReadMessage(); err == nil {
		t.Fatalf("business B received %s", b)
	}
}

func TestHubDropsSlowClientWithoutStallingOthers(t *testing.T) {
	e := newUIEnv(t, false)
	since := "&since=" + id(time.Now().Add(time.Minute).UnixMilli())
	e.srv.hub.setListening(time.Now().Add(-time.Hour)) // as if listening: no resync on connect
	fast, _, err := e.signIn(t, e.a.agent).dialWS("/ws?x=1" + since)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	slow, _, err := e.signIn(t, e.a.admin).dialWS("/ws?x=2" + since)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	waitClients(t, e, 2)
	// The slow reader never reads; big frames fill the kernel buffers, then its queue.
	payload := strings.Repeat("x", 256<<10)
	for i := 0; i < 400; i++ {
		if err := e.srv.hub.deliver([]byte(payload), time.Time{}, e.srv.hub.business(e.a.biz.ID)); err != nil { // never blocks, whoever is slow
			t.Fatal(err)
		}
		_ = fast.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := fast.ReadMessage(); err != nil {
			t.Fatalf("fast client lost frame %d: %v", i, err)
		}
	}
	if e.srv.hub.count() != 1 {
		t.Fatalf("slow client not dropped: %d sockets", e.srv.hub.count())
	}
}

func TestReconnectResyncsWhatWasMissed(t *testing.T) {
	e := newUIEnv(t, false)
	startLive(t, e)
	cl := e.signIn(t, e.a.agent)
	rendered := time.Now()
	addMessage(t, e.store, e.a, "Sent while you were away", "in", time.Now())
	ws, _, err := cl.dialWS("/ws?thread=" + id(e.a.thread.ID) + "&since=" + id(rendered.UnixMilli()))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	frame := readUntil(t, ws, `id="messages"`)
	if !strings.Contains(frame, "Sent while you were away") || !strings.Contains(frame, `id="thread-list"`) {
		t.Errorf("resync frame incomplete: %s", frame)
	}
}

func TestWebsocketRefusesOtherOriginsAndStaff(t *testing.T) {
	e := newUIEnv(t, false)
	cl := e.signIn(t, e.a.agent)
	hdr := http.Header{"Origin": {"https://evil.example"}}
	req, _ := http.NewRequest("GET", cl.base+"/ws", nil)
	for _, k := range cl.http.Jar.Cookies(req.URL) {
		hdr.Add("Cookie", k.Name+"="+k.Value)
	}
	_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(cl.base, "http")+"/ws", hdr)
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin socket: %v %v", err, res)
	}
	if _, res, err := e.client(t).dialWS("/ws"); err == nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous socket: %v", err)
	}
}

// Frames that queue up while a socket's writer is busy go out as one
// message, in order: one write, and the page applies them as they came.
func TestHubCoalescesFramesQueuedBehindAWrite(t *testing.T) {
	e := newUIEnv(t, false)
	since := "&since=" + id(time.Now().Add(time.Minute).UnixMilli())
	e.srv.hub.setListening(time.Now().Add(-time.Hour)) // as if listening: no resync on connect
	ws, _, err := e.signIn(t, e.a.agent).dialWS("/ws?x=1" + since)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	waitClients(t, e, 1)
	c := e.srv.hub.business(e.a.biz.ID)[0]
	c.mu.Lock()
	c.writing = true // as if a write were under way: what comes now queues
	c.mu.Unlock()
	for _, f := range []string{`<p id="one">1</p>`, `<p id="two">2</p>`, `<p id="three">3</p>`} {
		if err := e.srv.hub.deliver([]byte(f), time.Now(), []*wsClient{c}); err != nil {
			t.Fatal(err)
		}
	}
	go e.srv.hub.write(c) // the write ends and the writer looks at its queue
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, got, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if want := `<p id="one">1</p><p id="two">2</p><p id="three">3</p>`; string(got) != want {
		t.Errorf("one message %q, want %q", got, want)
	}
	// A frame alone is still its own message.
	if err := e.srv.hub.deliver([]byte(`<p id="four">4</p>`), time.Now(), []*wsClient{c}); err != nil {
		t.Fatal(err)
	}
	if _, got, err = ws.ReadMessage(); err != nil || string(got) != `<p id="four">4</p>` {
		t.Errorf("next message %q (%v)", got, err)
	}
}
