package web

import (
	"testing"
	"time"

	"github.com/go-rod/rod/lib/input"

	"github.com/switchboard-inbox/switchboard/policy"
)

// TestBrowserThreadPageLocales opens a thread page (its saved replies read
// in the page's one round trip) in English and in Italian, on a desktop and
// at 375 px: the composer's saved reply inserts, the labels are the
// locale's, and a phone shows the thread without the list.
func TestBrowserThreadPageLocales(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, true)
	startLive(t, e)
	e.outbox.setDecisions(openWindow(e.a.identity.ID, policy.AppMessenger))
	if err := e.store.SaveCannedResponse(t.Context(), e.a.biz.ID, "grazie", "Grazie mille, a presto!"); err != nil {
		t.Fatal(err)
	}
	addMessage(t, e.store, e.a, "Avete ancora la borsa rossa?", "in", time.Now())
	thread := e.url("/inbox/threads/" + id(e.a.thread.ID))

	for _, lang := range []struct{ code, option, placeholder string }{
		{"en", "English", "Write a reply… ( / for saved replies)"},
		{"it", "Italiano", "Scrivi una risposta… ( / per le risposte salvate)"},
	} {
		p := agentPage(t, b, e.http.URL, e.a.agent) // a fresh page: no draft left in a composer
		if lang.code != "en" {
			p.MustNavigate(e.url("/account")).MustWaitLoad()
			p.MustElement(`[data-testid="locale"]`).MustSelect(lang.option)
			wait := p.MustWaitNavigation()
			p.MustElement(`form[action="/account/locale"] button`).MustClick()
			wait()
		}
		p.MustNavigate(thread).MustWaitLoad()
		p.MustElementR(`#messages [data-testid="message"]`, "borsa rossa")
		if got := p.MustElement("#reply-text").MustAttribute("placeholder"); got == nil || *got != lang.placeholder {
			t.Errorf("%s: composer placeholder %v, want %q", lang.code, got, lang.placeholder)
		}
		p.MustElement("#reply-text").MustInput("/gra")
		p.MustElement(`#canned-list li[data-shortcut="grazie"]`).MustWaitVisible()
		p.MustElement("#reply-text").MustType(input.Enter)
		if v := p.MustElement("#reply-text").MustProperty("value").String(); v != "Grazie mille, a presto!" {
			t.Errorf("%s: saved reply not inserted: %q", lang.code, v)
		}
		shoot(t, p, "thread-page-1366-"+lang.code)

		p.MustSetViewport(375, 740, 2, true)
		p.MustNavigate(thread).MustWaitLoad()
		if p.MustElement(".list-pane").MustVisible() {
			t.Errorf("%s: at 375px the list should hide while a thread is open", lang.code)
		}
		if !p.MustElement("#reply-text").MustVisible() {
			t.Errorf("%s: at 375px the composer should show", lang.code)
		}
		shoot(t, p, "thread-page-375-"+lang.code)
	}
}
