package metasim

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMessengerSendAcceptsValidPayloads(t *testing.T) {
	h := newHarness(t, today)
	if err := h.sim.SetLastUserMessage(pageID, psid, today.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	rcpt := map[string]any{"id": psid}
	cases := []struct {
		name string
		body map[string]any
		typ  string
	}{
		{"text", messengerText(psid, "Ciao Zoë! 👋"), "text"},
		{"image", map[string]any{"recipient": rcpt, "messaging_type": "RESPONSE",
			"message": map[string]any{"attachment": map[string]any{"type": "image", "payload": map[string]any{"url": "https://example.com/a.jpg", "is_reusable": true}}}}, "image"},
		{"template", map[string]any{"recipient": rcpt, "messaging_type": "UPDATE",
			"message": map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{"template_type": "button", "text": "Hi", "buttons": []any{}}}}}, "template"},
		{"quick replies", map[string]any{"recipient": rcpt, "messaging_type": "RESPONSE",
			"message": map[string]any{"text": "Size?", "quick_replies": []any{
				map[string]any{"content_type": "text", "title": "M", "payload": "SIZE_M"},
				map[string]any{"content_type": "user_email"}}}}, "text"},
		{"sticker", map[string]any{"recipient": rcpt, "messaging_type": "RESPONSE", "message": map[string]any{"sticker_id": 369239263222822}}, "sticker"},
		{"reply_to", map[string]any{"recipient": rcpt, "messaging_type": "RESPONSE", "reply_to": map[string]any{"mid": "m_abc"},
			"message": map[string]any{"text": "Yes"}}, "text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, tc.body)
			if status != http.StatusOK {
				t.Fatalf("status %d: %v", status, resp)
			}
			if resp["recipient_id"] != psid || !hasPrefix(resp["message_id"], "m_") {
				t.Fatalf("answer %v, want recipient_id %s and an m_ mid", resp, psid)
			}
			sends := h.sim.Sends(pageID)
			last := sends[len(sends)-1]
			if last.MessageID != resp["message_id"] || last.Type != tc.typ || last.Recipient != psid {
				t.Fatalf("recorded %+v", last)
			}
			if got := last.Body()["recipient"]; got == nil {
				t.Fatal("recorded body does not decode")
			}
		})
	}
}

func TestInstagramMidLooksLikeInstagram(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(igID, igsid, today.Add(-time.Hour))
	// Instagram's examples omit messaging_type; the simulator accepts that.
	body := map[string]any{"recipient": map[string]any{"id": igsid}, "message": map[string]any{"text": "Hello from IG"}}
	status, resp := h.post("/v25.0/"+igID+"/messages", igToken, body)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, resp)
	}
	mid := str(resp["message_id"])
	if !strings.HasPrefix(mid, "aWdf") {
		t.Fatalf("Instagram mid %q should start with aWdf", mid)
	}
	raw, err := base64.RawURLEncoding.DecodeString(mid)
	if err != nil || !strings.HasPrefix(string(raw), "ig_message_item:") {
		t.Fatalf("mid decodes to %q (%v)", raw, err)
	}
}

