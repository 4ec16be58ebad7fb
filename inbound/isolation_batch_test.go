package inbound_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
)

// A payload whose items are applied as sets (plain messages, statuses) or
// one at a time (opt-ins, reactions) keeps its good items when one item of
// each kind is bad: a NUL is stripped, a user_ref-only opt-in is kept as
// unresolved, and an item that violates a constraint is parked alone.
func TestOneBadItemPerKindKeepsItsSiblings(t *testing.T) {
	t.Run("whatsapp messages and statuses", func(t *testing.T) {
		e := newEnv(t, "whatsapp", "PN1")
		out := e.outbound("wamid.OUT1")
		e.s.Gorm(e.ctx).Exec(`ALTER TABLE messages ADD CONSTRAINT test_no_boom CHECK (text <> 'boom')`)
		e.s.Gorm(e.ctx).Exec(`ALTER TABLE message_statuses ADD CONSTRAINT test_no_read CHECK (status <> 'read')`)
		msgs := []string{}
		for i, text := range []string{"first", `bad\u0000text`, "boom", "fourth"} {
			msgs = append(msgs, fmt.Sprintf(`{"from":"393331112222","id":"wamid.K%d","timestamp":"%d","type":"text","text":{"body":"%s"}}`, i, 1763700200+i, text))
		}
		e.process(waEnvelope(`"contacts":[{"profile":{"name":"Anna"},"wa_id":"393331112222"}],"messages":[` + strings.Join(msgs, ",") + `],
"statuses":[{"id":"wamid.OUT1","status":"delivered","timestamp":"1763700150","recipient_id":"393331112222"},
{"id":"wamid.OUT1","status":"read","timestamp":"1763700160","recipient_id":"393331112222"}]`))
		for ext, want := range map[string]string{"wamid.K0": "first", "wamid.K1": "badtext", "wamid.K3": "fourth"} {
			if m := e.message(ext); m.Text != want {
				t.Fatalf("%s: text %q, want %q", ext, m.Text, want)
			}
		}
		if n := e.count("external_id = 'wamid.K2'"); n != 0 {
			t.Fatal("the message that violates the constraint was stored")
		}
		if got := e.message("wamid.OUT1"); got.ID != out.ID || got.Status != "delivered" {
			t.Fatalf("our message is %s, want delivered (its read status is the bad item)", got.Status)
		}
		log, err := e.s.WebhookLog(e.ctx, e.bizID, 10)
		if err != nil {
			t.Fatal(err)
		}
		parked := map[string]bool{}
		for _, l := range log {
			if l.Kind != models.ProblemFailed || !l.Replayable() {
				t.Fatalf("webhook log entry %+v: want only failed, replayable items", l)
			}
			parked[l.EventKey] = true
		}
		if len(log) != 2 || !parked["wamid.K2 from 393331112222"] || !parked["wamid.OUT1 read from 393331112222"] {
			t.Fatalf("webhook log %+v: want the bad message and the bad status, each alone", log)
		}
	})
	t.Run("messenger opt-in, messages and a reaction", func(t *testing.T) {
		e := newEnv(t, "messenger", "PAGE1")
		e.s.Gorm(e.ctx).Exec(`ALTER TABLE messages ADD CONSTRAINT test_no_boom CHECK (text <> 'boom')`)
		item := func(mid string, ts int64, text string) string {
			return fmt.Sprintf(`{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"timestamp":%d,"message":{"mid":"%s","text":"%s"}}`, ts, mid, text)
		}
		e.process(`{"object":"page","entry":[{"id":"PAGE1","time":1763700009000,"messaging":[
{"recipient":{"id":"PAGE1"},"timestamp":1763700001000,"optin":{"ref":"checkout","user_ref":"UREF-7"}},` +
			item("m_1", 1763700002000, "hello") + `,` + item("m_2", 1763700003000, `nul\u0000here`) + `,` +
			item("m_3", 1763700004000, "boom") + `,` + item("m_4", 1763700005000, "last") + `,
{"sender":{"id":"PSID2"},"recipient":{"id":"PAGE1"},"timestamp":1763700006000,"message":{"mid":"m_5","text":"another customer"}},
{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"timestamp":1763700007000,"reaction":{"mid":"m_1","action":"react","emoji":"👍","reaction":"like"}}]}]}`)
		for ext, want := range map[string]string{"m_1": "hello", "m_2": "nulhere", "m_4": "last", "m_5": "another customer"} {
			if m := e.message(ext); m.Text != want {
				t.Fatalf("%s: text %q, want %q", ext, m.Text, want)
			}
		}
		var reactions int64
		e.s.Gorm(e.ctx).Table("reactions").Where("message_id = ?", e.message("m_1").ID).Count(&reactions)
		if reactions != 1 {
			t.Fatalf("%d reactions on m_1, want 1", reactions)
		}
		log, _ := e.s.WebhookLog(e.ctx, e.bizID, 10)
		kinds := map[string]string{}
		for _, l := range log {
			kinds[l.Kind] += l.EventKey + l.Error
		}
		if len(log) != 2 || !strings.Contains(kinds[models.ProblemUnresolved], "UREF-7") ||
			!strings.Contains(kinds[models.ProblemFailed], "m_3") || !strings.Contains(kinds[models.ProblemFailed], "test_no_boom") {
			t.Fatalf("webhook log %+v: want the opt-in unresolved and the constraint's victim failed", log)
		}
	})
}
