package instagram

import (
	"os"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters"
)

func FuzzParse(f *testing.F) {
	for _, file := range payloads(f) {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, _ := Parse(body)
		for i, ev := range events {
			if ev.App != adapters.Instagram || ev.AccountID == "" {
				t.Fatalf("event %d: app %q account %q", i, ev.App, ev.AccountID)
			}
		}
	})
}
