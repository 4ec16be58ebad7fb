package policy

import (
	"fmt"
	"testing"
	"time"
)

// now is "today" for the tests that do not pin another date.
var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// Instants the rules turn on, repeated here so a typo in the rule table is caught, not mirrored.
var (
	tagsFrom   = time.Date(2020, 3, 4, 0, 0, 0, 0, time.UTC)
	tagsRetire = time.Date(2026, 4, 27, 0, 0, 0, 0, time.UTC)
	usPause    = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	in2025     = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

// ago is an instant before now.
func ago(d time.Duration) time.Time { return now.Add(-d) }

// decideCase is one row of the decision tables; want.IdentityID and want.App are filled from facts.
type decideCase struct {
	name  string
	facts Facts
	at    time.Time // zero: now
	want  Decision
}

func runCases(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := c.at
			if at.IsZero() {
				at = now
			}
			want := c.want
			want.IdentityID, want.App = c.facts.IdentityID, c.facts.App
			got := Decide(c.facts, at)
			if msg := diffDecision(got, want); msg != "" {
				t.Errorf("Decide at %s:\n%s", at.Format(time.RFC3339Nano), msg)
			}
		})
	}
}

// diffDecision compares field by field, times by instant, and says what differs.
func diffDecision(got, want Decision) string {
	var msg string
	field := func(name string, g, w any) {
		if g != w {
			msg += fmt.Sprintf("  %s = %v, want %v\n", name, g, w)
		}
	}
	instant := func(name string, g, w time.Time) {
		if !g.Equal(w) {
			msg += fmt.Sprintf("  %s = %s, want %s\n", name, g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano))
		}
	}
	field("IdentityID", got.IdentityID, want.IdentityID)
	field("App", got.App, want.App)
	field("Allowed", got.Allowed, want.Allowed)
	field("MessagingType", got.MessagingType, want.MessagingType)
	field("Tag", got.Tag, want.Tag)
	field("Reason", got.Reason, want.Reason)
	instant("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	field("Options", got.Options.String(), want.Options.String())
	field("OTNToken", got.OTNToken, want.OTNToken)
	instant("FreeEntryPointUntil", got.FreeEntryPointUntil, want.FreeEntryPointUntil)
	return msg
}

// ok and no build the expected Decision tersely.
func ok(mt MessagingType, tag Tag, expires time.Time, opts Options) Decision {
	return Decision{Allowed: true, MessagingType: mt, Tag: tag, Reason: ReasonOK, ExpiresAt: expires, Options: opts}
}

func no(r Reason, expires time.Time, opts Options) Decision {
	return Decision{Reason: r, ExpiresAt: expires, Options: opts}
}

// messenger is a Messenger customer on a Page with the Human Agent permission.
func messenger(ev Events, s Send) Facts {
	return Facts{IdentityID: 7, App: AppMessenger, Channel: Channel{Status: ChannelActive, HumanAgent: true}, Events: ev, Send: s}
}

// instagram is an Instagram customer on an account with the Human Agent permission.
func instagram(ev Events, s Send) Facts {
	f := messenger(ev, s)
	f.IdentityID, f.App = 8, AppInstagram
	return f
}

// whatsapp is a UK WhatsApp customer.
func whatsapp(ev Events, s Send) Facts {
	return Facts{IdentityID: 9, App: AppWhatsApp, Identity: Identity{Country: "GB", Phone: "+447700900123"}, Events: ev, Send: s}
}

// with applies changes to a copy of the facts.
func with(f Facts, change func(*Facts)) Facts {
	change(&f)
	return f
}

var (
	human     = Send{Kind: SendHumanReply}
	automated = Send{Kind: SendAutomated}
)

