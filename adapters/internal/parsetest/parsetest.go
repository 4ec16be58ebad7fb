// Package parsetest holds the checks every app's webhook parser passes over
// the payloads in its package's testdata: golden files of the events parsed,
// refusal of another app's body, invariants of every event and a fuzz target.
// Only the adapters' tests import it.
package parsetest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters"
)

var update = flag.Bool("update", false, "rewrite the .golden.json files from current output")

// Parser is one app's webhook parser, as messenger.Parse, instagram.Parse and whatsapp.Parse are.
type Parser func(body []byte) ([]adapters.Event, error)

// App is what the checks know of one app's parser.
type App struct {
	App   adapters.App
	Parse Parser
	// Customerless reports an event that rightly names no customer (an
	// opt-in known only by its user_ref, a template's status). Events of
	// type unsupported never need one.
	Customerless func(adapters.Event) bool
}

// parsed is what a golden file holds for one webhook body.
type parsed struct {
	Events []adapters.Event `json:"events"`
	Error  string           `json:"error,omitempty"`
}

// Payloads lists the webhook bodies in testdata, without the goldens.
func Payloads(t testing.TB) []string {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden.json") {
			out = append(out, f)
		}
	}
	return out
}

// CheckGolden compares got, as indented JSON, with the golden file (or rewrites it with -update).
func CheckGolden(t *testing.T, path string, got any) {
	t.Helper()
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("%s differs from output; got:\n%s", path, data)
	}
}

// Golden parses every payload in testdata and compares the events (and the
// error, if any) with its .golden.json; every event must hold the invariants.
func (a App) Golden(t *testing.T) {
	for _, file := range Payloads(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			events, err := a.Parse(body)
			got := parsed{Events: events}
			if err != nil {
				got.Error = err.Error()
			}
			CheckGolden(t, filepath.Join("testdata", name+".golden.json"), got)
			a.CheckInvariants(t, events)
		})
	}
}

// Reject is a body the parser must refuse whole.
type Reject struct {
	Name, Body string
}

// Rejects checks that each body gives no events and an error.
func (a App) Rejects(t *testing.T, bodies []Reject) {
	for _, tt := range bodies {
		t.Run(tt.Name, func(t *testing.T) {
			events, err := a.Parse([]byte(tt.Body))
			if err == nil || events != nil {
				t.Fatalf("Parse = %v, %v; want nil, error", events, err)
			}
		})
	}
}

// DuplicatesShareAKey parses a batch holding one fact twice and checks that
// exactly those two events share a key.
func (a App) DuplicatesShareAKey(t *testing.T, file string) {
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	events, err := a.Parse(body)
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

// CheckInvariants holds for every event the parser returns: it is of the
// app, names its account and type, and names its customer unless it is
// unsupported or Customerless.
func (a App) CheckInvariants(t *testing.T, events []adapters.Event) {
	t.Helper()
	for i, ev := range events {
		if ev.App != a.App || ev.AccountID == "" || ev.Type == "" {
			t.Errorf("event %d: app %q account %q type %q", i, ev.App, ev.AccountID, ev.Type)
		}
		if ev.Type != adapters.EventUnsupported && ev.Customer.ExternalID == "" && (a.Customerless == nil || !a.Customerless(ev)) {
			t.Errorf("event %d (%s) has no customer", i, ev.Type)
		}
	}
}

// Fuzz seeds f with the payloads in testdata; whatever the body, every event
// the parser returns is of the app and names its account.
func (a App) Fuzz(f *testing.F) {
	for _, file := range Payloads(f) {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, _ := a.Parse(body)
		for i, ev := range events {
			if ev.App != a.App || ev.AccountID == "" {
				t.Fatalf("event %d: app %q account %q", i, ev.App, ev.AccountID)
			}
		}
	})
}
