package inbound

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The light account readers and the full parsers route every fixture the same.
func TestAccountsAgreeWithParse(t *testing.T) {
	for app, dir := range map[string]string{"messenger": "messenger", "instagram": "instagram", "whatsapp": "whatsapp"} {
		files, _ := filepath.Glob(filepath.Join("..", "adapters", dir, "testdata", "*.json"))
		n := 0
		for _, f := range files {
			if strings.HasSuffix(f, ".golden.json") || strings.HasSuffix(f, ".rows.golden.json") {
				continue
			}
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			events, _ := Parsers[app](body)
			var want []string
			for _, ev := range events {
				if !slices.Contains(want, ev.AccountID) {
					want = append(want, ev.AccountID)
				}
			}
			got := Accounts(app, body)
			for _, a := range want {
				if !slices.Contains(got, a) {
					t.Errorf("%s: Parse routes to %q, Accounts gives %v", f, a, got)
				}
			}
			n++
		}
		if n == 0 {
			t.Fatalf("no %s fixtures", app)
		}
	}
}

func BenchmarkAccounts(b *testing.B) {
	body, err := os.ReadFile("../adapters/whatsapp/testdata/batch.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Accounts("whatsapp", body)
	}
}
