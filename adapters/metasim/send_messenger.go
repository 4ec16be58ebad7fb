package metasim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// messagingSend is a Messenger or Instagram Send API body (Send API Reference).
type messagingSend struct {
	Recipient        messagingRecipient `json:"recipient"`
	MessagingType    string             `json:"messaging_type"`
	Tag              string             `json:"tag"`
	Message          *messagingMessage  `json:"message"`
	SenderAction     string             `json:"sender_action"`
	Payload          *actionPayload     `json:"payload"`
	ReplyTo          *midRef            `json:"reply_to"`
	NotificationType string             `json:"notification_type"`
	PersonaID        string             `json:"persona_id"`
}

type messagingRecipient struct {
	ID                        string `json:"id"`
	OneTimeNotifToken         string `json:"one_time_notif_token"`
	NotificationMessagesToken string `json:"notification_messages_token"`
	CommentID                 string `json:"comment_id"`
	PostID                    string `json:"post_id"`
	UserRef                   string `json:"user_ref"`
}

type messagingMessage struct {
	Text         *string              `json:"text"`
	Attachment   *messagingAttachment `json:"attachment"`
	QuickReplies []quickReply         `json:"quick_replies"`
	StickerID    json.Number          `json:"sticker_id"`
	Metadata     string               `json:"metadata"`
	Template     *templateRef         `json:"template"`
	ReplyTo      *midRef              `json:"reply_to"`
}

type messagingAttachment struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

type attachmentPayload struct {
	URL          string      `json:"url"`
	AttachmentID json.Number `json:"attachment_id"`
	TemplateType string      `json:"template_type"`
}

type quickReply struct {
	ContentType string `json:"content_type"`
	Title       string `json:"title"`
	Payload     string `json:"payload"`
	ImageURL    string `json:"image_url"`
}

// templateRef names an approved template: WhatsApp's template object and Messenger utility messages.
type templateRef struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []json.RawMessage `json:"components"`
}

type actionPayload struct {
	MessageID string `json:"message_id"`
	Reaction  string `json:"reaction"`
}

type midRef struct {
	MID string `json:"mid"`
}

// messagingResponse is the Send API's answer; sender actions carry no message_id.
type messagingResponse struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id,omitempty"`
}

// kind names what the message carries, as Send.Type reports it.
func (m *messagingMessage) kind() string {
	switch {
	case m.Text != nil:
		return "text"
	case m.Attachment != nil:
		return m.Attachment.Type
	case m.StickerID != "":
		return "sticker"
	default:
		return "template"
	}
}

// sendMessaging handles POST /{page-or-ig-id}/messages.
func (s *Sim) sendMessaging(acct *account, version string, raw []byte) (*sendResult, *metaError) {
	var req messagingSend
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, errMalformed()
	}
	if req.SenderAction != "" {
		return s.senderAction(acct, version, &req, raw)
	}
	if merr := checkMessagingRequest(acct.App, &req); merr != nil {
		return nil, merr
	}
	if merr := s.fetchLink(acct.App, messengerLink(req.Message)); merr != nil {
		return nil, merr
	}
	wall := s.wall()
	if !acct.throughput.allow(wall) {
		return nil, errRate(acct.App, s.cfg.RateLimitStatus)
	}
	if k := req.Message.kind(); (k == "audio" || k == "video") && !acct.heavyMedia.allow(wall) {
		return nil, errRate(acct.App, s.cfg.RateLimitStatus)
	}
	now := s.now()
	s.mu.Lock()
	recipient, merr := messagingPolicy(acct, &req, now)
	mid := ""
	if merr == nil {
		mid = s.ids.mid(acct.App, acct.ID)
		acct.remember(mid, recipient)
	}
	appID := acct.AppID
	s.mu.Unlock()
	if merr != nil {
		return nil, merr
	}
	m := req.Message
	send := Send{
		App: acct.App, Account: acct.ID, Recipient: recipient, MessageID: mid,
		Type: m.kind(), Text: messagingText(m), MessagingType: req.MessagingType, Tag: req.Tag,
		Version: version, At: now, Raw: raw,
	}
	if m.Template != nil {
		send.Template = m.Template.Name
	}
	return &sendResult{
		response: messagingResponse{RecipientID: recipient, MessageID: mid},
		send:     send,
		hooks:    messagingHooks(acct, appID, recipient, mid, m, now),
	}, nil
}

