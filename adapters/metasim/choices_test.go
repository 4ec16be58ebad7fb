package metasim

import (
	"encoding/json"
	"strings"
	"testing"
)

// A customer taps an option of what the business sent; the next stock tap is unchanged.
func TestTapAChoiceOfASend(t *testing.T) {
	s := New(Config{AppSecret: "x"})
	if err := s.AddAccount(Account{App: WhatsApp, ID: "1065", AccessToken: "t"}); err != nil {
		t.Fatal(err)
	}
	sent := Send{Raw: json.RawMessage(`{"messaging_product":"whatsapp","type":"interactive","interactive":{"type":"button",
		"body":{"text":"Which day?"},"action":{"buttons":[{"type":"reply","reply":{"id":"poll:1.2.1.mac","title":"Saturday"}},
		{"type":"reply","reply":{"id":"poll:1.2.2.mac","title":"Sunday"}}]}}}`)}
	cs := ChoicesOf(sent)
	if len(cs) != 2 || cs[1] != (Choice{ID: "poll:1.2.2.mac", Title: "Sunday"}) {
		t.Fatalf("choices %+v", cs)
	}
	tap, err := s.Build(Event{App: WhatsApp, Kind: "button_reply", Choice: &cs[1]})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tap.Body), `"id":"poll:1.2.2.mac"`) || !strings.Contains(string(tap.Body), `"title":"Sunday"`) {
		t.Fatalf("tap body %s", tap.Body)
	}
	stock, err := s.Build(Event{App: WhatsApp, Kind: "button_reply"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stock.Body), "poll:") {
		t.Fatalf("a later stock tap carries the earlier choice: %s", stock.Body)
	}
	qr := ChoicesOf(Send{Raw: json.RawMessage(`{"message":{"text":"Q","quick_replies":[{"content_type":"text","title":"A","payload":"poll:x"}]}}`)})
	if len(qr) != 1 || qr[0].ID != "poll:x" {
		t.Fatalf("quick replies %+v", qr)
	}
}
