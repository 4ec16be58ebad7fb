package metasim

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestEveryKindBuildsValidJSON parses every kind back and checks Meta's envelope.
func TestEveryKindBuildsValidJSON(t *testing.T) {
	h := newHarness(t, today)
	for _, app := range Apps() {
		for _, kind := range Kinds(app) {
			t.Run(string(app)+"/"+kind, func(t *testing.T) {
				in, err := h.sim.Build(Event{App: app, Kind: kind})
				if err != nil {
					t.Fatal(err)
				}
				if !isASCII(in.Body) {
					t.Fatalf("body is not in Meta's escaped style: %s", in.Body)
				}
				if !VerifySignature(secret, in.Body, in.Signature) || !strings.HasPrefix(in.Signature, "sha256=") {
					t.Fatal("signature does not verify")
				}
				var env map[string]any
				mustUnmarshal(t, in.Body, &env)
				if env["object"] != app.object() {
					t.Fatalf("object %v", env["object"])
				}
				if len(in.Items) != 1 || in.Items[0].Kind != kind || in.Items[0].User == "" {
					t.Fatalf("items %+v", in.Items)
				}
				if app == WhatsApp {
					checkWhatsAppEnvelope(t, env)
				} else {
					checkMessagingEnvelope(t, app, env, kind)
				}
			})
		}
	}
}

func checkMessagingEnvelope(t *testing.T, app App, env map[string]any, kind string) {
	t.Helper()
	account := pageID
	if app == Instagram {
		account = igID
	}
	if dig(env, "entry", 0, "id") != account || dig(env, "entry", 0, "time") == nil {
		t.Fatalf("entry %v", dig(env, "entry", 0))
	}
	ev, _ := dig(env, "entry", 0, "messaging", 0).(map[string]any)
	if str(dig(ev, "sender", "id")) == "" || str(dig(ev, "recipient", "id")) == "" {
		t.Fatalf("event without sender/recipient: %v", ev)
	}
	if kind != "delivery" && ev["timestamp"] == nil {
		t.Fatalf("event without timestamp: %v", ev)
	}
	known := 0
	for _, field := range []string{"message", "postback", "referral", "optin", "reaction", "delivery", "read", "message_edit"} {
		if ev[field] != nil {
			known++
		}
	}
	if known == 0 {
		t.Fatalf("event carries no known field: %v", ev)
	}
	if m, ok := ev["message"].(map[string]any); ok && str(m["mid"]) == "" {
		t.Fatalf("message without mid: %v", ev)
	}
}

func checkWhatsAppEnvelope(t *testing.T, env map[string]any) {
	t.Helper()
	if dig(env, "entry", 0, "id") != wabaID {
		t.Fatalf("entry id %v", dig(env, "entry", 0, "id"))
	}
	change, _ := dig(env, "entry", 0, "changes", 0).(map[string]any)
	value, _ := change["value"].(map[string]any)
	if value["messaging_product"] != "whatsapp" || dig(value, "metadata", "phone_number_id") != phoneID || dig(value, "metadata", "display_phone_number") == nil {
		t.Fatalf("value %v", value)
	}
	switch change["field"] {
	case "messages":
		if msg, ok := dig(value, "messages", 0).(map[string]any); ok {
			if !hasPrefix(msg["id"], "wamid.") || str(msg["timestamp"]) == "" || str(msg["type"]) == "" {
				t.Fatalf("message %v", msg)
			}
			if msg["from"] == nil && msg["from_user_id"] == nil {
				t.Fatalf("message without sender: %v", msg)
			}
			if typ := str(msg["type"]); msg[typ] == nil && typ != "unsupported" {
				t.Fatalf("message of type %s has no %s object: %v", typ, typ, msg)
			}
			return
		}
		if st, ok := dig(value, "statuses", 0).(map[string]any); !ok || str(st["status"]) == "" || !hasPrefix(st["id"], "wamid.") {
			t.Fatalf("neither messages nor statuses: %v", value)
		}
	case "user_preferences":
		if dig(value, "user_preferences", 0, "category") != "marketing_messages" {
			t.Fatalf("user_preferences %v", value)
		}
	default:
		t.Fatalf("field %v", change["field"])
	}
}

func TestGeneratorOpensTheWindow(t *testing.T) {
	h := newHarness(t, today)
	c := h.sim.Customers()[0]
	if status, _ := h.post("/v25.0/"+pageID+"/messages", pageToken, messengerText(c.PSID, "hi")); status != 400 {
		t.Fatal("a stranger was reachable")
	}
	at := today.Add(-time.Hour)
	if _, err := h.sim.Build(Event{App: Messenger, Kind: "text", Customer: &c, At: at}); err != nil {
		t.Fatal(err)
	}
	if last, ok := h.sim.LastUserMessage(pageID, c.PSID); !ok || !last.Equal(at) {
		t.Fatalf("window opened at %v, want the event's own timestamp %v", last, at)
	}
	if status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, messengerText(c.PSID, "hi")); status != 200 {
		t.Fatalf("after the customer wrote: %d %v", status, resp)
	}
	// An older event (a retried webhook) never moves the window back.
	_, _ = h.sim.Build(Event{App: Messenger, Kind: "text", Customer: &c, At: at.Add(-48 * time.Hour)})
	if last, _ := h.sim.LastUserMessage(pageID, c.PSID); !last.Equal(at) {
		t.Fatalf("window moved back to %v", last)
	}
	// A delivery receipt is not the user messaging.
	d := h.sim.Customers()[1]
	_, _ = h.sim.Build(Event{App: Messenger, Kind: "delivery", Customer: &d})
	if _, ok := h.sim.LastUserMessage(pageID, d.PSID); ok {
		t.Fatal("a delivery receipt opened the window")
	}
}