// checkMessagingRequest validates the body's shape before any rule is applied.
func checkMessagingRequest(app App, req *messagingSend) *metaError {
	r := req.Recipient
	switch countSet(r.ID, r.OneTimeNotifToken, r.NotificationMessagesToken, r.CommentID, r.PostID, r.UserRef) {
	case 0:
		return errParam("param recipient must be non-empty.")
	case 1:
	default:
		return errParam("param recipient must contain exactly one of id, user_ref, comment_id, post_id, one_time_notif_token or notification_messages_token.")
	}
	byToken := r.OneTimeNotifToken != "" || r.NotificationMessagesToken != ""
	if app == Instagram && (byToken || r.UserRef != "") {
		return errParam("param recipient must be an Instagram-scoped id or a comment_id.")
	}
	switch req.MessagingType {
	case "":
		// Assumption: Meta's OTN and Recurring Notification examples omit messaging_type, and so
		// do Instagram's Send API examples; every other Messenger send must carry it.
		if app == Messenger && !byToken {
			return errParam("The parameter messaging_type is required.")
		}
	case "RESPONSE", "UPDATE", "MESSAGE_TAG":
	case "UTILITY":
		if app == Instagram {
			return errParam("messaging_type UTILITY is not supported for Instagram.")
		}
	default:
		return errParam("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG, UTILITY}.")
	}
	if req.MessagingType == "MESSAGE_TAG" && req.Tag == "" {
		return errParam("param tag must be non-empty when messaging_type is MESSAGE_TAG.")
	}
	return checkMessage(app, req.Message, req.MessagingType)
}

// checkMessage validates message{text|attachment|sticker_id|template} and its extras.
func checkMessage(app App, m *messagingMessage, messagingType string) *metaError {
	if m == nil {
		return errParam("param message must be non-empty.")
	}
	parts := countSet(string(m.StickerID))
	if m.Text != nil {
		parts++
	}
	if m.Attachment != nil {
		parts++
	}
	if m.Template != nil {
		parts++
	}
	if parts != 1 {
		return errParam("param message must contain exactly one of text, attachment, sticker_id or template.")
	}
	switch {
	case m.Text != nil:
		if merr := checkText(app, *m.Text); merr != nil {
			return merr
		}
	case m.Attachment != nil:
		if merr := checkAttachment(m.Attachment); merr != nil {
			return merr
		}
	case m.Template != nil:
		if messagingType != "UTILITY" {
			return errParam("param message[template] requires messaging_type UTILITY.")
		}
		if m.Template.Name == "" || m.Template.Language.Code == "" {
			return errParam("param message[template] must have a name and a language code.")
		}
	}
	if messagingType == "UTILITY" && m.Template == nil {
		return errParam("messaging_type UTILITY requires message[template].")
	}
	if len(m.QuickReplies) > 13 {
		return errParam("param message[quick_replies] must have at most 13 elements.")
	}
	for i, qr := range m.QuickReplies {
		if merr := checkQuickReply(i, qr); merr != nil {
			return merr
		}
	}
	if len(m.Metadata) > 1000 {
		return errParam("Length of param message[metadata] must be less than or equal to 1000.")
	}
	return nil
}

func checkText(app App, text string) *metaError {
	switch {
	case strings.TrimSpace(text) == "":
		return errParam("param message[text] must be non-empty.")
	case app == Instagram && len(text) > 1000:
		// Assumption: the reference's 1,000 UTF-8 bytes (not confirmed on a Meta page).
		return errParam("Length of param message[text] must be less than or equal to 1000 bytes.")
	case app == Messenger && utf8.RuneCountInString(text) > 2000:
		return errParam("Length of param message[text] must be less than or equal to 2000.")
	}
	return nil
}

func checkAttachment(a *messagingAttachment) *metaError {
	switch a.Type {
	case "image", "video", "audio", "file", "template":
	default:
		return errParam("param message[attachment][type] must be one of {image, video, audio, file, template}.")
	}
	var p attachmentPayload
	if len(a.Payload) == 0 || json.Unmarshal(a.Payload, &p) != nil {
		return errParam("param message[attachment][payload] must be an object.")
	}
	if a.Type == "template" {
		if p.TemplateType == "" {
			return errParam("param message[attachment][payload][template_type] must be non-empty.")
		}
		return nil
	}
	if p.AttachmentID != "" {
		return nil
	}
	if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errParam("param message[attachment][payload] needs a url (http or https) or an attachment_id.")
	}
	return nil
}

func checkQuickReply(i int, qr quickReply) *metaError {
	switch qr.ContentType {
	case "text":
		if qr.Title == "" || utf8.RuneCountInString(qr.Title) > 20 {
			return errParam(fmt.Sprintf("param message[quick_replies][%d][title] must be 1 to 20 characters.", i))
		}
		if qr.Payload == "" || len(qr.Payload) > 1000 {
			return errParam(fmt.Sprintf("param message[quick_replies][%d][payload] must be 1 to 1000 characters.", i))
		}
	case "user_phone_number", "user_email":
	default:
		return errParam(fmt.Sprintf("param message[quick_replies][%d][content_type] must be one of {text, user_phone_number, user_email}.", i))
	}
	return nil
}

