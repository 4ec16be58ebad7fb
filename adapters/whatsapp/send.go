package whatsapp

import (
	"strings"
	"unicode/utf8"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// Cloud API limits for what we build.
const (
	maxText         = 4096
	maxCaption      = 1024
	maxBody         = 1024 // interactive body
	maxFooter       = 60
	maxButtons      = 3
	maxButtonTitle  = 20
	maxReplyID      = 256
	maxListButton   = 20
	maxListRows     = 10
	maxRowTitle     = 24
	maxRowDesc      = 72
	maxSectionTitle = 24
)

// Wire shapes of a POST /<phone-number-id>/messages request.
type sendBody struct {
	MessagingProduct string           `json:"messaging_product"`
	RecipientType    string           `json:"recipient_type"`
	To               string           `json:"to,omitempty"`
	Recipient        string           `json:"recipient,omitempty"` // BSUID
	Type             string           `json:"type"`
	Context          *replyContext    `json:"context,omitempty"`
	Text             *textBody        `json:"text,omitempty"`
	Image            *mediaBody       `json:"image,omitempty"`
	Video            *mediaBody       `json:"video,omitempty"`
	Audio            *mediaBody       `json:"audio,omitempty"`
	Document         *mediaBody       `json:"document,omitempty"`
	Sticker          *mediaBody       `json:"sticker,omitempty"`
	Interactive      *interactiveBody `json:"interactive,omitempty"`
	Template         *meta.Template   `json:"template,omitempty"`
	Reaction         *reactionBody    `json:"reaction,omitempty"`
	// BizOpaqueCallbackData is our message id; statuses bring it back.
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data,omitempty"`
}

type replyContext struct {
	MessageID string `json:"message_id"`
}

type textBody struct {
	PreviewURL bool   `json:"preview_url"`
	Body       string `json:"body"`
}

type mediaBody struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type interactiveBody struct {
	Type   string            `json:"type"` // button or list
	Body   textOnly          `json:"body"`
	Footer *textOnly         `json:"footer,omitempty"`
	Action interactiveAction `json:"action"`
}

type textOnly struct {
	Text string `json:"text"`
}

type interactiveAction struct {
	Buttons  []replyButton `json:"buttons,omitempty"`
	Button   string        `json:"button,omitempty"`
	Sections []listSection `json:"sections,omitempty"`
}

type replyButton struct {
	Type  string `json:"type"`
	Reply struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"reply"`
}

type listSection struct {
	Title string    `json:"title,omitempty"`
	Rows  []listRow `json:"rows"`
}

type listRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type reactionBody struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"` // empty removes our reaction
}

// readBody marks a message read, optionally showing "typing…" for up to 25 s.
type readBody struct {
	MessagingProduct string      `json:"messaging_product"`
	Status           string      `json:"status"`
	MessageID        string      `json:"message_id"`
	TypingIndicator  *typingBody `json:"typing_indicator,omitempty"`
}

type typingBody struct {
	Type string `json:"type"`
}

// BuildSend turns an Outbound into a Cloud API messages body. Quick replies
// become reply buttons; typing is shown by marking the customer's message read.
func BuildSend(out adapters.Outbound) (any, error) {
	switch out.Kind {
	case adapters.OutMarkSeen, adapters.OutTypingOn:
		return markRead(out)
	case adapters.OutTypingOff:
		return nil, invalid("kind", "WhatsApp clears typing by itself when you reply or after 25 s")
	case adapters.OutOTNRequest:
		return nil, invalid("kind", "WhatsApp has no one-time notifications; use a template")
	}
	body := sendBody{MessagingProduct: "whatsapp", BizOpaqueCallbackData: out.ID}
	if err := address(&body, out.To); err != nil {
		return nil, err
	}
	if out.ReplyToExternalID != "" {
		body.Context = &replyContext{MessageID: out.ReplyToExternalID}
	}
	var err error
	switch out.Kind {
	case adapters.OutText:
		err = text(&body, out)
	case adapters.OutMedia:
		err = mediaSend(&body, out.Media)
	case adapters.OutButtons, adapters.OutQuickReplies:
		err = buttons(&body, out)
	case adapters.OutList:
		err = list(&body, out)
	case adapters.OutTemplate:
		if out.Template == nil || out.Template.Name == "" || out.Template.Language == "" {
			return nil, invalid("template", "needs a name and a language")
		}
		t := meta.TemplateBody(*out.Template)
		body.Type, body.Template = "template", &t
	case adapters.OutReaction:
		if out.TargetExternalID == "" {
			return nil, invalid("target_external_id", "a reaction needs the message it reacts to")
		}
		body.Type, body.Reaction = "reaction", &reactionBody{MessageID: out.TargetExternalID, Emoji: out.Reaction}
	default:
		return nil, invalid("kind", "%q is not supported on WhatsApp", out.Kind)
	}
	if err != nil {
		return nil, err
	}
	return body, nil
}

// address fills the recipient: a group, a phone (to), or a BSUID (recipient).
func address(body *sendBody, to adapters.Recipient) error {
	if to.OTNToken != "" || to.CommentID != "" {
		return invalid("to", "WhatsApp has no OTN tokens or comments")
	}
	body.RecipientType = "individual"
	phone := strings.TrimPrefix(to.Phone, "+")
	bsuid := to.BSUID
	if adapters.PhoneFromWaID(to.ExternalID) != "" {
		phone = first(phone, to.ExternalID)
	} else {
		bsuid = first(bsuid, to.ExternalID) // a customer known only by BSUID
	}
	switch {
	case to.GroupID != "":
		body.RecipientType, body.To = "group", to.GroupID
	case phone != "":
		body.To = phone
	case bsuid != "":
		body.Recipient = bsuid
	default:
		return invalid("to", "needs a phone, wa_id, BSUID or group id")
	}
	return nil
}

func text(body *sendBody, out adapters.Outbound) error {
	if out.Text == "" || utf8.RuneCountInString(out.Text) > maxText {
		return invalid("text", "must be 1 to %d characters", maxText)
	}
	body.Type, body.Text = "text", &textBody{PreviewURL: out.PreviewURL, Body: out.Text}
	return nil
}

func mediaSend(body *sendBody, m *adapters.Media) error {
	if m == nil {
		return invalid("media", "missing")
	}
	if (m.URL == "") == (m.MediaID == "") {
		return invalid("media", "give exactly one of url or media_id")
	}
	if utf8.RuneCountInString(m.Caption) > maxCaption {
		return invalid("media.caption", "longer than %d characters", maxCaption)
	}
	mb := &mediaBody{ID: m.MediaID, Link: m.URL, Caption: m.Caption}
	switch m.Type {
	case "image":
		body.Image = mb
	case "video":
		body.Video = mb
	case "file", "document":
		mb.Filename = m.Filename
		body.Document = mb
		body.Type = "document"
		return nil
	case "audio", "sticker":
		if m.Caption != "" {
			return invalid("media.caption", "%s takes no caption", m.Type)
		}
		if m.Type == "audio" {
			body.Audio = mb
		} else {
			body.Sticker = mb
		}
	default:
		return invalid("media.type", "%q is not image, video, audio, file or sticker", m.Type)
	}
	body.Type = m.Type
	return nil
}

func buttons(body *sendBody, out adapters.Outbound) error {
	in, err := interactiveBase(body, out, "button")
	if err != nil {
		return err
	}
	if n := len(out.Choices); n == 0 || n > maxButtons {
		return invalid("choices", "%d buttons; 1 to %d allowed", n, maxButtons)
	}
	for _, c := range out.Choices {
		if c.Title == "" || utf8.RuneCountInString(c.Title) > maxButtonTitle {
			return invalid("choices.title", "%q must be 1 to %d characters", c.Title, maxButtonTitle)
		}
		if c.ID == "" || len(c.ID) > maxReplyID {
			return invalid("choices.id", "must be 1 to %d characters", maxReplyID)
		}
		var b replyButton
		b.Type, b.Reply.ID, b.Reply.Title = "reply", c.ID, c.Title
		in.Action.Buttons = append(in.Action.Buttons, b)
	}
	return nil
}

func list(body *sendBody, out adapters.Outbound) error {
	in, err := interactiveBase(body, out, "list")
	if err != nil {
		return err
	}
	if out.ListButton == "" || utf8.RuneCountInString(out.ListButton) > maxListButton {
		return invalid("list_button", "must be 1 to %d characters", maxListButton)
	}
	in.Action.Button = out.ListButton
	rows := 0
	for _, s := range out.Sections {
		if utf8.RuneCountInString(s.Title) > maxSectionTitle || (s.Title == "" && len(out.Sections) > 1) {
			return invalid("sections.title", "1 to %d characters, required when there are several sections", maxSectionTitle)
		}
		sec := listSection{Title: s.Title}
		for _, c := range s.Choices {
			if c.ID == "" || c.Title == "" || utf8.RuneCountInString(c.Title) > maxRowTitle || utf8.RuneCountInString(c.Description) > maxRowDesc {
				return invalid("sections.choices", "row %q: id required, title 1 to %d, description up to %d characters", c.Title, maxRowTitle, maxRowDesc)
			}
			sec.Rows = append(sec.Rows, listRow{ID: c.ID, Title: c.Title, Description: c.Description})
			rows++
		}
		in.Action.Sections = append(in.Action.Sections, sec)
	}
	if rows == 0 || rows > maxListRows {
		return invalid("sections", "%d rows; 1 to %d allowed", rows, maxListRows)
	}
	return nil
}

func interactiveBase(body *sendBody, out adapters.Outbound, kind string) (*interactiveBody, error) {
	if body.RecipientType == "group" {
		return nil, invalid("kind", "groups take no interactive messages")
	}
	if out.Text == "" || utf8.RuneCountInString(out.Text) > maxBody {
		return nil, invalid("text", "interactive body must be 1 to %d characters", maxBody)
	}
	if utf8.RuneCountInString(out.Footer) > maxFooter {
		return nil, invalid("footer", "longer than %d characters", maxFooter)
	}
	in := &interactiveBody{Type: kind, Body: textOnly{Text: out.Text}}
	if out.Footer != "" {
		in.Footer = &textOnly{Text: out.Footer}
	}
	body.Type, body.Interactive = "interactive", in
	return in, nil
}

func markRead(out adapters.Outbound) (any, error) {
	if out.TargetExternalID == "" {
		return nil, invalid("target_external_id", "marking read needs the customer's message id")
	}
	if out.To.GroupID != "" {
		return nil, invalid("kind", "groups cannot be marked read")
	}
	body := readBody{MessagingProduct: "whatsapp", Status: "read", MessageID: out.TargetExternalID}
	if out.Kind == adapters.OutTypingOn {
		body.TypingIndicator = &typingBody{Type: "text"}
	}
	return body, nil
}

func invalid(field, format string, args ...any) error {
	return adapters.Invalid(adapters.WhatsApp, field, format, args...)
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
