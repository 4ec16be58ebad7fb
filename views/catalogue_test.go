package views

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/switchboard-inbox/switchboard/policy"
)

func TestCatalogueLanguagesMatch(t *testing.T) {
	for key := range catalogue["en"] {
		if _, ok := catalogue["it"][key]; !ok {
			t.Errorf("%q has no Italian", key)
		}
	}
	for key := range catalogue["it"] {
		if _, ok := catalogue["en"][key]; !ok {
			t.Errorf("%q has no English", key)
		}
	}
}

func TestEveryReasonCodeTranslated(t *testing.T) {
	for _, r := range policy.Reasons() {
		for _, lang := range []string{"en", "it"} {
			if _, ok := catalogue[lang]["reason."+string(r)]; !ok {
				t.Errorf("reason %s has no %s text", r, lang)
			}
		}
	}
}

// Every literal key a template asks for exists (dynamic prefixes are checked above and by render tests).
func TestTemplateKeysExist(t *testing.T) {
	files, _ := filepath.Glob("*.templ")
	re := regexp.MustCompile(`T\(ctx, "([a-z_.]+)"\)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if _, ok := catalogue["en"][m[1]]; !ok {
				t.Errorf("%s: key %q missing", f, m[1])
			}
		}
	}
}