func TestStandardWindow(t *testing.T) {
	msgAt := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	closeAt := msgAt.Add(24 * time.Hour)
	runCases(t, []decideCase{
		{name: "23:59:59.999 after the message the window is open",
			facts: messenger(Events{EventMessage: msgAt}, human), at: closeAt.Add(-time.Millisecond),
			want: ok(MessagingResponse, "", closeAt, 0)},
		{name: "at exactly 24:00:00 it is closed and a person replies under HUMAN_AGENT",
			facts: messenger(Events{EventMessage: msgAt}, human), at: closeAt,
			want: ok(MessagingMessageTag, TagHumanAgent, msgAt.Add(7*24*time.Hour), OptionHumanAgent)},
		{name: "at exactly 24:00:00 a bot may not send",
			facts: messenger(Events{EventMessage: msgAt}, automated), at: closeAt,
			want: no(ReasonWindowClosed, time.Time{}, OptionHumanAgent)},
		{name: "a postback opens it",
			facts: messenger(Events{EventPostback: ago(time.Hour)}, automated),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "a quick reply opens it",
			facts: messenger(Events{EventQuickReply: ago(time.Hour)}, automated),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "a reaction opens it",
			facts: instagram(Events{EventReaction: ago(time.Hour)}, automated),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "an opt-in opens it",
			facts: messenger(Events{EventOptin: ago(time.Hour)}, automated),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "the latest qualifying event wins",
			facts: messenger(Events{EventMessage: ago(20 * time.Hour), EventReaction: ago(time.Hour)}, human),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "a referral without a message opens nothing",
			facts: messenger(Events{EventReferral: ago(time.Hour)}, human),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "a referral followed by a message opens it from the message",
			facts: messenger(Events{EventReferral: ago(2 * time.Hour), EventMessage: ago(time.Hour)}, human),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "a referral after the last message does not count",
			facts: instagram(Events{EventMessage: ago(30 * time.Hour), EventReferral: ago(time.Hour)}, human),
			want:  ok(MessagingMessageTag, TagHumanAgent, ago(30*time.Hour).Add(7*24*time.Hour), OptionHumanAgent)},
		{name: "a comment does not open the thread",
			facts: messenger(Events{EventComment: ago(time.Hour)}, human),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "a comment opens its private reply for 7 days",
			facts: messenger(Events{EventComment: ago(6 * 24 * time.Hour)}, Send{Kind: SendHumanReply, PrivateReply: true}),
			want:  ok(MessagingResponse, "", now.Add(24*time.Hour), 0)},
		{name: "a private reply 7 days after the comment is too late",
			facts: instagram(Events{EventComment: ago(7 * 24 * time.Hour)}, Send{Kind: SendAutomated, PrivateReply: true}),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "a private reply needs a comment even with the thread open",
			facts: messenger(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendHumanReply, PrivateReply: true}),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "a call does not open a Messenger window",
			facts: messenger(Events{EventCall: ago(time.Hour)}, human),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "an event stamped after now (clock skew) counts",
			facts: messenger(Events{EventMessage: now.Add(time.Minute)}, human),
			want:  ok(MessagingResponse, "", now.Add(24*time.Hour+time.Minute), 0)},
		{name: "a zero timestamp is no event",
			facts: messenger(Events{EventMessage: {}}, human),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "a proactive bot message is an UPDATE",
			facts: messenger(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendAutomated, Proactive: true}),
			want:  ok(MessagingUpdate, "", now.Add(23*time.Hour), 0)},
		{name: "a proactive human message is an UPDATE",
			facts: messenger(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendHumanReply, Proactive: true}),
			want:  ok(MessagingUpdate, "", now.Add(23*time.Hour), 0)},
		{name: "a relay is an UPDATE",
			facts: instagram(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendRelay}),
			want:  ok(MessagingUpdate, "", now.Add(23*time.Hour), 0)},
		{name: "a poll is an UPDATE",
			facts: messenger(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendPoll}),
			want:  ok(MessagingUpdate, "", now.Add(23*time.Hour), 0)},
		{name: "a relay outside the window is refused like any automation",
			facts: messenger(Events{EventMessage: ago(2 * 24 * time.Hour)}, Send{Kind: SendRelay}),
			want:  no(ReasonWindowClosed, time.Time{}, OptionHumanAgent)},
		{name: "promotional content is fine inside the window",
			facts: messenger(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendAutomated, Promotional: true, Proactive: true}),
			want:  ok(MessagingUpdate, "", now.Add(23*time.Hour), 0)},
	})
}