func TestMessengerRules(t *testing.T) {
	tagged := func(id, tag string) map[string]any {
		return map[string]any{"recipient": map[string]any{"id": id}, "messaging_type": "MESSAGE_TAG", "tag": tag,
			"message": map[string]any{"text": "Your parcel is delayed"}}
	}
	cases := []struct {
		name       string
		now        time.Time
		app        App
		last       time.Duration // how long ago the user last messaged; 0 means never
		humanAgent bool
		body       any
		wantStatus int
		wantCode   int
		wantSub    int
	}{
		{"response inside the window", today, Messenger, 23 * time.Hour, false, messengerText(psid, "hi"), 200, 0, 0},
		{"response outside the window", today, Messenger, 25 * time.Hour, false, messengerText(psid, "hi"), 400, 10, SubWindowMessenger},
		{"never messaged", today, Messenger, 0, false, messengerText(psid, "hi"), 400, 10, SubWindowMessenger},
		{"instagram outside the window", today, Instagram, 30 * time.Hour, false, messengerText(igsid, "hi"), 400, 10, SubWindowInstagram},
		{"retired tag before 27 Apr 2026", date2025, Messenger, 72 * time.Hour, false, tagged(psid, "POST_PURCHASE_UPDATE"), 200, 0, 0},
		{"retired tag after 27 Apr 2026", date2026, Messenger, 2 * time.Hour, false, tagged(psid, "ACCOUNT_UPDATE"), 400, 100, 0},
		{"retired tag on the day", time.Date(2026, 4, 27, 0, 0, 0, 0, time.UTC), Messenger, time.Hour, false, tagged(psid, "CONFIRMED_EVENT_UPDATE"), 400, 100, 0},
		{"human agent at 3 days", today, Messenger, 72 * time.Hour, true, tagged(psid, "HUMAN_AGENT"), 200, 0, 0},
		{"human agent at 8 days", today, Messenger, 8 * 24 * time.Hour, true, tagged(psid, "HUMAN_AGENT"), 400, 10, SubWindowMessenger},
		{"human agent without permission", today, Messenger, 72 * time.Hour, false, tagged(psid, "HUMAN_AGENT"), 400, 10, SubWindowMessenger},
		{"human agent without permission inside 24h", today, Messenger, time.Hour, false, tagged(psid, "HUMAN_AGENT"), 200, 0, 0},
		{"instagram human agent at 6 days", today, Instagram, 6 * 24 * time.Hour, true, tagged(igsid, "HUMAN_AGENT"), 200, 0, 0},
		{"instagram other tag", today, Instagram, time.Hour, false, tagged(igsid, "CUSTOMER_FEEDBACK"), 400, 100, 0},
		{"news tag on a normal page", today, Messenger, time.Hour, false, tagged(psid, "NON_PROMOTIONAL_SUBSCRIPTION"), 400, 10, SubNewsPermission},
		{"unknown tag", today, Messenger, time.Hour, false, tagged(psid, "SHIPPING_UPDATE"), 400, 100, 0},
		{"MESSAGE_TAG without tag", today, Messenger, time.Hour, false, tagged(psid, ""), 400, 100, 0},
		{"missing messaging_type", today, Messenger, time.Hour, false,
			map[string]any{"recipient": map[string]any{"id": psid}, "message": map[string]any{"text": "hi"}}, 400, 100, 0},
		{"malformed JSON", today, Messenger, time.Hour, false, `{"recipient": {"id": "1"`, 400, 100, 0},
		{"no recipient", today, Messenger, time.Hour, false, map[string]any{"messaging_type": "RESPONSE", "message": map[string]any{"text": "hi"}}, 400, 100, 0},
		{"text and attachment", today, Messenger, time.Hour, false, map[string]any{"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE",
			"message": map[string]any{"text": "hi", "attachment": map[string]any{"type": "image", "payload": map[string]any{"url": "https://x.example/a.png"}}}}, 400, 100, 0},
		{"text over 2000 characters", today, Messenger, time.Hour, false, messengerText(psid, strings.Repeat("é", 2001)), 400, 100, 0},
		{"instagram text over 1000 bytes", today, Instagram, time.Hour, false, messengerText(igsid, strings.Repeat("é", 501)), 400, 100, 0},
		{"quick reply title too long", today, Messenger, time.Hour, false, map[string]any{"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE",
			"message": map[string]any{"text": "?", "quick_replies": []any{map[string]any{"content_type": "text", "title": strings.Repeat("x", 21), "payload": "P"}}}}, 400, 100, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.now)
			account, token, user := pageID, pageToken, psid
			if tc.app == Instagram {
				account, token, user = igID, igToken, igsid
			}
			if tc.last > 0 {
				_ = h.sim.SetLastUserMessage(account, user, tc.now.Add(-tc.last))
			}
			_ = h.sim.SetHumanAgent(account, tc.humanAgent)
			status, resp := h.post("/v25.0/"+account+"/messages", token, tc.body)
			code, sub := metaErr(resp)
			if status != tc.wantStatus || code != tc.wantCode || sub != tc.wantSub {
				t.Fatalf("got %d code %d/%d (%v), want %d code %d/%d", status, code, sub, resp, tc.wantStatus, tc.wantCode, tc.wantSub)
			}
			if tc.wantStatus != 200 && len(h.sim.Sends(account)) != 0 {
				t.Fatal("a refused send was recorded as accepted")
			}
		})
	}
}

