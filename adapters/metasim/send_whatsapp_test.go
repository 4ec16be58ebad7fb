package metasim

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestWhatsAppSendAcceptsValidPayloads(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(phoneID, itPhone, today.Add(-2*time.Hour))
	_ = h.sim.SetUser(phoneID, User{Phone: "+" + itPhone, BSUID: bsuidOne})
	wa := func(fields map[string]any) map[string]any {
		body := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+39 333 123 4567"}
		for k, v := range fields {
			body[k] = v
		}
		return body
	}
	cases := []struct {
		name string
		body map[string]any
	}{
		{"text", wa(map[string]any{"type": "text", "text": map[string]any{"body": "Ciao Niccolò 👋", "preview_url": false}})},
		{"default type is text", wa(map[string]any{"text": map[string]any{"body": "no type field"}})},
		{"image link", wa(map[string]any{"type": "image", "image": map[string]any{"link": "https://example.com/a.jpg", "caption": "Sand"}})},
		{"document id", wa(map[string]any{"type": "document", "document": map[string]any{"id": "1234567890", "filename": "invoice.pdf"}})},
		{"sticker", wa(map[string]any{"type": "sticker", "sticker": map[string]any{"id": "987"}})},
		{"audio", wa(map[string]any{"type": "audio", "audio": map[string]any{"link": "https://example.com/a.ogg"}})},
		{"video", wa(map[string]any{"type": "video", "video": map[string]any{"link": "https://example.com/a.mp4"}})},
		{"interactive button", wa(map[string]any{"type": "interactive", "interactive": map[string]any{"type": "button",
			"body":   map[string]any{"text": "Which size?"},
			"action": map[string]any{"buttons": []any{map[string]any{"type": "reply", "reply": map[string]any{"id": "m", "title": "M"}}}}}})},
		{"interactive list", wa(map[string]any{"type": "interactive", "interactive": map[string]any{"type": "list",
			"body": map[string]any{"text": "Pick one"},
			"action": map[string]any{"button": "Sizes", "sections": []any{map[string]any{"title": "All",
				"rows": []any{map[string]any{"id": "s", "title": "Small"}, map[string]any{"id": "l", "title": "Large"}}}}}}})},
		{"reaction", wa(map[string]any{"type": "reaction", "reaction": map[string]any{"message_id": "wamid.X", "emoji": "👍"}})},
		{"location", wa(map[string]any{"type": "location", "location": map[string]any{"latitude": 45.1, "longitude": 9.2, "name": "Shop"}})},
		{"contacts", wa(map[string]any{"type": "contacts", "contacts": []any{map[string]any{"name": map[string]any{"formatted_name": "Shop"}}}})},
		{"quoted reply", wa(map[string]any{"type": "text", "text": map[string]any{"body": "yes"}, "context": map[string]any{"message_id": "wamid.Y"}})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, tc.body)
			if status != http.StatusOK {
				t.Fatalf("status %d: %v", status, resp)
			}
			if resp["messaging_product"] != "whatsapp" || str(dig(resp, "contacts", 0, "input")) != "+39 333 123 4567" ||
				str(dig(resp, "contacts", 0, "wa_id")) != itPhone || !hasPrefix(dig(resp, "messages", 0, "id"), "wamid.") {
				t.Fatalf("answer %v", resp)
			}
			if dig(resp, "messages", 0, "message_status") != nil {
				t.Fatal("message_status is for template sends only")
			}
		})
	}

	t.Run("template outside the window", func(t *testing.T) {
		status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTemplateTo("4915112345678", "hello_world"))
		if status != 200 || dig(resp, "messages", 0, "message_status") != "accepted" {
			t.Fatalf("status %d: %v", status, resp)
		}
	})
	t.Run("BSUID recipient", func(t *testing.T) {
		body := map[string]any{"messaging_product": "whatsapp", "recipient": bsuidOne, "type": "text", "text": map[string]any{"body": "hi"}}
		status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, body)
		if status != 200 || dig(resp, "contacts", 0, "user_id") != bsuidOne || dig(resp, "contacts", 0, "wa_id") != nil {
			t.Fatalf("status %d: %v", status, resp)
		}
	})
	if got := len(h.sim.Sends(phoneID)); got != len(cases)+2 {
		t.Fatalf("%d sends recorded, want %d", got, len(cases)+2)
	}
}

