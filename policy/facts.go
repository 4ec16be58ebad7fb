package policy

import "time"

// App is the Meta app a conversation runs on.
type App string

// The apps Switchboard speaks to.
const (
	AppMessenger App = "messenger"
	AppInstagram App = "instagram"
	AppWhatsApp  App = "whatsapp"
)

// valid reports whether the engine knows the app; an unknown app is refused as channel_unauthorised.
func (a App) valid() bool {
	return a == AppMessenger || a == AppInstagram || a == AppWhatsApp
}

// EventKind names a customer action that may open or refresh a messaging window.
// Deliveries, reads, echoes and link clicks never open a window, so they have no kind here.
type EventKind string

// The customer actions the rule table knows about.
const (
	EventMessage    EventKind = "message"     // a message the customer sent (text, media, story reply, …)
	EventPostback   EventKind = "postback"    // a button tap such as Get Started (messaging_postbacks)
	EventQuickReply EventKind = "quick_reply" // a quick-reply tap; Meta delivers it as a message
	EventReaction   EventKind = "reaction"    // the customer reacted to one of the business's messages
	EventOptin      EventKind = "optin"       // messaging_optins: a plugin opt-in or an OTN "Notify me" tap
	EventReferral   EventKind = "referral"    // an m.me / ig.me link or ad referral; counts only if a message follows
	EventComment    EventKind = "comment"     // a comment still awaiting its one private reply
	EventCall       EventKind = "call"        // a WhatsApp call from the customer
)

// numKinds sizes the per-kind lookup arrays; keep it equal to the number of kinds above.
const numKinds = 8

// kindIndex maps a kind to a small array index, or -1 for a kind the engine does not know.
func kindIndex(k EventKind) int {
	switch k {
	case EventMessage:
		return 0
	case EventPostback:
		return 1
	case EventQuickReply:
		return 2
	case EventReaction:
		return 3
	case EventOptin:
		return 4
	case EventReferral:
		return 5
	case EventComment:
		return 6
	case EventCall:
		return 7
	}
	return -1
}

// Events holds the customer's latest event of each kind, stamped with Meta's timestamp (not the webhook's
// arrival), so a retried webhook can never reopen a closed window. A missing or zero entry means "never".
//
// How the two conditional kinds are modelled:
//   - EventReferral is the latest m.me / ig.me / ad referral. The engine counts it only when the customer's
//     latest EventMessage is at or after it, so a referral the customer never followed with a message opens
//     nothing (and a followed one never opens more than the message itself).
//   - EventComment is the customer's latest comment that has not yet had its private reply; the store drops
//     it once the reply is sent (Meta allows exactly one). It opens only a private reply (Send.PrivateReply,
//     recipient.comment_id), never the thread: the thread opens when the customer answers, as a message.
type Events map[EventKind]time.Time

// Record keeps the later of the stored and the given timestamp, so events may be fed in any order.
func (e Events) Record(kind EventKind, at time.Time) {
	if at.After(e[kind]) {
		e[kind] = at
	}
}

// ChannelStatus is the connection state of the business's channel (Page, IG account, phone number).
type ChannelStatus string

// Channel states; the empty status counts as active so that a zero Channel is usable.
const (
	ChannelActive      ChannelStatus = "active"
	ChannelNeedsReauth ChannelStatus = "needs_reauth"
	ChannelDisabled    ChannelStatus = "disabled"
)

// Channel is what the engine needs to know about the business's side of the conversation.
type Channel struct {
	Status           ChannelStatus
	NewsPage         bool // listed in Meta's News Page Index: may send NON_PROMOTIONAL_SUBSCRIPTION
	HumanAgent       bool // granted the Human Agent permission through App Review
	UtilityMessaging bool // granted pages_utility_messaging: may send Messenger utility templates
}

// usable reports whether the channel may send at all; an unknown status is refused, failing closed.
func (c Channel) usable() bool {
	return c.Status == "" || c.Status == ChannelActive
}

// Permission names a channel grant a rule can require.
type Permission string

// The grants rules refer to.
const (
	PermissionHumanAgent       Permission = "human_agent"
	PermissionUtilityMessaging Permission = "utility_messaging"
	PermissionNewsPage         Permission = "news_page"
)