func TestGeneratedOTNIsRedeemableOnce(t *testing.T) {
	h := newHarness(t, today)
	in, err := h.sim.Build(Event{App: Messenger, Kind: "optin_otn"})
	if err != nil {
		t.Fatal(err)
	}
	tok := in.Items[0].Token
	if tok == "" || !strings.Contains(string(in.Body), tok) {
		t.Fatal("the optin carries no token")
	}
	body := map[string]any{"recipient": map[string]any{"one_time_notif_token": tok}, "message": map[string]any{"text": "Back in stock"}}
	if status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, body); status != 200 || resp["recipient_id"] != in.Items[0].User {
		t.Fatalf("first use: %d %v", status, resp)
	}
	if status, _ := h.post("/v25.0/"+pageID+"/messages", pageToken, body); status != 400 {
		t.Fatal("token reused")
	}
}

func TestUserPreferencesDriveOptOut(t *testing.T) {
	h := newHarness(t, today)
	c := h.sim.Customers()[0]
	if _, err := h.sim.Build(Event{App: WhatsApp, Kind: "user_preferences_stop", Customer: &c}); err != nil {
		t.Fatal(err)
	}
	if !h.sim.OptedOut(phoneID, c.Phone) {
		t.Fatal("stop did not opt the user out")
	}
	_, _ = h.sim.Build(Event{App: WhatsApp, Kind: "user_preferences_resume", Customer: &c})
	if h.sim.OptedOut(phoneID, c.Phone) {
		t.Fatal("resume did not opt the user back in")
	}
}

func TestBSUIDOnlyCustomer(t *testing.T) {
	h := newHarness(t, today)
	in, err := h.sim.Build(Event{App: WhatsApp, Kind: "bsuid_text"})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	mustUnmarshal(t, in.Body, &env)
	value := dig(env, "entry", 0, "changes", 0, "value")
	contact, _ := dig(value, "contacts", 0).(map[string]any)
	msg, _ := dig(value, "messages", 0).(map[string]any)
	if contact["wa_id"] != nil || !isBSUID(str(contact["user_id"])) || str(dig(contact, "profile", "username")) == "" {
		t.Fatalf("contact %v", contact)
	}
	if msg["from"] != nil || msg["from_user_id"] != contact["user_id"] {
		t.Fatalf("message %v", msg)
	}
	// The business answers by BSUID: the window is open.
	body := map[string]any{"messaging_product": "whatsapp", "recipient": contact["user_id"], "type": "text", "text": map[string]any{"body": "Hi!"}}
	if status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, body); status != 200 {
		t.Fatalf("reply by BSUID: %d %v", status, resp)
	}
}

func TestUnsupportedPollsCarry131051(t *testing.T) {
	h := newHarness(t, today)
	for _, kind := range []string{"poll_creation", "poll_update"} {
		in, _ := h.sim.Build(Event{App: WhatsApp, Kind: kind})
		var env map[string]any
		mustUnmarshal(t, in.Body, &env)
		msg := dig(env, "entry", 0, "changes", 0, "value", "messages", 0)
		if dig(msg, "type") != "unsupported" || dig(msg, "unsupported", "type") != kind || dig(msg, "errors", 0, "code") != float64(CodeUnsupportedType) {
			t.Fatalf("%s: %v", kind, msg)
		}
	}
}

