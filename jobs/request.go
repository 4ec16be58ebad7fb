// Package jobs is Switchboard's durable background work on River: the
// outbound send pipeline, campaign and restock fan-out, scheduled work.
package jobs

import (
	"fmt"

	"github.com/switchboard-inbox/switchboard/policy"
)

// SendRequest is one outbound message asked for by an agent (UI composer or
// JSON API), a restock notification, a campaign or a relay. Every path goes
// through the same policy check and pipeline.
type SendRequest struct {
	BusinessID   int64
	ThreadID     int64
	AuthorUserID *int64 // the person who typed it; nil for automated sends
	Automated    bool   // composed by a job or rule, never by a person

	Text         string
	HumanAgent   bool // the agent asks to send with the HUMAN_AGENT tag (outside 24h, within 7 days)
	Template     *TemplateRequest
	Attachments  []AttachmentRequest
	QuickReplies []string
	// ChoiceIDs are the payloads of QuickReplies, in order (a WhatsApp reply
	// button's id): what Meta sends back when the customer taps one, e.g.
	// restock:<SKU>. Empty: each quick reply's payload is its title.
	ChoiceIDs  []string
	OTNRequest *OTNRequest // ask the customer "notify me" (Messenger, inside the window)
	UseOTN     bool        // spend a one-time notification token on this message
	ReplyToID  *int64

	List        *ListRequest // a WhatsApp list message (Text is its body)
	Tag         string       // a legacy Messenger tag asked for by name; the policy says whether it still exists
	Proactive   bool         // not an answer to the customer: UPDATE rather than RESPONSE inside the window
	Promotional bool         // marketing content: never under a tag, never to an opted-out customer

	// Leg is set on the legs of relay groups and polls: the send is judged as
	// policy.LegSend says, for its own recipient.
	Leg *policy.LegAuthor
}

// ListRequest is a WhatsApp list: a button that opens rows grouped in sections.
type ListRequest struct {
	Button   string        `json:"button"`
	Sections []ListSection `json:"sections"`
}

// ListSection is a titled group of list rows.
type ListSection struct {
	Title string    `json:"title,omitempty"`
	Rows  []ListRow `json:"rows"`
}

// ListRow is one choice of a list; ID comes back when the customer picks it.
type ListRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// SignalAction is something shown to the customer that is not a message.
type SignalAction string

// The signals. A reaction with an empty emoji removes ours.
const (
	SignalMarkSeen  SignalAction = "mark_seen"
	SignalTypingOn  SignalAction = "typing_on"
	SignalTypingOff SignalAction = "typing_off"
	SignalReact     SignalAction = "react"
)

// SignalRequest asks for a reaction, a read receipt or a typing indicator on a
// thread. They go through the same policy check and rate limits as messages,
// but leave no message row: a reaction is kept on the message it reacts to.
type SignalRequest struct {
	BusinessID   int64
	ThreadID     int64
	AuthorUserID *int64
	Action       SignalAction
	MessageID    int64  // the message reacted to; for mark_seen the customer's latest when 0
	Emoji        string // for reactions
}

// TemplateRequest names an approved WhatsApp template and fills its variables.
type TemplateRequest struct {
	Name      string   `json:"name"`
	Language  string   `json:"language"`
	Variables []string `json:"variables,omitempty"`
}

// AttachmentRequest is media sent by URL.
type AttachmentRequest struct {
	Kind     string `json:"kind"` // image, video, audio, file
	URL      string `json:"url"`
	Filename string `json:"filename,omitempty"`
	Caption  string `json:"caption,omitempty"`
}

// OTNRequest is the "notify me" template's title (≤65 characters) and payload.
type OTNRequest struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

// RefusedError means the policy engine refused the send: nothing was queued.
type RefusedError struct {
	Decision policy.Decision
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused by policy: %s", e.Decision.Reason)
}

// InvalidError is a request that can never be sent as written (empty text,
// unknown template); the message says which field.
type InvalidError struct{ Message string }

func (e *InvalidError) Error() string { return e.Message }
