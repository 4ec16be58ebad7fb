package messenger

import (
	"os"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/internal/parsetest"
)

// parser is Parse as parsetest checks it; an opt-in known only by its user_ref names no customer.
var parser = parsetest.App{App: adapters.Messenger, Parse: Parse,
	Customerless: func(ev adapters.Event) bool { return ev.Optin != nil && ev.Optin.UserRef != "" }}

func TestParseGolden(t *testing.T) { parser.Golden(t) }

func FuzzParse(f *testing.F) { parser.Fuzz(f) }

func TestParseRejects(t *testing.T) {
	parser.Rejects(t, []parsetest.Reject{
		{Name: "not json", Body: `{"object":`},
		{Name: "instagram object", Body: `{"object":"instagram","entry":[]}`},
		{Name: "whatsapp object", Body: `{"object":"whatsapp_business_account","entry":[]}`},
		{Name: "no object", Body: `{"entry":[]}`},
		{Name: "array", Body: `[]`},
	})
}

func TestParseKeepsGoodItemsOfABadBatch(t *testing.T) {
	body, err := os.ReadFile("testdata/partial.json")
	if err != nil {
		t.Fatal(err)
	}
	events, err := Parse(body)
	if err == nil || !strings.Contains(err.Error(), "messaging[1]") {
		t.Fatalf("error = %v, want one naming messaging[1]", err)
	}
	if len(events) != 2 {
		t.Fatalf("got %d events, want the 2 good ones", len(events))
	}
}

func TestDuplicatesShareAKey(t *testing.T) { parser.DuplicatesShareAKey(t, "testdata/batch.json") }
