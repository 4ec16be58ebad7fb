package metasim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// waSend is a WhatsApp Cloud API POST /{phone-number-id}/messages body: a message or a mark-as-read.
type waSend struct {
	MessagingProduct      string            `json:"messaging_product"`
	RecipientType         string            `json:"recipient_type"`
	To                    string            `json:"to"`
	Recipient             string            `json:"recipient"`
	Type                  string            `json:"type"`
	Status                string            `json:"status"`
	MessageID             string            `json:"message_id"`
	TypingIndicator       *waTyping         `json:"typing_indicator"`
	Context               *waContext        `json:"context"`
	BizOpaqueCallbackData string            `json:"biz_opaque_callback_data"`
	Text                  *waText           `json:"text"`
	Image                 *waMedia          `json:"image"`
	Video                 *waMedia          `json:"video"`
	Audio                 *waMedia          `json:"audio"`
	Document              *waMedia          `json:"document"`
	Sticker               *waMedia          `json:"sticker"`
	Interactive           *waInteractive    `json:"interactive"`
	Template              *templateRef      `json:"template"`
	Reaction              *waReaction       `json:"reaction"`
	Location              *waLocation       `json:"location"`
	Contacts              []json.RawMessage `json:"contacts"`
}

type waTyping struct {
	Type string `json:"type"`
}

type waContext struct {
	MessageID string `json:"message_id"`
}

type waText struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url"`
}

type waMedia struct {
	ID       string `json:"id"`
	Link     string `json:"link"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type waInteractive struct {
	Type string `json:"type"`
	Body *struct {
		Text string `json:"text"`
	} `json:"body"`
	Action struct {
		Button  string `json:"button"`
		Buttons []struct {
			Type  string `json:"type"`
			Reply struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"reply"`
		} `json:"buttons"`
		Sections []struct {
			Title string `json:"title"`
			Rows  []struct {
				ID          string `json:"id"`
				Title       string `json:"title"`
				Description string `json:"description"`
			} `json:"rows"`
		} `json:"sections"`
	} `json:"action"`
}

type waReaction struct {
	MessageID string  `json:"message_id"`
	Emoji     *string `json:"emoji"`
}

type waLocation struct {
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
	Name      string   `json:"name"`
	Address   string   `json:"address"`
}

// waResponse is the Cloud API's answer to an accepted message.
type waResponse struct {
	MessagingProduct string        `json:"messaging_product"`
	Contacts         []waContact   `json:"contacts"`
	Messages         []waMessageID `json:"messages"`
}

type waContact struct {
	Input  string `json:"input"`
	WaID   string `json:"wa_id,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

type waMessageID struct {
	ID            string `json:"id"`
	MessageStatus string `json:"message_status,omitempty"`
}

// waStatus is one entry of a statuses webhook (Status messages webhook reference).
type waStatus struct {
	ID                     string           `json:"id"`
	Status                 string           `json:"status"`
	Timestamp              string           `json:"timestamp"`
	RecipientID            string           `json:"recipient_id,omitempty"`
	RecipientType          string           `json:"recipient_type,omitempty"`
	RecipientParticipantID string           `json:"recipient_participant_id,omitempty"`
	RecipientUserID        string           `json:"recipient_user_id,omitempty"`
	BizOpaqueCallbackData  string           `json:"biz_opaque_callback_data,omitempty"`
	Conversation           *waConversation  `json:"conversation,omitempty"`
	Pricing                *waPricing       `json:"pricing,omitempty"`
	Errors                 []waWebhookError `json:"errors,omitempty"`
}

type waConversation struct {
	ID                  string `json:"id"`
	ExpirationTimestamp string `json:"expiration_timestamp,omitempty"`
	Origin              struct {
		Type string `json:"type"`
	} `json:"origin"`
}

type waPricing struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`
	Type         string `json:"type"`
	Category     string `json:"category"`
}

// waWebhookError is an error inside a webhook (failed statuses, unsupported messages).
type waWebhookError struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	Href string `json:"href,omitempty"`
}

const errorCodesHref = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

