// Package whatsapp speaks the WhatsApp Business Cloud API: webhook parsing,
// send bodies and the sender.
package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

const object = "whatsapp_business_account"

// Parse reads a WhatsApp webhook body into events: every entry, every change,
// every message, status, preference and echo in it. Malformed JSON or another
// object is an error with no events. An item that cannot be read is skipped
// and reported in the error, which then comes with the events of all the others.
func Parse(body []byte) ([]adapters.Event, error) {
	if events, ok, err := parseFast(body); ok {
		return events, err
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("whatsapp: parse webhook: %w", err)
	}
	if env.Object != object {
		return nil, fmt.Errorf("whatsapp: webhook object is %q, want %q", env.Object, object)
	}
	var events []adapters.Event
	var errs []error
	for i, raw := range env.Entry {
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil {
			errs = append(errs, fmt.Errorf("entry[%d]: %w", i, err))
			continue
		}
		for j, raw := range e.Changes {
			evs, err := parseChange(string(e.ID), raw)
			events = append(events, evs...)
			if err != nil {
				errs = append(errs, fmt.Errorf("entry[%d].changes[%d]: %w", i, j, err))
			}
		}
	}
	return events, joinItemErrors(errs)
}

func joinItemErrors(errs []error) error {
	if len(errs) > 0 {
		return fmt.Errorf("whatsapp: some webhook items skipped: %w", errors.Join(errs...))
	}
	return nil
}