func TestBatchOfManyEntries(t *testing.T) {
	h := newHarness(t, today)
	if err := h.sim.AddAccount(Account{App: Messenger, ID: "104857600000002", AccessToken: "EAAGsecond"}); err != nil {
		t.Fatal(err)
	}
	in, err := h.sim.BuildBatch([]Event{
		{App: Messenger, Kind: "text"}, {App: Messenger, Kind: "image"},
		{App: Messenger, Kind: "text", Account: "104857600000002"}, {App: Messenger, Kind: "read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	mustUnmarshal(t, in.Body, &env)
	entries, _ := env["entry"].([]any)
	if len(entries) != 2 || len(dig(entries[0], "messaging").([]any)) != 3 || len(dig(entries[1], "messaging").([]any)) != 1 {
		t.Fatalf("batch %s", in.Body)
	}
	if _, err := h.sim.BuildBatch([]Event{{App: Messenger, Kind: "text"}, {App: WhatsApp, Kind: "text"}}); err == nil {
		t.Fatal("a batch mixing apps was built")
	}
	if _, err := h.sim.Build(Event{App: Messenger, Kind: "no_such_kind"}); err == nil {
		t.Fatal("an unknown kind was built")
	}
}

func TestPopulationIsDeterministic(t *testing.T) {
	a, b := newPopulation(7, 50), newPopulation(7, 50)
	names := map[string]bool{}
	countries := map[string]bool{}
	bsuidOnly := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("customer %d differs between runs", i)
		}
		names[a[i].Name] = true
		if c := countryOfPhone(a[i].Phone); a[i].Phone != "" && c != a[i].Country {
			t.Fatalf("%s's number %s maps to %s", a[i].Name, a[i].Phone, c)
		}
		countries[a[i].Country] = true
		if a[i].Phone == "" {
			bsuidOnly++
		}
	}
	for _, n := range []string{"Zoë Clarke", "Łukasz Nowak", "José Silva"} {
		if !names[n] {
			t.Errorf("population lacks %s", n)
		}
	}
	for _, c := range []string{"IT", "GB", "DE", "BR", "IN", "US"} {
		if !countries[c] {
			t.Errorf("population lacks %s", c)
		}
	}
	if bsuidOnly == 0 {
		t.Error("population has no BSUID-only customer")
	}
}

func TestRunTrafficCountsAndDuplicates(t *testing.T) {
	h := newHarness(t, today, func(c *Config) { c.DisableStatusWebhooks = true })
	stats, err := h.sim.RunTraffic(context.Background(), TrafficConfig{Count: 120, DuplicateFraction: 0.5, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Events != 120 || stats.Posts != stats.Sent+stats.Failed || stats.Failed != 0 || stats.Duplicates == 0 {
		t.Fatalf("stats %+v", stats)
	}
	received := int64(0)
	for _, app := range Apps() {
		received += int64(len(h.recv.raw("/webhooks/" + string(app))))
	}
	if received != stats.Posts || h.recv.badSignatures() != 0 {
		t.Fatalf("receiver got %d posts (%d bad), generator made %d", received, h.recv.badSignatures(), stats.Posts)
	}
	apps := map[string]bool{}
	for k := range stats.ByKind {
		apps[strings.Split(k, ":")[0]] = true
	}
	if len(apps) != 3 {
		t.Fatalf("traffic covered only %v", apps)
	}
}

func TestTrafficBatchesAndFilters(t *testing.T) {
	h := newHarness(t, today, func(c *Config) { c.DisableStatusWebhooks = true })
	stats, err := h.sim.RunTraffic(context.Background(), TrafficConfig{Count: 30, BatchSize: 10, Apps: []App{WhatsApp}, Kinds: []string{"text", "whatsapp:image"}})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Events != 30 || stats.Posts != 3 || stats.ByKind["whatsapp:text"]+stats.ByKind["whatsapp:image"] != 30 {
		t.Fatalf("stats %+v", stats)
	}
	if _, err := h.sim.RunTraffic(context.Background(), TrafficConfig{Count: 1, Kinds: []string{"nothing"}}); err == nil {
		t.Fatal("traffic without kinds started")
	}
}

func TestTrafficOutOfOrderReceipts(t *testing.T) {
	h := newHarness(t, today, func(c *Config) { c.DisableStatusWebhooks = true })
	stats, err := h.sim.RunTraffic(context.Background(), TrafficConfig{Count: 1, Apps: []App{WhatsApp},
		Kinds: []string{"status_read"}, OutOfOrderFraction: 1, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Events != 3 {
		t.Fatalf("stats %+v", stats)
	}
	var order []string
	for _, body := range h.recv.all("/webhooks/whatsapp") {
		order = append(order, str(dig(body, "entry", 0, "changes", 0, "value", "statuses", 0, "status")))
	}
	if strings.Join(order, ",") != "read,delivered,sent" {
		t.Fatalf("statuses arrived %v, want read,delivered,sent", order)
	}
}

func TestStartTrafficStopsWithContext(t *testing.T) {
	h := newHarness(t, today, func(c *Config) { c.DisableStatusWebhooks = true })
	ctx, cancel := context.WithCancel(context.Background())
	tr := h.sim.StartTraffic(ctx, TrafficConfig{Rate: 200}) // unbounded but for ctx
	waitFor(t, "some traffic", func() bool { return tr.Stats().Sent >= 5 })
	cancel()
	stats, err := tr.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Sent < 5 {
		t.Fatalf("stats %+v", stats)
	}
	select {
	case <-tr.Done():
	default:
		t.Fatal("Done is open after Wait")
	}
}

func TestTrafficDuration(t *testing.T) {
	h := newHarness(t, today, func(c *Config) { c.DisableStatusWebhooks = true })
	stats, err := h.sim.RunTraffic(context.Background(), TrafficConfig{Rate: 100, Duration: 50 * time.Millisecond})
	if err != nil || stats.Posts != stats.Sent+stats.Failed {
		t.Fatalf("stats %+v, %v", stats, err)
	}
}
