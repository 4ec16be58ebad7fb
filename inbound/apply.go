package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
)

// applier applies one batch's events; it caches channel lookups.
type applier struct {
	p        *Processor
	ctx      context.Context
	channels map[models.AccountKey]*models.Channel // nil: no channel for the account
	wabas    map[string][]models.Channel
	cur      *payload       // the payload whose event is being applied
	events   []models.Event // what the set-based apply changed, notified once per batch
}

func (a *applier) channel(tx *models.Store, app adapters.App, account string) (*models.Channel, error) {
	key := models.AccountKey{App: string(app), AccountID: account}
	if ch, ok := a.channels[key]; ok {
		return ch, nil
	}
	ch, err := tx.ChannelByAccount(a.ctx, string(app), account)
	if err != nil {
		return nil, err
	}
	a.channels[key] = ch
	return ch, nil
}

// apply writes one event routed to ch.
func (a *applier) apply(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	if ev.Timestamp.IsZero() {
		ev.Timestamp = time.Now().UTC() // Meta always sends one; never leave a window fact at year 1
	}
	switch ev.Type {
	case adapters.EventTemplate:
		return a.templateUpdate(tx, ev) // routed by WABA id: see templates.go
	case adapters.EventMessage, adapters.EventPostback:
		return a.inbound(tx, ch, ev)
	case adapters.EventEcho:
		return a.echo(tx, ch, ev)
	case adapters.EventStatus:
		return a.status(tx, ch, ev)
	case adapters.EventDelivery, adapters.EventRead:
		return a.receipt(tx, ch, ev)
	case adapters.EventReaction:
		return a.reaction(tx, ch, ev)
	case adapters.EventOptin:
		return a.optin(tx, ch, ev)
	case adapters.EventReferral:
		return a.referral(tx, ch, ev)
	case adapters.EventEdit:
		return a.edit(tx, ch, ev)
	case adapters.EventUnsend:
		return tx.UnsendMessage(a.ctx, ch.ID, ev.Unsend.TargetExternalID, ev.Timestamp)
	case adapters.EventPreference:
		return a.preference(tx, ch, ev)
	case adapters.EventNumberChange:
		return a.numberChange(tx, ch, ev)
	}
	return nil // unsupported envelope items stay in raw_webhooks
}

// identity finds or creates the customer's identity on the channel. WhatsApp
// identities join an existing contact with the same phone; Messenger and
// Instagram ones never merge automatically (Meta gives no link).
func (a *applier) identity(tx *models.Store, ch *models.Channel, p adapters.Party) (*models.Identity, error) {
	if p.ExternalID == "" {
		return nil, errors.New("event has no customer id")
	}
	id, err := tx.IdentityByExternal(a.ctx, ch.ID, p.ExternalID)
	if err != nil {
		return nil, err
	}
	if id != nil {
		if p.DisplayName != "" && p.DisplayName != id.DisplayName {
			if err := tx.SetIdentityDisplayName(a.ctx, id, p.DisplayName); err != nil {
				return nil, err
			}
		}
		return id, nil
	}
	var contact models.Contact
	found := false
	if ch.App == models.AppWhatsApp && p.Phone != "" {
		c, err := tx.ContactByPhone(a.ctx, ch.BusinessID, p.Phone)
		if err != nil {
			return nil, err
		}
		if found = c != nil; found {
			contact = *c
		}
	}
	if !found {
		contact = models.Contact{BusinessID: ch.BusinessID, Name: p.DisplayName, Phone: p.Phone, Country: p.Country}
		if contact.Name == "" && p.Username != "" {
			contact.Name = "@" + p.Username
		}
		if err := tx.CreateContact(a.ctx, &contact); err != nil {
			return nil, err
		}
	}
	id = &models.Identity{
		BusinessID: ch.BusinessID, ContactID: contact.ID, ChannelID: ch.ID, App: ch.App, ExternalID: p.ExternalID,
		Phone: p.Phone, BSUID: p.BSUID, Username: p.Username, Country: p.Country, DisplayName: p.DisplayName,
	}
	created, err := tx.CreateIdentityOnce(a.ctx, id)
	if err != nil || created {
		return id, err
	}
	// Another worker created it first: use theirs, drop our new contact.
	if !found {
		if err := tx.DeleteContact(a.ctx, contact.ID); err != nil {
			return nil, err
		}
	}
	return tx.IdentityByExternal(a.ctx, ch.ID, p.ExternalID)
}

