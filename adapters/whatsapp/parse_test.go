package whatsapp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters"
)

func TestParseGolden(t *testing.T) {
	for _, file := range payloads(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			events, err := Parse(body)
			got := parsed{Events: events}
			if err != nil {
				got.Error = err.Error()
			}
			checkGolden(t, filepath.Join("testdata", name+".golden.json"), got)
			checkInvariants(t, events, adapters.WhatsApp)
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{"not json", `{"object":`},
		{"instagram object", `{"object":"instagram","entry":[]}`},
		{"messenger object", `{"object":"page","entry":[]}`},
		{"no object", `{"entry":[]}`},
		{"array", `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := Parse([]byte(tt.body))
			if err == nil || events != nil {
				t.Fatalf("Parse = %v, %v; want nil, error", events, err)
			}
		})
	}
}

func TestDuplicatesShareAKey(t *testing.T) {
	body, err := os.ReadFile("testdata/batch.json")
	if err != nil {
		t.Fatal(err)
	}
	events, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range events {
		seen[ev.Key()]++
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	if dups != 1 || len(seen) != len(events)-1 {
		t.Fatalf("keys %v: want exactly one duplicated fact", seen)
	}
}

// checkInvariants holds for every event any parser returns.
func checkInvariants(t *testing.T, events []adapters.Event, app adapters.App) {
	t.Helper()
	for i, ev := range events {
		if ev.App != app || ev.AccountID == "" || ev.Type == "" {
			t.Errorf("event %d: app %q account %q type %q", i, ev.App, ev.AccountID, ev.Type)
		}
		if ev.Type != adapters.EventUnsupported && ev.Type != adapters.EventTemplate && ev.Customer.ExternalID == "" {
			t.Errorf("event %d (%s) has no customer", i, ev.Type)
		}
	}
}
