package metasim

import (
	"strings"
	"testing"
)

// TestEventPayload: a tap carries the payload the test (or the demo) gives it.
func TestEventPayload(t *testing.T) {
	h := newHarness(t, today)
	for _, c := range []struct {
		app  App
		kind string
		want string
	}{
		{Messenger, "postback", `"payload":"restock:GB-1"`},
		{Messenger, "quick_reply", `"payload":"restock:GB-1"`},
		{Messenger, "optin_otn", `"payload":"restock:GB-1"`},
		{Messenger, "referral_link", `"ref":"restock:GB-1"`},
		{Instagram, "postback", `"payload":"restock:GB-1"`},
		{WhatsApp, "button_reply", `"id":"restock:GB-1"`},
		{WhatsApp, "list_reply", `"id":"restock:GB-1"`},
	} {
		in, err := h.sim.Build(Event{App: c.app, Kind: c.kind, Payload: "restock:GB-1"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(in.Body), c.want) {
			t.Errorf("%s %s: %s lacks %s", c.app, c.kind, in.Body, c.want)
		}
	}
}
