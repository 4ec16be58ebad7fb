package inbound

import (
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
)

// RestockPrefix starts the payload that asks to hear when a product is back:
// "restock:<SKU>" on a postback, quick reply, WhatsApp button or list reply,
// template quick-reply button, m.me / ig.me referral ref, or OTN opt-in.
const RestockPrefix = "restock:"

// restockSKU is the SKU a payload names, if it is a restock payload.
func restockSKU(payload string) (string, bool) {
	sku, ok := strings.CutPrefix(strings.TrimSpace(payload), RestockPrefix)
	sku = strings.TrimSpace(sku)
	return sku, ok && sku != ""
}

// restockFromMessage joins the sender to a waitlist when the message carries
// a restock payload: a tap on one of our buttons, or the ref of the link they came by.
func (a *applier) restockFromMessage(tx *models.Store, ch *models.Channel, t *models.Thread, id *models.Identity, ev *adapters.Event) error {
	d := ev.Message.Details
	source, payload := "", ""
	switch {
	case d.Payload != "" && ev.Type == adapters.EventPostback:
		source, payload = "postback", d.Payload
	case d.Payload != "":
		source, payload = "quick_reply", d.Payload
	case d.Interactive != nil && d.Interactive.ID != "":
		source, payload = "button", d.Interactive.ID
	case ev.Referral != nil && ev.Referral.Ref != "":
		source, payload = "referral", ev.Referral.Ref
	}
	if _, ok := restockSKU(payload); !ok || t.Kind != "direct" {
		return nil
	}
	return a.joinRestock(tx, ch, t, id, payload, source, nil, ev)
}

// restockOptin joins the sender of a Messenger one_time_notif_req opt-in with
// its token (stored here first, sealed and once, so the entry can hold it).
func (a *applier) restockOptin(tx *models.Store, ch *models.Channel, id *models.Identity, ev *adapters.Event) error {
	o := ev.Optin
	if _, ok := restockSKU(o.Payload); !ok || o.Type != "one_time_notif_req" {
		return nil
	}
	var token *int64
	if o.Token != "" {
		tid, err := tx.AddOTNToken(a.ctx, ch.BusinessID, id.ID, o.Title, o.Payload, o.Token, ev.Timestamp)
		if err != nil {
			return err
		}
		token = &tid
	}
	t, err := a.thread(tx, ch, ev, id)
	if err != nil {
		return err
	}
	return a.joinRestock(tx, ch, t, id, o.Payload, "otn_optin", token, ev)
}

// restockReferral joins a customer who reopened the thread from a restock link.
func (a *applier) restockReferral(tx *models.Store, ch *models.Channel, id *models.Identity, ev *adapters.Event) error {
	if ev.Referral == nil {
		return nil
	}
	if _, ok := restockSKU(ev.Referral.Ref); !ok {
		return nil
	}
	t, err := a.thread(tx, ch, ev, id)
	if err != nil {
		return err
	}
	return a.joinRestock(tx, ch, t, id, ev.Referral.Ref, "referral", nil, ev)
}

// joinRestock adds the customer to the waitlist of the business's product
// (another business's SKU is simply unknown here) and tells the agent in the
// thread; joining twice changes nothing.
func (a *applier) joinRestock(tx *models.Store, ch *models.Channel, t *models.Thread, id *models.Identity, payload, source string, token *int64, ev *adapters.Event) error {
	sku, _ := restockSKU(payload)
	// Just before the customer's own event, so the thread's preview and
	// "who spoke last" stay the customer's.
	at := ev.Timestamp.Add(-time.Microsecond)
	p, err := tx.Product(a.ctx, ch.BusinessID, sku)
	if err != nil {
		return err
	}
	if p == nil {
		n := models.RestockNote{Event: "unknown", SKU: sku}
		return tx.AddRestockLine(a.ctx, ch.BusinessID, t.ID, &ch.ID, ch.App, n, "Asked about unknown product "+sku, at)
	}
	_, created, err := tx.JoinWaitlist(a.ctx, models.Join{BusinessID: ch.BusinessID, ProductID: p.ID, IdentityID: id.ID,
		ThreadID: &t.ID, OTNTokenID: token, Source: source, At: ev.Timestamp})
	if err != nil || !created {
		return err
	}
	n := models.RestockNote{Event: "waiting", Product: p.Name, SKU: p.SKU}
	return tx.AddRestockLine(a.ctx, ch.BusinessID, t.ID, &ch.ID, ch.App, n, "Waiting for "+p.Name, at)
}
