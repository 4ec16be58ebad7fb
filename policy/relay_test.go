package policy

import (
	"testing"
	"time"
)

// Each leg of a relay group is judged for its own recipient on their own app.
func TestDecideLeg(t *testing.T) {
	const day = 24 * time.Hour
	noHumanAgent := func(f *Facts) { f.Channel.HumanAgent = false }
	cases := []struct {
		name   string
		facts  Facts
		author LegAuthor
		want   Decision
	}{
		{"a relayed message inside the window goes as UPDATE", messenger(Events{EventMessage: ago(time.Hour)}, Send{}), LegFromCustomer,
			Decision{Allowed: true, MessagingType: MessagingUpdate, Reason: ReasonOK, ExpiresAt: ago(time.Hour).Add(day)}},
		{"a relayed message is never HUMAN_AGENT, even within 7 days", messenger(Events{EventMessage: ago(2 * day)}, Send{}), LegFromCustomer,
			Decision{Reason: ReasonWindowClosed}},
		{"nor on Instagram", instagram(Events{EventMessage: ago(3 * day)}, Send{}), LegFromCustomer,
			Decision{Reason: ReasonWindowClosed}},
		{"a relayed message to WhatsApp outside the window needs a template", whatsapp(Events{EventMessage: ago(25 * time.Hour)}, Send{}), LegFromCustomer,
			Decision{Reason: ReasonTemplateRequired}},
		{"a relayed message to WhatsApp inside the window is free-form", whatsapp(Events{EventMessage: ago(time.Hour)}, Send{}), LegFromCustomer,
			Decision{Allowed: true, Reason: ReasonOK, ExpiresAt: ago(time.Hour).Add(day)}},
		{"an agent's own message inside the window is a RESPONSE", messenger(Events{EventMessage: ago(time.Hour)}, Send{}), LegFromAgent,
			Decision{Allowed: true, MessagingType: MessagingResponse, Reason: ReasonOK, ExpiresAt: ago(time.Hour).Add(day)}},
		{"an agent's own message uses HUMAN_AGENT within 7 days", messenger(Events{EventMessage: ago(2 * day)}, Send{}), LegFromAgent,
			Decision{Allowed: true, MessagingType: MessagingMessageTag, Tag: TagHumanAgent, Reason: ReasonOK, ExpiresAt: ago(2 * day).Add(7 * day)}},
		{"but not after 7 days", instagram(Events{EventMessage: ago(8 * day)}, Send{}), LegFromAgent,
			Decision{Reason: ReasonHumanAgentExpired}},
		{"nor without the Human Agent permission", with(messenger(Events{EventMessage: ago(2 * day)}, Send{}), noHumanAgent), LegFromAgent,
			Decision{Reason: ReasonWindowClosed}},
		{"an agent's message to WhatsApp outside the window needs a template", whatsapp(Events{EventMessage: ago(2 * day)}, Send{}), LegFromAgent,
			Decision{Reason: ReasonTemplateRequired}},
		{"a poll is automated: never HUMAN_AGENT", messenger(Events{EventMessage: ago(2 * day)}, Send{}), LegPoll,
			Decision{Reason: ReasonWindowClosed}},
		{"a poll inside the window is an UPDATE", instagram(Events{EventMessage: ago(time.Hour)}, Send{}), LegPoll,
			Decision{Allowed: true, MessagingType: MessagingUpdate, Reason: ReasonOK, ExpiresAt: ago(time.Hour).Add(day)}},
		{"a blocked member gets no leg", with(messenger(Events{EventMessage: ago(time.Hour)}, Send{}), func(f *Facts) { f.Identity.Blocked = true }), LegFromAgent,
			Decision{Reason: ReasonBlocked}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := DecideLeg(c.facts, c.author, now)
			want := c.want
			want.IdentityID, want.App = c.facts.IdentityID, c.facts.App
			got.Options, got.FreeEntryPointUntil = 0, time.Time{} // what else is open is DecideWith's business, tested there
			if msg := diffDecision(got, want); msg != "" {
				t.Errorf("DecideLeg:\n%s", msg)
			}
		})
	}
}
