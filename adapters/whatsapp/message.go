package whatsapp

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/adapters"
)

// pollExplanation is shown instead of a poll: Meta sends polls with no content.
const pollExplanation = "WhatsApp sent a poll but the Business API does not deliver poll contents; ask the customer in text"

func (b *batch) message(raw json.RawMessage) (adapters.Event, error) {
	return b.decode(raw, adapters.EventMessage, func(m *wireMessage) (string, string) { return m.From, m.FromUserID })
}

// echo reads a message the business sent from the WhatsApp Business app (coexistence).
func (b *batch) echo(raw json.RawMessage) (adapters.Event, error) {
	ev, err := b.decode(raw, adapters.EventEcho, func(m *wireMessage) (string, string) { return m.To, m.ToUserID })
	if err == nil && ev.Message != nil {
		ev.Type = adapters.EventEcho
		ev.Message.IsEcho = true
	}
	return ev, err
}

// decode reads a message or an echo; customer picks the customer's wa_id and
// BSUID: the sender of a message, the recipient of an echo.
func (b *batch) decode(raw json.RawMessage, typ adapters.EventType, customer func(*wireMessage) (waID, userID string)) (adapters.Event, error) {
	var m wireMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return adapters.Event{}, err
	}
	ev := adapters.Event{
		App:       adapters.WhatsApp,
		AccountID: b.accountID,
		Type:      typ,
		Timestamp: m.Timestamp.Time(),
		Customer:  b.party(customer(&m)),
		GroupID:   m.GroupID,
	}
	if ev.Customer.ExternalID == "" {
		return adapters.Event{}, fmt.Errorf("%s without a customer id (wa_id or user_id)", typ)
	}
	if err := applyMessage(&ev, &m, raw); err != nil {
		return adapters.Event{}, fmt.Errorf("%s %s: %w", typ, m.ID, err)
	}
	return ev, nil
}

// applyMessage fills ev from one message of any type. Unknown types become
// unsupported messages that keep Meta's payload; nothing is dropped.
func applyMessage(ev *adapters.Event, m *wireMessage, raw json.RawMessage) error {
	msg := &adapters.Message{ExternalID: m.ID, Kind: adapters.KindText}
	if c := m.Context; c != nil {
		msg.ReplyToExternalID = c.ID
		msg.Forwarded, msg.FrequentlyForwarded = c.Forwarded, c.FrequentlyForwarded
		if p := c.ReferredProduct; p != nil {
			msg.Details.ReferredProduct = &adapters.ReferredProduct{CatalogID: p.CatalogID, ProductRetailerID: p.ProductRetailerID}
		}
	}
	ev.Referral = referral(m.Referral)
	ev.Message = msg

	switch m.Type {
	case "text":
		if m.Text != nil {
			msg.Text = m.Text.Body
		}
	case "image", "video", "audio", "document", "sticker":
		media(msg, m)
	case "location":
		if l := m.Location; l != nil {
			msg.Kind = adapters.KindLocation
			msg.Details.Location = &adapters.Location{Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address, URL: l.URL}
			msg.Text = strings.TrimSpace(l.Name + " " + l.Address)
		}
	case "contacts":
		msg.Kind = adapters.KindContacts
		msg.Details.Contacts, msg.Text = contacts(m.Contacts)
	case "interactive":
		interactive(msg, m.Interactive)
	case "button":
		// A quick-reply button on a template the business sent.
		msg.Kind = adapters.KindInteractiveReply
		if m.Button != nil {
			msg.Text = m.Button.Text
			msg.Details.Interactive = &adapters.Interactive{Type: "template_button", ID: m.Button.Payload, Title: m.Button.Text}
		}
	case "reaction":
		ev.Type, ev.Message = adapters.EventReaction, nil
		ev.Reaction = &adapters.Reaction{ExternalID: m.ID, Action: adapters.React}
		if r := m.Reaction; r != nil {
			ev.Reaction.TargetExternalID, ev.Reaction.Emoji = r.MessageID, r.Emoji
			if r.Emoji == "" {
				ev.Reaction.Action = adapters.Unreact // no emoji: the reaction was removed
			}
		}
	case "order":
		if err := order(msg, m.Order); err != nil {
			return err
		}
	case "system":
		system(ev, msg, m)
	case "unsupported":
		unsupported(msg, m)
	default:
		msg.Kind = adapters.KindUnsupported
		msg.Details.Unsupported = &adapters.Unsupported{
			Type:        m.Type,
			Reason:      adapters.UnsupportedType,
			Explanation: fmt.Sprintf("WhatsApp message type %q is not shown by the inbox", m.Type),
			Errors:      errorList(m.Errors),
		}
		msg.Details.Raw = raw
	}
	return nil
}