func TestMessengerErrorShape(t *testing.T) {
	h := newHarness(t, today)
	status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, messengerText(psid, "hi"))
	if status != 400 {
		t.Fatalf("status %d", status)
	}
	e, _ := resp["error"].(map[string]any)
	for _, key := range []string{"message", "type", "code", "error_subcode", "fbtrace_id"} {
		if _, ok := e[key]; !ok {
			t.Errorf("error has no %q: %v", key, e)
		}
	}
	if e["type"] != "OAuthException" || e["error_data"] != nil {
		t.Errorf("Messenger error should be an OAuthException without error_data: %v", e)
	}
	if st := h.sim.Stats(); st.Refused != 1 || st.RefusedByCode[CodePermission] != 1 || h.sim.RefusedCount(pageID) != 1 {
		t.Errorf("refusal not counted: %+v", st)
	}
}

func TestAuthorization(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(pageID, psid, today.Add(-time.Hour))
	_ = h.sim.SetLastUserMessage(igID, igsid, today.Add(-time.Hour))
	body := messengerText(psid, "hi")

	status, resp := h.post("/v25.0/"+pageID+"/messages", "not-a-token", body)
	if code, _ := metaErr(resp); status != 401 || code != CodeToken {
		t.Fatalf("unknown token: %d %v", status, resp)
	}
	status, resp = h.post("/v25.0/"+pageID+"/messages", igToken, body)
	if code, sub := metaErr(resp); status != 400 || code != CodeParam || sub != SubUnsupported {
		t.Fatalf("another account's token: %d %v", status, resp)
	}
	status, _ = h.post("/v25.0/"+pageID+"/messages?access_token="+pageToken, "", body)
	if status != 200 {
		t.Fatalf("access_token query parameter refused: %d", status)
	}
	status, resp = h.post("/v25.0/me/messages", igToken, messengerText(igsid, "hi"))
	if status != 200 || resp["recipient_id"] != igsid {
		t.Fatalf("/me with an Instagram token: %d %v", status, resp)
	}

	h.sim.RevokeToken(pageToken)
	status, resp = h.post("/v25.0/"+pageID+"/messages", pageToken, body)
	if code, sub := metaErr(resp); status != 401 || code != CodeToken || sub != SubTokenInvalidated {
		t.Fatalf("revoked token: %d %v", status, resp)
	}
	h.sim.RestoreToken(pageToken)
	if status, _ = h.post("/v25.0/"+pageID+"/messages", pageToken, body); status != 200 {
		t.Fatalf("restored token refused: %d", status)
	}
	status, resp = h.post("/v25.0/"+phoneID+"/messages", "", waTextTo(itPhone, "hi"))
	if code, _ := metaErr(resp); status != 400 || code != CodeNoToken {
		t.Fatalf("no token: %d %v", status, resp)
	}
}

func TestOTNIsSingleUseAndExpires(t *testing.T) {
	h := newHarness(t, today)
	tok, err := h.sim.IssueOTN(pageID, psid, today.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"recipient": map[string]any{"one_time_notif_token": tok}, "message": map[string]any{"text": "Back in stock!"}}
	status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, body)
	if status != 200 || resp["recipient_id"] != psid {
		t.Fatalf("first use: %d %v", status, resp)
	}
	status, resp = h.post("/v25.0/"+pageID+"/messages", pageToken, body)
	if code, _ := metaErr(resp); status != 400 || code != CodeParam {
		t.Fatalf("second use: %d %v", status, resp)
	}
	if got, ok := h.sim.OTN(tok); !ok || got.Used.IsZero() {
		t.Fatalf("token state %+v", got)
	}
	old, _ := h.sim.IssueOTN(pageID, psid, today.Add(-366*24*time.Hour))
	body["recipient"] = map[string]any{"one_time_notif_token": old}
	status, resp = h.post("/v25.0/"+pageID+"/messages", pageToken, body)
	if code, _ := metaErr(resp); status != 400 || code != CodeParam {
		t.Fatalf("expired token: %d %v", status, resp)
	}
	if n := len(h.sim.Sends(pageID)); n != 1 {
		t.Fatalf("%d sends accepted, want exactly 1", n)
	}
}

