package policy

import (
	"strings"
	"time"
)

// day keeps the rule table readable.
const day = 24 * time.Hour

// Dates Meta's rules changed on (§1.2, §3.2; doc.go lists the sections' pages). All instants are UTC midnights.
var (
	tagSet2020       = time.Date(2020, 3, 4, 0, 0, 0, 0, time.UTC)  // the post-4 Mar 2020 tag set
	tagsRetired2026  = time.Date(2026, 4, 27, 0, 0, 0, 0, time.UTC) // three Messenger tags retired (error 100)
	usMarketingPause = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)  // WhatsApp marketing to +1 US numbers paused
)

// WindowRule says how long one kind of customer event keeps an app's window open. For each (App, Kind)
// the row with the latest EffectiveFrom not after now applies (a later row wins a tie): a rule change is
// a new row, and a row with Duration 0 stops that kind from opening the window.
type WindowRule struct {
	App           App
	Kind          EventKind
	Duration      time.Duration
	EffectiveFrom time.Time
	AfterMessage  bool // counts only when the customer's latest message is at or after it (referrals)
	PrivateReply  bool // opens only the private reply to a comment (recipient.comment_id), never the thread
}

// TagRule says when a message tag may be sent on an app, outside the standard window.
type TagRule struct {
	Tag        Tag
	App        App
	ValidFrom  time.Time
	ValidUntil time.Time     // exclusive; zero: no end announced. Sending on or after it is tag_retired
	HumanOnly  bool          // only for sends a person composed
	Permission Permission    // a grant the channel must hold, if any
	Within     time.Duration // 0: no limit; else only until this long after the latest of SinceLast
	SinceLast  []EventKind   // the customer events Within is measured from
}

// Feature names a way of sending that exists only on some apps, or only for some channels.
type Feature string

// Features gated by FeatureRule rows.
const (
	FeatureTemplates        Feature = "template"         // WhatsApp approved templates
	FeatureUtilityTemplates Feature = "utility_template" // Messenger UTILITY templates
	FeatureOTN              Feature = "otn"              // Messenger one-time notifications
	FeatureNewsMessaging    Feature = "news_messaging"   // NON_PROMOTIONAL_SUBSCRIPTION broadcasts
)

// FeatureRule says a feature exists on an app from ValidFrom until ValidUntil (exclusive, zero: open),
// for channels holding Permission.
type FeatureRule struct {
	Feature    Feature
	App        App
	ValidFrom  time.Time
	ValidUntil time.Time
	Permission Permission
}

// LifetimeRule is a duration that applies to something created on an app from EffectiveFrom on; the row in
// force when the thing was created (the token, the referral) decides, as Meta stamps expiries at creation.
type LifetimeRule struct {
	App           App
	Duration      time.Duration
	EffectiveFrom time.Time
}

// MarketingPause stops marketing templates to customers in one country from From until Until (zero: open).
type MarketingPause struct {
	App     App
	Country string // ISO 3166-1 alpha-2, compared case-insensitively
	From    time.Time
	Until   time.Time
}

// RuleSet is all of Meta's rules the engine applies, as data.
type RuleSet struct {
	Windows         []WindowRule
	Tags            []TagRule
	Features        []FeatureRule
	OTNLifetimes    []LifetimeRule // how long an OTN token stays valid
	FreeEntryPoints []LifetimeRule // how long a Click-to-WhatsApp referral keeps messages free
	MarketingPauses []MarketingPause
}

// defaultRules is built once so Decide does not rebuild the table on every call.
var defaultRules = DefaultRules()

