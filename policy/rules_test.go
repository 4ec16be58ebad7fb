package policy

import (
	"testing"
	"time"
)

func TestRulesAreData(t *testing.T) {
	jan2027 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	jul2027 := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)
	changed := DefaultRules()
	changed.Windows = append(changed.Windows,
		WindowRule{App: AppInstagram, Kind: EventMessage, Duration: 48 * time.Hour, EffectiveFrom: jan2027},
		WindowRule{App: AppInstagram, Kind: EventReaction, Duration: 0, EffectiveFrom: jan2027}, // reactions stop counting
	)
	changed.MarketingPauses = append(changed.MarketingPauses, MarketingPause{App: AppWhatsApp, Country: "CA", From: jan2027, Until: jul2027})

	canada := func(s Send) Facts {
		f := whatsapp(nil, s)
		f.Identity.Country, f.Identity.Phone = "CA", "+14165550123"
		return f
	}
	marketing := Send{Kind: SendTemplate, Category: CategoryMarketing}
	cases := []struct {
		name  string
		rules RuleSet
		facts Facts
		at    time.Time
		want  Decision
	}{
		{name: "before a new window row, the old one applies",
			rules: changed, facts: instagram(Events{EventMessage: jan2027.Add(-30 * time.Hour)}, automated), at: jan2027.Add(-time.Nanosecond),
			want: no(ReasonWindowClosed, time.Time{}, OptionHumanAgent)},
		{name: "from its effective date the new window row applies",
			rules: changed, facts: instagram(Events{EventMessage: jan2027.Add(-30 * time.Hour)}, automated), at: jan2027,
			want: ok(MessagingResponse, "", jan2027.Add(18*time.Hour), 0)},
		{name: "a zero-duration row stops a kind from opening the window",
			rules: changed, facts: instagram(Events{EventReaction: jan2027.Add(-time.Hour)}, automated), at: jan2027,
			want: no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "other apps keep their rows",
			rules: changed, facts: messenger(Events{EventReaction: jan2027.Add(-time.Hour)}, automated), at: jan2027,
			want: ok(MessagingResponse, "", jan2027.Add(23*time.Hour), 0)},
		{name: "a pause still to come is when the answer changes",
			rules: changed, facts: canada(marketing), at: jan2027.Add(-24 * time.Hour),
			want: ok("", "", jan2027, OptionTemplate)},
		{name: "a pause with an end reports the end",
			rules: changed, facts: canada(marketing), at: jan2027,
			want: no(ReasonMarketingPausedRegion, jul2027, OptionTemplate)},
		{name: "after its end the pause is over",
			rules: changed, facts: canada(marketing), at: jul2027,
			want: ok("", "", time.Time{}, OptionTemplate)},
		{name: "no rules: no window",
			rules: RuleSet{}, facts: messenger(Events{EventMessage: now.Add(-time.Hour)}, human), at: now,
			want: no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "no rules: no templates",
			rules: RuleSet{}, facts: whatsapp(nil, marketing), at: now,
			want: no(ReasonChannelUnauthorised, time.Time{}, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			want.IdentityID, want.App = c.facts.IdentityID, c.facts.App
			if msg := diffDecision(DecideWith(c.rules, c.facts, c.at), want); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestDefaultRulesAreFreshCopies(t *testing.T) {
	f := messenger(Events{EventMessage: now.Add(-48 * time.Hour)}, human)
	before := Decide(f, now)

	r := DefaultRules()
	for i := range r.Windows {
		r.Windows[i].Duration = 0
	}
	for i := range r.Tags {
		r.Tags[i].ValidUntil = now
		for k := range r.Tags[i].SinceLast {
			r.Tags[i].SinceLast[k] = EventCall
		}
	}
	if after := Decide(f, now); diffDecision(after, before) != "" {
		t.Errorf("changing a DefaultRules copy changed Decide:\n%s", diffDecision(after, before))
	}
}

func TestDefaultRulesDates(t *testing.T) {
	r := DefaultRules()
	legacy := map[Tag]bool{TagConfirmedEventUpdate: true, TagPostPurchaseUpdate: true, TagAccountUpdate: true}
	seen := 0
	for _, tr := range r.Tags {
		if !legacy[tr.Tag] {
			continue
		}
		seen++
		if tr.App != AppMessenger || !tr.ValidFrom.Equal(tagsFrom) || !tr.ValidUntil.Equal(tagsRetire) {
			t.Errorf("%s: %s from %s until %s, want messenger from %s until %s", tr.Tag, tr.App, tr.ValidFrom, tr.ValidUntil, tagsFrom, tagsRetire)
		}
	}
	if seen != 3 {
		t.Errorf("found %d legacy tag rows, want 3", seen)
	}
	for _, tr := range r.Tags {
		if tr.Tag == TagHumanAgent && (tr.Within != 7*24*time.Hour || !tr.HumanOnly || tr.Permission != PermissionHumanAgent) {
			t.Errorf("HUMAN_AGENT on %s: %+v", tr.App, tr)
		}
		if tr.App == AppInstagram && tr.Tag != TagHumanAgent {
			t.Errorf("Instagram has only HUMAN_AGENT, found %s", tr.Tag)
		}
	}
	if got := lifetime(r.OTNLifetimes, AppMessenger, now); got != 365*24*time.Hour {
		t.Errorf("OTN lifetime = %s, want 365 days", got)
	}
	if got := lifetime(r.FreeEntryPoints, AppWhatsApp, now); got != 72*time.Hour {
		t.Errorf("free entry point = %s, want 72h", got)
	}
	if len(r.MarketingPauses) != 1 || r.MarketingPauses[0].Country != "US" || !r.MarketingPauses[0].From.Equal(usPause) {
		t.Errorf("marketing pauses = %+v, want US from %s", r.MarketingPauses, usPause)
	}
}
