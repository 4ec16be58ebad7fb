package messenger

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard-inbox/switchboard/adapters"
)

// Parse reads a webhook body into events: every entry, every messaging and
// standby item, every messaging change. Malformed JSON or another app's object
// is an error with no events. An item that cannot be read is skipped and
// reported in the error, which then comes with the events of all the others.
func (p Platform) Parse(body []byte) ([]adapters.Event, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%s: parse webhook: %w", p.App, err)
	}
	if env.Object != p.Object {
		return nil, fmt.Errorf("%s: webhook object is %q, want %q", p.App, env.Object, p.Object)
	}
	var events []adapters.Event
	var errs []error
	for i, raw := range env.Entry {
		evs, err := p.parseEntry(raw)
		events = append(events, evs...)
		if err != nil {
			errs = append(errs, fmt.Errorf("entry[%d]: %w", i, err))
		}
	}
	if len(errs) > 0 {
		return events, fmt.Errorf("%s: some webhook items skipped: %w", p.App, errors.Join(errs...))
	}
	return events, nil
}

func (p Platform) parseEntry(raw json.RawMessage) ([]adapters.Event, error) {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, err
	}
	var events []adapters.Event
	var errs []error
	add := func(where string, ev adapters.Event, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			return
		}
		events = append(events, ev)
	}
	for j, it := range e.Messaging {
		ev, err := p.parseItem(string(e.ID), it, false)
		add(fmt.Sprintf("messaging[%d]", j), ev, err)
	}
	for j, it := range e.Standby {
		ev, err := p.parseItem(string(e.ID), it, true)
		add(fmt.Sprintf("standby[%d]", j), ev, err)
	}
	for j, raw := range e.Changes {
		ev, err := p.parseChange(e, raw)
		add(fmt.Sprintf("changes[%d]", j), ev, err)
	}
	return events, errors.Join(errs...)
}

// parseChange reads a change: messaging fields (Instagram Login delivers some
// messaging events, and the dashboard's test events, this way) become the same
// events as messaging items; other fields (comments, mentions…) are kept raw.
func (p Platform) parseChange(e entry, raw json.RawMessage) (adapters.Event, error) {
	var c change
	if err := json.Unmarshal(raw, &c); err != nil {
		return adapters.Event{}, err
	}
	if strings.HasPrefix(c.Field, "messag") && len(c.Value) > 0 {
		return p.parseItem(string(e.ID), c.Value, false)
	}
	if e.ID == "" {
		return adapters.Event{}, errors.New("no account id")
	}
	return adapters.Event{
		App:       p.App,
		AccountID: string(e.ID),
		Type:      adapters.EventUnsupported,
		Timestamp: e.Time.Time(),
		Unsupported: &adapters.Unsupported{
			Type:        c.Field,
			Explanation: fmt.Sprintf("webhook field %q is not handled by the inbox", c.Field),
			Raw:         raw,
		},
	}, nil
}

func (p Platform) parseItem(accountID string, raw json.RawMessage, standby bool) (adapters.Event, error) {
	var it item
	if err := json.Unmarshal(raw, &it); err != nil {
		return adapters.Event{}, err
	}
	ev := adapters.Event{
		App:       p.App,
		AccountID: accountID,
		Timestamp: it.Timestamp.Time(),
		Standby:   standby,
		Customer:  adapters.Party{ExternalID: string(it.Sender.ID)},
	}
	business := string(it.Recipient.ID)
	if it.Message != nil && it.Message.IsEcho {
		// In an echo the business is the sender and the customer the recipient.
		ev.Customer.ExternalID, business = business, string(it.Sender.ID)
	}
	if ev.AccountID == "" {
		ev.AccountID = business
	}
	if ev.AccountID == "" {
		return adapters.Event{}, errors.New("no account id in entry or item")
	}

	switch {
	case it.Message != nil:
		if err := p.applyMessage(&ev, it.Message); err != nil {
			return adapters.Event{}, err
		}
	case it.MessageEdit != nil:
		ev.Type = adapters.EventEdit
		ev.Edit = &adapters.Edit{TargetExternalID: it.MessageEdit.Mid, Text: it.MessageEdit.Text, NumEdit: it.MessageEdit.NumEdit}
	case it.Delivery != nil:
		ev.Type = adapters.EventDelivery
		ev.Receipt = &adapters.Receipt{Watermark: it.Delivery.Watermark.Time(), ExternalIDs: it.Delivery.Mids}
	case it.Read != nil:
		ev.Type = adapters.EventRead
		ev.Receipt = &adapters.Receipt{Watermark: it.Read.Watermark.Time()}
		if it.Read.Mid != "" {
			ev.Receipt.ExternalIDs = []string{it.Read.Mid}
		}
	case it.Reaction != nil:
		ev.Type = adapters.EventReaction
		ev.Reaction = reaction(it.Reaction)
	case it.Postback != nil:
		ev.Type = adapters.EventPostback
		ev.Message = &adapters.Message{
			ExternalID: it.Postback.Mid,
			Kind:       adapters.KindPostback,
			Text:       it.Postback.Title,
			Details:    adapters.Details{Payload: it.Postback.Payload},
		}
		ev.Referral = referral(it.Postback.Referral)
	case it.Optin != nil:
		ev.Type = adapters.EventOptin
		ev.Optin = optin(it.Optin)
		if ev.Customer.ExternalID == "" && it.Optin.UserRef == "" {
			ev.Optin.UserRef = it.Sender.UserRef
		}
	case it.Referral != nil:
		ev.Type = adapters.EventReferral
		ev.Referral = referral(it.Referral)
	default:
		ev.Type = adapters.EventUnsupported
		kind := unknownKey(raw)
		ev.Unsupported = &adapters.Unsupported{
			Type:        kind,
			Explanation: fmt.Sprintf("messaging event %q is not handled by the inbox", kind),
			Raw:         raw,
		}
		return ev, nil
	}
	if ev.Customer.ExternalID == "" && (ev.Optin == nil || ev.Optin.UserRef == "") {
		return adapters.Event{}, fmt.Errorf("%s without a customer id", ev.Type)
	}
	return ev, nil
}

// unknownKey names an item we do not model by its event key (pass_thread_control…).
func unknownKey(raw json.RawMessage) string {
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields) // raw already decoded once as an object
	keys := make([]string, 0, len(fields))
	for k := range fields {
		switch k {
		case "sender", "recipient", "timestamp":
		default:
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "empty"
	}
	slices.Sort(keys)
	return keys[0]
}