func webhookError(e *metaError) waWebhookError {
	we := waWebhookError{Code: e.Code, Title: e.Title, Message: e.Message, Href: errorCodesHref}
	if we.Title == "" {
		we.Title = e.Message
	}
	we.ErrorData.Details = e.Details
	return we
}

// media is the media object of a media message.
func (r *waSend) media() *waMedia {
	switch r.Type {
	case "image":
		return r.Image
	case "video":
		return r.Video
	case "audio":
		return r.Audio
	case "document":
		return r.Document
	case "sticker":
		return r.Sticker
	}
	return nil
}

// waOutcome is what the rules decided about an accepted WhatsApp send.
type waOutcome struct {
	input        string // what the caller addressed
	waID         string // the user's wa_id; empty for BSUID-only users and groups
	userID       string // the user's BSUID, when Meta knows one
	groupID      string
	participants []string
	addr         string        // what the wamid encodes
	pricing      waPricing     // as statuses report it
	async        *metaError    // accepted, then reported failed
	campaign     *campaignPlan // the customer's fate under CampaignBehaviour
}

// sendWhatsApp handles POST /{phone-number-id}/messages.
func (s *Sim) sendWhatsApp(acct *account, version string, raw []byte) (*sendResult, *metaError) {
	var req waSend
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, errMalformed()
	}
	if req.MessagingProduct != "whatsapp" {
		return nil, errParam("The parameter messaging_product is required and must be 'whatsapp'.")
	}
	if req.Status != "" {
		return s.markRead(acct, version, &req, raw)
	}
	if req.Type == "" {
		req.Type = "text" // the Cloud API's default type
	}
	if merr := checkWhatsApp(&req); merr != nil {
		return nil, merr
	}
	if m := req.media(); m != nil && m.Link != "" {
		if merr := s.fetchLink(WhatsApp, m.Link); merr != nil {
			return nil, merr
		}
	}
	if !acct.throughput.allow(s.wall()) {
		return nil, errRate(WhatsApp, s.cfg.RateLimitStatus)
	}
	now := s.now()
	s.mu.Lock()
	out, merr := whatsappPolicy(acct, &req, now, s.wall(), s.cfg.ReengagementAsync)
	wamid := ""
	if merr == nil {
		wamid = s.ids.wamid(out.addr)
		acct.remember(wamid, firstNonEmpty(out.groupID, out.waID, out.userID))
	}
	s.mu.Unlock()
	if merr != nil {
		return nil, merr
	}
	resp := waResponse{MessagingProduct: "whatsapp",
		Contacts: []waContact{{Input: out.input, WaID: out.waID, UserID: out.userID}},
		Messages: []waMessageID{{ID: wamid}}}
	send := Send{App: WhatsApp, Account: acct.ID, Recipient: firstNonEmpty(out.groupID, out.waID, out.userID),
		MessageID: wamid, Type: req.Type, Text: whatsappText(&req), Category: out.pricing.Category,
		Version: version, At: now, Raw: raw}
	if req.Template != nil {
		send.Template = req.Template.Name
		resp.Messages[0].MessageStatus = "accepted" // returned for template sends only
	}
	res := &sendResult{response: resp, send: send,
		hooks: whatsappHooks(acct, out, wamid, version, req.BizOpaqueCallbackData, now)}
	if out.campaign != nil {
		p, id := *out.campaign, acct.ID
		res.after = func() { s.actCampaign(id, p) }
	}
	return res, nil
}

