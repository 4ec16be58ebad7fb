package inbound_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
)

// pageEvent is one Messenger (object page) or Instagram messaging item.
func pageEvent(object, account, sender string, ts int64, body string) string {
	return fmt.Sprintf(`{"object":%q,"entry":[{"id":%q,"time":%d,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,%s}]}]}`,
		object, account, ts, sender, account, ts, body)
}

func waMessage(from, wamid string, ts int64, body string) string {
	return waEnvelope(fmt.Sprintf(`"contacts":[{"profile":{"name":"Anna"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%d",%s}]`,
		from, from, wamid, ts, body))
}

// waiting lists the SKUs the customer waits for, with the entry's source and token.
func (e *env) waiting(external string) map[string]models.RestockWaitlist {
	e.t.Helper()
	var rows []struct {
		models.RestockWaitlist
		SKU string
	}
	if err := e.s.Gorm(e.ctx).Raw(`SELECT w.*, p.sku FROM restock_waitlist w JOIN products p ON p.id = w.product_id
		JOIN identities i ON i.id = w.identity_id WHERE i.external_id = ? AND w.status = 'waiting'`, external).Scan(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	out := map[string]models.RestockWaitlist{}
	for _, r := range rows {
		if _, dup := out[r.SKU]; dup {
			e.t.Fatalf("two open entries for %s", r.SKU)
		}
		out[r.SKU] = r.RestockWaitlist
	}
	return out
}

func (e *env) systemLines(external string) []string {
	e.t.Helper()
	var lines []string
	e.s.Gorm(e.ctx).Raw(`SELECT m.text FROM messages m JOIN threads t ON t.id = m.thread_id JOIN identities i ON i.id = t.direct_identity_id
		WHERE i.external_id = ? AND m.kind = 'system' ORDER BY m.id`, external).Scan(&lines)
	return lines
}

func (e *env) products(skus ...string) {
	e.t.Helper()
	for _, sku := range skus {
		if _, err := e.s.CreateProduct(e.ctx, e.bizID, models.ProductInput{SKU: sku, Name: "Giacca " + sku}); err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestRestockPayloadsMessenger(t *testing.T) {
	e := newEnv(t, models.AppMessenger, "PAGE1")
	e.products("GB-1", "GR-2", "GV-3", "GN-4")
	const ts = 1795167000000
	postback := pageEvent("page", "PAGE1", "PSID1", ts, `"postback":{"mid":"m_pb1","title":"Notify me","payload":"restock:GB-1"}`)
	e.deliver(postback, postback)                                                                                                      // a replayed webhook
	e.deliver(pageEvent("page", "PAGE1", "PSID1", ts+1000, `"postback":{"mid":"m_pb2","title":"Notify me","payload":"restock:GB-1"}`)) // a double tap
	e.deliver(pageEvent("page", "PAGE1", "PSID1", ts+2000, `"message":{"mid":"m_qr1","text":"Notify me","quick_reply":{"payload":"restock:GR-2"}}`))
	e.deliver(pageEvent("page", "PAGE1", "PSID1", ts+3000, `"referral":{"ref":"restock:GV-3","source":"SHORTLINK","type":"OPEN_THREAD"}`))
	optin := pageEvent("page", "PAGE1", "PSID1", ts+4000, `"optin":{"type":"one_time_notif_req","payload":"restock:GN-4","one_time_notif_token":"otn-secret-1"}`)
	e.deliver(optin, optin)
	e.deliver(pageEvent("page", "PAGE1", "PSID1", ts+5000, `"postback":{"mid":"m_pb3","title":"Notify me","payload":"restock:NOPE-9"}`))

	w := e.waiting("PSID1")
	if len(w) != 4 || w["GB-1"].Source != "postback" || w["GR-2"].Source != "quick_reply" || w["GV-3"].Source != "referral" ||
		w["GN-4"].Source != "otn_optin" || w["GN-4"].OTNTokenID == nil || w["GB-1"].OTNTokenID != nil {
		t.Fatalf("waiting %+v", w)
	}
	var tokens int64
	e.s.Gorm(e.ctx).Raw(`SELECT count(*) FROM otn_tokens`).Scan(&tokens)
	if tokens != 1 {
		t.Fatalf("%d OTN tokens after a replayed opt-in, want 1", tokens)
	}
	lines := e.systemLines("PSID1")
	want := []string{"Waiting for Giacca GB-1", "Waiting for Giacca GR-2", "Waiting for Giacca GV-3", "Waiting for Giacca GN-4", "Asked about unknown product NOPE-9"}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Fatalf("system lines %q, want %q", lines, want)
	}
}

func TestRestockPayloadsInstagram(t *testing.T) {
	e := newEnv(t, models.AppInstagram, "IG1")
	e.products("GB-1", "GR-2", "GV-3")
	const ts = 1795167000000
	e.deliver(pageEvent("instagram", "IG1", "IGSID1", ts, `"postback":{"mid":"m_ig1","title":"Notify me","payload":"restock:GB-1"}`))
	e.deliver(pageEvent("instagram", "IG1", "IGSID1", ts+1000, `"message":{"mid":"m_ig2","text":"Notify me","quick_reply":{"payload":"restock:GR-2"}}`))
	e.deliver(pageEvent("instagram", "IG1", "IGSID1", ts+2000, `"referral":{"ref":"restock:GV-3","source":"SHORTLINK","type":"OPEN_THREAD"}`))
	if w := e.waiting("IGSID1"); len(w) != 3 || w["GV-3"].Source != "referral" {
		t.Fatalf("waiting %+v", w)
	}
}

func TestRestockPayloadsWhatsApp(t *testing.T) {
	e := newEnv(t, models.AppWhatsApp, "PN1")
	e.products("GB-1", "GR-2", "GV-3")
	const ts = 1795167000
	e.deliver(waMessage("393331112222", "wamid.b1", ts, `"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"restock:GB-1","title":"Notify me"}}`))
	e.deliver(waMessage("393331112222", "wamid.l1", ts+1, `"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"restock:GR-2","title":"Giacca rossa"}}`))
	e.deliver(waMessage("393331112222", "wamid.t1", ts+2, `"type":"button","button":{"payload":"restock:GV-3","text":"Notify me"}`))
	e.deliver(waMessage("393331112222", "wamid.t2", ts+3, `"type":"button","button":{"payload":"restock:GV-3","text":"Notify me"}`))
	if w := e.waiting("393331112222"); len(w) != 3 || w["GB-1"].Source != "button" {
		t.Fatalf("waiting %+v", w)
	}
	if n := len(e.systemLines("393331112222")); n != 3 {
		t.Fatalf("%d system lines, want one per sign-up", n)
	}
}

// TestRestockOtherBusinessSKU: a SKU only another business sells is unknown here.
func TestRestockOtherBusinessSKU(t *testing.T) {
	e := newEnv(t, models.AppMessenger, "PAGE1")
	other, err := e.s.CreateBusiness(context.Background(), "Other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CreateProduct(e.ctx, other.ID, models.ProductInput{SKU: "THEIRS-1", Name: "Not ours"}); err != nil {
		t.Fatal(err)
	}
	e.deliver(pageEvent("page", "PAGE1", "PSID9", 1795167000000, `"postback":{"mid":"m_x1","title":"Notify me","payload":"restock:THEIRS-1"}`))
	var n int64
	e.s.Gorm(e.ctx).Raw(`SELECT count(*) FROM restock_waitlist`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d waitlist entries across tenants", n)
	}
	if lines := e.systemLines("PSID9"); len(lines) != 1 || lines[0] != "Asked about unknown product THEIRS-1" {
		t.Fatalf("system lines %q", lines)
	}
}