func TestHumanAgent(t *testing.T) {
	week := 7 * 24 * time.Hour
	runCases(t, []decideCase{
		{name: "one nanosecond before 7 days it is allowed",
			facts: messenger(Events{EventMessage: ago(week - time.Nanosecond)}, human),
			want:  ok(MessagingMessageTag, TagHumanAgent, now.Add(time.Nanosecond), OptionHumanAgent)},
		{name: "at exactly 7 days it has expired",
			facts: messenger(Events{EventMessage: ago(week)}, human),
			want:  no(ReasonHumanAgentExpired, time.Time{}, 0)},
		{name: "without the permission the window is simply closed",
			facts: with(messenger(Events{EventMessage: ago(48 * time.Hour)}, human), func(f *Facts) { f.Channel.HumanAgent = false }),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "never on an automated send",
			facts: messenger(Events{EventMessage: ago(48 * time.Hour)}, automated),
			want:  no(ReasonWindowClosed, time.Time{}, OptionHumanAgent)},
		{name: "never on an automated send that asks for it",
			facts: messenger(Events{EventMessage: ago(48 * time.Hour)}, Send{Kind: SendAutomated, Tag: TagHumanAgent}),
			want:  no(ReasonWindowClosed, time.Time{}, OptionHumanAgent)},
		{name: "never inside the window, even when asked for",
			facts: messenger(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendHumanReply, Tag: TagHumanAgent}),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "never promotional",
			facts: messenger(Events{EventMessage: ago(48 * time.Hour)}, Send{Kind: SendHumanReply, Promotional: true}),
			want:  no(ReasonWindowClosed, time.Time{}, OptionHumanAgent)},
		{name: "the 7 days run from the last message, not from a later reaction",
			facts: messenger(Events{EventMessage: ago(6 * 24 * time.Hour), EventReaction: ago(48 * time.Hour)}, human),
			want:  ok(MessagingMessageTag, TagHumanAgent, now.Add(24*time.Hour), OptionHumanAgent)},
		{name: "a later reaction does not revive an expired human-agent period",
			facts: messenger(Events{EventMessage: ago(8 * 24 * time.Hour), EventReaction: ago(48 * time.Hour)}, human),
			want:  no(ReasonHumanAgentExpired, time.Time{}, 0)},
		{name: "a recent reaction still opens the 24h window",
			facts: messenger(Events{EventMessage: ago(8 * 24 * time.Hour), EventReaction: ago(23 * time.Hour)}, human),
			want:  ok(MessagingResponse, "", now.Add(time.Hour), 0)},
		{name: "a quick-reply tap is a message for the 7 days",
			facts: messenger(Events{EventMessage: ago(8 * 24 * time.Hour), EventQuickReply: ago(3 * 24 * time.Hour)}, human),
			want:  ok(MessagingMessageTag, TagHumanAgent, now.Add(4*24*time.Hour), OptionHumanAgent)},
		{name: "a postback alone never allows it",
			facts: messenger(Events{EventPostback: ago(48 * time.Hour)}, human),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "Instagram has it too",
			facts: instagram(Events{EventMessage: ago(48 * time.Hour)}, human),
			want:  ok(MessagingMessageTag, TagHumanAgent, now.Add(5*24*time.Hour), OptionHumanAgent)},
		{name: "Instagram at 7 days has expired",
			facts: instagram(Events{EventMessage: ago(week)}, human),
			want:  no(ReasonHumanAgentExpired, time.Time{}, 0)},
		{name: "in 2025 as today",
			facts: messenger(Events{EventMessage: in2025.Add(-48 * time.Hour)}, human), at: in2025,
			want: ok(MessagingMessageTag, TagHumanAgent, in2025.Add(5*24*time.Hour), OptionHumanAgent)},
	})
}