// messagingPolicy applies Meta's Messenger/Instagram rules and returns the PSID or IGSID the
// message goes to. The caller holds s.mu: redeeming a token or a comment changes state.
func messagingPolicy(acct *account, req *messagingSend, now time.Time) (string, *metaError) {
	if rule, ok := messageTags[req.Tag]; ok && rule.retired(now) {
		return "", errRetiredTag(req.Tag)
	}
	r := req.Recipient
	switch {
	case r.OneTimeNotifToken != "":
		return redeemOTN(acct, r.OneTimeNotifToken, now)
	case r.NotificationMessagesToken != "":
		return redeemNotificationToken(acct, r.NotificationMessagesToken, now)
	case r.CommentID != "" || r.PostID != "":
		return privateReply(acct, firstNonEmpty(r.CommentID, r.PostID), now)
	case r.UserRef != "":
		// Assumption: a checkbox-plugin user_ref may be messaged once the user opted in; the
		// simulator has no opt-in to check and answers with the user_ref as recipient_id.
		return r.UserRef, nil
	}
	var last time.Time
	if u := acct.users[r.ID]; u != nil {
		last = u.lastMessage
	}
	switch req.MessagingType {
	case "MESSAGE_TAG":
		return r.ID, tagPolicy(acct, req.Tag, last, now)
	case "UTILITY":
		return r.ID, utilityPolicy(acct, req.Message.Template)
	}
	if !within(last, now, standardWindow) {
		return "", errWindow(acct.App)
	}
	return r.ID, nil
}

// tagPolicy applies the tag table to a MESSAGE_TAG send.
func tagPolicy(acct *account, tag string, last, now time.Time) *metaError {
	rule, ok := messageTags[tag]
	if !ok || (acct.App == Instagram && !rule.instagram) {
		if acct.App == Instagram {
			return errParam("param tag must be HUMAN_AGENT for Instagram.")
		}
		return errParam("param tag must be one of {HUMAN_AGENT, CUSTOMER_FEEDBACK, NON_PROMOTIONAL_SUBSCRIPTION}.")
	}
	if rule.newsOnly && !acct.NewsPage {
		return errNewsPermission()
	}
	window := rule.window
	if rule.humanAgent && !acct.HumanAgent {
		// Assumption: without the Human Agent permission the tag extends nothing, so Meta answers
		// as for any send past the window: the documented 10/2018278 (10/2534022 on Instagram),
		// not an undocumented permission code.
		window = standardWindow
	}
	if window > 0 && !within(last, now, window) {
		return errWindow(acct.App)
	}
	return nil
}

// utilityPolicy allows approved utility templates at any time (Meta's replacement for the retired tags).
func utilityPolicy(acct *account, t *templateRef) *metaError {
	tpl, ok := acct.templates[t.Name+"|"+t.Language.Code]
	if !ok {
		return errParam(fmt.Sprintf("Template name (%s) does not exist in %s.", t.Name, t.Language.Code))
	}
	if tpl.Category != "UTILITY" {
		return errParam("messaging_type UTILITY requires a UTILITY template.")
	}
	return nil
}

// redeemOTN spends a One-Time Notification token.
// Assumption: Meta documents single use and a one-year life but no error code for either;
// the simulator answers 100 (invalid parameter), the code Meta uses for spent notification tokens.
func redeemOTN(acct *account, token string, now time.Time) (string, *metaError) {
	t := acct.otn[token]
	switch {
	case t == nil:
		return "", errParam("Invalid one_time_notif_token.")
	case !t.Used.IsZero():
		return "", errParam("The one_time_notif_token has already been used.")
	case now.Sub(t.Created) >= otnLifetime:
		return "", errParam("The one_time_notif_token has expired.")
	}
	t.Used = now
	return t.User, nil
}

// redeemNotificationToken sends on a legacy Recurring Notifications token.
func redeemNotificationToken(acct *account, token string, now time.Time) (string, *metaError) {
	t := acct.recurring[token]
	switch {
	case !now.Before(recurringEnd):
		return "", errParam("Invalid notification_messages_token: Recurring Notifications were discontinued on 10 February 2026.")
	case t == nil || !now.Before(t.expires):
		return "", errParam("Invalid or expired notification_messages_token.")
	case t.stopped:
		return "", errTopicStopped()
	case !now.Before(recurringThrottleFrom) && within(t.lastSent, now, recurringGap):
		return "", errTooManyToPerson()
	}
	t.lastSent = now
	return t.user, nil
}

