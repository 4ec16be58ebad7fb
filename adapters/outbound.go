package adapters

// OutboundKind is what an Outbound asks Meta to do.
type OutboundKind string

// Outbound kinds. Not every app supports every kind; builders say so with an *InvalidOutboundError.
const (
	OutText         OutboundKind = "text"
	OutMedia        OutboundKind = "media"
	OutQuickReplies OutboundKind = "quick_replies" // Messenger/Instagram quick replies
	OutButtons      OutboundKind = "buttons"       // WhatsApp reply buttons, Messenger button template
	OutList         OutboundKind = "list"          // WhatsApp list message
	OutTemplate     OutboundKind = "template"      // WhatsApp template, Messenger utility template
	OutReaction     OutboundKind = "reaction"
	OutMarkSeen     OutboundKind = "mark_seen"
	OutTypingOn     OutboundKind = "typing_on"
	OutTypingOff    OutboundKind = "typing_off"
	OutOTNRequest   OutboundKind = "otn_request" // Messenger one-time-notification request
)

// Outbound is one request to send, already allowed by policy: MessagingType and
// Tag are the policy's decision, copied here, never chosen by an adapter.
type Outbound struct {
	// ID is our own message id; WhatsApp echoes it back in statuses.
	ID            string       `json:"id,omitempty"`
	Kind          OutboundKind `json:"kind"`
	To            Recipient    `json:"to"`
	MessagingType string       `json:"messaging_type,omitempty"` // Messenger/Instagram: RESPONSE, UPDATE, MESSAGE_TAG, UTILITY
	Tag           string       `json:"tag,omitempty"`            // with MESSAGE_TAG, e.g. HUMAN_AGENT

	// Text is the message text, or the body above quick replies, buttons or a list.
	Text       string `json:"text,omitempty"`
	PreviewURL bool   `json:"preview_url,omitempty"` // WhatsApp link preview
	Footer     string `json:"footer,omitempty"`      // WhatsApp interactive footer

	Media      *Media      `json:"media,omitempty"`
	Choices    []Choice    `json:"choices,omitempty"` // quick replies or buttons
	ListButton string      `json:"list_button,omitempty"`
	Sections   []Section   `json:"sections,omitempty"` // list rows
	Template   *Template   `json:"template,omitempty"`
	OTN        *OTNRequest `json:"otn,omitempty"`

	// TargetExternalID is the message reacted to or marked seen.
	TargetExternalID string `json:"target_external_id,omitempty"`
	// Reaction is an emoji (WhatsApp) or what Messenger's react takes ("love");
	// empty removes our reaction.
	Reaction          string `json:"reaction,omitempty"`
	ReplyToExternalID string `json:"reply_to_external_id,omitempty"`
	Metadata          string `json:"metadata,omitempty"` // Messenger: returned in the echo
}

// Recipient says who receives an Outbound. Set the one field the send needs.
type Recipient struct {
	// ExternalID is the PSID, IGSID or wa_id (a BSUID here is recognised on WhatsApp).
	ExternalID string `json:"external_id,omitempty"`
	Phone      string `json:"phone,omitempty"` // E.164, WhatsApp
	BSUID      string `json:"bsuid,omitempty"` // WhatsApp user without a visible phone
	GroupID    string `json:"group_id,omitempty"`
	OTNToken   string `json:"otn_token,omitempty"`  // Messenger one-time notification token
	CommentID  string `json:"comment_id,omitempty"` // private reply to a comment
}

// Media is one attachment to send.
type Media struct {
	Type     string `json:"type"`               // image, video, audio, file, sticker
	URL      string `json:"url,omitempty"`      // public link Meta fetches
	MediaID  string `json:"media_id,omitempty"` // WhatsApp media id or Messenger attachment_id
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	Reusable bool   `json:"reusable,omitempty"` // Messenger is_reusable
}

// Choice is a quick reply, button or list row.
type Choice struct {
	ID          string `json:"id"` // payload returned when tapped
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Section groups list rows.
type Section struct {
	Title   string   `json:"title,omitempty"`
	Choices []Choice `json:"choices"`
}

// Template is an approved template and the values for its variables.
type Template struct {
	Name       string              `json:"name"`
	Language   string              `json:"language"`
	Components []TemplateComponent `json:"components,omitempty"`
}

// TemplateComponent fills one part of a template.
type TemplateComponent struct {
	Type       string              `json:"type"`               // header, body, button
	SubType    string              `json:"sub_type,omitempty"` // button: quick_reply, url, copy_code
	Index      int                 `json:"index,omitempty"`    // button position
	Parameters []TemplateParameter `json:"parameters,omitempty"`
}

// TemplateParameter is one variable's value.
type TemplateParameter struct {
	Type     string `json:"type"`           // text, payload, image, video, document
	Name     string `json:"name,omitempty"` // named variable; empty for positional {{1}}
	Text     string `json:"text,omitempty"` // the text, or the button payload
	MediaURL string `json:"media_url,omitempty"`
}

// OTNRequest asks a Messenger user for one notification later.
type OTNRequest struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
}