func TestRetiredTags(t *testing.T) {
	tagged := func(tag Tag) Send { return Send{Kind: SendAutomated, Tag: tag} }
	lastWeek := func(at time.Time) Events { return Events{EventMessage: at.Add(-3 * 24 * time.Hour)} }
	runCases(t, []decideCase{
		{name: "2025: ACCOUNT_UPDATE is valid until the retirement",
			facts: messenger(lastWeek(in2025), tagged(TagAccountUpdate)), at: in2025,
			want: ok(MessagingMessageTag, TagAccountUpdate, tagsRetire, OptionHumanAgent)},
		{name: "2025: CONFIRMED_EVENT_UPDATE needs no recent message",
			facts: messenger(nil, tagged(TagConfirmedEventUpdate)), at: in2025,
			want: ok(MessagingMessageTag, TagConfirmedEventUpdate, tagsRetire, 0)},
		{name: "one millisecond before the retirement it is valid",
			facts: messenger(lastWeek(tagsRetire), tagged(TagPostPurchaseUpdate)), at: tagsRetire.Add(-time.Millisecond),
			want: ok(MessagingMessageTag, TagPostPurchaseUpdate, tagsRetire, OptionHumanAgent)},
		{name: "at the retirement instant it is retired",
			facts: messenger(lastWeek(tagsRetire), tagged(TagConfirmedEventUpdate)), at: tagsRetire,
			want: no(ReasonTagRetired, time.Time{}, OptionHumanAgent)},
		{name: "2026: POST_PURCHASE_UPDATE is retired",
			facts: messenger(nil, tagged(TagPostPurchaseUpdate)),
			want:  no(ReasonTagRetired, time.Time{}, 0)},
		{name: "2026: a person asking for ACCOUNT_UPDATE is told it is retired and offered HUMAN_AGENT",
			facts: messenger(lastWeek(now), Send{Kind: SendHumanReply, Tag: TagAccountUpdate}),
			want:  no(ReasonTagRetired, time.Time{}, OptionHumanAgent)},
		{name: "before the 2020 tag set the tag is not yet valid",
			facts: messenger(nil, tagged(TagAccountUpdate)), at: tagsFrom.Add(-time.Second),
			want: no(ReasonWindowClosed, tagsFrom, 0)},
		{name: "from 2020-03-04 the 2020 tags apply",
			facts: messenger(nil, tagged(TagAccountUpdate)), at: tagsFrom,
			want: ok(MessagingMessageTag, TagAccountUpdate, tagsRetire, 0)},
		{name: "2025: a person may send a legacy tag after the human-agent period",
			facts: messenger(Events{EventMessage: in2025.Add(-10 * 24 * time.Hour)}, Send{Kind: SendHumanReply, Tag: TagAccountUpdate}), at: in2025,
			want: ok(MessagingMessageTag, TagAccountUpdate, tagsRetire, 0)},
		{name: "2025: POST_PURCHASE_UPDATE never for upselling",
			facts: messenger(nil, Send{Kind: SendAutomated, Tag: TagPostPurchaseUpdate, Promotional: true}), at: in2025,
			want: no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "2025: the legacy tags were never Instagram's",
			facts: instagram(nil, tagged(TagAccountUpdate)), at: in2025,
			want: no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "inside the window a requested tag is dropped, even a retired one",
			facts: messenger(Events{EventMessage: ago(time.Hour)}, tagged(TagAccountUpdate)),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "an unknown tag opens nothing",
			facts: messenger(nil, tagged("CUSTOMER_FEEDBACK")),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
	})
}

func TestOneTimeNotification(t *testing.T) {
	year := 365 * 24 * time.Hour
	token := func(age time.Duration) OTNToken { return OTNToken{CreatedAt: ago(age)} }
	spent := func(age time.Duration) OTNToken {
		return OTNToken{CreatedAt: ago(age), Used: true, UsedAt: ago(age / 2)}
	}
	otnMessage := Send{Kind: SendOTNMessage}
	tokens := func(f Facts, ts ...OTNToken) Facts { f.OTNTokens = ts; return f }
	runCases(t, []decideCase{
		{name: "a valid token pays for one message outside the window",
			facts: tokens(messenger(nil, otnMessage), token(100*24*time.Hour)),
			want:  Decision{Allowed: true, Reason: ReasonOK, ExpiresAt: now.Add(265 * 24 * time.Hour), Options: OptionOTN, OTNToken: 1}},
		{name: "on the token's 365th day, one nanosecond before expiry, it is valid",
			facts: tokens(messenger(nil, otnMessage), token(year-time.Nanosecond)),
			want:  Decision{Allowed: true, Reason: ReasonOK, ExpiresAt: now.Add(time.Nanosecond), Options: OptionOTN, OTNToken: 1}},
		{name: "at exactly 365 days it has expired",
			facts: tokens(messenger(nil, otnMessage), token(year)),
			want:  no(ReasonOTNTokenExpired, time.Time{}, 0)},
		{name: "a used token is spent",
			facts: tokens(messenger(nil, otnMessage), spent(10*24*time.Hour)),
			want:  no(ReasonOTNTokenUsed, time.Time{}, 0)},
		{name: "a use time alone marks it spent",
			facts: tokens(messenger(nil, otnMessage), OTNToken{CreatedAt: ago(time.Hour), UsedAt: ago(time.Minute)}),
			want:  no(ReasonOTNTokenUsed, time.Time{}, 0)},
		{name: "no token at all",
			facts: messenger(nil, otnMessage),
			want:  no(ReasonOTNTokenMissing, time.Time{}, 0)},
		{name: "the oldest valid token is chosen",
			facts: tokens(messenger(nil, otnMessage), spent(10*24*time.Hour), token(200*24*time.Hour), token(50*24*time.Hour), token(400*24*time.Hour)),
			want:  Decision{Allowed: true, Reason: ReasonOK, ExpiresAt: now.Add(165 * 24 * time.Hour), Options: OptionOTN, OTNToken: 2}},
		{name: "with none valid, the newest token's state is the reason: used",
			facts: tokens(messenger(nil, otnMessage), token(400*24*time.Hour), spent(10*24*time.Hour)),
			want:  no(ReasonOTNTokenUsed, time.Time{}, 0)},
		{name: "with none valid, the newest token's state is the reason: expired",
			facts: tokens(messenger(nil, otnMessage), spent(400*24*time.Hour), token(370*24*time.Hour)),
			want:  no(ReasonOTNTokenExpired, time.Time{}, 0)},
		{name: "inside the window the message goes as an UPDATE and the token is kept",
			facts: tokens(messenger(Events{EventMessage: ago(time.Hour)}, otnMessage), token(time.Hour)),
			want:  ok(MessagingUpdate, "", now.Add(23*time.Hour), OptionOTN)},
		{name: "the request is allowed inside the window",
			facts: messenger(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendOTNRequest}),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "the request is refused outside the window",
			facts: messenger(Events{EventMessage: ago(24 * time.Hour)}, Send{Kind: SendOTNRequest}),
			want:  no(ReasonWindowClosed, time.Time{}, OptionHumanAgent)},
		{name: "the request is refused even with a token in hand",
			facts: tokens(messenger(nil, Send{Kind: SendOTNRequest}), token(time.Hour)),
			want:  no(ReasonWindowClosed, time.Time{}, OptionOTN)},
		{name: "Instagram has no OTN",
			facts: tokens(instagram(Events{EventMessage: ago(48 * time.Hour)}, otnMessage), token(time.Hour)),
			want:  no(ReasonChannelUnauthorised, time.Time{}, OptionHumanAgent)},
		{name: "WhatsApp has no OTN",
			facts: tokens(whatsapp(nil, Send{Kind: SendOTNRequest}), token(time.Hour)),
			want:  no(ReasonChannelUnauthorised, time.Time{}, OptionTemplate)},
	})
}

