package messenger

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

// parsed is what a golden file holds for one webhook body.
type parsed struct {
	Events []adapters.Event `json:"events"`
	Error  string           `json:"error,omitempty"`
}

// payloads lists the webhook bodies in testdata, without the goldens.
func payloads(t testing.TB) []string {
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

// checkGolden compares got, as indented JSON, with the golden file (or rewrites it with -update).
func checkGolden(t *testing.T, path string, got any) {
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