// checkWhatsApp validates addressing and the type's object before any rule is applied.
func checkWhatsApp(req *waSend) *metaError {
	switch req.RecipientType {
	case "", "individual":
		switch {
		case req.To == "" && req.Recipient == "":
			return errParam("The parameter to is required.")
		case req.To != "" && req.Recipient != "":
			return errParam("Use either to (a phone number) or recipient (a business-scoped user id), not both.")
		case req.To != "" && !validPhone(req.To):
			return errParam("Invalid parameter: to is not a valid phone number.")
		case req.Recipient != "" && !isBSUID(req.Recipient):
			return errParam("Invalid parameter: recipient is not a business-scoped user id.")
		}
	case "group":
		if req.To == "" {
			return errParam("The parameter to is required.")
		}
		switch req.Type {
		case "text", "image", "video", "audio", "document", "sticker", "template":
		default:
			// Groups API: text, media and templates only.
			return errInvalidValue("Message type " + req.Type + " is not supported for groups.")
		}
	default:
		return errParam("Param recipient_type must be one of {individual, group}.")
	}
	switch req.Type {
	case "text":
		if req.Text == nil || strings.TrimSpace(req.Text.Body) == "" {
			return errParam("The parameter text['body'] is required.")
		}
		if utf8.RuneCountInString(req.Text.Body) > 4096 {
			return errParam("Param text['body'] must be at most 4096 characters long.")
		}
	case "image", "video", "audio", "document", "sticker":
		return checkMedia(req.Type, req.media())
	case "interactive":
		return checkInteractive(req.Interactive)
	case "template":
		if req.Template == nil || req.Template.Name == "" {
			return errParam("The parameter template['name'] is required.")
		}
		if req.Template.Language.Code == "" {
			return errParam("The parameter template['language']['code'] is required.")
		}
	case "reaction":
		if req.Reaction == nil || req.Reaction.MessageID == "" {
			return errParam("The parameter reaction['message_id'] is required.")
		}
	case "location":
		if req.Location == nil || req.Location.Latitude == nil || req.Location.Longitude == nil {
			return errParam("The parameters location['latitude'] and location['longitude'] are required.")
		}
	case "contacts":
		if len(req.Contacts) == 0 {
			return errParam("The parameter contacts is required.")
		}
	default:
		return errParam("Param type must be one of {text, image, video, audio, document, sticker, interactive, template, reaction, location, contacts}.")
	}
	return nil
}

func checkMedia(typ string, m *waMedia) *metaError {
	if m == nil {
		return errParam(fmt.Sprintf("The parameter %s is required.", typ))
	}
	if m.ID == "" && m.Link == "" {
		return errParam(fmt.Sprintf("Param %s must contain an id or a link.", typ))
	}
	if m.Link != "" {
		if u, err := url.Parse(m.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errParam(fmt.Sprintf("Param %s['link'] must be an http or https URL.", typ))
		}
	}
	return nil
}

func checkInteractive(in *waInteractive) *metaError {
	if in == nil {
		return errParam("The parameter interactive is required.")
	}
	switch in.Type {
	case "button", "list":
		if in.Body == nil || in.Body.Text == "" {
			return errParam("The parameter interactive['body']['text'] is required.")
		}
	}
	switch in.Type {
	case "button":
		if n := len(in.Action.Buttons); n < 1 || n > 3 {
			return errInvalidValue("Buttons count should be between 1 and 3.")
		}
		for _, b := range in.Action.Buttons {
			if b.Reply.ID == "" || b.Reply.Title == "" || utf8.RuneCountInString(b.Reply.Title) > 20 {
				return errInvalidValue("Each reply button needs an id and a title of 1 to 20 characters.")
			}
		}
	case "list":
		if b := utf8.RuneCountInString(in.Action.Button); b < 1 || b > 20 {
			return errInvalidValue("The list button text must be 1 to 20 characters.")
		}
		if n := len(in.Action.Sections); n < 1 || n > 10 {
			return errInvalidValue("A list needs 1 to 10 sections.")
		}
		rows := 0
		for _, sec := range in.Action.Sections {
			for _, row := range sec.Rows {
				rows++
				if row.ID == "" || row.Title == "" || utf8.RuneCountInString(row.Title) > 24 {
					return errInvalidValue("Each row needs an id and a title of 1 to 24 characters.")
				}
			}
		}
		if rows < 1 || rows > 10 {
			return errInvalidValue("A list needs 1 to 10 rows in total.")
		}
	case "cta_url", "flow", "product", "product_list", "catalog_message", "location_request_message",
		"address_message", "call_permission_request", "voice_call":
	default:
		return errParam("Param interactive['type'] is not a supported interactive type.")
	}
	return nil
}

