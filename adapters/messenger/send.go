package messenger

import (
	"unicode/utf8"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// Send API limits (Send API reference, quick replies, button and OTN templates).
const (
	maxQuickReplies      = 13
	maxQuickReplyTitle   = 20
	maxPayload           = 1000
	maxButtons           = 3
	maxButtonTitle       = 20
	maxButtonText        = 640
	maxOTNTitle          = 65
	maxMetadata          = 1000
	messageTagType       = "MESSAGE_TAG"
	templateOneTimeNotif = "one_time_notif_req"
)

// Wire shapes of a Send API request.
type sendBody struct {
	Recipient     sendRecipient  `json:"recipient"`
	MessagingType string         `json:"messaging_type,omitempty"`
	Tag           string         `json:"tag,omitempty"`
	Message       *sendMessage   `json:"message,omitempty"`
	SenderAction  string         `json:"sender_action,omitempty"`
	Payload       *actionPayload `json:"payload,omitempty"`
	ReplyTo       *replyTo       `json:"reply_to,omitempty"`
}

type sendRecipient struct {
	ID                string `json:"id,omitempty"`
	OneTimeNotifToken string `json:"one_time_notif_token,omitempty"`
	CommentID         string `json:"comment_id,omitempty"`
}

type sendMessage struct {
	Text         string          `json:"text,omitempty"`
	Attachment   *sendAttachment `json:"attachment,omitempty"`
	QuickReplies []quickReply    `json:"quick_replies,omitempty"`
	Template     *meta.Template  `json:"template,omitempty"`
	Metadata     string          `json:"metadata,omitempty"`
}

type sendAttachment struct {
	Type    string `json:"type"`
	Payload any    `json:"payload"`
}

type mediaPayload struct {
	URL          string `json:"url,omitempty"`
	IsReusable   bool   `json:"is_reusable,omitempty"`
	AttachmentID string `json:"attachment_id,omitempty"`
}

type buttonTemplate struct {
	TemplateType string           `json:"template_type"`
	Text         string           `json:"text"`
	Buttons      []postbackButton `json:"buttons"`
}

type postbackButton struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

type otnTemplate struct {
	TemplateType string `json:"template_type"`
	Title        string `json:"title"`
	Payload      string `json:"payload"`
}

type quickReply struct {
	ContentType string `json:"content_type"`
	Title       string `json:"title"`
	Payload     string `json:"payload"`
}

type actionPayload struct {
	MessageID string `json:"message_id"`
	Reaction  string `json:"reaction,omitempty"`
}

type replyTo struct {
	Mid string `json:"mid"`
}

// BuildSend turns an Outbound into this app's Send API body, checking the
// limits Meta would otherwise reject. Sender actions (typing, mark_seen,
// reactions) are separate requests with no message.
func (p Platform) BuildSend(out adapters.Outbound) (any, error) {
	rcpt, err := p.recipient(out.To)
	if err != nil {
		return nil, err
	}
	body := sendBody{Recipient: rcpt}
	switch out.Kind {
	case adapters.OutTypingOn, adapters.OutTypingOff, adapters.OutMarkSeen:
		body.SenderAction = string(out.Kind)
		return body, nil
	case adapters.OutReaction:
		if out.TargetExternalID == "" {
			return nil, p.invalid("target_external_id", "a reaction needs the message it reacts to")
		}
		body.SenderAction = "react"
		if out.Reaction == "" {
			body.SenderAction = "unreact"
		}
		body.Payload = &actionPayload{MessageID: out.TargetExternalID, Reaction: out.Reaction}
		return body, nil
	}

	if err := p.checkMessagingType(out); err != nil {
		return nil, err
	}
	body.MessagingType, body.Tag = out.MessagingType, out.Tag
	msg, err := p.outMessage(out)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(out.Metadata) > maxMetadata {
		return nil, p.invalid("metadata", "longer than %d characters", maxMetadata)
	}
	msg.Metadata = out.Metadata
	body.Message = msg
	if out.ReplyToExternalID != "" {
		body.ReplyTo = &replyTo{Mid: out.ReplyToExternalID}
	}
	return body, nil
}

func (p Platform) recipient(to adapters.Recipient) (sendRecipient, error) {
	var r sendRecipient
	set := 0
	if to.ExternalID != "" {
		r.ID, set = to.ExternalID, set+1
	}
	if to.OTNToken != "" {
		if !p.OneTimeNotif {
			return r, p.invalid("to.otn_token", "%s has no one-time notifications", p.App)
		}
		r.OneTimeNotifToken, set = to.OTNToken, set+1
	}
	if to.CommentID != "" {
		r.CommentID, set = to.CommentID, set+1
	}
	switch {
	case set == 0:
		return r, p.invalid("to", "needs a user id, an OTN token or a comment id")
	case set > 1:
		return r, p.invalid("to", "give exactly one of user id, OTN token, comment id")
	case to.Phone != "" || to.BSUID != "" || to.GroupID != "":
		return r, p.invalid("to", "%s addresses people by id, not phone, BSUID or group", p.App)
	}
	return r, nil
}

func (p Platform) checkMessagingType(out adapters.Outbound) error {
	if out.MessagingType == "" && out.To.ExternalID != "" {
		return p.invalid("messaging_type", "required for a send to a user id; the policy decides it")
	}
	if (out.MessagingType == messageTagType) != (out.Tag != "") {
		return p.invalid("tag", "a tag goes with messaging_type MESSAGE_TAG and only with it")
	}
	return nil
}

func (p Platform) outMessage(out adapters.Outbound) (*sendMessage, error) {
	switch out.Kind {
	case adapters.OutText:
		if out.Text == "" {
			return nil, p.invalid("text", "empty")
		}
		if err := p.checkText(out.Text); err != nil {
			return nil, err
		}
		return &sendMessage{Text: out.Text}, nil
	case adapters.OutMedia:
		return p.media(out.Media)
	case adapters.OutQuickReplies:
		return p.quickReplies(out)
	case adapters.OutButtons:
		return p.buttons(out)
	case adapters.OutTemplate:
		if !p.UtilityTemplates {
			return nil, p.invalid("kind", "%s has no templates", p.App)
		}
		if out.Template == nil || out.Template.Name == "" || out.Template.Language == "" {
			return nil, p.invalid("template", "needs a name and a language")
		}
		t := meta.TemplateBody(*out.Template)
		return &sendMessage{Template: &t}, nil
	case adapters.OutOTNRequest:
		return p.otnRequest(out.OTN)
	default:
		return nil, p.invalid("kind", "%q is not supported on %s", out.Kind, p.App)
	}
}

func (p Platform) checkText(text string) error {
	if p.MaxTextRunes > 0 && utf8.RuneCountInString(text) > p.MaxTextRunes {
		return p.invalid("text", "longer than %d characters", p.MaxTextRunes)
	}
	if p.MaxTextBytes > 0 && len(text) > p.MaxTextBytes {
		return p.invalid("text", "longer than %d bytes of UTF-8", p.MaxTextBytes)
	}
	return nil
}

func (p Platform) media(m *adapters.Media) (*sendMessage, error) {
	if m == nil {
		return nil, p.invalid("media", "missing")
	}
	switch m.Type {
	case "image", "video", "audio", "file":
	default:
		return nil, p.invalid("media.type", "%q is not image, video, audio or file", m.Type)
	}
	if (m.URL == "") == (m.MediaID == "") {
		return nil, p.invalid("media", "give exactly one of url or media_id")
	}
	return &sendMessage{Attachment: &sendAttachment{
		Type:    m.Type,
		Payload: mediaPayload{URL: m.URL, IsReusable: m.Reusable && m.URL != "", AttachmentID: m.MediaID},
	}}, nil
}

func (p Platform) quickReplies(out adapters.Outbound) (*sendMessage, error) {
	if out.Text == "" {
		return nil, p.invalid("text", "quick replies need a question")
	}
	if err := p.checkText(out.Text); err != nil {
		return nil, err
	}
	if n := len(out.Choices); n == 0 || n > maxQuickReplies {
		return nil, p.invalid("choices", "%d quick replies; 1 to %d allowed", n, maxQuickReplies)
	}
	msg := &sendMessage{Text: out.Text}
	for _, c := range out.Choices {
		if err := p.checkChoice(c, maxQuickReplyTitle); err != nil {
			return nil, err
		}
		msg.QuickReplies = append(msg.QuickReplies, quickReply{ContentType: "text", Title: c.Title, Payload: c.ID})
	}
	return msg, nil
}

func (p Platform) buttons(out adapters.Outbound) (*sendMessage, error) {
	if out.Text == "" || utf8.RuneCountInString(out.Text) > maxButtonText {
		return nil, p.invalid("text", "button text must be 1 to %d characters", maxButtonText)
	}
	if n := len(out.Choices); n == 0 || n > maxButtons {
		return nil, p.invalid("choices", "%d buttons; 1 to %d allowed", n, maxButtons)
	}
	tpl := buttonTemplate{TemplateType: "button", Text: out.Text}
	for _, c := range out.Choices {
		if err := p.checkChoice(c, maxButtonTitle); err != nil {
			return nil, err
		}
		tpl.Buttons = append(tpl.Buttons, postbackButton{Type: "postback", Title: c.Title, Payload: c.ID})
	}
	return &sendMessage{Attachment: &sendAttachment{Type: "template", Payload: tpl}}, nil
}

func (p Platform) checkChoice(c adapters.Choice, maxTitle int) error {
	if c.Title == "" || utf8.RuneCountInString(c.Title) > maxTitle {
		return p.invalid("choices.title", "%q must be 1 to %d characters", c.Title, maxTitle)
	}
	if c.ID == "" || len(c.ID) > maxPayload {
		return p.invalid("choices.id", "payload must be 1 to %d characters", maxPayload)
	}
	return nil
}

func (p Platform) otnRequest(o *adapters.OTNRequest) (*sendMessage, error) {
	if !p.OneTimeNotif {
		return nil, p.invalid("kind", "%s has no one-time notifications", p.App)
	}
	if o == nil || o.Title == "" || o.Payload == "" {
		return nil, p.invalid("otn", "needs a title and a payload")
	}
	if utf8.RuneCountInString(o.Title) > maxOTNTitle {
		return nil, p.invalid("otn.title", "longer than %d characters", maxOTNTitle)
	}
	tpl := otnTemplate{TemplateType: templateOneTimeNotif, Title: o.Title, Payload: o.Payload}
	return &sendMessage{Attachment: &sendAttachment{Type: "template", Payload: tpl}}, nil
}

func (p Platform) invalid(field, format string, args ...any) error {
	return adapters.Invalid(p.App, field, format, args...)
}