// thread returns the thread an event belongs to: the group's, or the
// identity's direct thread.
func (a *applier) thread(tx *models.Store, ch *models.Channel, ev *adapters.Event, id *models.Identity) (*models.Thread, error) {
	var (
		t       *models.Thread
		created bool
		err     error
	)
	if ev.GroupID != "" {
		t, created, err = tx.EnsureGroupThread(a.ctx, ch, ev.GroupID, "", ev.Timestamp)
		if err == nil {
			err = tx.AddParticipant(a.ctx, t.ID, id.ID, "member", ev.Timestamp)
		}
	} else {
		t, created, err = tx.EnsureDirectThread(a.ctx, id, ev.Timestamp)
	}
	if err != nil {
		return nil, err
	}
	if created {
		err = tx.Notify(a.ctx, models.Event{Type: "thread", BusinessID: ch.BusinessID, ThreadID: t.ID})
	}
	return t, err
}

// inbound stores a customer's message or postback and records the facts the
// policy engine reads, in Meta's time.
func (a *applier) inbound(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	if ev.Message == nil {
		return nil
	}
	id, err := a.identity(tx, ch, ev.Customer)
	if err != nil {
		return err
	}
	t, err := a.thread(tx, ch, ev, id)
	if err != nil {
		return err
	}
	if t, err = a.relayThread(tx, id, t, ev); err != nil { // relay.go
		return err
	}
	m := a.messageRow(ch, t, ev, models.DirectionIn, models.StatusReceived)
	m.SenderIdentityID = &id.ID
	inserted, err := tx.AddMessage(a.ctx, m, attachments(ev.Message))
	if err != nil || !inserted {
		return err // a repeated mid/wamid changes nothing
	}
	if err := a.linkReply(tx, ch, m); err != nil {
		return err
	}
	if m.Kind == string(adapters.KindPoll) {
		if err := a.opaquePoll(tx, ch, t, m); err != nil {
			return err
		}
	}
	if m.Kind == string(adapters.KindSystem) {
		return nil // a system notice (number changed) is not the customer writing
	}
	if err := a.restockFromMessage(tx, ch, t, id, ev); err != nil {
		return err
	}
	if err := a.recordFacts(tx, id, ev); err != nil {
		return err
	}
	return a.afterInbound(tx, ch, t, id, m, ev) // relay.go: votes and relay legs, judged on the facts just recorded
}

// linkReply points a quoted reply at the message it quotes, when we hold it.
func (a *applier) linkReply(tx *models.Store, ch *models.Channel, m *models.Message) error {
	if m.ReplyToExternalID == "" {
		return nil
	}
	return tx.LinkReply(a.ctx, ch.ID, m.ID, m.ReplyToExternalID)
}

func (a *applier) recordFacts(tx *models.Store, id *models.Identity, ev *adapters.Event) error {
	kind := "message"
	switch {
	case ev.Type == adapters.EventPostback:
		kind = "postback"
	case ev.Message.Details.Payload != "":
		kind = "quick_reply"
	}
	if err := tx.RecordCustomerEvent(a.ctx, id.ID, kind, ev.Timestamp); err != nil {
		return err
	}
	if kind != "message" { // quick replies and postbacks are messages for the window too
		if err := tx.RecordCustomerEvent(a.ctx, id.ID, "message", ev.Timestamp); err != nil {
			return err
		}
	}
	if ev.Referral != nil {
		k := "referral"
		if ev.App == adapters.WhatsApp && ev.Referral.CTWAClid != "" || ev.App == adapters.WhatsApp && strings.EqualFold(ev.Referral.Source, "ad") {
			k = "ctwa_referral"
		}
		return tx.RecordCustomerEvent(a.ctx, id.ID, k, ev.Timestamp)
	}
	return nil
}

func (a *applier) messageRow(ch *models.Channel, t *models.Thread, ev *adapters.Event, dir, status string) *models.Message {
	msg := ev.Message
	details, _ := json.Marshal(detailsWithExtras(ev))
	ext := msg.ExternalID
	m := &models.Message{
		BusinessID: ch.BusinessID, ThreadID: t.ID, ChannelID: &ch.ID, Direction: dir, App: ch.App,
		Kind: string(msg.Kind), Text: msg.Text, Details: details, ReplyToExternalID: msg.ReplyToExternalID,
		SentAt: ev.Timestamp, Status: status, StatusAt: ev.Timestamp,
	}
	if ext != "" {
		m.ExternalID = &ext
	}
	if m.Kind == "" {
		m.Kind = string(adapters.KindUnsupported)
	}
	return m
}