// DefaultRules returns Meta's rules as known on 2026-11-21 (each rule cites Meta's page). Each call returns fresh
// slices, so a caller may extend its copy without touching Decide's.
func DefaultRules() RuleSet {
	var r RuleSet
	// §1.1 and §2: Messenger and Instagram, 24 hours from the customer's last qualifying action.
	for _, app := range []App{AppMessenger, AppInstagram} {
		r.Windows = append(r.Windows,
			WindowRule{App: app, Kind: EventMessage, Duration: day},
			WindowRule{App: app, Kind: EventPostback, Duration: day},
			WindowRule{App: app, Kind: EventQuickReply, Duration: day},
			WindowRule{App: app, Kind: EventReaction, Duration: day},
			WindowRule{App: app, Kind: EventOptin, Duration: day},
			WindowRule{App: app, Kind: EventReferral, Duration: day, AfterMessage: true},
			// §1.1 Private Replies: one private reply within 7 days of the comment.
			WindowRule{App: app, Kind: EventComment, Duration: 7 * day, PrivateReply: true},
		)
	}
	// §3.2: WhatsApp's customer service window, 24 hours from a message or a call.
	r.Windows = append(r.Windows,
		WindowRule{App: AppWhatsApp, Kind: EventMessage, Duration: day},
		WindowRule{App: AppWhatsApp, Kind: EventCall, Duration: day},
	)

	// §1.2: HUMAN_AGENT, a person, within 7 days of the customer's last message (a quick-reply tap arrives
	// as a message), with the App Review permission; Messenger and Instagram.
	for _, app := range []App{AppMessenger, AppInstagram} {
		r.Tags = append(r.Tags, TagRule{
			Tag: TagHumanAgent, App: app, ValidFrom: tagSet2020,
			HumanOnly: true, Permission: PermissionHumanAgent,
			Within: 7 * day, SinceLast: []EventKind{EventMessage, EventQuickReply},
		})
	}
	// §1.2: the three non-promotional update tags, Messenger only, retired 27 Apr 2026.
	for _, tag := range []Tag{TagConfirmedEventUpdate, TagPostPurchaseUpdate, TagAccountUpdate} {
		r.Tags = append(r.Tags, TagRule{Tag: tag, App: AppMessenger, ValidFrom: tagSet2020, ValidUntil: tagsRetired2026})
	}

	r.Features = []FeatureRule{
		{Feature: FeatureTemplates, App: AppWhatsApp},                                                 // §3.2
		{Feature: FeatureUtilityTemplates, App: AppMessenger, Permission: PermissionUtilityMessaging}, // §1.4
		{Feature: FeatureOTN, App: AppMessenger},                                                      // §1.3
		{Feature: FeatureNewsMessaging, App: AppMessenger, Permission: PermissionNewsPage},            // §1.2
	}
	r.OTNLifetimes = []LifetimeRule{{App: AppMessenger, Duration: 365 * day}}                       // §1.3: "1 year", read as 365 days
	r.FreeEntryPoints = []LifetimeRule{{App: AppWhatsApp, Duration: 72 * time.Hour}}                // §3.3
	r.MarketingPauses = []MarketingPause{{App: AppWhatsApp, Country: "US", From: usMarketingPause}} // §3.2
	return r
}

// windowEnd returns when the customer's events stop opening the window (zero if they never did);
// the window is open while now is before it. privateReply selects the comment rows instead of the thread's.
func (r *RuleSet) windowEnd(app App, ev Events, privateReply bool, now time.Time) time.Time {
	var pick [numKinds]int // 1 + index of the row in force for each kind; 0: none
	for i := range r.Windows {
		w := &r.Windows[i]
		if w.App != app || w.PrivateReply != privateReply || w.EffectiveFrom.After(now) {
			continue
		}
		k := kindIndex(w.Kind)
		if k < 0 {
			continue
		}
		if p := pick[k]; p == 0 || !w.EffectiveFrom.Before(r.Windows[p-1].EffectiveFrom) {
			pick[k] = i + 1
		}
	}
	var end time.Time
	msg := ev[EventMessage]
	for _, p := range pick {
		if p == 0 {
			continue
		}
		w := &r.Windows[p-1]
		at := ev[w.Kind]
		if at.IsZero() || w.Duration <= 0 {
			continue
		}
		if w.AfterMessage && (msg.IsZero() || msg.Before(at)) {
			continue
		}
		if e := at.Add(w.Duration); e.After(end) {
			end = e
		}
	}
	return end
}

// tagVerdict judges a tagged send outside the window: ok with the instant the tag stops applying (zero:
// never), or the refusal with the instant that could change it.
func (r *RuleSet) tagVerdict(tag Tag, f *Facts, human bool, now time.Time) (Reason, time.Time) {
	retired := false
	var next time.Time
	for i := range r.Tags {
		t := &r.Tags[i]
		if t.Tag != tag || t.App != f.App {
			continue
		}
		if now.Before(t.ValidFrom) {
			next = earliest(next, t.ValidFrom)
			continue
		}
		if !t.ValidUntil.IsZero() && !now.Before(t.ValidUntil) {
			retired = true
			continue
		}
		if (t.HumanOnly && !human) || !f.Channel.has(t.Permission) {
			return ReasonWindowClosed, time.Time{}
		}
		until := t.ValidUntil
		if t.Within > 0 {
			since := latest(f.Events, t.SinceLast)
			if since.IsZero() {
				return ReasonWindowClosed, time.Time{}
			}
			end := since.Add(t.Within)
			if !now.Before(end) {
				return ReasonHumanAgentExpired, time.Time{}
			}
			until = earliest(until, end)
		}
		return ReasonOK, until
	}
	if retired {
		return ReasonTagRetired, next
	}
	return ReasonWindowClosed, next
}