func TestUtilityAndBroadcast(t *testing.T) {
	utility := func(f Facts) Facts { f.Channel.UtilityMessaging = true; return f }
	news := func(f Facts) Facts { f.Channel.NewsPage = true; return f }
	runCases(t, []decideCase{
		{name: "a utility template goes outside the window where approved",
			facts: utility(messenger(Events{EventMessage: ago(30 * 24 * time.Hour)}, Send{Kind: SendUtilityTemplate})),
			want:  ok(MessagingUtility, "", time.Time{}, OptionUtilityTemplate)},
		{name: "a utility template goes inside the window too",
			facts: utility(messenger(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendUtilityTemplate})),
			want:  ok(MessagingUtility, "", time.Time{}, OptionUtilityTemplate)},
		{name: "a utility template without the permission",
			facts: messenger(nil, Send{Kind: SendUtilityTemplate}),
			want:  no(ReasonChannelUnauthorised, time.Time{}, 0)},
		{name: "Instagram has no utility templates",
			facts: utility(instagram(nil, Send{Kind: SendUtilityTemplate})),
			want:  no(ReasonChannelUnauthorised, time.Time{}, 0)},
		{name: "a utility template on WhatsApp is a template with a category",
			facts: whatsapp(nil, Send{Kind: SendUtilityTemplate}),
			want:  no(ReasonChannelUnauthorised, time.Time{}, OptionTemplate)},
		{name: "the window-closed answer offers the utility template",
			facts: utility(messenger(Events{EventMessage: ago(30 * 24 * time.Hour)}, automated)),
			want:  no(ReasonWindowClosed, time.Time{}, OptionUtilityTemplate)},
		{name: "a news Page broadcasts at any time",
			facts: news(messenger(nil, Send{Kind: SendBroadcast})),
			want:  ok(MessagingNonPromotionalSubscription, "", time.Time{}, 0)},
		{name: "other Pages may not broadcast",
			facts: messenger(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendBroadcast}),
			want:  no(ReasonNotNewsPage, time.Time{}, 0)},
		{name: "Instagram has no news messaging",
			facts: news(instagram(nil, Send{Kind: SendBroadcast})),
			want:  no(ReasonNotNewsPage, time.Time{}, 0)},
		{name: "WhatsApp has no news messaging",
			facts: news(whatsapp(nil, Send{Kind: SendBroadcast})),
			want:  no(ReasonNotNewsPage, time.Time{}, OptionTemplate)},
		{name: "a promotional broadcast is an ordinary UPDATE inside the window",
			facts: news(messenger(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendBroadcast, Promotional: true})),
			want:  ok(MessagingUpdate, "", now.Add(23*time.Hour), 0)},
		{name: "a promotional broadcast is refused outside the window",
			facts: news(messenger(nil, Send{Kind: SendBroadcast, Promotional: true})),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
		{name: "a WhatsApp template kind on Messenger is refused",
			facts: messenger(nil, Send{Kind: SendTemplate, Category: CategoryUtility}),
			want:  no(ReasonChannelUnauthorised, time.Time{}, 0)},
	})
}