// fastEnvelope is a whole webhook of messages, statuses, preferences or
// echoes decoded at once: encoding/json validates and scans every byte
// again at each level it is called on, and nearly all of Meta's traffic is
// this shape. Items stay raw, so one bad item still costs only itself.
type fastEnvelope struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      meta.ID `json:"id"`
		Changes []struct {
			Field string `json:"field"`
			Value value  `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// parseFast parses a body of the common shape in one decoding pass; ok is
// false for anything else (a template update, an unknown field, a value of
// the wrong type), which Parse then reads level by level.
func parseFast(body []byte) (events []adapters.Event, ok bool, err error) {
	var env fastEnvelope
	if json.Unmarshal(body, &env) != nil || env.Object != object {
		return nil, false, nil
	}
	for _, e := range env.Entry {
		for _, c := range e.Changes {
			switch c.Field {
			case "messages", "user_preferences", "smb_message_echoes":
			default:
				return nil, false, nil
			}
		}
	}
	var errs []error
	for i, e := range env.Entry {
		for j, c := range e.Changes {
			b := &batch{value: c.Value}
			evs, err := b.read(string(e.ID), c.Field, nil, nil)
			events = append(events, evs...)
			if err != nil {
				errs = append(errs, fmt.Errorf("entry[%d].changes[%d]: %w", i, j, err))
			}
		}
	}
	return events, true, joinItemErrors(errs)
}

// batch is one change's value being read, with what every item in it shares.
type batch struct {
	accountID string
	value     value
	events    []adapters.Event
	errs      []error
}

func parseChange(wabaID string, raw json.RawMessage) ([]adapters.Event, error) {
	var c change
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	b := &batch{}
	if len(c.Value) > 0 {
		if err := json.Unmarshal(c.Value, &b.value); err != nil {
			return nil, fmt.Errorf("field %s: %w", c.Field, err)
		}
	}
	return b.read(wabaID, c.Field, c.Value, raw)
}

// read turns the change's decoded value into events; rawValue and rawChange
// are needed only for template updates and unknown fields.
func (b *batch) read(wabaID, field string, rawValue, rawChange json.RawMessage) ([]adapters.Event, error) {
	// Events route on the phone number; account-level fields carry only the WABA.
	b.accountID = string(b.value.Metadata.PhoneNumberID)
	if b.accountID == "" {
		b.accountID = wabaID
	}
	if b.accountID == "" {
		return nil, errors.New("no phone_number_id and no WABA id")
	}
	switch field {
	case "messages":
		b.each("messages", b.value.Messages, b.message)
		b.each("statuses", b.value.Statuses, b.status)
		b.valueErrors()
	case "user_preferences":
		b.each("user_preferences", b.value.UserPreferences, b.preference)
	case "smb_message_echoes":
		b.each("message_echoes", b.value.MessageEchoes, b.echo)
	case "message_template_status_update", "template_category_update":
		ev, err := b.templateUpdate(field, rawValue)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", field, err)
		}
		b.events = append(b.events, ev)
	default:
		b.events = append(b.events, adapters.Event{
			App:       adapters.WhatsApp,
			AccountID: b.accountID,
			Type:      adapters.EventUnsupported,
			Unsupported: &adapters.Unsupported{
				Type:        field,
				Explanation: fmt.Sprintf("webhook field %q is not handled by the inbox", field),
				Raw:         rawChange,
			},
		})
	}
	return b.events, errors.Join(b.errs...)
}

func (b *batch) each(name string, items []json.RawMessage, read func(json.RawMessage) (adapters.Event, error)) {
	for i, raw := range items {
		ev, err := read(raw)
		if err != nil {
			b.errs = append(b.errs, fmt.Errorf("%s[%d]: %w", name, i, err))
			continue
		}
		b.events = append(b.events, ev)
	}
}

// valueErrors keeps errors Meta reports for the whole change (no message to hang them on).
func (b *batch) valueErrors() {
	if len(b.value.Errors) == 0 {
		return
	}
	b.events = append(b.events, adapters.Event{
		App:       adapters.WhatsApp,
		AccountID: b.accountID,
		Type:      adapters.EventUnsupported,
		Unsupported: &adapters.Unsupported{
			Type:        "errors",
			Explanation: "Meta reported errors for this webhook that belong to no message",
			Errors:      errorList(b.value.Errors),
		},
	})
}

// party is the customer known by wa_id and/or BSUID, completed from the change's contacts.
func (b *batch) party(waID, bsuid string) adapters.Party {
	p := adapters.Party{BSUID: bsuid}
	for _, c := range b.value.Contacts {
		if (waID != "" && c.WaID == waID) || (bsuid != "" && c.UserID == bsuid) {
			p.DisplayName, p.Username = c.Profile.Name, c.Profile.Username
			if p.BSUID == "" {
				p.BSUID = c.UserID
			}
			if waID == "" {
				waID = c.WaID
			}
			break
		}
	}
	p.Phone = adapters.PhoneFromWaID(waID)
	p.Country = adapters.CountryOf(p.Phone)
	p.ExternalID = waID
	if p.ExternalID == "" {
		p.ExternalID = p.BSUID // a username user without a visible phone
	}
	return p
}

func (b *batch) status(raw json.RawMessage) (adapters.Event, error) {
	var s wireStatus
	if err := json.Unmarshal(raw, &s); err != nil {
		return adapters.Event{}, err
	}
	if s.ID == "" || s.Status == "" {
		return adapters.Event{}, errors.New("status without id or status")
	}
	ev := adapters.Event{
		App:       adapters.WhatsApp,
		AccountID: b.accountID,
		Type:      adapters.EventStatus,
		Timestamp: s.Timestamp.Time(),
		Customer:  b.party(s.RecipientID, s.RecipientUserID),
	}
	if s.RecipientType == "group" {
		ev.GroupID = s.RecipientID
		ev.Customer = b.party(s.RecipientParticipantID, "")
	}
	st := &adapters.Status{
		ExternalID:   s.ID,
		Status:       adapters.StatusValue(s.Status),
		RecipientID:  s.RecipientID,
		CallbackData: s.BizOpaqueCallbackData,

		Errors: errorList(s.Errors),
	}
	if c := s.Conversation; c != nil {
		st.ConversationID, st.ConversationOrigin = c.ID, c.Origin.Type
		if t := c.ExpirationTimestamp.Time(); !t.IsZero() {
			st.ConversationExpiresAt = &t
		}
	}
	if s.RecipientType == "group" {
		st.ParticipantID = s.RecipientParticipantID
	}
	if pr := s.Pricing; pr != nil {
		st.Pricing = &adapters.Pricing{Category: pr.Category, Type: pr.Type, Model: pr.PricingModel, Billable: pr.Billable}
	}
	ev.Status = st
	return ev, nil
}

func (b *batch) preference(raw json.RawMessage) (adapters.Event, error) {
	var p wirePreference
	if err := json.Unmarshal(raw, &p); err != nil {
		return adapters.Event{}, err
	}
	ev := adapters.Event{
		App:        adapters.WhatsApp,
		AccountID:  b.accountID,
		Type:       adapters.EventPreference,
		Timestamp:  p.Timestamp.Time(),
		Customer:   b.party(p.WaID, p.UserID),
		Preference: &adapters.Preference{Category: p.Category, Value: p.Value, Detail: p.Detail},
	}
	if ev.Customer.ExternalID == "" {
		return adapters.Event{}, errors.New("preference without a user")
	}
	return ev, nil
}

func errorList(ws []wireError) []adapters.Error {
	var out []adapters.Error
	for _, w := range ws {
		out = append(out, adapters.Error{Code: w.Code, Title: w.Title, Message: w.Message, Details: w.ErrorData.Details, Href: w.Href})
	}
	return out
}
