package policy

import (
	"testing"
	"time"
)

// sink keeps the compiler from discarding the benchmarked calls.
var sink Decision

func BenchmarkDecide(b *testing.B) {
	tokens := []OTNToken{
		{CreatedAt: now.Add(-400 * 24 * time.Hour)},
		{CreatedAt: now.Add(-30 * 24 * time.Hour), Used: true},
		{CreatedAt: now.Add(-10 * 24 * time.Hour)},
	}
	busy := Events{
		EventMessage: now.Add(-3 * 24 * time.Hour), EventPostback: now.Add(-4 * 24 * time.Hour),
		EventQuickReply: now.Add(-5 * 24 * time.Hour), EventReaction: now.Add(-2 * 24 * time.Hour),
		EventReferral: now.Add(-6 * 24 * time.Hour), EventComment: now.Add(-time.Hour),
	}
	cases := []struct {
		name string
		f    Facts
	}{
		{"messenger_in_window", messenger(Events{EventMessage: now.Add(-time.Hour)}, human)},
		{"messenger_human_agent", messenger(busy, human)},
		{"messenger_retired_tag", messenger(busy, Send{Kind: SendAutomated, Tag: TagAccountUpdate})},
		{"messenger_otn", with(messenger(busy, Send{Kind: SendOTNMessage}), func(f *Facts) { f.OTNTokens = tokens })},
		{"instagram_expired", instagram(Events{EventMessage: now.Add(-9 * 24 * time.Hour)}, human)},
		{"whatsapp_template_us", with(whatsapp(Events{EventMessage: now.Add(-30 * time.Hour)}, Send{Kind: SendTemplate, Category: CategoryMarketing}),
			func(f *Facts) { f.Identity.Country, f.CTWAReferralAt = "US", now.Add(-30*time.Hour) })},
		{"blocked", with(messenger(busy, human), func(f *Facts) { f.Identity.Blocked = true })},
	}
	b.ReportAllocs()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var d Decision
			for b.Loop() {
				d = Decide(c.f, now)
			}
			sink = d
		})
	}
}