func TestWhatsApp(t *testing.T) {
	msgAt := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	closeAt := msgAt.Add(24 * time.Hour)
	template := func(c TemplateCategory) Send { return Send{Kind: SendTemplate, Category: c} }
	country := func(f Facts, cc, phone string) Facts { f.Identity.Country, f.Identity.Phone = cc, phone; return f }
	optedOut := func(f Facts) Facts { f.Identity.MarketingOptOut = true; return f }
	ctwa := func(f Facts, at time.Time) Facts { f.CTWAReferralAt = at; return f }
	T := OptionTemplate
	runCases(t, []decideCase{
		{name: "23:59:59.999 after the message free text is allowed",
			facts: whatsapp(Events{EventMessage: msgAt}, human), at: closeAt.Add(-time.Millisecond),
			want: ok("", "", closeAt, T)},
		{name: "at exactly 24:00:00 a template is required",
			facts: whatsapp(Events{EventMessage: msgAt}, human), at: closeAt,
			want: no(ReasonTemplateRequired, time.Time{}, T)},
		{name: "a call opens the window",
			facts: whatsapp(Events{EventCall: ago(2 * time.Hour)}, automated),
			want:  ok("", "", now.Add(22*time.Hour), T)},
		{name: "a reaction does not",
			facts: whatsapp(Events{EventReaction: ago(time.Hour)}, human),
			want:  no(ReasonTemplateRequired, time.Time{}, T)},
		{name: "automation outside the window needs a template",
			facts: whatsapp(Events{EventMessage: ago(25 * time.Hour)}, Send{Kind: SendRelay}),
			want:  no(ReasonTemplateRequired, time.Time{}, T)},
		{name: "tags mean nothing on WhatsApp",
			facts: whatsapp(Events{EventMessage: ago(25 * time.Hour)}, Send{Kind: SendHumanReply, Tag: TagHumanAgent}),
			want:  no(ReasonTemplateRequired, time.Time{}, T)},
		{name: "a requested tag is dropped inside the window",
			facts: whatsapp(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendAutomated, Tag: TagAccountUpdate}),
			want:  ok("", "", now.Add(23*time.Hour), T)},
		{name: "a private-reply flag means nothing on WhatsApp",
			facts: whatsapp(Events{EventMessage: ago(time.Hour)}, Send{Kind: SendHumanReply, PrivateReply: true}),
			want:  ok("", "", now.Add(23*time.Hour), T)},
		{name: "a utility template goes outside the window",
			facts: whatsapp(nil, template(CategoryUtility)),
			want:  ok("", "", time.Time{}, T)},
		{name: "an authentication template goes outside the window",
			facts: whatsapp(nil, template(CategoryAuthentication)),
			want:  ok("", "", time.Time{}, T)},
		{name: "a marketing template goes to a UK number",
			facts: whatsapp(nil, template(CategoryMarketing)),
			want:  ok("", "", time.Time{}, T)},
		{name: "a marketing template is refused to an opted-out customer",
			facts: optedOut(whatsapp(Events{EventMessage: ago(time.Hour)}, template(CategoryMarketing))),
			want:  no(ReasonMarketingOptedOut, time.Time{}, T)},
		{name: "a template without a category is judged as marketing",
			facts: optedOut(whatsapp(nil, template(""))),
			want:  no(ReasonMarketingOptedOut, time.Time{}, T)},
		{name: "a utility template still goes to an opted-out customer",
			facts: optedOut(whatsapp(nil, template(CategoryUtility))),
			want:  ok("", "", time.Time{}, T)},
		{name: "2026: marketing to a US number is paused",
			facts: country(whatsapp(nil, template(CategoryMarketing)), "US", "+12025550123"),
			want:  no(ReasonMarketingPausedRegion, time.Time{}, T)},
		{name: "2026: the pause holds inside the window too",
			facts: country(whatsapp(Events{EventMessage: ago(time.Hour)}, template(CategoryMarketing)), "US", "+12025550123"),
			want:  no(ReasonMarketingPausedRegion, time.Time{}, T)},
		{name: "2025-03-31 23:59:59.999 marketing to the US is allowed until the pause",
			facts: country(whatsapp(nil, template(CategoryMarketing)), "US", "+12025550123"), at: usPause.Add(-time.Millisecond),
			want: ok("", "", usPause, T)},
		{name: "2025-04-01 00:00:00 marketing to the US is paused",
			facts: country(whatsapp(nil, template(CategoryMarketing)), "US", "+12025550123"), at: usPause,
			want: no(ReasonMarketingPausedRegion, time.Time{}, T)},
		{name: "2025-06: paused",
			facts: country(whatsapp(nil, template(CategoryMarketing)), "US", "+12025550123"), at: in2025,
			want: no(ReasonMarketingPausedRegion, time.Time{}, T)},
		{name: "the country code is compared case-insensitively",
			facts: country(whatsapp(nil, template(CategoryMarketing)), "us", "+12025550123"),
			want:  no(ReasonMarketingPausedRegion, time.Time{}, T)},
		{name: "a +1 Canadian number is not paused",
			facts: country(whatsapp(nil, template(CategoryMarketing)), "CA", "+14165550123"),
			want:  ok("", "", time.Time{}, T)},
		{name: "opt-out is reported before the pause",
			facts: optedOut(country(whatsapp(nil, template(CategoryMarketing)), "US", "+12025550123")),
			want:  no(ReasonMarketingOptedOut, time.Time{}, T)},
		{name: "utility to the US is not paused",
			facts: country(whatsapp(nil, template(CategoryUtility)), "US", "+12025550123"),
			want:  ok("", "", time.Time{}, T)},
		{name: "a Click-to-WhatsApp referral opens a 72h free entry point",
			facts: ctwa(whatsapp(Events{EventMessage: ago(10 * time.Hour)}, human), ago(10*time.Hour)),
			want:  Decision{Allowed: true, Reason: ReasonOK, ExpiresAt: now.Add(14 * time.Hour), Options: T, FreeEntryPointUntil: now.Add(62 * time.Hour)}},
		{name: "the free entry point is pricing only: free text still needs the window",
			facts: ctwa(whatsapp(Events{EventMessage: ago(71 * time.Hour)}, human), ago(71*time.Hour)),
			want:  Decision{Reason: ReasonTemplateRequired, Options: T, FreeEntryPointUntil: now.Add(time.Hour)}},
		{name: "at exactly 72h the free entry point has ended",
			facts: ctwa(whatsapp(nil, template(CategoryMarketing)), ago(72*time.Hour)),
			want:  ok("", "", time.Time{}, T)},
	})
}