func TestNotificationMessagesEnded(t *testing.T) {
	h := newHarness(t, date2025)
	tok, _ := h.sim.IssueNotificationToken(pageID, psid, date2025.Add(-time.Hour), time.Time{})
	body := map[string]any{"recipient": map[string]any{"notification_messages_token": tok}, "message": map[string]any{"text": "Weekly deals"}}
	if status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, body); status != 200 {
		t.Fatalf("before 10 Feb 2026: %d %v", status, resp)
	}
	h.clock.Set(date2026)
	status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, body)
	if code, _ := metaErr(resp); status != 400 || code != CodeParam {
		t.Fatalf("after 10 Feb 2026: %d %v", status, resp)
	}
}

func TestSenderActions(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(pageID, psid, today.Add(-time.Minute))
	for _, action := range []string{"typing_on", "typing_off", "mark_seen"} {
		status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken,
			map[string]any{"recipient": map[string]any{"id": psid}, "sender_action": action})
		if status != 200 || resp["recipient_id"] != psid || resp["message_id"] != nil {
			t.Fatalf("%s: %d %v", action, status, resp)
		}
	}
	react := map[string]any{"recipient": map[string]any{"id": psid}, "sender_action": "react",
		"payload": map[string]any{"message_id": "m_x", "reaction": "love"}}
	if status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, react); status != 200 {
		t.Fatalf("react: %d %v", status, resp)
	}
	react["payload"] = map[string]any{"reaction": "love"}
	if status, _ := h.post("/v25.0/"+pageID+"/messages", pageToken, react); status != 400 {
		t.Fatalf("react without message_id: %d", status)
	}
	if n := len(h.sim.Sends(pageID)); n != 0 {
		t.Fatalf("actions are not messages, got %d sends", n)
	}
	if n := len(h.sim.Received()); n != 4 {
		t.Fatalf("Received has %d entries, want 4 actions", n)
	}
}

func TestPrivateReplyOnce(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.AddComment(pageID, "178_99", psid, today.Add(-48*time.Hour))
	body := map[string]any{"recipient": map[string]any{"comment_id": "178_99"}, "messaging_type": "RESPONSE",
		"message": map[string]any{"text": "Thanks for your comment!"}}
	if status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, body); status != 200 || resp["recipient_id"] != psid {
		t.Fatalf("first private reply: %d %v", status, resp)
	}
	status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, body)
	if code, sub := metaErr(resp); status != 400 || code != CodePermission || sub != SubWindowMessenger {
		t.Fatalf("second private reply: %d %v", status, resp)
	}
}

func TestUtilityTemplate(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.AddTemplate(pageID, Template{Name: "order_shipped", Language: "en_US", Category: "utility"})
	body := map[string]any{"recipient": map[string]any{"id": psid}, "messaging_type": "UTILITY",
		"message": map[string]any{"template": map[string]any{"name": "order_shipped", "language": map[string]any{"code": "en_US"}}}}
	if status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, body); status != 200 {
		t.Fatalf("utility template outside the window: %d %v", status, resp)
	}
	body["message"] = map[string]any{"template": map[string]any{"name": "nope", "language": map[string]any{"code": "en_US"}}}
	if status, _ := h.post("/v25.0/"+pageID+"/messages", pageToken, body); status != 400 {
		t.Fatalf("unknown utility template accepted: %d", status)
	}
}
