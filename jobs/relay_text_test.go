package jobs_test

import (
	"testing"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// TestRelayText: what the other members read, in a form every app shows.
func TestRelayText(t *testing.T) {
	cases := []struct {
		name, kind, text, details, want string
	}{
		{"text", "text", "Che bello il pizzo!", `{}`, "Giulia: Che bello il pizzo!"},
		{"a photo with words", "image", "Questo?", `{}`, "Giulia sent a photo: Questo?"},
		{"a sticker", "sticker", "", `{}`, "Giulia sent a sticker"},
		{"a location, with its map", "location", "Atelier Rossi, Via Roma 1", `{"location":{"latitude":45.4642,"longitude":9.19,"name":"Atelier Rossi"}}`,
			"Giulia shared a location: Atelier Rossi, Via Roma 1\nhttps://www.openstreetmap.org/?mlat=45.464200&mlon=9.190000#map=16/45.464200/9.190000"},
		{"a location without coordinates", "location", "Via Roma 1", `{"location":{"address":"Via Roma 1"}}`, "Giulia shared a location: Via Roma 1"},
		{"a reaction is not noise", "reaction", "❤️", `{}`, ""},
		{"an empty text", "text", "  ", `{}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := &models.Message{Kind: tc.kind, Text: tc.text, Details: models.JSON(tc.details)}
			if got := jobs.RelayText("Giulia", m); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
