package views

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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

// TestCountsAgree: one takes the singular, in both languages; other
// counts (zero too) the plural; a key without a singular form keeps its own.
func TestCountsAgree(t *testing.T) {
	en, it := WithLocale(t.Context(), "en"), WithLocale(t.Context(), "it")
	cases := []struct{ got, want string }{
		{TN(en, "poll.votes", 1), "1 vote"},
		{TN(en, "poll.votes", 0), "0 votes"},
		{TN(en, "poll.votes", 2), "2 votes"},
		{TN(it, "poll.voters", 1), "1 persona ha votato"},
		{TN(it, "poll.voters", 3), "3 persone hanno votato"},
		{TN(it, "list.unread_n", 1), "1 non letto"},
		{TN(en, "report.market_recipients", int64(1)), "1 message"},
		{TN(en, "receipt.read", 1, 5), "read by 1 of 5"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for key := range catalogue["en"] {
		if base, ok := strings.CutSuffix(key, ".one"); ok {
			if _, ok := catalogue["en"][base]; !ok {
				t.Errorf("%q has no plural %q", key, base)
			}
		}
	}
}

func TestSpan(t *testing.T) {
	en, it := WithLocale(t.Context(), "en"), WithLocale(t.Context(), "it")
	for _, c := range []struct{ got, want string }{
		{Span(en, 50*time.Hour), "2 days"},
		{Span(en, 47*time.Hour), "47 hours"},
		{Span(en, 61*time.Minute), "1 hour"},
		{Span(it, 90*time.Second), "1 minuto"},
		{Span(it, 10*time.Second), "1 minuto"},
		{Span(it, 73*time.Hour), "3 giorni"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
