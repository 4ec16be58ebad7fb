package inbound_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
)

// process stores payloads as the endpoint would and applies them, without
// requiring that every one succeeds.
func (e *env) process(payloads ...string) {
	e.t.Helper()
	for _, p := range payloads {
		if err := e.s.Gorm(e.ctx).Exec(`INSERT INTO raw_webhooks (app, body, signed_by) VALUES (?, ?, 'app')`, e.ch.App, []byte(p)).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := e.proc.ProcessPending(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) count(where string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.s.Gorm(e.ctx).Model(&models.Message{}).Where(where, args...).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func waTexts(texts ...string) string {
	var msgs []string
	for i, t := range texts {
		msgs = append(msgs, fmt.Sprintf(`{"from":"393331112222","id":"wamid.T%d","timestamp":"%d","type":"text","text":{"body":"%s"}}`, i, 1763700000+i, t))
	}
	return waEnvelope(`"contacts":[{"profile":{"name":"Anna"},"wa_id":"393331112222"}],"messages":[` + strings.Join(msgs, ",") + `]`)
}

// One event that cannot be applied is parked alone with its error; its
// siblings land, and after the fix a replay applies it without doubling them.
func TestOneBadEventDoesNotTakeItsSiblings(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	// A fault the schema raises for one row only, as a bug or a constraint would.
	e.s.Gorm(e.ctx).Exec(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.text = 'boom' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$`)
	e.s.Gorm(e.ctx).Exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_boom()`)
	e.process(waTexts("first", "boom", "third"))
	if n := e.count("channel_id = ?", e.ch.ID); n != 2 {
		t.Fatalf("%d messages stored, want the 2 good siblings", n)
	}
	log, err := e.s.WebhookLog(e.ctx, e.bizID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Kind != models.ProblemFailed || !strings.Contains(log[0].Error, "refused by test") ||
		!strings.Contains(log[0].EventKey, "wamid.T1") || !log[0].Replayable() {
		t.Fatalf("webhook log %+v: want the one failed event with its error", log)
	}
	e.s.Gorm(e.ctx).Exec(`DROP TRIGGER refuse_boom ON messages`)
	if err := e.s.ReplayWebhook(e.ctx, e.bizID+1000, log[0].RawWebhookID); err == nil {
		t.Fatal("another business replayed the payload")
	}
	if err := e.s.ReplayWebhook(e.ctx, e.bizID, log[0].RawWebhookID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.proc.ProcessPending(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count("channel_id = ?", e.ch.ID); n != 3 {
		t.Fatalf("%d messages after the replay, want 3 (each once)", n)
	}
	if log, _ := e.s.WebhookLog(e.ctx, e.bizID, 10); len(log) != 0 {
		t.Fatalf("webhook log after a successful replay: %+v", log)
	}
}

// PostgreSQL cannot store NUL: it is stripped, and nothing else is lost.
func TestNULIsStrippedNotFatal(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	e.deliver(waTexts(`bad\u0000text`, `fine`, `kept \\u0000 literally`))
	if m := e.message("wamid.T0"); m.Text != "badtext" {
		t.Fatalf("text %q, want NUL stripped", m.Text)
	}
	if m := e.message("wamid.T2"); m.Text != `kept \u0000 literally` {
		t.Fatalf("an escaped backslash was taken for NUL: %q", m.Text)
	}
	if n := e.count("channel_id = ?", e.ch.ID); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
}

// A checkbox-plugin opt-in names only a user_ref: kept as unresolved, and the
// message beside it in the payload lands.
func TestUserRefOptinIsKeptNotAnError(t *testing.T) {
	e := newEnv(t, "messenger", "PAGE1")
	e.deliver(`{"object":"page","entry":[{"id":"PAGE1","time":1763700002000,"messaging":[
{"recipient":{"id":"PAGE1"},"timestamp":1763700001000,"optin":{"ref":"checkout","user_ref":"UREF-42"}},
{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"timestamp":1763700002000,"message":{"mid":"m_next","text":"hi"}}]}]}`)
	e.message("m_next")
	log, _ := e.s.WebhookLog(e.ctx, e.bizID, 10)
	if len(log) != 1 || log[0].Kind != models.ProblemUnresolved || !strings.Contains(log[0].Error, "UREF-42") || log[0].Replayable() {
		t.Fatalf("webhook log %+v: want the opt-in kept as unresolved", log)
	}
}

func waPreference(value, category string, ts int64) string {
	return strings.Replace(waEnvelope(fmt.Sprintf(`"contacts":[{"profile":{"name":"Anna"},"wa_id":"393331112222"}],
"user_preferences":[{"wa_id":"393331112222","detail":"User requested to stop marketing messages","category":"%s","value":"%s","timestamp":%d}]`,
		category, value, ts)), `"field":"messages"`, `"field":"user_preferences"`, 1)
}

func (e *env) optedOut() bool {
	e.t.Helper()
	id, err := e.s.IdentityByExternal(e.ctx, e.ch.ID, "393331112222")
	if err != nil || id == nil {
		e.t.Fatalf("identity: %v %v", id, err)
	}
	return id.MarketingOptOutAt != nil
}

// WhatsApp retries for days: a late "resume" from before a "stop" must not
// undo it, and only the marketing category is a marketing preference.
func TestStaleResumeDoesNotUndoANewerStop(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	e.deliver(waPreference("stop", "marketing_messages", 1763700200))
	e.deliver(waPreference("resume", "marketing_messages", 1763700100)) // older, arriving late
	if !e.optedOut() {
		t.Fatal("a stale resume cleared a newer stop")
	}
	e.deliver(waPreference("resume", "some_future_category", 1763700300))
	if !e.optedOut() {
		t.Fatal("a resume of another category cleared the marketing stop")
	}
	e.deliver(waPreference("resume", "marketing_messages", 1763700400))
	if e.optedOut() {
		t.Fatal("a newer resume was not applied")
	}
}

// A failed status with 131050 means the customer stopped marketing: recorded.
func TestMarketingRefusalInAStatusRecordsTheOptOut(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	e.outbound("wamid.MKT")
	if e.optedOut() {
		t.Fatal("opted out before the refusal")
	}
	e.deliver(waEnvelope(`"statuses":[{"id":"wamid.MKT","status":"failed","timestamp":"1763700150","recipient_id":"393331112222",
"errors":[{"code":131050,"title":"Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business"}]}]`))
	if !e.optedOut() {
		t.Fatal("131050 in a failed status did not record the opt-out")
	}
}