func TestWhatsAppRules(t *testing.T) {
	fourButtons := []any{}
	for _, id := range []string{"a", "b", "c", "d"} {
		fourButtons = append(fourButtons, map[string]any{"type": "reply", "reply": map[string]any{"id": id, "title": id}})
	}
	cases := []struct {
		name       string
		last       time.Duration
		body       any
		wantStatus int
		wantCode   int
	}{
		{"free-form inside the window", 23 * time.Hour, waTextTo(itPhone, "hi"), 200, 0},
		{"free-form outside the window", 25 * time.Hour, waTextTo(itPhone, "hi"), 400, CodeReengagement},
		{"free-form to a stranger", 0, waTextTo(itPhone, "hi"), 400, CodeReengagement},
		{"template outside the window", 0, waTemplateTo(itPhone, "hello_world"), 200, 0},
		{"unknown template", 0, waTemplateTo(itPhone, "spring_sale"), 404, CodeTemplateMissing},
		{"missing messaging_product", time.Hour, map[string]any{"to": itPhone, "type": "text", "text": map[string]any{"body": "hi"}}, 400, CodeParam},
		{"malformed JSON", time.Hour, `{"messaging_product":"whatsapp",`, 400, CodeParam},
		{"no recipient", time.Hour, map[string]any{"messaging_product": "whatsapp", "type": "text", "text": map[string]any{"body": "hi"}}, 400, CodeParam},
		{"bad recipient_type", time.Hour, map[string]any{"messaging_product": "whatsapp", "recipient_type": "broadcast", "to": itPhone,
			"text": map[string]any{"body": "hi"}}, 400, CodeParam},
		{"empty text", time.Hour, waTextTo(itPhone, " "), 400, CodeParam},
		{"unknown type", time.Hour, map[string]any{"messaging_product": "whatsapp", "to": itPhone, "type": "poll"}, 400, CodeParam},
		{"four buttons", time.Hour, map[string]any{"messaging_product": "whatsapp", "to": itPhone, "type": "interactive",
			"interactive": map[string]any{"type": "button", "body": map[string]any{"text": "?"}, "action": map[string]any{"buttons": fourButtons}}}, 400, CodeInvalidValue},
		{"interactive to a group", time.Hour, map[string]any{"messaging_product": "whatsapp", "recipient_type": "group", "to": "G1", "type": "interactive",
			"interactive": map[string]any{"type": "button"}}, 400, CodeInvalidValue},
		{"media without id or link", time.Hour, map[string]any{"messaging_product": "whatsapp", "to": itPhone, "type": "image", "image": map[string]any{}}, 400, CodeParam},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, today)
			if tc.last > 0 {
				_ = h.sim.SetLastUserMessage(phoneID, itPhone, today.Add(-tc.last))
			}
			status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, tc.body)
			code, _ := metaErr(resp)
			if status != tc.wantStatus || code != tc.wantCode {
				t.Fatalf("got %d code %d (%v), want %d code %d", status, code, resp, tc.wantStatus, tc.wantCode)
			}
			if tc.wantStatus != 200 {
				if dig(resp, "error", "error_data", "messaging_product") != "whatsapp" || str(dig(resp, "error", "error_data", "details")) == "" {
					t.Fatalf("WhatsApp errors carry error_data: %v", resp)
				}
				if str(dig(resp, "error", "fbtrace_id")) == "" {
					t.Fatalf("no fbtrace_id: %v", resp)
				}
			}
		})
	}
}