// whatsappPolicy applies the WhatsApp rules: templates, the 24h customer service window, the pair
// rate, marketing opt-outs and the US marketing pause. The caller holds s.mu.
func whatsappPolicy(acct *account, req *waSend, now, wall time.Time, asyncReengagement bool) (waOutcome, *metaError) {
	var out waOutcome
	template := req.Type == "template"
	var tpl Template
	if template {
		t, ok := acct.templates[req.Template.Name+"|"+req.Template.Language.Code]
		if !ok {
			return out, errTemplateMissing(req.Template.Name, req.Template.Language.Code)
		}
		if merr := templateSendable(t); merr != nil {
			return out, merr
		}
		tpl = t
	}
	if req.RecipientType == "group" {
		return groupPolicy(acct, req, tpl, now)
	}
	u := acct.user(firstNonEmpty(req.To, req.Recipient))
	out.input = firstNonEmpty(req.To, req.Recipient)
	out.userID = u.bsuid
	if req.To != "" {
		out.waID = u.phone
	}
	out.addr = firstNonEmpty(out.waID, out.userID)
	csw := within(u.lastMessage, now, standardWindow)
	if !template && !csw {
		if !asyncReengagement {
			return out, errReengagement()
		}
		out.async = errReengagement()
	}
	if !u.pair.allow(wall) {
		return out, errPairRate()
	}
	if tpl.Category == "MARKETING" {
		switch {
		case u.optedOut:
			out.async = asyncOptOut()
		case u.country == "US" && !now.Before(usMarketingPause):
			out.async = asyncEcosystem()
		case u.capped > 0:
			u.capped--
			out.async = asyncEcosystem()
		}
		if acct.campaign != nil && out.async == nil {
			p := acct.campaign.plan(u, out.addr, tpl, req)
			if p.pauseTemplate { // paused from the next send on; its webhook follows (actCampaign)
				key := tpl.Name + "|" + tpl.Language
				t := acct.templates[key]
				t.Status, t.Reason = "PAUSED", "FIRST_PAUSE"
				acct.templates[key] = t
			}
			switch {
			case p.optOut:
				out.async = asyncOptOut()
			case p.capped:
				out.async = asyncEcosystem()
			}
			out.campaign = &p
		}
	}
	out.pricing = pricingFor(template, tpl.Category, csw, within(u.entryPoint, now, entryPointWindow), now)
	return out, nil
}

// groupPolicy applies the rules to a Groups API send.
// Assumption: Meta does not say whether a group has a customer service window; the simulator gives
// each group one, opened by any participant's message, and outside it allows templates only.
func groupPolicy(acct *account, req *waSend, tpl Template, now time.Time) (waOutcome, *metaError) {
	var out waOutcome
	g := acct.groups[req.To]
	if g == nil {
		return out, errInvalidValue("Unknown group id " + req.To + ".")
	}
	csw := within(g.lastMessage, now, standardWindow)
	if req.Type != "template" && !csw {
		return out, errReengagement()
	}
	out.input, out.groupID, out.addr = g.id, g.id, g.id
	for _, p := range g.participants {
		if !g.offline[p] {
			out.participants = append(out.participants, p)
		}
	}
	out.pricing = pricingFor(req.Type == "template", tpl.Category, csw, false, now)
	out.pricing.Category = "group_" + out.pricing.Category // Meta's group categories (meta-platform.md §6.3)
	return out, nil
}

// pricingFor follows per-message pricing (1 Jul 2025): only templates outside the free cases bill;
// from inWindowBilled (1 Oct 2026) service replies and utility templates inside the window bill too
// (meta-platform.md §6.3 ⚠); the free entry point stays free.
func pricingFor(template bool, category string, csw, freeEntryPoint bool, now time.Time) waPricing {
	cat := "service"
	if template {
		cat = strings.ToLower(category)
	}
	typ := "regular"
	switch {
	case freeEntryPoint:
		typ = "free_entry_point"
	case !now.Before(inWindowBilled):
	case !template:
		typ = "free_customer_service"
	case cat == "utility" && csw:
		typ = "free_customer_service"
	}
	return waPricing{Billable: typ == "regular", PricingModel: "PMP", Type: typ, Category: cat}
}

