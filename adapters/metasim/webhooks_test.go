package metasim

import (
	"encoding/json"
	"testing"
	"time"
)

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
}

// statusesOf collects the WhatsApp statuses the receiver got for one wamid.
func statusesOf(r *receiver, wamid string) []map[string]any {
	var out []map[string]any
	for _, body := range r.all("/webhooks/whatsapp") {
		entries, _ := body["entry"].([]any)
		for _, e := range entries {
			changes, _ := dig(e, "changes").([]any)
			for _, c := range changes {
				list, _ := dig(c, "value", "statuses").([]any)
				for _, st := range list {
					if m, _ := st.(map[string]any); m["id"] == wamid {
						out = append(out, m)
					}
				}
			}
		}
	}
	return out
}

// messagingOf collects the Messenger/Instagram messaging events the receiver got.
func messagingOf(r *receiver, app App) []map[string]any {
	var out []map[string]any
	for _, body := range r.all("/webhooks/" + string(app)) {
		entries, _ := body["entry"].([]any)
		for _, e := range entries {
			list, _ := dig(e, "messaging").([]any)
			for _, m := range list {
				out = append(out, m.(map[string]any))
			}
		}
	}
	return out
}

func byStatus(list []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, st := range list {
		out[str(st["status"])] = st
	}
	return out
}

func TestWhatsAppStatusWebhooks(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(phoneID, itPhone, today.Add(-time.Hour))
	status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "Ciao Zoë"))
	if status != 200 {
		t.Fatalf("send: %d %v", status, resp)
	}
	wamid := str(dig(resp, "messages", 0, "id"))
	waitFor(t, "sent, delivered and read", func() bool { return len(statusesOf(h.recv, wamid)) == 3 })
	got := byStatus(statusesOf(h.recv, wamid))
	for _, s := range []string{"sent", "delivered"} {
		p, _ := got[s]["pricing"].(map[string]any)
		// A reply inside the window is billed from 1 Oct 2026 (meta-platform.md §6.3).
		if p["pricing_model"] != "PMP" || p["type"] != "regular" || p["category"] != "service" || p["billable"] != true {
			t.Errorf("%s pricing %v", s, p)
		}
		if got[s]["conversation"] != nil {
			t.Errorf("v25 %s status carries a conversation", s)
		}
	}
	if got["read"]["pricing"] != nil || got["sent"]["recipient_id"] != itPhone {
		t.Errorf("read status %v", got["read"])
	}
	if h.recv.badSignatures() != 0 {
		t.Fatal("a webhook failed signature verification")
	}
	for _, body := range h.recv.raw("/webhooks/whatsapp") {
		if !isASCII(body) {
			t.Fatalf("webhook body is not escaped: %s", body)
		}
	}
	waitFor(t, "the posted counter", func() bool { return h.sim.Stats().WebhooksPosted >= 3 })
}

func TestWhatsAppMarketingFailsAsynchronously(t *testing.T) {
	cases := []struct {
		name     string
		now      time.Time
		to       string
		optOut   bool
		wantCode int // 0: delivered normally
	}{
		{"opted out", today, itPhone, true, CodeMarketingOptOut},
		{"US number", today, usPhone, false, CodeEcosystem},
		{"US number before the pause", time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC), usPhone, false, 0},
		{"Canadian number", today, caPhone, false, 0},
		{"Italian number", today, itPhone, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.now)
			_ = h.sim.AddTemplate(phoneID, Template{Name: "spring_sale", Language: "en_US", Category: "MARKETING"})
			_ = h.sim.SetOptOut(phoneID, tc.to, tc.optOut)
			status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTemplateTo(tc.to, "spring_sale"))
			if status != 200 {
				t.Fatalf("marketing send is accepted synchronously, got %d %v", status, resp)
			}
			wamid := str(dig(resp, "messages", 0, "id"))
			if tc.wantCode == 0 {
				waitFor(t, "statuses", func() bool { return len(statusesOf(h.recv, wamid)) == 3 })
				p := byStatus(statusesOf(h.recv, wamid))["sent"]["pricing"].(map[string]any)
				if p["category"] != "marketing" || p["type"] != "regular" || p["billable"] != true {
					t.Fatalf("marketing pricing %v", p)
				}
				return
			}
			waitFor(t, "the failed status", func() bool { return len(statusesOf(h.recv, wamid)) == 1 })
			st := statusesOf(h.recv, wamid)[0]
			e, _ := dig(st, "errors", 0).(map[string]any)
			if st["status"] != "failed" || int(e["code"].(float64)) != tc.wantCode || str(e["title"]) == "" ||
				str(dig(e, "error_data", "details")) == "" || str(e["href"]) == "" {
				t.Fatalf("failed status %v", st)
			}
		})
	}
}

func TestReengagementCanBeAsync(t *testing.T) {
	h := newHarness(t, today, func(c *Config) { c.ReengagementAsync = true })
	status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "late reply"))
	if status != 200 {
		t.Fatalf("send: %d %v", status, resp)
	}
	wamid := str(dig(resp, "messages", 0, "id"))
	waitFor(t, "the failed status", func() bool { return len(statusesOf(h.recv, wamid)) == 1 })
	if code := dig(statusesOf(h.recv, wamid)[0], "errors", 0, "code"); code != float64(CodeReengagement) {
		t.Fatalf("failed with %v", code)
	}
}