// detailsWithExtras stores the kind's details plus what surrounds the message
// (referral, forwarding) so the thread can show it.
func detailsWithExtras(ev *adapters.Event) any {
	type extras struct {
		adapters.Details
		Referral            *adapters.Referral `json:"referral,omitempty"`
		Forwarded           bool               `json:"forwarded,omitempty"`
		FrequentlyForwarded bool               `json:"frequently_forwarded,omitempty"`
		GroupID             string             `json:"group_id,omitempty"`
	}
	return extras{Details: ev.Message.Details, Referral: ev.Referral, Forwarded: ev.Message.Forwarded,
		FrequentlyForwarded: ev.Message.FrequentlyForwarded, GroupID: ev.GroupID}
}

func attachments(m *adapters.Message) []models.Attachment {
	out := make([]models.Attachment, 0, len(m.Attachments))
	for _, at := range m.Attachments {
		out = append(out, models.Attachment{Kind: at.Type, URL: at.URL, MediaID: at.MediaID, MimeType: at.MimeType,
			SHA256: at.SHA256, Filename: at.Filename, Caption: at.Caption})
	}
	return out
}

// opaquePoll records a WhatsApp poll whose content Meta does not deliver.
func (a *applier) opaquePoll(tx *models.Store, ch *models.Channel, t *models.Thread, m *models.Message) error {
	return tx.CreatePoll(a.ctx, &models.Poll{BusinessID: ch.BusinessID, ThreadID: t.ID, MessageID: &m.ID, Opaque: true})
}

// echo is the business side of a thread: our own send coming back (matched,
// not duplicated) or a reply typed in Meta's own inbox (stored as outbound).
func (a *applier) echo(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	msg := ev.Message
	if msg == nil || msg.ExternalID == "" {
		return nil
	}
	if id, ok := tx.Cipher().ParseCallbackRef(msg.Metadata); ok {
		return a.reconcile(tx, ch, id, msg.ExternalID, ev.Timestamp)
	}
	if held, err := tx.MessageByExternal(a.ctx, ch.ID, msg.ExternalID); err != nil || held != nil {
		return err
	}
	id, err := a.identity(tx, ch, ev.Customer)
	if err != nil {
		return err
	}
	t, err := a.thread(tx, ch, ev, id)
	if err != nil {
		return err
	}
	m := a.messageRow(ch, t, ev, models.DirectionOut, models.StatusSent)
	if adopted, err := a.adoptEcho(tx, ch, t, m, ev); err != nil || adopted { // echo.go
		return err
	}
	if inserted, err := tx.AddMessage(a.ctx, m, attachments(msg)); err != nil || !inserted {
		return err
	}
	return a.linkReply(tx, ch, m)
}

// reconcile ties Meta's id to our queued message: after a timeout we may not
// have learnt that Meta accepted the send, and this stops a second send.
func (a *applier) reconcile(tx *models.Store, ch *models.Channel, messageID int64, externalID string, at time.Time) error {
	claimed, err := tx.ClaimExternalID(a.ctx, ch.ID, messageID, externalID)
	if err != nil || !claimed {
		return err // not ours on this channel, or already reconciled
	}
	_, err = tx.AdvanceStatus(a.ctx, models.StatusUpdate{MessageID: messageID, ChannelID: ch.ID, Status: models.StatusSent, At: at})
	return err
}

func (a *applier) status(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	st := ev.Status
	if id, ok := tx.Cipher().ParseCallbackRef(st.CallbackData); ok {
		if err := a.reconcile(tx, ch, id, st.ExternalID, ev.Timestamp); err != nil {
			return err
		}
	}
	u := models.StatusUpdate{ChannelID: ch.ID, ExternalID: st.ExternalID, Status: string(st.Status), At: ev.Timestamp}
	if st.Pricing != nil && !groupStatus(ev) { // a group message is priced per participant
		u.Pricing, _ = json.Marshal(st.Pricing)
	}
	if len(st.Errors) > 0 {
		code := st.Errors[0].Code
		u.ErrorCode = &code
		u.ErrorTitle = firstNonEmpty(st.Errors[0].Title, st.Errors[0].Message)
	}
	res, err := tx.AdvanceStatus(a.ctx, u)
	if err == nil {
		err = a.participantStatuses(tx, []*models.Channel{ch}, []*adapters.Event{ev})
	}
	if err != nil || !res.Found || u.ErrorCode == nil || *u.ErrorCode != meta.CodeMarketingOptedOut {
		return err
	}
	// Meta refused a marketing message because the customer stopped them: remember it.
	return tx.OptOutRecipientOf(a.ctx, ch.ID, res.MessageID, ev.Timestamp, "whatsapp_131050")
}

