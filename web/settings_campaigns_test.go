package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The stop words are edited on the campaigns settings tab: saved trimmed,
// audited, per business; an empty or too long word is a field error that
// saves nothing; admins only.
func TestStopWordsSetting(t *testing.T) {
	e := newUIEnv(t, false)
	ctx := context.Background()
	admin := e.signIn(t, e.a.admin)
	resp, page := admin.get("/settings/campaigns")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `value="STOP, basta, annulla"`) || !strings.Contains(page, `href="/settings/campaigns"`) {
		t.Fatalf("campaigns settings: %d", resp.StatusCode)
	}
	if resp := admin.post("/settings/campaigns", url.Values{"stop_words": {" STOP , basta,annulla, Cancella "}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	if words, _ := e.store.StopWords(ctx, e.a.biz.ID); strings.Join(words, "|") != "STOP|basta|annulla|Cancella" {
		t.Fatalf("saved words %q", words)
	}
	if words, _ := e.store.StopWords(ctx, e.b.biz.ID); strings.Join(words, "|") != "STOP|basta|annulla" {
		t.Fatalf("business B's words changed: %q", words)
	}
	evs, _ := e.store.AuditEvents(ctx, e.a.biz.ID, 5)
	if len(evs) == 0 || evs[0].Action != "business.stop_words" || !strings.Contains(string(evs[0].After), "Cancella") {
		t.Fatalf("no audit entry: %+v", evs)
	}
	for _, bad := range []string{"STOP,,basta", "STOP, ", "", " , ", strings.Repeat("x", 41)} {
		resp, body := admin.postBody("/settings/campaigns", url.Values{"stop_words": {bad}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="stop-words-error"`) ||
			!strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("stop words %q: %d, want 422 with the field error", bad, resp.StatusCode)
		}
	}
	if words, _ := e.store.StopWords(ctx, e.a.biz.ID); len(words) != 4 {
		t.Fatalf("a refused list changed the words: %q", words)
	}
	if resp := e.signIn(t, e.a.agent).post("/settings/campaigns", url.Values{"stop_words": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent changed the stop words: %d", resp.StatusCode)
	}
	it := e.signIn(t, e.a.admin)
	it.post("/account/locale", url.Values{"locale": {"it"}})
	if _, body := it.postBody("/settings/campaigns", url.Values{"stop_words": {"a,,b"}}); !strings.Contains(body, "Parole di stop") || !strings.Contains(body, "togli quella vuota") {
		t.Fatal("the Italian tab is not in Italian")
	}
}
