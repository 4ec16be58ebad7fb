package messenger

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/adapters"
)

func (p Platform) applyMessage(ev *adapters.Event, m *wireMessage) error {
	if m.IsDeleted {
		ev.Type = adapters.EventUnsend
		ev.Unsend = &adapters.Unsend{TargetExternalID: m.Mid}
		return nil
	}
	msg, err := p.inMessage(m)
	if err != nil {
		return fmt.Errorf("message %s: %w", m.Mid, err)
	}
	ev.Type = adapters.EventMessage
	if m.IsEcho {
		ev.Type = adapters.EventEcho
	}
	ev.Message = msg
	ev.Referral = referral(m.Referral)
	return nil
}

func (p Platform) inMessage(m *wireMessage) (*adapters.Message, error) {
	msg := &adapters.Message{
		ExternalID: m.Mid,
		Kind:       adapters.KindText,
		Text:       m.Text,
		IsEcho:     m.IsEcho,
		EchoAppID:  string(m.AppID),
		Metadata:   m.Metadata,
	}
	if m.QuickReply != nil {
		msg.Details.Payload = m.QuickReply.Payload
	}
	if m.ReplyTo != nil {
		msg.ReplyToExternalID = m.ReplyTo.Mid
		if s := m.ReplyTo.Story; s != nil {
			msg.Kind = adapters.KindStoryReply
			msg.Details.Story = &adapters.Story{ID: string(s.ID), URL: s.URL}
		}
	}
	for i, a := range m.Attachments {
		att, kind, err := attachment(a, &msg.Details)
		if err != nil {
			return nil, fmt.Errorf("attachment[%d]: %w", i, err)
		}
		msg.Attachments = append(msg.Attachments, att)
		// The first attachment names the kind; a story reply stays one.
		if i == 0 && msg.Kind != adapters.KindStoryReply {
			msg.Kind = kind
		}
	}
	if m.StickerID != "" && len(m.Attachments) == 0 {
		msg.Kind = adapters.KindSticker
		msg.Attachments = []adapters.Attachment{{Type: "sticker", MediaID: string(m.StickerID)}}
	}
	if m.IsUnsupported {
		msg.Kind = adapters.KindUnsupported
		msg.Details.Unsupported = &adapters.Unsupported{
			Reason:      adapters.UnsupportedNotDelivered,
			Explanation: "Meta did not deliver this message's content (is_unsupported); it can only be seen in the customer's app",
		}
	}
	return msg, nil
}

// attachment maps one attachment to ours and the message kind it implies.
func attachment(a wireAttachment, d *adapters.Details) (adapters.Attachment, adapters.Kind, error) {
	var pl attachmentPayload
	if trimmed := strings.TrimSpace(string(a.Payload)); strings.HasPrefix(trimmed, "{") {
		if err := json.Unmarshal(a.Payload, &pl); err != nil {
			return adapters.Attachment{}, "", err
		}
	}
	att := adapters.Attachment{
		Type:    a.Type,
		URL:     first(pl.URL, a.URL),
		Title:   first(pl.Title, a.Title),
		MediaID: string(pl.AttachmentID),
	}
	switch a.Type {
	case "image":
		if pl.StickerID != "" {
			att.Type, att.MediaID = "sticker", string(pl.StickerID)
			return att, adapters.KindSticker, nil
		}
		return att, adapters.KindImage, nil
	case "video":
		return att, adapters.KindVideo, nil
	case "audio":
		return att, adapters.KindAudio, nil
	case "file":
		return att, adapters.KindFile, nil
	case "location":
		loc := &adapters.Location{Name: a.Title, URL: a.URL}
		if c := pl.Coordinates; c != nil {
			loc.Latitude, loc.Longitude = c.Lat, c.Long
		}
		d.Location = loc
		return att, adapters.KindLocation, nil
	case "fallback", "share":
		return att, adapters.KindShare, nil
	case "template":
		d.Raw = a.Payload // generic/button/receipt templates: shown as sent
		return att, adapters.KindTemplate, nil
	case "story_mention":
		att.MediaID = string(pl.ID)
		return att, adapters.KindStoryMention, nil
	case "ig_reel", "reel":
		att.MediaID = string(pl.ReelVideoID)
		return att, adapters.KindShare, nil
	case "ig_story":
		att.URL = first(pl.StoryMediaURL, att.URL)
		att.MediaID = string(pl.StoryMediaID)
		return att, adapters.KindShare, nil
	case "ig_post":
		att.MediaID = string(pl.IGPostMediaID)
		return att, adapters.KindShare, nil
	default:
		d.Unsupported = &adapters.Unsupported{
			Type:        a.Type,
			Reason:      adapters.UnsupportedAttachment,
			Explanation: fmt.Sprintf("attachment type %q is not shown by the inbox; open it in the app", a.Type),
		}
		return att, adapters.KindUnsupported, nil
	}
}

func reaction(r *wireReaction) *adapters.Reaction {
	action := adapters.React
	if r.Action == string(adapters.Unreact) {
		action = adapters.Unreact
	}
	return &adapters.Reaction{TargetExternalID: r.Mid, Emoji: r.Emoji, Reaction: r.Reaction, Action: action}
}

func referral(r *wireReferral) *adapters.Referral {
	if r == nil {
		return nil
	}
	out := &adapters.Referral{
		Source: r.Source,
		Type:   r.Type,
		Ref:    r.Ref,
		AdID:   string(r.AdID),
		URL:    r.RefererURI,
	}
	if c := r.AdsContextData; c != nil {
		out.AdTitle = c.AdTitle
		out.PostID = string(c.PostID)
		switch {
		case c.VideoURL != "":
			out.MediaType, out.MediaURL = "video", c.VideoURL
		case c.PhotoURL != "":
			out.MediaType, out.MediaURL = "image", c.PhotoURL
		}
	}
	return out
}

func optin(o *wireOptin) *adapters.Optin {
	out := &adapters.Optin{
		Type:            o.Type,
		Token:           first(o.OneTimeNotifToken, o.NotificationMessagesToken),
		Payload:         o.Payload,
		Title:           o.Title,
		Frequency:       o.Frequency,
		UserTokenStatus: o.UserTokenStatus,
		Ref:             o.Ref,
		UserRef:         o.UserRef,
	}
	if t := o.TokenExpiry.Time(); !t.IsZero() {
		out.ExpiresAt = &t
	}
	// Meta sends STOP_NOTIFICATIONS / RESUME_NOTIFICATIONS.
	switch s := strings.ToUpper(o.Status); {
	case strings.Contains(s, "STOP"):
		out.Status = adapters.PreferenceStop
	case strings.Contains(s, "RESUME"):
		out.Status = adapters.PreferenceResume
	default:
		out.Status = strings.ToLower(o.Status)
	}
	return out
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
