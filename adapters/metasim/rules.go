package metasim

import "time"

// Meta's dated rules, in one place (from https://developers.facebook.com/documentation/business-messaging/messenger-platform/reference/send-api
// and https://developers.facebook.com/docs/whatsapp/pricing).
var (
	// Three Messenger tags stopped working on 27 Apr 2026 (error 100).
	// Assumption: the cut-over is midnight UTC; Meta gives the day, not the hour.
	tagRetirement = time.Date(2026, 4, 27, 0, 0, 0, 0, time.UTC)
	// Recurring Notifications (notification_messages tokens) ended on 10 Feb 2026.
	recurringEnd = time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	// From 1 Sep 2025 Recurring Notifications were limited to one message per 48 hours.
	recurringThrottleFrom = time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	// Marketing templates to +1 US numbers have been paused since 1 Apr 2025 (131049).
	usMarketingPause = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	// From 1 Oct 2026 Meta bills service replies and utility templates inside the window (§6.3 ⚠).
	inWindowBilled = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	// Instagram stopped sending "share" attachments for posts on 1 Feb 2026.
	instagramShareEnd = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
)

// Meta's windows and lifetimes.
const (
	standardWindow     = 24 * time.Hour       // Messenger/Instagram window and WhatsApp's CSW
	humanAgentWindow   = 7 * 24 * time.Hour   // HUMAN_AGENT and CUSTOMER_FEEDBACK
	privateReplyWindow = 7 * 24 * time.Hour   // one private reply to a comment
	otnLifetime        = 365 * 24 * time.Hour // a One-Time Notification token lives one year
	recurringGap       = 48 * time.Hour       // Recurring Notifications pacing from Sep 2025
	recurringLifetime  = 180 * 24 * time.Hour // Assumption: a notification_messages token lasts 6 months
	entryPointWindow   = 72 * time.Hour       // WhatsApp free-entry-point window
)

// tagRule is what one Messenger message tag allows.
type tagRule struct {
	window     time.Duration // how long after the user's last message; 0 means no limit
	humanAgent bool          // needs the Page's Human Agent permission to reach past 24h
	newsOnly   bool          // only News Page Index publishers
	instagram  bool          // also valid on Instagram
	retiredAt  time.Time     // zero while live
}

// messageTags is Meta's tag table (post–4 Mar 2020 set, as amended in 2026).
var messageTags = map[string]tagRule{
	"HUMAN_AGENT":                  {window: humanAgentWindow, humanAgent: true, instagram: true},
	"CUSTOMER_FEEDBACK":            {window: humanAgentWindow},
	"CONFIRMED_EVENT_UPDATE":       {retiredAt: tagRetirement},
	"POST_PURCHASE_UPDATE":         {retiredAt: tagRetirement},
	"ACCOUNT_UPDATE":               {retiredAt: tagRetirement},
	"NON_PROMOTIONAL_SUBSCRIPTION": {newsOnly: true},
}

// retired reports whether the tag has been retired by now.
func (r tagRule) retired(now time.Time) bool {
	return !r.retiredAt.IsZero() && !now.Before(r.retiredAt)
}
