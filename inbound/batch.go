package inbound

import (
	"encoding/json"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
)

// The set-based apply: a batch's plain customer messages and delivery
// statuses — nearly all of Meta's traffic — are written with a few
// statements per batch (identities, contacts, threads, messages, thread
// touches, window facts, statuses), and everything else (postbacks, echoes,
// reactions, opt-ins, edits, groups, relay members, polls, restock payloads,
// reconciliations…) event by event in the batch's order, as before. A
// customer's events all go one way or the other, so their order holds.

// customerKey names whose rows an event touches: its channel and its group
// or customer.
func customerKey(it event) string {
	return strconv.FormatInt(it.ch.ID, 10) + "/" + whose(it.ev)
}

// whose names the group or customer whose rows an event touches.
func whose(ev *adapters.Event) string {
	if ev.GroupID != "" {
		return "g:" + ev.GroupID
	}
	return ev.Customer.ExternalID
}

// lockKeys are the advisory lock ids of the customers and groups a batch's
// events touch (a number change also names the customer's new number),
// sorted. They are named by app and account, not channel, so that they are
// known before the batch's channels are loaded, and taken with them.
func lockKeys(payloads []*payload) []int32 {
	var keys []int32
	add := func(ev *adapters.Event, who string) {
		h := fnv.New32a()
		h.Write([]byte(string(ev.App) + "/" + ev.AccountID + "/" + who))
		keys = append(keys, int32(h.Sum32()))
	}
	for _, pl := range payloads {
		for i := range pl.events {
			ev := &pl.events[i]
			add(ev, whose(ev))
			if nc := ev.NumberChange; nc != nil && nc.NewWaID != "" {
				add(ev, nc.NewWaID)
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// applyBatch applies the batch: plain messages and statuses as sets, the
// rest one at a time. Any failure aborts the batch (the caller retries it
// event by event, so only the bad event is parked).
func (a *applier) applyBatch(tx *models.Store, items []event) error {
	slow := map[string]bool{}
	for _, it := range items {
		if !a.settable(tx, it) {
			slow[customerKey(it)] = true
		}
		if nc := it.ev.NumberChange; nc != nil && nc.NewWaID != "" {
			slow[strconv.FormatInt(it.ch.ID, 10)+"/"+nc.NewWaID] = true
		}
	}
	// Runs of set-able customers, in the batch's order: rows are created in
	// the same order as one event at a time would create them.
	for start := 0; start < len(items); {
		end, isSlow := start+1, slow[customerKey(items[start])]
		for end < len(items) && slow[customerKey(items[end])] == isSlow {
			end++
		}
		run := items[start:end]
		start = end
		if isSlow {
			if err := a.applyInOrder(tx, run); err != nil {
				return err
			}
			continue
		}
		var msgs, statuses, receipts, reactions []event
		for _, it := range run {
			switch it.ev.Type {
			case adapters.EventStatus:
				statuses = append(statuses, it)
			case adapters.EventDelivery, adapters.EventRead:
				receipts = append(receipts, it)
			case adapters.EventReaction:
				reactions = append(reactions, it)
			default:
				msgs = append(msgs, it)
			}
		}
		demoted, err := a.messageSet(tx, msgs)
		if err != nil {
			return a.setFailed(err)
		}
		if err := a.statusSet(tx, statuses, receipts); err != nil {
			return a.setFailed(err)
		}
		if err := a.reactionSet(tx, reactions); err != nil { // after the messages: one may be their target
			return a.setFailed(err)
		}
		for _, group := range [][]event{statuses, receipts, reactions} {
			for _, it := range group {
				it.pl.applied++
			}
		}
		// Relay members: their messages land in the group, one at a time.
		if err := a.applyInOrder(tx, demoted); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) setFailed(err error) error {
	if transient(err) {
		return err
	}
	a.p.log.Warn("inbound: a set of events failed; retrying its batch one event at a time", "error", err)
	return errEventFailed
}

// settable says whether an event may be applied as part of a set: a plain
// customer message (no payload, referral, quote, group, poll or vote), a
// delivery status that does not name our message id and did not fail, a
// Messenger or Instagram receipt, or a customer's reaction outside a group.
func (a *applier) settable(tx *models.Store, it event) bool {
	ev := it.ev
	switch ev.Type {
	case adapters.EventMessage:
		m := ev.Message
		if m == nil || m.ExternalID == "" || ev.Customer.ExternalID == "" || ev.GroupID != "" || ev.Referral != nil ||
			m.ReplyToExternalID != "" || m.Details.Payload != "" || m.Details.Interactive != nil {
			return false
		}
		switch m.Kind {
		case adapters.KindPoll, adapters.KindSystem:
			return false
		}
		_, vote := optionNumber(&models.Message{Kind: string(m.Kind), Text: m.Text})
		return !vote
	case adapters.EventStatus:
		st := ev.Status
		if st == nil || st.ExternalID == "" || len(st.Errors) > 0 {
			return false
		}
		switch st.Status {
		case adapters.StatusSent, adapters.StatusDelivered, adapters.StatusRead:
		default:
			return false
		}
		_, ours := tx.Cipher().ParseCallbackRef(st.CallbackData)
		return !ours
	case adapters.EventDelivery, adapters.EventRead:
		return ev.Receipt != nil && ev.GroupID == ""
	case adapters.EventReaction:
		return ev.Reaction != nil && ev.Reaction.TargetExternalID != "" && ev.Customer.ExternalID != "" && ev.GroupID == ""
	}
	return false
}

// messageSet applies plain customer messages as sets. It returns the events
// of relay group members, which it leaves for the one-at-a-time path.
func (a *applier) messageSet(tx *models.Store, items []event) (demoted []event, err error) {
	if len(items) == 0 {
		return nil, nil
	}
	ids, created, routes, err := a.identities(tx, items)
	if err != nil {
		return nil, err
	}
	if a.p.Relay != nil && len(routes.Relay) > 0 {
		kept := items[:0:0]
		for _, it := range items {
			if routes.Relay[ids[identityKey(it)].ID] {
				demoted = append(demoted, it)
			} else {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	// Each identity's direct thread; one is created at its first event of the batch.
	threads := map[int64]*models.Thread{}
	var missing []*models.Identity
	var firstAt []time.Time
	for _, it := range items {
		id := ids[identityKey(it)]
		if threads[id.ID] != nil {
			continue
		}
		if t := routes.Direct[id.ID]; t != nil && !created[id.ID] {
			threads[id.ID] = t
			continue
		}
		if !slices.Contains(missing, id) {
			missing = append(missing, id)
			firstAt = append(firstAt, it.ev.Timestamp)
		}
	}
	if len(missing) > 0 {
		made, newThreads, err := tx.EnsureDirectThreads(a.ctx, missing, firstAt)
		if err != nil {
			return nil, err
		}
		for id, t := range made {
			threads[id] = t
		}
		for _, t := range newThreads {
			a.events = append(a.events, models.Event{Type: "thread", BusinessID: t.BusinessID, ThreadID: t.ID})
		}
	}
	if len(threads) == 0 {
		return demoted, nil
	}
	var msgs []*models.Message
	dup := map[models.IdentityKey]bool{}
	for _, it := range items {
		it.pl.applied++
		k := models.IdentityKey{ChannelID: it.ch.ID, ExternalID: it.ev.Message.ExternalID}
		if dup[k] {
			continue // a replay inside the batch changes nothing
		}
		dup[k] = true
		id := ids[identityKey(it)]
		m := a.messageRow(it.ch, threads[id.ID], it.ev, models.DirectionIn, models.StatusReceived)
		m.SenderIdentityID = &id.ID
		m.Attachments = attachments(it.ev.Message)
		msgs = append(msgs, m)
	}
	inserted, err := tx.AddInboundMessages(a.ctx, msgs) // with their window facts
	if err != nil {
		return nil, err
	}
	for _, m := range inserted {
		a.events = append(a.events, models.Event{Type: "message", BusinessID: m.BusinessID, ThreadID: m.ThreadID, MessageID: m.ID})
	}
	return demoted, nil
}

func identityKey(it event) models.IdentityKey {
	return models.IdentityKey{ChannelID: it.ch.ID, ExternalID: it.ev.Customer.ExternalID}
}

// identities finds or creates the customers' identities, as identity() does
// one at a time: WhatsApp identities join the business's contact with the
// same phone; the name Meta sent last is kept. created marks new ones.
func (a *applier) identities(tx *models.Store, items []event) (map[models.IdentityKey]*models.Identity, map[int64]bool, models.CustomerRoutes, error) {
	var keys []models.IdentityKey
	first := map[models.IdentityKey]event{}
	lastName := map[models.IdentityKey]string{}
	for _, it := range items {
		k := identityKey(it)
		if _, ok := first[k]; !ok {
			first[k] = it
			keys = append(keys, k)
		}
		if n := it.ev.Customer.DisplayName; n != "" {
			lastName[k] = n
		}
	}
	ids, routes, err := tx.IdentitiesWithRoutes(a.ctx, keys)
	if err != nil {
		return nil, nil, routes, err
	}
	var missing []models.IdentityKey
	var phones []models.ContactPhone
	for _, k := range keys {
		if ids[k] != nil {
			continue
		}
		missing = append(missing, k)
		if it := first[k]; it.ch.App == models.AppWhatsApp && it.ev.Customer.Phone != "" {
			phones = append(phones, models.ContactPhone{BusinessID: it.ch.BusinessID, Phone: it.ev.Customer.Phone})
		}
	}
	created := map[int64]bool{}
	if len(missing) > 0 {
		if err := a.createIdentities(tx, missing, first, phones, ids, created); err != nil {
			return nil, nil, routes, err
		}
	}
	var renameIDs []int64
	var renames []string
	for _, k := range keys {
		id := ids[k]
		if n := lastName[k]; n != "" && n != id.DisplayName {
			renameIDs, renames = append(renameIDs, id.ID), append(renames, n)
			id.DisplayName = n
		}
	}
	return ids, created, routes, tx.SetIdentityDisplayNames(a.ctx, renameIDs, renames)
}

func (a *applier) createIdentities(tx *models.Store, missing []models.IdentityKey, first map[models.IdentityKey]event,
	phones []models.ContactPhone, ids map[models.IdentityKey]*models.Identity, created map[int64]bool) error {
	byPhone := map[models.ContactPhone]*models.Contact{}
	if len(phones) > 0 {
		var err error
		if byPhone, err = tx.ContactsByPhone(a.ctx, phones); err != nil {
			return err
		}
	}
	var newContacts []*models.Contact
	contactOf := make([]*models.Contact, len(missing))
	for i, k := range missing {
		it := first[k]
		p := it.ev.Customer
		cp := models.ContactPhone{BusinessID: it.ch.BusinessID, Phone: p.Phone}
		if it.ch.App == models.AppWhatsApp && p.Phone != "" {
			if c := byPhone[cp]; c != nil {
				contactOf[i] = c
				continue
			}
		}
		c := &models.Contact{BusinessID: it.ch.BusinessID, Name: p.DisplayName, Phone: p.Phone, Country: p.Country}
		if c.Name == "" && p.Username != "" {
			c.Name = "@" + p.Username
		}
		newContacts = append(newContacts, c)
		contactOf[i] = c
		if it.ch.App == models.AppWhatsApp && p.Phone != "" {
			byPhone[cp] = c // a second number of the batch with this phone joins it
		}
	}
	if err := tx.CreateContacts(a.ctx, newContacts); err != nil {
		return err
	}
	rows := make([]*models.Identity, len(missing))
	for i, k := range missing {
		it := first[k]
		p := it.ev.Customer
		rows[i] = &models.Identity{BusinessID: it.ch.BusinessID, ContactID: contactOf[i].ID, ChannelID: it.ch.ID, App: it.ch.App,
			ExternalID: p.ExternalID, Phone: p.Phone, BSUID: p.BSUID, Username: p.Username, Country: p.Country, DisplayName: p.DisplayName}
	}
	made, err := tx.CreateIdentitiesOnce(a.ctx, rows)
	if err != nil {
		return err
	}
	for _, id := range made {
		created[id.ID] = true
		ids[models.IdentityKey{ChannelID: id.ChannelID, ExternalID: id.ExternalID}] = id
	}
	if len(made) == len(rows) {
		return nil
	}
	// Another writer created some first: use theirs, drop the contacts only they would have had.
	used := map[int64]bool{}
	for _, id := range made {
		used[id.ContactID] = true
	}
	var drop []int64
	var lost []models.IdentityKey
	for i, k := range missing {
		if ids[k] == nil {
			lost = append(lost, k)
			if c := contactOf[i]; slices.Contains(newContacts, c) && !used[c.ID] && !slices.Contains(drop, c.ID) {
				drop = append(drop, c.ID)
			}
		}
	}
	if err := tx.DeleteContacts(a.ctx, drop); err != nil {
		return err
	}
	theirs, err := tx.IdentitiesByExternal(a.ctx, lost)
	if err != nil {
		return err
	}
	for k, id := range theirs {
		ids[k] = id
	}
	return nil
}

// statusSet applies delivery statuses of our messages, and the receipts
// (delivered, read) of Messenger and Instagram, as one set: one statement
// locks every message they name, in id order.
func (a *applier) statusSet(tx *models.Store, items, receipts []event) error {
	if len(items) == 0 && len(receipts) == 0 {
		return nil
	}
	us := make([]models.StatusUpdate, len(items))
	chs, evs := make([]*models.Channel, len(items)), make([]*adapters.Event, len(items))
	for i, it := range items {
		st := it.ev.Status
		us[i] = models.StatusUpdate{ChannelID: it.ch.ID, ExternalID: st.ExternalID, Status: string(st.Status), At: it.ev.Timestamp}
		if st.Pricing != nil && !groupStatus(it.ev) { // a group message is priced per participant
			us[i].Pricing, _ = json.Marshal(st.Pricing)
		}
		chs[i], evs[i] = it.ch, it.ev
	}
	byMeta, byOurs, err := a.receiptUpdates(tx, receipts)
	if err != nil {
		return err
	}
	moved, err := tx.AdvanceStatuses(a.ctx, append(us, byMeta...))
	for _, r := range moved {
		a.events = append(a.events, models.Event{Type: "status", BusinessID: r.BusinessID, ThreadID: r.ThreadID, MessageID: r.MessageID})
	}
	if err != nil {
		return err
	}
	for _, u := range byOurs { // a send whose Meta id we never learned (its outcome unknown): rare, one at a time
		if _, err := tx.AdvanceStatus(a.ctx, u); err != nil {
			return err
		}
	}
	return a.participantStatuses(tx, chs, evs)
}

// receiptUpdates are the status updates receipts make: each message id they
// name, and every send of ours up to their watermark (Instagram's read of
// one message is a watermark at it).
// Updates of sends without Meta's id come apart, in byOurs.
func (a *applier) receiptUpdates(tx *models.Store, items []event) (byMeta, byOurs []models.StatusUpdate, err error) {
	if len(items) == 0 {
		return nil, nil, nil
	}
	var seen []models.MessageKey
	for _, it := range items {
		r := it.ev.Receipt
		for _, mid := range r.ExternalIDs {
			byMeta = append(byMeta, models.StatusUpdate{ChannelID: it.ch.ID, ExternalID: mid, Status: receiptStatus(it.ev), At: it.ev.Timestamp})
		}
		if r.Watermark.IsZero() && len(r.ExternalIDs) == 1 && it.ev.Type == adapters.EventRead {
			seen = append(seen, models.MessageKey{ChannelID: it.ch.ID, ExternalID: r.ExternalIDs[0]})
		}
	}
	seenAt, err := tx.MessagesByExternal(a.ctx, seen)
	if err != nil {
		return nil, nil, err
	}
	watermark := func(it event) time.Time {
		r := it.ev.Receipt
		if r.Watermark.IsZero() && len(r.ExternalIDs) == 1 && it.ev.Type == adapters.EventRead {
			return seenAt[models.MessageKey{ChannelID: it.ch.ID, ExternalID: r.ExternalIDs[0]}].SentAt
		}
		return r.Watermark
	}
	var keys []models.IdentityKey
	for _, it := range items {
		if !watermark(it).IsZero() && it.ev.Customer.ExternalID != "" {
			keys = append(keys, identityKey(it))
		}
	}
	if len(keys) == 0 {
		return byMeta, nil, nil
	}
	ids, err := tx.IdentitiesByExternal(a.ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	var ws []models.Watermark
	for _, it := range items {
		at := watermark(it)
		if id := ids[identityKey(it)]; id != nil && !at.IsZero() && it.ev.Customer.ExternalID != "" {
			ws = append(ws, models.Watermark{ChannelID: it.ch.ID, IdentityID: id.ID, UpTo: at, At: it.ev.Timestamp, Status: receiptStatus(it.ev)})
		}
	}
	sends, err := tx.SendsUpTo(a.ctx, ws)
	if err != nil {
		return nil, nil, err
	}
	for _, u := range sends {
		if u.ExternalID != "" {
			u.MessageID = 0 // AdvanceStatuses names messages as Meta does
			byMeta = append(byMeta, u)
		} else {
			byOurs = append(byOurs, u)
		}
	}
	return byMeta, byOurs, nil
}

func receiptStatus(ev *adapters.Event) string {
	if ev.Type == adapters.EventRead {
		return models.StatusRead
	}
	return models.StatusDelivered
}

// reactionSet applies customers' reactions: each opens the reactor's
// window (on Messenger and Instagram even to a marketing message); a
// reaction to a message from before we were connected changes nothing else.
// A relay group member's reaction to their copy of a group message shows on
// the group message too (it is not relayed to the others: no noise).
func (a *applier) reactionSet(tx *models.Store, items []event) error {
	if len(items) == 0 {
		return nil
	}
	ids, _, _, err := a.identities(tx, items)
	if err != nil {
		return err
	}
	var keys []models.MessageKey
	for _, it := range items {
		keys = append(keys, models.MessageKey{ChannelID: it.ch.ID, ExternalID: it.ev.Reaction.TargetExternalID})
	}
	targets, err := tx.MessagesByExternal(a.ctx, keys)
	if err != nil {
		return err
	}
	facts := map[int64]int{} // identity → index in evs
	var evs []models.IdentityEvent
	var changes []models.ReactionChange
	changed := map[int64]bool{}
	for i, it := range items {
		id := ids[identityKey(it)]
		if j, ok := facts[id.ID]; !ok {
			facts[id.ID] = len(evs)
			evs = append(evs, models.IdentityEvent{IdentityID: id.ID, Kind: "reaction", LastAt: it.ev.Timestamp})
		} else if it.ev.Timestamp.After(evs[j].LastAt) {
			evs[j].LastAt = it.ev.Timestamp
		}
		target, ok := targets[keys[i]]
		if !ok {
			continue
		}
		r := it.ev.Reaction
		emoji := firstNonEmpty(r.Emoji, r.Reaction)
		if r.Action == adapters.Unreact {
			emoji = ""
		}
		changes = append(changes, models.ReactionChange{MessageID: target.ID, IdentityID: id.ID, Emoji: emoji, At: it.ev.Timestamp})
		if !changed[target.ID] {
			changed[target.ID] = true
			a.events = append(a.events, models.Event{Type: "status", BusinessID: target.BusinessID, ThreadID: target.ThreadID, MessageID: target.ID})
		}
	}
	if err := tx.RecordCustomerEvents(a.ctx, evs); err != nil {
		return err
	}
	if len(changes) > 0 {
		legIDs := make([]int64, len(changes))
		for i, c := range changes {
			legIDs[i] = c.MessageID
		}
		groups, err := tx.GroupMessagesOfLegs(a.ctx, legIDs)
		if err != nil {
			return err
		}
		var copies []models.ReactionChange
		for _, c := range changes {
			gm, ok := groups[c.MessageID]
			if !ok {
				continue
			}
			c.MessageID = gm.ID
			copies = append(copies, c)
			if !changed[gm.ID] {
				changed[gm.ID] = true
				a.events = append(a.events, models.Event{Type: "status", BusinessID: gm.BusinessID, ThreadID: gm.ThreadID, MessageID: gm.ID})
			}
		}
		changes = append(changes, copies...)
	}
	return tx.ApplyReactions(a.ctx, changes)
}