// markRead handles {status:"read", message_id, typing_indicator?}.
func (s *Sim) markRead(acct *account, version string, req *waSend, raw []byte) (*sendResult, *metaError) {
	switch {
	case req.Status != "read":
		return nil, errParam("Param status must be 'read'.")
	case req.MessageID == "":
		return nil, errParam("The parameter message_id is required.")
	case !strings.HasPrefix(req.MessageID, "wamid."):
		return nil, errInvalidValue("message_id is not a WhatsApp message id.")
	}
	typ := "read"
	if req.TypingIndicator != nil {
		if req.TypingIndicator.Type != "text" {
			return nil, errParam("Param typing_indicator['type'] must be 'text'.")
		}
		typ = "typing"
	}
	// Assumption: marking read is not a message, so it does not count against throughput.
	return &sendResult{
		response: map[string]bool{"success": true},
		send: Send{App: WhatsApp, Account: acct.ID, Recipient: req.MessageID, Action: "read", Type: typ,
			Version: version, At: s.now(), Raw: raw},
	}, nil
}

// whatsappHooks are the statuses Meta posts after an accepted send: sent, delivered, read — or
// one failed status for an asynchronous refusal.
func whatsappHooks(acct *account, out waOutcome, wamid, version, biz string, now time.Time) []webhookEvent {
	ts := now.Unix()
	base := waStatus{ID: wamid, RecipientID: out.waID, RecipientUserID: out.userID, BizOpaqueCallbackData: biz}
	if out.groupID != "" {
		base.RecipientID, base.RecipientType, base.RecipientUserID = out.groupID, "group", ""
	}
	value := func(st waStatus) obj {
		return obj{"messaging_product": "whatsapp", "metadata": acct.waMetadata(), "statuses": []waStatus{st}}
	}
	if out.async != nil {
		failed := base
		failed.Status, failed.Timestamp = "failed", strconv.FormatInt(ts, 10)
		failed.Errors = []waWebhookError{webhookError(out.async)}
		return []webhookEvent{acct.event(0, "", value(failed))}
	}
	pricing := out.pricing
	sent := base
	sent.Status, sent.Timestamp, sent.Pricing = "sent", strconv.FormatInt(ts, 10), &pricing
	if versionMajor(version) < 24 {
		// Before v24.0 statuses still carried the conversation object.
		sent.Conversation = &waConversation{ID: lastDigits(wamid, 12), ExpirationTimestamp: strconv.FormatInt(ts+86400, 10)}
		sent.Conversation.Origin.Type = pricing.Category
	}
	events := []webhookEvent{acct.event(0, "", value(sent))}
	if c := out.campaign; c != nil && !c.delivered {
		return events // the customer's phone never got it
	}
	recipients := []string{""}
	if out.groupID != "" {
		recipients = out.participants // Assumption: one delivered/read per participant
	}
	for _, p := range recipients {
		delivered := base
		delivered.Status, delivered.Timestamp, delivered.Pricing = "delivered", strconv.FormatInt(ts+1, 10), &pricing
		delivered.RecipientParticipantID = p
		read := base
		read.Status, read.Timestamp, read.RecipientParticipantID = "read", strconv.FormatInt(ts+2, 10), p
		if c := out.campaign; c != nil && !c.read {
			events = append(events, acct.event(1, "", value(delivered)))
			continue
		}
		events = append(events, acct.event(1, "", value(delivered)), acct.event(2, "", value(read)))
	}
	return events
}

// waMetadata is the value.metadata of this number's webhooks.
func (a *account) waMetadata() obj {
	return obj{"display_phone_number": a.DisplayPhone, "phone_number_id": a.ID}
}

// whatsappText is the text, caption or template name, for Send.Text.
func whatsappText(req *waSend) string {
	switch {
	case req.Text != nil:
		return req.Text.Body
	case req.Template != nil:
		return req.Template.Name
	case req.media() != nil:
		return firstNonEmpty(req.media().Caption, req.media().Link, req.media().ID)
	case req.Reaction != nil && req.Reaction.Emoji != nil:
		return *req.Reaction.Emoji
	case req.Interactive != nil && req.Interactive.Body != nil:
		return req.Interactive.Body.Text
	}
	return ""
}