func TestWhatsAppWindowFollowsTheClock(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(phoneID, itPhone, today)
	h.clock.Set(today.Add(23*time.Hour + 59*time.Minute))
	if status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "still open")); status != 200 {
		t.Fatalf("inside the window: %d %v", status, resp)
	}
	h.clock.Set(today.Add(24 * time.Hour))
	if status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "closed")); status != 400 {
		t.Fatalf("at 24h: %d %v", status, resp)
	}
}

func TestMarkAsRead(t *testing.T) {
	h := newHarness(t, today)
	body := map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
		"typing_indicator": map[string]any{"type": "text"}}
	status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, body)
	if status != 200 || resp["success"] != true {
		t.Fatalf("mark as read: %d %v", status, resp)
	}
	got := h.sim.Received()
	if len(got) != 1 || got[0].Action != "read" || got[0].Type != "typing" || len(h.sim.Sends(phoneID)) != 0 {
		t.Fatalf("recorded %+v", got)
	}
	delete(body, "message_id")
	if status, _ := h.post("/v25.0/"+phoneID+"/messages", waToken, body); status != 400 {
		t.Fatalf("mark as read without message_id: %d", status)
	}
}

func TestMediaEndpoint(t *testing.T) {
	h := newHarness(t, today)
	in, err := h.sim.Build(Event{App: WhatsApp, Kind: "image"})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	mustUnmarshal(t, in.Body, &env)
	mediaID := str(dig(env, "entry", 0, "changes", 0, "value", "messages", 0, "image", "id"))
	wantSHA := str(dig(env, "entry", 0, "changes", 0, "value", "messages", 0, "image", "sha256"))

	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/v25.0/"+mediaID, nil)
	req.Header.Set("Authorization", "Bearer "+waToken)
	status, info := h.do(req)
	if status != 200 || info["id"] != mediaID || info["mime_type"] != "image/jpeg" || info["sha256"] != wantSHA ||
		info["messaging_product"] != "whatsapp" || info["file_size"].(float64) <= 0 {
		t.Fatalf("media info %d %v", status, info)
	}
	dl, _ := http.NewRequest(http.MethodGet, str(info["url"]), nil)
	dl.Header.Set("Authorization", "Bearer "+waToken)
	resp, err := h.srv.Client().Do(dl)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(data)
	if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != wantSHA || float64(len(data)) != info["file_size"] {
		t.Fatalf("download %d, %d bytes", resp.StatusCode, len(data))
	}

	req, _ = http.NewRequest(http.MethodGet, h.srv.URL+"/v25.0/"+mediaID, nil)
	req.Header.Set("Authorization", "Bearer "+pageToken)
	if status, resp := h.do(req); status != 400 {
		t.Fatalf("another account's token read the media: %d %v", status, resp)
	}
	req, _ = http.NewRequest(http.MethodGet, h.srv.URL+"/v25.0/999", nil)
	req.Header.Set("Authorization", "Bearer "+waToken)
	if status, _ := h.do(req); status != 400 {
		t.Fatalf("unknown media: %d", status)
	}
}

func TestGroupSend(t *testing.T) {
	h := newHarness(t, today)
	in, err := h.sim.Build(Event{App: WhatsApp, Kind: "group_text"})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	mustUnmarshal(t, in.Body, &env)
	groupID := str(dig(env, "entry", 0, "changes", 0, "value", "messages", 0, "group_id"))
	if groupID == "" {
		t.Fatalf("no group_id in %s", in.Body)
	}
	body := map[string]any{"messaging_product": "whatsapp", "recipient_type": "group", "to": groupID, "type": "text", "text": map[string]any{"body": "Hello group"}}
	status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, body)
	if status != 200 {
		t.Fatalf("group send: %d %v", status, resp)
	}
	wamid := str(dig(resp, "messages", 0, "id"))
	waitFor(t, "group statuses", func() bool { return len(statusesOf(h.recv, wamid)) >= 3 })
	for _, st := range statusesOf(h.recv, wamid) {
		if st["recipient_type"] != "group" || st["recipient_id"] != groupID {
			t.Fatalf("group status %v", st)
		}
		if st["status"] != "sent" && str(st["recipient_participant_id"]) == "" {
			t.Fatalf("%s status without recipient_participant_id: %v", st["status"], st)
		}
	}
	body["to"] = "unknown-group"
	if status, _ := h.post("/v25.0/"+phoneID+"/messages", waToken, body); status != 400 {
		t.Fatalf("unknown group accepted: %d", status)
	}
}

