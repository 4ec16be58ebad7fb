package adapters

import "time"

// App is one of Meta's messaging apps.
type App string

// The apps Switchboard speaks to.
const (
	Messenger App = "messenger"
	Instagram App = "instagram"
	WhatsApp  App = "whatsapp"
)

// EventType says which of Event's parts is filled in.
type EventType string

// Event types. Each names the part of Event that carries its data.
const (
	EventMessage      EventType = "message"       // Message: a customer wrote to the business
	EventEcho         EventType = "echo"          // Message (IsEcho): the business side sent something, perhaps from Meta's own inbox
	EventPostback     EventType = "postback"      // Message of kind postback: a button tap
	EventStatus       EventType = "status"        // Status: a WhatsApp delivery report for one outbound message
	EventDelivery     EventType = "delivery"      // Receipt: Messenger delivered everything up to the watermark
	EventRead         EventType = "read"          // Receipt: the customer read up to the watermark (or one mid on Instagram)
	EventReaction     EventType = "reaction"      // Reaction
	EventOptin        EventType = "optin"         // Optin
	EventReferral     EventType = "referral"      // Referral: an existing thread reopened from a link or an ad
	EventEdit         EventType = "edit"          // Edit
	EventUnsend       EventType = "unsend"        // Unsend
	EventPreference   EventType = "preference"    // Preference: WhatsApp marketing stop/resume
	EventNumberChange EventType = "number_change" // NumberChange, plus a system Message to show in the thread
	EventUnsupported  EventType = "unsupported"   // Unsupported: an envelope item we do not model; Raw keeps it
	EventTemplate     EventType = "template"      // Template: Meta changed a WhatsApp template's status or category (AccountID is the WABA id)
)

// Event is one normalised fact from a Meta webhook. Parsers emit one Event per
// item of a batch (message, status, reaction…), in payload order, and never
// deduplicate: idempotency is the ingest's job (see Key).
type Event struct {
	App App `json:"app"`
	// AccountID routes the event to a business: the Page id, the Instagram
	// account id, or the WhatsApp phone_number_id (the WABA id only for
	// account-level WhatsApp fields that carry no phone number).
	AccountID string    `json:"account_id"`
	Type      EventType `json:"type"`
	// Timestamp is Meta's own time for the event, not the webhook's arrival:
	// the messaging window is measured from it.
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Standby is true for Messenger/Instagram items from the standby channel:
	// another app holds thread control, so this one should only observe.
	Standby bool `json:"standby,omitempty"`

	// Customer is the person on the other side, whichever way the event flows:
	// the sender of an inbound message, the recipient of an echo or status, the
	// participant who wrote in a WhatsApp group.
	Customer Party `json:"customer,omitzero"`
	// GroupID is set for WhatsApp group traffic; Customer is then the participant.
	GroupID string `json:"group_id,omitempty"`

	Message      *Message        `json:"message,omitempty"`
	Status       *Status         `json:"status,omitempty"`
	Receipt      *Receipt        `json:"receipt,omitempty"`
	Reaction     *Reaction       `json:"reaction,omitempty"`
	Optin        *Optin          `json:"optin,omitempty"`
	Referral     *Referral       `json:"referral,omitempty"` // also set on a message that came from an ad or link
	Edit         *Edit           `json:"edit,omitempty"`
	Unsend       *Unsend         `json:"unsend,omitempty"`
	Preference   *Preference     `json:"preference,omitempty"`
	NumberChange *NumberChange   `json:"number_change,omitempty"`
	Unsupported  *Unsupported    `json:"unsupported,omitempty"`
	Template     *TemplateUpdate `json:"template,omitempty"`
}

// TemplateUpdate is a message_template_status_update (Status set) or a
// template_category_update (Category set) for one template of a WABA.
type TemplateUpdate struct {
	MetaID           string `json:"meta_id,omitempty"`
	Name             string `json:"name"`
	Language         string `json:"language"`
	Status           string `json:"status,omitempty"` // lowercased: approved, rejected, paused, disabled…
	Reason           string `json:"reason,omitempty"`
	Category         string `json:"category,omitempty"` // lowercased new category
	PreviousCategory string `json:"previous_category,omitempty"`
}

// Party identifies a customer on one app. ExternalID is the key Meta uses to
// address them: PSID, IGSID, wa_id, or the BSUID when WhatsApp hides the phone.
type Party struct {
	ExternalID  string `json:"external_id,omitempty"`
	Phone       string `json:"phone,omitempty"` // E.164, WhatsApp only, when Meta sent it
	BSUID       string `json:"bsuid,omitempty"` // WhatsApp business-scoped user id
	Username    string `json:"username,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Country     string `json:"country,omitempty"` // ISO 3166-1 alpha-2 from Phone
}
