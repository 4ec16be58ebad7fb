package whatsapp

import (
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/internal/parsetest"
)

// parser is Parse as parsetest checks it; a template's status, which names the WABA, and a group
// message's status that names no participant (its "sent") name no customer.
var parser = parsetest.App{App: adapters.WhatsApp, Parse: Parse,
	Customerless: func(ev adapters.Event) bool {
		return ev.Type == adapters.EventTemplate || (ev.Status != nil && ev.GroupID != "" && ev.Status.ParticipantID == "")
	}}

func TestParseGolden(t *testing.T) { parser.Golden(t) }

func FuzzParse(f *testing.F) { parser.Fuzz(f) }

func TestParseRejects(t *testing.T) {
	parser.Rejects(t, []parsetest.Reject{
		{Name: "not json", Body: `{"object":`},
		{Name: "instagram object", Body: `{"object":"instagram","entry":[]}`},
		{Name: "messenger object", Body: `{"object":"page","entry":[]}`},
		{Name: "no object", Body: `{"entry":[]}`},
		{Name: "array", Body: `[]`},
	})
}

func TestDuplicatesShareAKey(t *testing.T) { parser.DuplicatesShareAKey(t, "testdata/batch.json") }
