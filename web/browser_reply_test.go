package web

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// TestBrowserReplyShowsOnce sends a reply through the real outbox from the
// thread page: the reply shows once, with its author's name, on the
// sender's page and on a colleague's, and stays one element when its
// status moves on. Frames reach a socket in order, so a later customer
// message showing means every frame of the reply was applied.
func TestBrowserReplyShowsOnce(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, false)
	pipe, err := jobs.New(e.store, slog.New(slog.NewTextHandler(io.Discard, nil)), jobs.Config{GraphURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.opts.Outbox, e.srv.outbox = pipe.Outbox(), pipe.Outbox()
	if err := e.store.RecordCustomerEvent(context.Background(), e.a.identity.ID, "message", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	startLive(t, e)

	thread := e.url("/inbox/threads/" + id(e.a.thread.ID))
	agent := agentPage(t, b, e.http.URL, e.a.agent)
	agent.MustNavigate(thread).MustWaitLoad()
	agent.MustWait(`() => document.body.getAttribute("data-live") === "1"`)
	colleague := agentPage(t, b, e.http.URL, e.a.admin)
	colleague.MustNavigate(thread).MustWaitLoad()
	colleague.MustWait(`() => document.body.getAttribute("data-live") === "1"`)

	const reply = "La borsa rossa è disponibile"
	agent.MustElement("#reply-text").MustInput(reply)
	agent.MustElement(`[data-testid="send"]`).MustClick()
	agent.MustElement(`[data-testid="composer-notice"]`)
	agent.MustElementR(`#messages .msg.out`, reply)

	var sent models.Message
	if err := e.store.Gorm(context.Background()).Where("thread_id = ? AND text = ?", e.a.thread.ID, reply).First(&sent).Error; err != nil {
		t.Fatal(err)
	}
	// Its status moves on (the worker would), then the customer answers.
	if r, err := e.store.AdvanceStatus(context.Background(), models.StatusUpdate{MessageID: sent.ID, Status: models.StatusSent, At: time.Now()}); err != nil || !r.Changed {
		t.Fatalf("advance status: %+v %v", r, err)
	}
	addMessage(t, e.store, e.a, "Perfetto, grazie", "in", time.Now())

	for name, p := range map[string]*rod.Page{"sender": agent, "colleague": colleague} {
		p.MustElementR(`#messages .msg.in`, "Perfetto, grazie")
		got := p.MustEval(`(text) => Array.from(document.querySelectorAll("#messages > li")).
			filter(li => li.textContent.includes(text)).
			map(li => li.id + "|" + (li.querySelector(".sender") ? li.querySelector(".sender").textContent : "")).join("\n")`, reply).String()
		want := "msg-" + id(sent.ID) + "|" + e.a.agent.Name
		if got != want {
			t.Errorf("%s's page shows the reply as %q, want one element %q", name, got, want)
		}
		if ticks := p.MustElement("#msg-" + id(sent.ID)).MustAttribute("data-status"); ticks == nil || *ticks != "sent" {
			t.Errorf("%s's page: the reply's status is %v, want sent", name, ticks)
		}
	}
	if n := strings.Count(agent.MustElement("#messages").MustHTML(), `id="msg-`+id(sent.ID)+`"`); n != 1 {
		t.Errorf("the sender's timeline holds %d elements for the reply", n)
	}
}
