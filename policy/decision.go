package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// MessagingType is the Send API's messaging_type; WhatsApp has none.
type MessagingType string

// Messenger/Instagram messaging types (§1.2: https://developers.facebook.com/documentation/business-messaging/messenger-platform/reference/send-api).
const (
	MessagingResponse                   MessagingType = "RESPONSE"
	MessagingUpdate                     MessagingType = "UPDATE"
	MessagingMessageTag                 MessagingType = "MESSAGE_TAG"
	MessagingUtility                    MessagingType = "UTILITY"
	MessagingNonPromotionalSubscription MessagingType = "NON_PROMOTIONAL_SUBSCRIPTION"
)

// Reason is the stable code for a decision; the UI translates it, Explain gives the English.
type Reason string

// The reason codes of the contract: the "reason" of a Decision in GET /api/v1/threads/{id}/policy.
const (
	ReasonOK                    Reason = "ok"
	ReasonWindowClosed          Reason = "window_closed"
	ReasonHumanAgentExpired     Reason = "human_agent_expired"
	ReasonTagRetired            Reason = "tag_retired"
	ReasonTemplateRequired      Reason = "template_required"
	ReasonMarketingOptedOut     Reason = "marketing_opted_out"
	ReasonMarketingPausedRegion Reason = "marketing_paused_region"
	ReasonOTNTokenMissing       Reason = "otn_token_missing"
	ReasonOTNTokenUsed          Reason = "otn_token_used"
	ReasonOTNTokenExpired       Reason = "otn_token_expired"
	ReasonBlocked               Reason = "blocked"
	ReasonNotNewsPage           Reason = "not_news_page"
	ReasonChannelUnauthorised   Reason = "channel_unauthorised"
)

// Reasons lists every reason code, in the contract's order, for UIs building translation tables.
func Reasons() []Reason {
	return []Reason{
		ReasonOK, ReasonWindowClosed, ReasonHumanAgentExpired, ReasonTagRetired, ReasonTemplateRequired,
		ReasonMarketingOptedOut, ReasonMarketingPausedRegion, ReasonOTNTokenMissing, ReasonOTNTokenUsed,
		ReasonOTNTokenExpired, ReasonBlocked, ReasonNotNewsPage, ReasonChannelUnauthorised,
	}
}

// Explain returns a short English sentence for agents; empty for an unknown code.
func (r Reason) Explain() string {
	switch r {
	case ReasonOK:
		return "This message can be sent now."
	case ReasonWindowClosed:
		return "The messaging window is closed and no other way to send this is open; wait for the customer to write again."
	case ReasonHumanAgentExpired:
		return "More than 7 days have passed since the customer's last message, so a person can no longer reply until they write again."
	case ReasonTagRetired:
		return "Meta has retired this message tag; use a utility template or wait for the customer to write."
	case ReasonTemplateRequired:
		return "The 24-hour customer service window is closed; only an approved template can be sent."
	case ReasonMarketingOptedOut:
		return "The customer has opted out of marketing messages."
	case ReasonMarketingPausedRegion:
		return "Meta has paused marketing templates to numbers in the customer's country."
	case ReasonOTNTokenMissing:
		return "The customer has not asked to be notified, so there is no one-time notification to use."
	case ReasonOTNTokenUsed:
		return "The customer's one-time notification has already been used."
	case ReasonOTNTokenExpired:
		return "The customer's one-time notification has expired (they are valid for a year)."
	case ReasonBlocked:
		return "The customer has blocked or reported this account; nothing can be sent to them."
	case ReasonNotNewsPage:
		return "Only Pages in Meta's News Page Index can send subscription broadcasts."
	case ReasonChannelUnauthorised:
		return "This channel cannot send this: it needs reconnecting, is disabled, or lacks Meta's permission for this kind of message."
	}
	return ""
}

// Options is the set of other ways to reach the customer that are open now, kept as bits so that
// deciding never allocates.
type Options uint8

// The options of the contract, in the order they are listed.
const (
	OptionTemplate        Options = 1 << iota // a WhatsApp template
	OptionHumanAgent                          // a person replying under HUMAN_AGENT
	OptionOTN                                 // a one-time notification token is valid and unused
	OptionUtilityTemplate                     // a Messenger utility template
)

// optionNames pairs each bit with its contract name, in output order.
var optionNames = [...]struct {
	bit  Options
	name string
}{
	{OptionTemplate, "template"},
	{OptionHumanAgent, "human_agent"},
	{OptionOTN, "otn"},
	{OptionUtilityTemplate, "utility_template"},
}

// Has reports whether every option in o2 is in o.
func (o Options) Has(o2 Options) bool { return o&o2 == o2 }

// Strings returns the option names, never nil, in the contract's order.
func (o Options) Strings() []string {
	s := make([]string, 0, len(optionNames))
	for _, n := range optionNames {
		if o&n.bit != 0 {
			s = append(s, n.name)
		}
	}
	return s
}

// String joins the names with commas, for logs.
func (o Options) String() string { return strings.Join(o.Strings(), ",") }

// MarshalJSON writes the options as a list of names ([] when empty).
func (o Options) MarshalJSON() ([]byte, error) { return json.Marshal(o.Strings()) }

// UnmarshalJSON reads a list of names; an unknown name is an error, so contract drift is loud.
func (o *Options) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return err
	}
	var v Options
next:
	for _, name := range names {
		for _, n := range optionNames {
			if n.name == name {
				v |= n.bit
				continue next
			}
		}
		return fmt.Errorf("policy: unknown option %q", name)
	}
	*o = v
	return nil
}

// Decision is the engine's answer for one identity, one intent, one instant.
type Decision struct {
	IdentityID    int64         `json:"identity_id"`
	App           App           `json:"app"`
	Allowed       bool          `json:"allowed"`
	MessagingType MessagingType `json:"messaging_type"` // empty for WhatsApp, refusals and OTN token sends
	Tag           Tag           `json:"tag"`            // set only with MESSAGE_TAG
	Reason        Reason        `json:"reason"`
	// ExpiresAt is the next instant the answer changes by time alone (window close, HUMAN_AGENT end,
	// token expiry, tag retirement, pause start); zero, written as null, when time alone changes nothing.
	ExpiresAt time.Time `json:"expires_at"`
	Options   Options   `json:"options"`
	// OTNToken is the 1-based position in Facts.OTNTokens of the token this send spends (0: none), so the
	// zero Decision never points at a token; the caller marks that token used once Meta accepts the send.
	OTNToken int `json:"otn_token,omitempty"`
	// FreeEntryPointUntil is the end of the Click-to-WhatsApp free entry point, while it lasts: pricing only.
	FreeEntryPointUntil time.Time `json:"free_entry_point_until,omitzero"`
}

// OTNTokenIndex returns the 0-based index into Facts.OTNTokens of the token to spend, if any.
func (d Decision) OTNTokenIndex() (int, bool) { return d.OTNToken - 1, d.OTNToken > 0 }

// MarshalJSON writes the contract's shape: expires_at is null rather than year 1 when nothing will change.
func (d Decision) MarshalJSON() ([]byte, error) {
	type plain Decision // drops the method, so this does not recurse
	var expires *time.Time
	if !d.ExpiresAt.IsZero() {
		expires = &d.ExpiresAt
	}
	return json.Marshal(struct {
		plain
		ExpiresAt *time.Time `json:"expires_at"`
	}{plain(d), expires})
}