func TestThroughputCap(t *testing.T) {
	h := newFrozenHarness(t, today) // no refill: the bucket holds exactly its burst
	_ = h.sim.SetRate(phoneID, 5)   // burst: max(1, 5 × 200ms) = 1
	_ = h.sim.SetRate(pageID, 50)   // burst 10
	_ = h.sim.SetLastUserMessage(pageID, psid, today)

	accepted, refused := 0, 0
	for i := range 4 {
		status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTemplateTo(usPhone[:len(usPhone)-1]+string(rune('0'+i)), "hello_world"))
		switch code, _ := metaErr(resp); {
		case status == 200:
			accepted++
		case status == 400 && code == CodeThroughput:
			refused++
		default:
			t.Fatalf("unexpected %d %v", status, resp)
		}
	}
	if accepted != 1 || refused != 3 {
		t.Fatalf("WhatsApp at 5 mps (burst 1): %d accepted, %d refused", accepted, refused)
	}
	for range 10 {
		if status, _ := h.post("/v25.0/"+pageID+"/messages", pageToken, messengerText(psid, "hi")); status != 200 {
			t.Fatal("Messenger refused inside its burst")
		}
	}
	status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, messengerText(psid, "one too many"))
	if code, _ := metaErr(resp); status != 400 || code != CodeCallRate {
		t.Fatalf("Messenger beyond the cap: %d %v", status, resp)
	}
	if got := h.sim.Stats().RefusedByCode[CodeThroughput]; got != 3 {
		t.Fatalf("130429 counted %d times", got)
	}
}

func TestPairRateLimit(t *testing.T) {
	h := newFrozenHarness(t, today)
	_ = h.sim.SetRate(phoneID, 0) // no throughput cap: only the pair rate matters
	for i := range 45 {
		if status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTemplateTo(itPhone, "hello_world")); status != 200 {
			t.Fatalf("send %d: %d %v", i, status, resp)
		}
	}
	status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTemplateTo(itPhone, "hello_world"))
	if code, _ := metaErr(resp); status != 400 || code != CodePairRate {
		t.Fatalf("46th message to one user: %d %v", status, resp)
	}
}

func TestGroupStatusesPerParticipant(t *testing.T) {
	h := newHarness(t, today)
	const groupID = "120363025246125999"
	members := []string{"393470000001", "393470000002", "393470000003"}
	if err := h.sim.AddGroup(phoneID, groupID, members...); err != nil {
		t.Fatal(err)
	}
	if err := h.sim.SetParticipantOffline(phoneID, groupID, members[2], true); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"messaging_product": "whatsapp", "recipient_type": "group", "to": groupID, "type": "template",
		"template": map[string]any{"name": "hello_world", "language": map[string]any{"code": "en_US"}}}
	status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, body)
	if status != 200 {
		t.Fatalf("group send: %d %v", status, resp)
	}
	wamid := str(dig(resp, "messages", 0, "id"))
	// sent once, then delivered and read from each reachable participant.
	waitFor(t, "group statuses", func() bool { return len(statusesOf(h.recv, wamid)) == 5 })
	delivered := map[string]bool{}
	for _, st := range statusesOf(h.recv, wamid) {
		who := str(st["recipient_participant_id"])
		if who == members[2] {
			t.Fatalf("a status from an offline participant: %v", st)
		}
		if st["status"] == "delivered" {
			delivered[who] = true
			if c := dig(st, "pricing", "category"); c != "group_utility" { // hello_world is a utility template
				t.Fatalf("a group delivery priced as %v, want group_utility", c)
			}
		}
	}
	if !delivered[members[0]] || !delivered[members[1]] {
		t.Fatalf("delivered to %v, want both reachable participants", delivered)
	}
}