// receipt applies a Messenger delivery/read watermark (or Instagram's seen
// mid) to every outbound message it covers, forward only: the set path's
// statusSet, for one receipt.
func (a *applier) receipt(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	return a.statusSet(tx, nil, []event{{pl: a.cur, ev: ev, ch: ch}})
}

// reaction applies one customer's reaction as reactionSet does a batch's.
func (a *applier) reaction(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	if ev.Customer.ExternalID == "" {
		return errors.New("event has no customer id")
	}
	return a.reactionSet(tx, []event{{pl: a.cur, ev: ev, ch: ch}})
}

// optin stores a one-time notification token (sealed; valid one year, once).
func (a *applier) optin(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	o := ev.Optin
	if ev.Customer.ExternalID == "" {
		// A checkbox-plugin opt-in names only a user_ref until the person writes:
		// kept in the webhook log as unresolved, not an error.
		a.cur.problem(models.ProblemUnresolved, ch, ev, "opt-in from a plugin user not yet known (user_ref "+o.UserRef+")")
		return nil
	}
	id, err := a.identity(tx, ch, ev.Customer)
	if err != nil {
		return err
	}
	if err := tx.RecordCustomerEvent(a.ctx, id.ID, "optin", ev.Timestamp); err != nil {
		return err
	}
	if err := a.restockOptin(tx, ch, id, ev); err != nil {
		return err
	}
	if o.Token == "" {
		return nil
	}
	kind, expires := "one_time", ev.Timestamp.AddDate(1, 0, 0)
	if o.Type == adapters.OptinNotificationMessages {
		kind = "recurring"
		if o.ExpiresAt != nil {
			expires = *o.ExpiresAt
		}
	}
	return tx.SaveOTNToken(a.ctx, models.NewOTNToken{BusinessID: ch.BusinessID, IdentityID: id.ID, Kind: kind, Topic: o.Title,
		Payload: o.Payload, Token: o.Token, CreatedAt: ev.Timestamp, ExpiresAt: expires})
}

func (a *applier) referral(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	id, err := a.identity(tx, ch, ev.Customer)
	if err != nil {
		return err
	}
	if err := tx.RecordCustomerEvent(a.ctx, id.ID, "referral", ev.Timestamp); err != nil {
		return err
	}
	return a.restockReferral(tx, ch, id, ev)
}

func (a *applier) edit(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	e := ev.Edit
	return tx.ApplyEdit(a.ctx, ch.ID, e.TargetExternalID, e.Text, e.NumEdit, ev.Timestamp)
}

func (a *applier) preference(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	id, err := a.identity(tx, ch, ev.Customer)
	if err != nil {
		return err
	}
	p := ev.Preference
	if p.Category != "" && p.Category != adapters.PreferenceMarketing {
		return nil // only marketing messages can be stopped today
	}
	if p.Value != adapters.PreferenceStop && p.Value != adapters.PreferenceResume {
		return fmt.Errorf("unknown preference value %q", p.Value)
	}
	_, err = tx.ApplyMarketingPreference(a.ctx, ch.BusinessID, id.ID, p.Value == adapters.PreferenceStop, ev.Timestamp,
		"whatsapp_user_preferences")
	return err
}

// numberChange moves the identity to the new number; its history stays.
func (a *applier) numberChange(tx *models.Store, ch *models.Channel, ev *adapters.Event) error {
	nc := ev.NumberChange
	if nc.NewWaID == "" {
		return nil
	}
	phone := adapters.PhoneFromWaID(nc.NewWaID)
	old, err := tx.IdentityByExternal(a.ctx, ch.ID, nc.OldWaID)
	if err != nil {
		return err
	}
	if old != nil {
		taken, err := tx.IdentityByExternal(a.ctx, ch.ID, nc.NewWaID)
		if err != nil {
			return err
		}
		if taken == nil {
			if err := tx.MoveIdentityNumber(a.ctx, old, nc.NewWaID, phone, adapters.CountryOf(phone)); err != nil {
				return err
			}
		}
	}
	if ev.Message == nil {
		return nil
	}
	// The notice belongs to the person, who is now reached at the new number.
	ev.Customer.ExternalID, ev.Customer.Phone, ev.Customer.Country = nc.NewWaID, phone, adapters.CountryOf(phone)
	return a.inbound(tx, ch, ev)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