// privateReply spends a comment's one private reply.
// Assumption: a second or late private reply answers with the window refusal.
func privateReply(acct *account, id string, now time.Time) (string, *metaError) {
	c := acct.comments[id]
	switch {
	case c == nil:
		return "", errParam("Invalid comment_id.")
	case c.replied || !within(c.at, now, privateReplyWindow):
		return "", errWindow(acct.App)
	}
	c.replied = true
	return c.user, nil
}

// senderAction handles typing_on/typing_off/mark_seen/react/unreact, sent on their own.
func (s *Sim) senderAction(acct *account, version string, req *messagingSend, raw []byte) (*sendResult, *metaError) {
	id := req.Recipient.ID
	switch {
	case req.Message != nil:
		return nil, errParam("param sender_action cannot be sent with a message.")
	case id == "":
		return nil, errParam("param recipient[id] must be non-empty.")
	}
	switch req.SenderAction {
	case "typing_on", "typing_off", "mark_seen":
	case "react", "unreact":
		if req.Payload == nil || req.Payload.MessageID == "" {
			return nil, errParam("param payload[message_id] must be non-empty.")
		}
		if req.SenderAction == "react" && req.Payload.Reaction == "" {
			return nil, errParam("param payload[reaction] must be non-empty.")
		}
	default:
		return nil, errParam("param sender_action must be one of {typing_on, typing_off, mark_seen, react, unreact}.")
	}
	if !acct.throughput.allow(s.wall()) {
		return nil, errRate(acct.App, s.cfg.RateLimitStatus)
	}
	now := s.now()
	s.mu.Lock()
	var last time.Time
	if u := acct.users[id]; u != nil {
		last = u.lastMessage
	}
	window := standardWindow
	if acct.HumanAgent {
		window = humanAgentWindow
	}
	s.mu.Unlock()
	// Assumption: sender actions reach the user only while a reply could (24h, 7 days for a Human Agent Page).
	if !within(last, now, window) {
		return nil, errWindow(acct.App)
	}
	return &sendResult{
		response: messagingResponse{RecipientID: id},
		send: Send{App: acct.App, Account: acct.ID, Recipient: id, Action: req.SenderAction,
			Type: "sender_action", Version: version, At: now, Raw: raw},
	}, nil
}

// messagingHooks are the webhooks Meta sends after a Messenger/Instagram send: the echo, then
// delivery and read on Messenger, or the seen event on Instagram.
func messagingHooks(acct *account, appID, recipient, mid string, m *messagingMessage, now time.Time) []webhookEvent {
	ms := now.UnixMilli()
	echo := obj{"mid": mid, "is_echo": true}
	if acct.App == Messenger {
		echo["app_id"] = jsonID(appID)
		if m.Metadata != "" {
			echo["metadata"] = m.Metadata
		}
	}
	switch {
	case m.Text != nil:
		echo["text"] = *m.Text
	case m.Attachment != nil:
		echo["attachments"] = []obj{{"type": m.Attachment.Type, "payload": m.Attachment.Payload}}
	case m.StickerID != "":
		echo["sticker_id"] = m.StickerID
	case m.Template != nil:
		echo["attachments"] = []obj{{"type": "template", "payload": obj{"template_type": "utility", "name": m.Template.Name}}}
	}
	page := obj{"id": acct.ID}
	person := obj{"id": recipient}
	events := []webhookEvent{acct.event(0, "", obj{"sender": page, "recipient": person, "timestamp": ms, "message": echo})}
	if acct.App == Instagram {
		seen := obj{"sender": person, "recipient": page, "timestamp": ms + 2000, "read": obj{"mid": mid}}
		return append(events, acct.event(2, "", seen))
	}
	delivery := obj{"sender": person, "recipient": page, "delivery": obj{"mids": []string{mid}, "watermark": ms + 1000}}
	read := obj{"sender": person, "recipient": page, "timestamp": ms + 2000, "read": obj{"watermark": ms + 1000}}
	return append(events, acct.event(1, "", delivery), acct.event(2, "", read))
}

// messagingText is the message's text, attachment URL or template name, for Send.Text.
func messagingText(m *messagingMessage) string {
	switch {
	case m.Text != nil:
		return *m.Text
	case m.Attachment != nil:
		var p attachmentPayload
		_ = json.Unmarshal(m.Attachment.Payload, &p)
		return p.URL
	case m.Template != nil:
		return m.Template.Name
	}
	return ""
}

// countSet counts the non-empty strings.
func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

// jsonID writes a numeric id as a JSON number, as Meta does for app_id.
func jsonID(id string) any {
	if isDigits(id) {
		return json.Number(id)
	}
	return id
}