func TestOldVersionsCarryConversation(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(phoneID, itPhone, today)
	_, resp := h.post("/v23.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "hi"))
	wamid := str(dig(resp, "messages", 0, "id"))
	waitFor(t, "sent", func() bool { return byStatus(statusesOf(h.recv, wamid))["sent"] != nil })
	if dig(byStatus(statusesOf(h.recv, wamid))["sent"], "conversation", "origin", "type") != "service" {
		t.Fatal("v23 sent status lacks conversation.origin")
	}
}

func TestMessengerEchoDeliveryRead(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(pageID, psid, today)
	body := messengerText(psid, "Grazie, Niccolò!")
	body["message"].(map[string]any)["metadata"] = "agent:7"
	_, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, body)
	mid := str(resp["message_id"])
	waitFor(t, "echo, delivery and read", func() bool { return len(messagingOf(h.recv, Messenger)) == 3 })
	var echo, delivery, read map[string]any
	for _, ev := range messagingOf(h.recv, Messenger) {
		switch {
		case ev["message"] != nil:
			echo = ev
		case ev["delivery"] != nil:
			delivery = ev
		case ev["read"] != nil:
			read = ev
		}
	}
	if dig(echo, "message", "is_echo") != true || dig(echo, "message", "mid") != mid || dig(echo, "message", "metadata") != "agent:7" ||
		dig(echo, "message", "text") != "Grazie, Niccolò!" || dig(echo, "sender", "id") != pageID {
		t.Fatalf("echo %v", echo)
	}
	if _, isNumber := dig(echo, "message", "app_id").(float64); !isNumber {
		t.Fatalf("app_id should be a number: %v", echo)
	}
	if dig(delivery, "delivery", "mids", 0) != mid || dig(delivery, "delivery", "watermark") == nil || dig(delivery, "sender", "id") != psid {
		t.Fatalf("delivery %v", delivery)
	}
	if dig(read, "read", "watermark") == nil {
		t.Fatalf("read %v", read)
	}
	raw := h.recv.raw("/webhooks/messenger")[0]
	if !isASCII(raw) {
		t.Fatalf("echo body not escaped: %s", raw)
	}
}

func TestInstagramEchoAndSeen(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(igID, igsid, today)
	_, resp := h.post("/v25.0/"+igID+"/messages", igToken, messengerText(igsid, "hey"))
	mid := str(resp["message_id"])
	waitFor(t, "echo and seen", func() bool { return len(messagingOf(h.recv, Instagram)) == 2 })
	for _, ev := range messagingOf(h.recv, Instagram) {
		if ev["message"] != nil && (dig(ev, "message", "is_echo") != true || dig(ev, "message", "mid") != mid) {
			t.Fatalf("echo %v", ev)
		}
		if ev["read"] != nil && dig(ev, "read", "mid") != mid {
			t.Fatalf("seen %v", ev)
		}
	}
	if obj := h.recv.all("/webhooks/instagram")[0]["object"]; obj != "instagram" {
		t.Fatalf("object %v", obj)
	}
}

func TestStatusWebhooksCanBeBatchedOrDisabled(t *testing.T) {
	h := newHarness(t, today, func(c *Config) { c.WebhookBatch = 50 })
	_ = h.sim.SetLastUserMessage(phoneID, itPhone, today)
	var ids []string
	for range 5 {
		_, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "hi"))
		ids = append(ids, str(dig(resp, "messages", 0, "id")))
	}
	waitFor(t, "15 statuses", func() bool {
		n := 0
		for _, id := range ids {
			n += len(statusesOf(h.recv, id))
		}
		return n == 15
	})

	off := newHarness(t, today, func(c *Config) { c.DisableStatusWebhooks = true })
	_ = off.sim.SetLastUserMessage(phoneID, itPhone, today)
	if status, _ := off.post("/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "hi")); status != 200 {
		t.Fatal("send refused")
	}
	_ = off.sim.Close() // drains nothing: there was nothing to post
	if n := len(off.recv.all("/webhooks/whatsapp")); n != 0 {
		t.Fatalf("%d webhooks posted while disabled", n)
	}
}

func TestEncodeMetaEscapes(t *testing.T) {
	in := map[string]any{"name": "Zoë Łukasz José", "emoji": "👍", "url": "https://x.example/a", "html": "<b>&</b>"}
	got, err := EncodeMeta(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"emoji":"\ud83d\udc4d","html":"<b>&<\/b>","name":"Zo\u00eb \u0141ukasz Jos\u00e9","url":"https:\/\/x.example\/a"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var back map[string]any
	mustUnmarshal(t, got, &back)
	for k, v := range in {
		if back[k] != v {
			t.Fatalf("%s round-trips to %q", k, back[k])
		}
	}
	if !VerifySignature("k", got, Sign("k", got)) || VerifySignature("k", got, Sign("other", got)) {
		t.Fatal("signature check is wrong")
	}
}
