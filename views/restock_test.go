package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
)

// TestRestockLines: restock system lines in the agent's language, customer and staff text escaped.
func TestRestockLines(t *testing.T) {
	cases := []struct {
		locale, details, want string
	}{
		{"en", `{"restock":{"event":"waiting","product":"Giacca <b>blu</b>","sku":"GB-1"}}`, "Waiting for Giacca &lt;b&gt;blu&lt;/b&gt;"},
		{"it", `{"restock":{"event":"waiting","product":"Giacca blu","sku":"GB-1"}}`, "In attesa di Giacca blu"},
		{"it", `{"restock":{"event":"unknown","sku":"<script>x</script>"}}`, "Ha chiesto di un prodotto sconosciuto: &lt;script&gt;"},
		{"en", `{"restock":{"event":"back_skipped","product":"Giacca blu","reason":"window_closed"}}`, "Waiting for Giacca blu, back in stock (not notified: 24-hour window closed)"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		if err := MessageItem(msg("system", "stored English", c.details), MessageContext{}).Render(WithLocale(context.Background(), c.locale), &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), c.want) || strings.Contains(buf.String(), "<b>blu") || strings.Contains(buf.String(), "<script>") {
			t.Errorf("%s %s: %s", c.locale, c.details, buf.String())
		}
	}
	var buf bytes.Buffer
	run := models.RunSummary{Status: "running", Total: 10, Handled: 4, Notified: 3, Skipped: 1}
	if err := RestockProgressOOB(run).Render(WithLocale(context.Background(), "it"), &buf); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.Contains(s, `hx-swap-oob="true"`) || !strings.Contains(s, "4 di 10") || !strings.Contains(s, `value="4"`) {
		t.Errorf("progress %s", s)
	}
}