func TestEveryApp(t *testing.T) {
	inWindow := Events{EventMessage: ago(time.Hour)}
	blocked := func(f Facts) Facts { f.Identity.Blocked = true; return f }
	reported := func(f Facts) Facts { f.Identity.Reported = true; return f }
	status := func(f Facts, s ChannelStatus) Facts { f.Channel.Status = s; return f }
	runCases(t, []decideCase{
		{name: "nothing to a customer who blocked us, even inside the window",
			facts: blocked(messenger(inWindow, human)),
			want:  no(ReasonBlocked, time.Time{}, 0)},
		{name: "nothing to a customer who reported us",
			facts: reported(instagram(inWindow, automated)),
			want:  no(ReasonBlocked, time.Time{}, 0)},
		{name: "no template either, and no pricing facts",
			facts: with(blocked(whatsapp(inWindow, Send{Kind: SendTemplate, Category: CategoryUtility})), func(f *Facts) { f.CTWAReferralAt = ago(time.Hour) }),
			want:  no(ReasonBlocked, time.Time{}, 0)},
		{name: "no token send either",
			facts: with(blocked(messenger(nil, Send{Kind: SendOTNMessage})), func(f *Facts) { f.OTNTokens = []OTNToken{{CreatedAt: ago(time.Hour)}} }),
			want:  no(ReasonBlocked, time.Time{}, 0)},
		{name: "blocked is reported before a broken channel",
			facts: status(blocked(messenger(inWindow, human)), ChannelDisabled),
			want:  no(ReasonBlocked, time.Time{}, 0)},
		{name: "a channel that needs re-authorisation sends nothing",
			facts: status(messenger(inWindow, human), ChannelNeedsReauth),
			want:  no(ReasonChannelUnauthorised, time.Time{}, 0)},
		{name: "a disabled channel sends nothing",
			facts: status(whatsapp(inWindow, Send{Kind: SendTemplate, Category: CategoryUtility}), ChannelDisabled),
			want:  no(ReasonChannelUnauthorised, time.Time{}, 0)},
		{name: "an unknown channel status fails closed",
			facts: status(messenger(inWindow, human), "suspended"),
			want:  no(ReasonChannelUnauthorised, time.Time{}, 0)},
		{name: "an empty channel status is active",
			facts: status(messenger(inWindow, human), ""),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "an unknown app fails closed",
			facts: with(messenger(inWindow, human), func(f *Facts) { f.App = "telegram" }),
			want:  no(ReasonChannelUnauthorised, time.Time{}, 0)},
		{name: "nothing promotional to an opted-out Messenger customer, even inside the window",
			facts: with(messenger(inWindow, Send{Kind: SendAutomated, Promotional: true}), func(f *Facts) { f.Identity.MarketingOptOut = true }),
			want:  no(ReasonMarketingOptedOut, time.Time{}, 0)},
		{name: "nothing promotional to an opted-out WhatsApp customer inside the window",
			facts: with(whatsapp(inWindow, Send{Kind: SendAutomated, Promotional: true}), func(f *Facts) { f.Identity.MarketingOptOut = true }),
			want:  no(ReasonMarketingOptedOut, time.Time{}, OptionTemplate)},
		{name: "an opted-out customer still gets ordinary replies",
			facts: with(messenger(inWindow, human), func(f *Facts) { f.Identity.MarketingOptOut = true }),
			want:  ok(MessagingResponse, "", now.Add(23*time.Hour), 0)},
		{name: "the zero send kind is a human reply",
			facts: messenger(Events{EventMessage: ago(48 * time.Hour)}, Send{}),
			want:  ok(MessagingMessageTag, TagHumanAgent, now.Add(5*24*time.Hour), OptionHumanAgent)},
		{name: "an unknown send kind is judged as automated",
			facts: messenger(Events{EventMessage: ago(48 * time.Hour)}, Send{Kind: "carrier_pigeon"}),
			want:  no(ReasonWindowClosed, time.Time{}, OptionHumanAgent)},
		{name: "nil events are no events",
			facts: messenger(nil, human),
			want:  no(ReasonWindowClosed, time.Time{}, 0)},
	})
}

