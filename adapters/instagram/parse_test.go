package instagram

import (
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/internal/parsetest"
)

// parser is Parse as parsetest checks it; an opt-in known only by its user_ref names no customer.
var parser = parsetest.App{App: adapters.Instagram, Parse: Parse,
	Customerless: func(ev adapters.Event) bool { return ev.Optin != nil && ev.Optin.UserRef != "" }}

func TestParseGolden(t *testing.T) { parser.Golden(t) }

func FuzzParse(f *testing.F) { parser.Fuzz(f) }

func TestParseRejects(t *testing.T) {
	parser.Rejects(t, []parsetest.Reject{
		{Name: "not json", Body: `{"object":`},
		{Name: "page object", Body: `{"object":"page","entry":[]}`},
		{Name: "whatsapp object", Body: `{"object":"whatsapp_business_account","entry":[]}`},
		{Name: "no object", Body: `{"entry":[]}`},
		{Name: "array", Body: `[]`},
	})
}

func TestDuplicatesShareAKey(t *testing.T) { parser.DuplicatesShareAKey(t, "testdata/batch.json") }