func media(msg *adapters.Message, m *wireMessage) {
	kinds := map[string]adapters.Kind{
		"image": adapters.KindImage, "video": adapters.KindVideo, "audio": adapters.KindAudio,
		"document": adapters.KindFile, "sticker": adapters.KindSticker,
	}
	w := map[string]*wireMedia{"image": m.Image, "video": m.Video, "audio": m.Audio, "document": m.Document, "sticker": m.Sticker}[m.Type]
	msg.Kind = kinds[m.Type]
	if w == nil {
		return
	}
	msg.Text = w.Caption // the words the customer typed with the media
	msg.Attachments = []adapters.Attachment{{
		Type:     m.Type,
		URL:      w.URL,
		MediaID:  w.ID,
		MimeType: w.MimeType,
		SHA256:   w.SHA256,
		Filename: w.Filename,
		Caption:  w.Caption,
		Voice:    w.Voice,
		Animated: w.Animated,
	}}
}

func contacts(cards []wireContactCard) ([]adapters.Contact, string) {
	var out []adapters.Contact
	var names []string
	for _, c := range cards {
		ct := adapters.Contact{Name: c.Name.FormattedName, FirstName: c.Name.FirstName, LastName: c.Name.LastName, Company: c.Org.Company}
		for _, p := range c.Phones {
			ct.Phones = append(ct.Phones, adapters.ContactPhone{Phone: p.Phone, WaID: p.WaID, Type: p.Type})
		}
		for _, e := range c.Emails {
			ct.Emails = append(ct.Emails, e.Email)
		}
		out = append(out, ct)
		names = append(names, ct.Name)
	}
	return out, strings.Join(names, ", ")
}

func interactive(msg *adapters.Message, w *wireInteractive) {
	msg.Kind = adapters.KindInteractiveReply
	if w == nil {
		return
	}
	in := &adapters.Interactive{Type: w.Type}
	switch {
	case w.ButtonReply != nil:
		in.ID, in.Title = w.ButtonReply.ID, w.ButtonReply.Title
	case w.ListReply != nil:
		in.ID, in.Title, in.Description = w.ListReply.ID, w.ListReply.Title, w.ListReply.Description
	case w.NfmReply != nil:
		in.ID, in.Title = w.NfmReply.Name, w.NfmReply.Body
		if json.Valid([]byte(w.NfmReply.ResponseJSON)) {
			in.ResponseJSON = json.RawMessage(w.NfmReply.ResponseJSON)
		} else if w.NfmReply.ResponseJSON != "" {
			in.ResponseJSON, _ = json.Marshal(w.NfmReply.ResponseJSON) // keep it, as a string
		}
	}
	msg.Text = in.Title
	msg.Details.Interactive = in
}

func order(msg *adapters.Message, w *wireOrder) error {
	msg.Kind = adapters.KindOrder
	if w == nil {
		return nil
	}
	o := &adapters.Order{CatalogID: w.CatalogID, Text: w.Text}
	for i, it := range w.ProductItems {
		qty, err := strconv.Atoi(it.Quantity.String())
		if err != nil && it.Quantity != "" {
			return fmt.Errorf("order item %d: quantity %q: %w", i, it.Quantity, err)
		}
		o.Items = append(o.Items, adapters.OrderItem{
			ProductRetailerID: it.ProductRetailerID,
			Quantity:          qty,
			ItemPrice:         it.ItemPrice,
			Currency:          it.Currency,
		})
	}
	msg.Text = w.Text
	msg.Details.Order = o
	return nil
}

func system(ev *adapters.Event, msg *adapters.Message, m *wireMessage) {
	msg.Kind = adapters.KindSystem
	if m.System == nil {
		return
	}
	msg.Text = m.System.Body
	if m.System.Type == "user_changed_number" {
		ev.Type = adapters.EventNumberChange
		newID := m.System.WaID
		if newID == "" {
			newID = m.System.NewWaID
		}
		ev.NumberChange = &adapters.NumberChange{OldWaID: m.From, NewWaID: newID}
	}
}

func unsupported(msg *adapters.Message, m *wireMessage) {
	msg.Kind = adapters.KindUnsupported
	u := &adapters.Unsupported{Reason: adapters.UnsupportedNotDelivered,
		Explanation: "WhatsApp did not deliver this message's content (unsupported type)", Errors: errorList(m.Errors)}
	if m.Unsupported != nil {
		u.Type = m.Unsupported.Type
	}
	switch u.Type {
	case "poll_creation":
		msg.Kind, u.Reason, u.Explanation = adapters.KindPoll, adapters.UnsupportedPoll, pollExplanation
	case "poll_update":
		msg.Kind, u.Reason, u.Explanation = adapters.KindPollVote, adapters.UnsupportedPoll, pollExplanation
	case "":
	default:
		u.Explanation = fmt.Sprintf("WhatsApp did not deliver this message's content (unsupported type %q)", u.Type)
	}
	msg.Details.Unsupported = u
}

func referral(r *wireReferral) *adapters.Referral {
	if r == nil {
		return nil
	}
	out := &adapters.Referral{
		Source:    r.SourceType,
		AdID:      r.SourceID,
		URL:       r.SourceURL,
		Headline:  r.Headline,
		Body:      r.Body,
		MediaType: r.MediaType,
		MediaURL:  r.ImageURL,
		CTWAClid:  r.CTWAClid,
	}
	if r.VideoURL != "" {
		out.MediaURL = r.VideoURL
	}
	if r.WelcomeMessage != nil {
		out.WelcomeMessage = r.WelcomeMessage.Text
	}
	return out
}
