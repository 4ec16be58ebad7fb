package adapters

import "time"

// StatusValue is how far an outbound message got.
type StatusValue string

// WhatsApp delivery statuses; played is a voice note heard.
const (
	StatusSent      StatusValue = "sent"
	StatusDelivered StatusValue = "delivered"
	StatusRead      StatusValue = "read"
	StatusFailed    StatusValue = "failed"
	StatusPlayed    StatusValue = "played"
)

// Status is WhatsApp's report on one outbound message. The event's Timestamp is when it happened.
type Status struct {
	ExternalID string      `json:"external_id"` // the wamid we got when sending
	Status     StatusValue `json:"status"`
	// RecipientID is Meta's recipient_id as sent: a wa_id, or the group id.
	RecipientID string `json:"recipient_id,omitempty"`
	// ParticipantID is Meta's recipient_participant_id: the group participant
	// this status is about, for a message sent to a WhatsApp group.
	ParticipantID string `json:"participant_id,omitempty"`
	// CallbackData is our biz_opaque_callback_data (our message id) echoed back.
	CallbackData          string     `json:"callback_data,omitempty"`
	ConversationID        string     `json:"conversation_id,omitempty"`
	ConversationOrigin    string     `json:"conversation_origin,omitempty"`
	ConversationExpiresAt *time.Time `json:"conversation_expires_at,omitempty"`
	Pricing               *Pricing   `json:"pricing,omitempty"`
	Errors                []Error    `json:"errors,omitempty"`
}

// Pricing is what Meta will charge for a message, as it told us.
type Pricing struct {
	Category string `json:"category,omitempty"` // marketing, utility, authentication, service…
	Type     string `json:"type,omitempty"`     // regular, free_customer_service, free_entry_point
	Model    string `json:"model,omitempty"`    // PMP (per message) or CBP (legacy per conversation)
	Billable *bool  `json:"billable,omitempty"` // deprecated by Meta; nil when absent
}

// Error is one error Meta attached to a status or message.
type Error struct {
	Code    int    `json:"code"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
	Details string `json:"details,omitempty"`
	Href    string `json:"href,omitempty"`
}

// Receipt is a Messenger delivery or read watermark, or an Instagram seen mid.
type Receipt struct {
	// Watermark: every message sent before it has been delivered/read.
	Watermark   time.Time `json:"watermark,omitzero"`
	ExternalIDs []string  `json:"external_ids,omitempty"` // delivery mids, or the one mid seen on Instagram
}

// ReactionAction says whether a reaction was added or taken away.
type ReactionAction string

// Reaction actions.
const (
	React   ReactionAction = "react"
	Unreact ReactionAction = "unreact"
)

// Reaction is a customer's reaction to a message.
type Reaction struct {
	ExternalID       string         `json:"external_id,omitempty"` // WhatsApp gives the reaction its own wamid
	TargetExternalID string         `json:"target_external_id"`
	Emoji            string         `json:"emoji,omitempty"`
	Reaction         string         `json:"reaction,omitempty"` // Messenger/Instagram name: love, like, smile…
	Action           ReactionAction `json:"action"`
}

// Optin types.
const (
	OptinOneTimeNotif         = "one_time_notif_req"
	OptinNotificationMessages = "notification_messages"
)

// Optin is a Messenger opt-in: a one-time-notification grant, a recurring
// notification subscription (or its stop/resume), or a plugin opt-in.
type Optin struct {
	Type    string `json:"type,omitempty"`
	Token   string `json:"token,omitempty"` // one_time_notif_token or notification_messages_token
	Payload string `json:"payload,omitempty"`
	Title   string `json:"title,omitempty"`
	// ExpiresAt is Meta's token_expiry_timestamp; OTN tokens carry none (they live one year).
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	Status          string     `json:"status,omitempty"` // stop or resume, for notification_messages
	Frequency       string     `json:"frequency,omitempty"`
	UserTokenStatus string     `json:"user_token_status,omitempty"`
	Ref             string     `json:"ref,omitempty"`      // plugin data-ref
	UserRef         string     `json:"user_ref,omitempty"` // checkbox plugin: the user has no PSID yet
}

// Referral is where a customer came from: a link, an ad, a plugin.
type Referral struct {
	Source   string `json:"source,omitempty"` // SHORTLINK, ADS, CUSTOMER_CHAT_PLUGIN; WhatsApp: ad or post
	Type     string `json:"type,omitempty"`   // OPEN_THREAD
	Ref      string `json:"ref,omitempty"`
	AdID     string `json:"ad_id,omitempty"` // Messenger/Instagram ad id, WhatsApp source_id
	AdTitle  string `json:"ad_title,omitempty"`
	PostID   string `json:"post_id,omitempty"`
	URL      string `json:"url,omitempty"` // WhatsApp source_url, Messenger referer_uri
	Headline string `json:"headline,omitempty"`
	Body     string `json:"body,omitempty"`
	// MediaType and MediaURL describe the ad's creative.
	MediaType string `json:"media_type,omitempty"`
	MediaURL  string `json:"media_url,omitempty"`
	CTWAClid  string `json:"ctwa_clid,omitempty"` // Click-to-WhatsApp click id, for conversion reporting
	// WelcomeMessage is the ad's prefilled greeting (WhatsApp).
	WelcomeMessage string `json:"welcome_message,omitempty"`
}

// Edit is a customer's change to an earlier message.
type Edit struct {
	TargetExternalID string `json:"target_external_id"`
	Text             string `json:"text"`
	NumEdit          int    `json:"num_edit,omitempty"`
}

// Unsend is a customer deleting an earlier message.
type Unsend struct {
	TargetExternalID string `json:"target_external_id"`
}

// Preference values.
const (
	PreferenceStop   = "stop"
	PreferenceResume = "resume"
	// PreferenceMarketing is the one category WhatsApp users can stop today.
	PreferenceMarketing = "marketing_messages"
)

// Preference is a WhatsApp user's marketing opt-out or opt-back-in.
type Preference struct {
	Category string `json:"category"` // marketing_messages
	Value    string `json:"value"`    // stop or resume
	Detail   string `json:"detail,omitempty"`
}

// NumberChange is a WhatsApp user moving to a new number; the thread continues.
type NumberChange struct {
	OldWaID string `json:"old_wa_id"`
	NewWaID string `json:"new_wa_id"`
}
