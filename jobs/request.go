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
	OTNRequest   *OTNRequest // ask the customer "notify me" (Messenger, inside the window)
	UseOTN       bool        // spend a one-time notification token on this message
	ReplyToID    *int64
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
