package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
)

func TestThreadNotifyMe(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	long := strings.Repeat("Giacca blu di lana cotta ", 4)
	if _, err := e.store.CreateProduct(ctx, e.a.biz.ID, models.ProductInput{SKU: "GB-1", Name: long}); err != nil {
		t.Fatal(err)
	}
	agent := e.signIn(t, e.a.agent)
	path := "/inbox/threads/" + strconv.FormatInt(e.a.thread.ID, 10)
	_, body := agent.get(path)
	if !strings.Contains(body, `data-testid="restock-action"`) || !strings.Contains(body, `data-testid="restock-ask"`) ||
		!strings.Contains(body, `data-testid="restock-add"`) || !strings.Contains(body, "Ask: Notify me") {
		t.Fatalf("a Page without OTN: the panel should offer asking by quick reply and adding")
	}
	// Without OTN the ask is a "Notify me" quick reply whose payload is restock:<SKU>.
	if res := agent.post(path+"/restock", url.Values{"sku": {"GB-1"}, "mode": {"ask"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ask: %d", res.StatusCode)
	}
	if sends := e.outbox.sends(); len(sends) != 1 || sends[0].OTNRequest != nil || len(sends[0].QuickReplies) != 1 ||
		sends[0].QuickReplies[0] != "Notify me" || len(sends[0].ChoiceIDs) != 1 || sends[0].ChoiceIDs[0] != "restock:GB-1" ||
		!strings.Contains(sends[0].Text, long) || sends[0].AuthorUserID == nil || sends[0].Automated {
		t.Fatalf("quick-reply ask %+v", sends)
	}
	for range 2 {
		if res := agent.post(path+"/restock", url.Values{"sku": {"GB-1"}, "mode": {"add"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("add: %d", res.StatusCode)
		}
	}
	var entries, lines int64
	e.store.Gorm(ctx).Raw(`SELECT count(*) FROM restock_waitlist WHERE identity_id = ? AND source = 'agent'`, e.a.identity.ID).Scan(&entries)
	e.store.Gorm(ctx).Raw(`SELECT count(*) FROM messages WHERE thread_id = ? AND kind = 'system' AND text LIKE 'Waiting for %'`, e.a.thread.ID).Scan(&lines)
	if entries != 1 || lines != 1 {
		t.Fatalf("%d entries and %d lines after two adds, want 1 and 1", entries, lines)
	}
	if err := e.store.SetChannelOTN(ctx, e.a.biz.ID, e.a.channel.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, body := agent.get(path); !strings.Contains(body, `data-testid="restock-ask"`) {
		t.Fatalf("a Page with OTN should offer the request")
	}
	if res := agent.post(path+"/restock", url.Values{"sku": {"GB-1"}, "mode": {"ask"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ask: %d", res.StatusCode)
	}
	sends := e.outbox.sends()
	if len(sends) != 2 || sends[1].OTNRequest == nil || sends[1].OTNRequest.Payload != "restock:GB-1" ||
		len([]rune(sends[1].OTNRequest.Title)) > 65 || sends[1].AuthorUserID == nil || len(sends[1].QuickReplies) != 0 {
		t.Fatalf("sends %+v", sends)
	}
	// Another business's product or thread is not found.
	if res := agent.post(path+"/restock", url.Values{"sku": {"NOPE"}, "mode": {"add"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown SKU: %d", res.StatusCode)
	}
	other := "/inbox/threads/" + strconv.FormatInt(e.b.thread.ID, 10) + "/restock"
	if res := agent.post(other, url.Values{"sku": {"GB-1"}, "mode": {"add"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another business's thread: %d", res.StatusCode)
	}
}