// has reports whether the channel holds a grant; an unknown grant is never held.
func (c Channel) has(p Permission) bool {
	switch p {
	case "":
		return true
	case PermissionHumanAgent:
		return c.HumanAgent
	case PermissionUtilityMessaging:
		return c.UtilityMessaging
	case PermissionNewsPage:
		return c.NewsPage
	}
	return false
}

// Identity is the customer's account on this app.
type Identity struct {
	Blocked         bool   // the customer blocked the business
	Reported        bool   // the customer reported the business or the conversation
	MarketingOptOut bool   // the customer stopped marketing (WhatsApp "Offers and announcements", or our own opt-out)
	Country         string // ISO 3166-1 alpha-2 of the phone number ("US"), derived by the caller with libphonenumber
	Phone           string // E.164; kept for the caller, the engine decides on Country alone
}

// OTNToken is one Messenger one-time notification token the customer granted by tapping "Notify me".
type OTNToken struct {
	CreatedAt time.Time // Meta's timestamp of the messaging_optins event that carried the token
	Used      bool
	UsedAt    time.Time // non-zero also means used
}

// used reports whether the token was spent; either field is enough, so a half-recorded use still counts.
func (t OTNToken) used() bool { return t.Used || !t.UsedAt.IsZero() }

// SendKind says what is about to be sent and who composed it.
type SendKind string

// The send kinds. The zero SendKind means SendHumanReply: "can an agent reply now?" is the default question.
const (
	SendHumanReply      SendKind = "human_reply"      // a person typed it
	SendAutomated       SendKind = "automated"        // a bot, rule or job composed it
	SendOTNRequest      SendKind = "otn_request"      // the one_time_notif_req template asking for "Notify me"
	SendOTNMessage      SendKind = "otn_message"      // the one message an OTN token pays for
	SendTemplate        SendKind = "template"         // a WhatsApp template (see Send.Category)
	SendUtilityTemplate SendKind = "utility_template" // a Messenger UTILITY template
	SendBroadcast       SendKind = "broadcast"        // news messaging, NON_PROMOTIONAL_SUBSCRIPTION
	SendPoll            SendKind = "poll"             // a poll we render ourselves; automated and proactive
	SendRelay           SendKind = "relay"            // a cross-app group relay; automated and proactive
)

// normal resolves the zero kind to a human reply and an unknown kind to automated, the strictest free-form path.
func (k SendKind) normal() SendKind {
	switch k {
	case "":
		return SendHumanReply
	case SendHumanReply, SendAutomated, SendOTNRequest, SendOTNMessage, SendTemplate,
		SendUtilityTemplate, SendBroadcast, SendPoll, SendRelay:
		return k
	}
	return SendAutomated
}

// TemplateCategory is a WhatsApp template's category as Meta last (re)categorised it.
type TemplateCategory string

// WhatsApp template categories; an empty or unknown category is judged as marketing, the strictest.
const (
	CategoryMarketing      TemplateCategory = "marketing"
	CategoryUtility        TemplateCategory = "utility"
	CategoryAuthentication TemplateCategory = "authentication"
)

// Tag is a Messenger/Instagram message tag.
type Tag string

// The tags the rule table knows.
const (
	TagHumanAgent           Tag = "HUMAN_AGENT"
	TagConfirmedEventUpdate Tag = "CONFIRMED_EVENT_UPDATE"
	TagPostPurchaseUpdate   Tag = "POST_PURCHASE_UPDATE"
	TagAccountUpdate        Tag = "ACCOUNT_UPDATE"
)

// Send is the intent being judged.
type Send struct {
	Kind         SendKind
	Category     TemplateCategory // for SendTemplate on WhatsApp
	Tag          Tag              // a tag the caller asks for (legacy tagged sends); used only outside the window
	Promotional  bool             // upsell or marketing content: never under a tag, never to an opted-out customer
	Proactive    bool             // not an answer to the customer: UPDATE rather than RESPONSE inside the window
	PrivateReply bool             // the one private reply to the customer's comment (recipient.comment_id)
}

// Facts is everything the engine knows about one customer identity at one moment. It is plain data,
// filled by the caller from the database; the engine never looks anything up.
type Facts struct {
	IdentityID     int64 // carried through to the Decision
	App            App
	Channel        Channel
	Identity       Identity
	Events         Events
	CTWAReferralAt time.Time  // Meta's timestamp of the customer's message that carried a Click-to-WhatsApp ad referral
	OTNTokens      []OTNToken // the customer's OTN tokens, any state
	Send           Send
}
