package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
)

// TestThreadNotifyMeInCustomersLanguage: the "notify me" ask and the OTN
// request are written in the customer's language (their profile locale),
// not the agent's.
func TestThreadNotifyMeInCustomersLanguage(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	if _, err := e.store.CreateProduct(ctx, e.a.biz.ID, models.ProductInput{SKU: "GB-1", Name: "Giacca blu"}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetIdentityLocale(ctx, e.a.biz.ID, e.a.identity.ID, "it_IT"); err != nil {
		t.Fatal(err)
	}
	agent := e.signIn(t, e.a.agent) // reads the UI in English
	path := "/inbox/threads/" + strconv.FormatInt(e.a.thread.ID, 10) + "/restock"
	if res := agent.post(path, url.Values{"sku": {"GB-1"}, "mode": {"ask"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ask: %d", res.StatusCode)
	}
	if err := e.store.SetChannelOTN(ctx, e.a.biz.ID, e.a.channel.ID, true); err != nil {
		t.Fatal(err)
	}
	if res := agent.post(path, url.Values{"sku": {"GB-1"}, "mode": {"ask"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("OTN ask: %d", res.StatusCode)
	}
	sends := e.outbox.sends()
	if len(sends) != 2 || sends[0].Text != "Vuoi che ti avvisiamo quando Giacca blu torna disponibile?" ||
		len(sends[0].QuickReplies) != 1 || sends[0].QuickReplies[0] != "Avvisami" ||
		sends[1].OTNRequest == nil || sends[1].OTNRequest.Title != "Giacca blu è di nuovo disponibile" {
		t.Fatalf("asks %+v", sends)
	}
}