func TestForHumanReply(t *testing.T) {
	f := messenger(Events{EventMessage: ago(48 * time.Hour)}, Send{Kind: SendAutomated, Tag: TagAccountUpdate, Promotional: true})
	got := ForHumanReply(f, now)
	want := ok(MessagingMessageTag, TagHumanAgent, now.Add(5*24*time.Hour), OptionHumanAgent)
	want.IdentityID, want.App = 7, AppMessenger
	if msg := diffDecision(got, want); msg != "" {
		t.Errorf("ForHumanReply:\n%s", msg)
	}
	if f.Send.Kind != SendAutomated {
		t.Errorf("ForHumanReply changed the caller's facts: %+v", f.Send)
	}
}

func TestEventsRecord(t *testing.T) {
	ev := Events{}
	ev.Record(EventMessage, ago(time.Hour))
	ev.Record(EventMessage, ago(2*time.Hour)) // a late retry of an older webhook
	ev.Record(EventReaction, ago(3*time.Hour))
	if got := ev[EventMessage]; !got.Equal(ago(time.Hour)) {
		t.Errorf("message = %s, want the later of the two", got)
	}
	if got := ev[EventReaction]; !got.Equal(ago(3 * time.Hour)) {
		t.Errorf("reaction = %s", got)
	}
}
