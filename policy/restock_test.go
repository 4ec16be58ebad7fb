package policy

import (
	"testing"
	"time"
)

// TestRestock reads as §6.1: how a back-in-stock alert reaches each customer, or why it does not.
func TestRestock(t *testing.T) {
	open := Events{EventMessage: ago(2 * time.Hour)}
	closed := Events{EventMessage: ago(30 * time.Hour)}
	token := []OTNToken{{CreatedAt: ago(40 * 24 * time.Hour)}}
	used := []OTNToken{{CreatedAt: ago(40 * 24 * time.Hour), Used: true}}
	old := []OTNToken{{CreatedAt: ago(400 * 24 * time.Hour)}}
	italian := Identity{Country: "IT", Phone: "+393331234567"}
	american := Identity{Country: "US", Phone: "+12025550123"}
	cases := []struct {
		name   string
		facts  Facts
		via    RestockVia
		reason Reason
		mt     MessagingType
	}{
		{"messenger: window open, a plain UPDATE and the token is kept",
			Facts{App: AppMessenger, Events: open, OTNTokens: token}, RestockText, ReasonOK, MessagingUpdate},
		{"messenger: window closed, the OTN token pays for it",
			Facts{App: AppMessenger, Events: closed, OTNTokens: token}, RestockOTN, ReasonOK, ""},
		{"messenger: window closed and no token",
			Facts{App: AppMessenger, Events: closed}, RestockSkip, ReasonWindowClosed, ""},
		{"messenger: window closed and the token already spent",
			Facts{App: AppMessenger, Events: closed, OTNTokens: used}, RestockSkip, ReasonOTNTokenUsed, ""},
		{"messenger: window closed and the token over a year old",
			Facts{App: AppMessenger, Events: closed, OTNTokens: old}, RestockSkip, ReasonOTNTokenExpired, ""},
		{"messenger: never under HUMAN_AGENT, even with the permission",
			Facts{App: AppMessenger, Channel: Channel{HumanAgent: true}, Events: Events{EventMessage: ago(3 * 24 * time.Hour)}}, RestockSkip, ReasonWindowClosed, ""},
		{"instagram: window open, an UPDATE",
			Facts{App: AppInstagram, Events: open}, RestockText, ReasonOK, MessagingUpdate},
		{"instagram: window closed, skipped",
			Facts{App: AppInstagram, Events: closed}, RestockSkip, ReasonWindowClosed, ""},
		{"whatsapp: window open, free-form text",
			Facts{App: AppWhatsApp, Identity: italian, Events: open}, RestockText, ReasonOK, ""},
		{"whatsapp: window closed, a marketing template",
			Facts{App: AppWhatsApp, Identity: italian, Events: closed}, RestockTemplate, ReasonOK, ""},
		{"whatsapp: opted out of marketing, skipped even inside the window",
			Facts{App: AppWhatsApp, Identity: Identity{Country: "IT", MarketingOptOut: true}, Events: open}, RestockSkip, ReasonMarketingOptedOut, ""},
		{"whatsapp: a +1 US number outside the window, marketing paused",
			Facts{App: AppWhatsApp, Identity: american, Events: closed}, RestockSkip, ReasonMarketingPausedRegion, ""},
		{"whatsapp: a +1 US number inside the window may get text",
			Facts{App: AppWhatsApp, Identity: american, Events: open}, RestockText, ReasonOK, ""},
		{"blocked customers are never notified",
			Facts{App: AppWhatsApp, Identity: Identity{Blocked: true}, Events: open}, RestockSkip, ReasonBlocked, ""},
		{"a channel needing re-authorisation sends nothing",
			Facts{App: AppMessenger, Channel: Channel{Status: ChannelNeedsReauth}, Events: open, OTNTokens: token}, RestockSkip, ReasonChannelUnauthorised, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Restock(c.facts, now)
			if got.Via != c.via || got.Decision.Reason != c.reason || got.Decision.MessagingType != c.mt {
				t.Errorf("Restock = %s (%s, %q), want %s (%s, %q)", got.Via, got.Decision.Reason, got.Decision.MessagingType, c.via, c.reason, c.mt)
			}
			if (got.Via == RestockSkip) == got.Decision.Allowed {
				t.Errorf("via %s with allowed %v", got.Via, got.Decision.Allowed)
			}
			if c.via == RestockOTN && got.Decision.OTNToken != 1 {
				t.Errorf("OTNToken = %d, want the first token", got.Decision.OTNToken)
			}
		})
	}
}