// feature reports whether the app offers the feature now to this channel.
func (r *RuleSet) feature(ft Feature, f *Facts, now time.Time) bool {
	for i := range r.Features {
		x := &r.Features[i]
		if x.Feature == ft && x.App == f.App && !now.Before(x.ValidFrom) &&
			(x.ValidUntil.IsZero() || now.Before(x.ValidUntil)) && f.Channel.has(x.Permission) {
			return true
		}
	}
	return false
}

// lifetime returns the duration in force for the app at the given creation time (0: none).
func lifetime(rows []LifetimeRule, app App, at time.Time) time.Duration {
	var best *LifetimeRule
	for i := range rows {
		x := &rows[i]
		if x.App != app || x.EffectiveFrom.After(at) {
			continue
		}
		if best == nil || !x.EffectiveFrom.Before(best.EffectiveFrom) {
			best = x
		}
	}
	if best == nil {
		return 0
	}
	return best.Duration
}

// pickToken returns the index of the oldest token still valid and its expiry, or -1 and the reason none is:
// missing when there is none, else the state of the newest token (the one the customer granted last).
func (r *RuleSet) pickToken(f *Facts, now time.Time) (int, time.Time, Reason) {
	best, newest := -1, -1
	var bestEnd time.Time
	for i := range f.OTNTokens {
		t := &f.OTNTokens[i]
		if newest < 0 || !t.CreatedAt.Before(f.OTNTokens[newest].CreatedAt) {
			newest = i
		}
		if t.used() {
			continue
		}
		end := t.CreatedAt.Add(lifetime(r.OTNLifetimes, f.App, t.CreatedAt))
		if !now.Before(end) {
			continue
		}
		if best < 0 || t.CreatedAt.Before(f.OTNTokens[best].CreatedAt) {
			best, bestEnd = i, end
		}
	}
	switch {
	case best >= 0:
		return best, bestEnd, ReasonOK
	case newest < 0:
		return -1, time.Time{}, ReasonOTNTokenMissing
	case f.OTNTokens[newest].used():
		return -1, time.Time{}, ReasonOTNTokenUsed
	}
	return -1, time.Time{}, ReasonOTNTokenExpired
}

// marketingPause reports whether marketing to the customer's country is paused now, and the instant that
// changes (the pause's end, or the start of one still to come; zero: none).
func (r *RuleSet) marketingPause(f *Facts, now time.Time) (bool, time.Time) {
	var next time.Time
	for i := range r.MarketingPauses {
		p := &r.MarketingPauses[i]
		if p.App != f.App || p.Country == "" || !strings.EqualFold(p.Country, f.Identity.Country) {
			continue
		}
		if now.Before(p.From) {
			next = earliest(next, p.From)
			continue
		}
		if p.Until.IsZero() || now.Before(p.Until) {
			return true, p.Until
		}
	}
	return false, next
}

// freeEntryPointUntil returns the end of the free entry point opened by a Click-to-WhatsApp referral, if
// now is inside it. Meta starts the 72h at the business's reply within 24h; starting at the referral
// message is earlier, so the engine may under-report free time but never over-reports it.
func (r *RuleSet) freeEntryPointUntil(f *Facts, now time.Time) time.Time {
	if f.CTWAReferralAt.IsZero() {
		return time.Time{}
	}
	d := lifetime(r.FreeEntryPoints, f.App, f.CTWAReferralAt)
	if d <= 0 {
		return time.Time{}
	}
	if end := f.CTWAReferralAt.Add(d); now.Before(end) {
		return end
	}
	return time.Time{}
}

// latest returns the latest of the given kinds' timestamps (zero if none).
func latest(ev Events, kinds []EventKind) time.Time {
	var t time.Time
	for _, k := range kinds {
		if at := ev[k]; at.After(t) {
			t = at
		}
	}
	return t
}

// earliest returns the earlier of two instants, treating zero as "none".
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
