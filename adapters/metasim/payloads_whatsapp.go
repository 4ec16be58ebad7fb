package metasim

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
)

// hasPhone and bsuidOnly select customers for kinds that need a number, or none.
func hasPhone(c Customer) bool  { return c.Phone != "" }
func bsuidOnly(c Customer) bool { return c.Phone == "" && c.BSUID != "" }

// Inbound kinds of the WhatsApp Cloud API (object "whatsapp_business_account") — Meta's messages,
// statuses and user_preferences webhook references.
var whatsappKinds = map[string]kindSpec{
	"text":     {weight: 40, opens: true, build: func(d *draft) { d.waMessage("text", obj{"body": d.text}) }},
	"image":    {weight: 6, opens: true, build: waMediaKind("image", "image/jpeg", obj{"caption": "Is this one available?"})},
	"video":    {weight: 1, opens: true, build: waMediaKind("video", "video/mp4", obj{"caption": "See the defect here"})},
	"audio":    {weight: 1, opens: true, build: waMediaKind("audio", "audio/mp4", obj{"voice": false})},
	"voice":    {weight: 3, opens: true, build: waMediaKind("audio", "audio/ogg; codecs=opus", obj{"voice": true})},
	"document": {weight: 1, opens: true, build: waMediaKind("document", "application/pdf", obj{"filename": "invoice-4521.pdf", "caption": "My invoice"})},
	"sticker":  {weight: 2, opens: true, build: waMediaKind("sticker", "image/webp", obj{"animated": false})},
	"location": {weight: 1, opens: true, build: func(d *draft) {
		d.waMessage("location", obj{"latitude": 41.9028 + d.rng.Float64()/100, "longitude": 12.4964 + d.rng.Float64()/100,
			"name": "Piazza Navona", "address": "Piazza Navona, 00186 Roma RM, Italia"})
	}},
	"contacts":     {weight: 1, opens: true, build: buildWAContacts},
	"button_reply": {weight: 3, opens: true, build: interactiveReply("button_reply", obj{"id": "btn_track", "title": "Track order"})},
	"list_reply": {weight: 2, opens: true, build: interactiveReply("list_reply",
		obj{"id": "size_m", "title": "Size M", "description": "Chest 96–101 cm"})},
	"nfm_reply": {weight: 1, opens: true, build: interactiveReply("nfm_reply",
		obj{"name": "flow", "body": "Sent", "response_json": `{"flow_token":"restock-42","size":"M","colour":"sand"}`})},
	"button": {weight: 2, opens: true, build: func(d *draft) {
		d.waMessageWith("button", obj{"payload": "TRACK_ORDER", "text": "Track my order"}, obj{"context": d.businessContext()})
	}},
	"reaction": {weight: 3, opens: true, build: func(d *draft) {
		d.waMessage("reaction", obj{"message_id": d.outRef(), "emoji": pick(d, "👍", "❤️", "😂", "🙏")})
	}},
	// A removed reaction carries no emoji.
	"reaction_removed":    {weight: 1, opens: true, build: func(d *draft) { d.waMessage("reaction", obj{"message_id": d.outRef()}) }},
	"order":               {weight: 1, opens: true, build: buildOrder},
	"user_changed_number": {weight: 0, who: hasPhone, build: buildChangedNumber},
	"unsupported":         {weight: 1, opens: true, build: unsupported("unknown")},
	"poll_creation":       {weight: 1, opens: true, build: unsupported("poll_creation")},
	"poll_update":         {weight: 1, opens: true, build: unsupported("poll_update")},
	"reply": {weight: 3, opens: true, build: func(d *draft) {
		d.waMessageWith("text", obj{"body": d.text}, obj{"context": d.businessContext()})
	}},
	"forwarded": {weight: 1, opens: true, build: func(d *draft) {
		d.waMessageWith("text", obj{"body": d.text}, obj{"context": obj{"forwarded": true}})
	}},
	"referred_product": {weight: 1, opens: true, build: func(d *draft) {
		ctx := d.businessContext()
		ctx["referred_product"] = obj{"catalog_id": "1842570659272330", "product_retailer_id": "linen-shirt-sand-m"}
		d.waMessageWith("text", obj{"body": "Is this still available?"}, obj{"context": ctx})
	}},
	"ctwa_referral":           {weight: 1, opens: true, build: buildCTWA},
	"user_preferences_stop":   {weight: 0, build: userPreference("stop")},
	"user_preferences_resume": {weight: 0, build: userPreference("resume")},
	"bsuid_text":              {weight: 2, opens: true, who: bsuidOnly, build: func(d *draft) { d.waMessage("text", obj{"body": d.text}) }},
	"group_text":              {weight: 2, opens: true, who: hasPhone, build: func(d *draft) { d.groupMessage("text", obj{"body": d.text}) }},
	"group_image": {weight: 1, opens: true, who: hasPhone, build: func(d *draft) {
		m := d.media("image/jpeg")
		d.groupMessage("image", obj{"id": m.id, "mime_type": m.mime, "sha256": m.sha256})
	}},
	"status_sent":      {weight: 5, status: true, build: waStatusKind("sent")},
	"status_delivered": {weight: 5, status: true, build: waStatusKind("delivered")},
	"status_read":      {weight: 5, status: true, build: waStatusKind("read")},
	"status_failed":    {weight: 1, status: true, build: waStatusKind("failed")},
}

// waValue is a messages change value from this customer.
func (d *draft) waValue(msg obj) {
	d.item = obj{"messaging_product": "whatsapp", "metadata": d.metadata(), "contacts": []obj{d.waContact()}, "messages": []obj{msg}}
	d.field = "messages"
}

func (d *draft) metadata() obj {
	return obj{"display_phone_number": d.acct.DisplayPhone, "phone_number_id": d.acct.ID}
}

// waContact is the value.contacts entry; BSUID users come with user_id and a username, and
// users without a visible number have no wa_id.
func (d *draft) waContact() obj {
	profile := obj{"name": d.c.Name}
	ct := obj{"profile": profile}
	if d.c.Phone != "" {
		ct["wa_id"] = d.c.Phone
	}
	if d.c.BSUID != "" {
		ct["user_id"] = d.c.BSUID
		profile["username"] = d.c.Username
	}
	return ct
}

// waMessage is a new customer message of the type, its object under the type's name.
func (d *draft) waMessage(typ string, body obj) { d.waMessageWith(typ, body, nil) }

func (d *draft) waMessageWith(typ string, body, extra obj) {
	msg := obj{"id": d.newMID(), "timestamp": strconv.FormatInt(d.at.Unix(), 10), "type": typ}
	if d.c.Phone != "" {
		msg["from"] = d.c.Phone
	}
	if d.c.BSUID != "" {
		msg["from_user_id"] = d.c.BSUID
	}
	if body != nil {
		msg[typ] = body
	}
	for k, v := range extra {
		msg[k] = v
	}
	d.waValue(msg)
}

// businessContext points at a message the business sent (replies, button taps).
func (d *draft) businessContext() obj {
	ref := d.outRef()
	d.id = "" // the event's own id is minted by waMessageWith
	return obj{"from": d.acct.DisplayPhone, "id": ref}
}

func waMediaKind(typ, mime string, extra obj) func(*draft) {
	return func(d *draft) {
		m := d.media(mime)
		body := obj{"id": m.id, "mime_type": mime, "sha256": m.sha256}
		for k, v := range extra {
			body[k] = v
		}
		d.waMessage(typ, body)
	}
}

func interactiveReply(typ string, reply obj) func(*draft) {
	return func(d *draft) {
		r := obj{}
		for k, v := range reply {
			r[k] = v
		}
		if id, ok := reply["id"].(string); ok {
			r["id"] = d.payload(id)
		}
		if d.choice != nil {
			r = obj{"id": d.choice.ID, "title": d.choice.Title}
		}
		d.waMessageWith("interactive", obj{"type": typ, typ: r}, obj{"context": d.businessContext()})
	}
}

func buildWAContacts(d *draft) {
	other := d.s.pop[(d.c.Index+5)%len(d.s.pop)]
	card := obj{"name": obj{"formatted_name": other.Name, "first_name": other.Name}}
	if other.Phone != "" {
		card["phones"] = []obj{{"phone": "+" + other.Phone, "wa_id": other.Phone, "type": "CELL"}}
	}
	card["emails"] = []obj{{"email": other.Username + "@example.com", "type": "HOME"}}
	msg := obj{"id": d.newMID(), "timestamp": strconv.FormatInt(d.at.Unix(), 10), "type": "contacts", "contacts": []obj{card}}
	if d.c.Phone != "" {
		msg["from"] = d.c.Phone
	}
	if d.c.BSUID != "" {
		msg["from_user_id"] = d.c.BSUID
	}
	d.waValue(msg)
}

func buildOrder(d *draft) {
	d.waMessage("order", obj{"catalog_id": "1842570659272330", "text": "Please deliver after 6pm",
		"product_items": []obj{
			{"product_retailer_id": "linen-shirt-sand-m", "quantity": 1, "item_price": 49.0, "currency": d.currency},
			{"product_retailer_id": "canvas-tote", "quantity": 2, "item_price": 15.5, "currency": d.currency},
		}})
}

// buildChangedNumber is the system message Meta sends when a user moves to a new number.
func buildChangedNumber(d *draft) {
	newNumber := d.c.Phone[:len(d.c.Phone)-4] + fmt.Sprintf("%04d", d.rng.IntN(10000))
	d.eff.newNumber = newNumber
	d.id = d.s.ids.wamid(d.c.Phone)
	d.waValue(obj{"from": d.c.Phone, "id": d.id, "timestamp": strconv.FormatInt(d.at.Unix(), 10), "type": "system",
		"system": obj{"body": fmt.Sprintf("User %s changed from %s to %s", d.c.Name, d.c.Phone, newNumber),
			"wa_id": newNumber, "type": "user_changed_number"}})
}

// unsupported is a message type the Cloud API cannot show, polls included: no content, error 131051.
func unsupported(typ string) func(*draft) {
	return func(d *draft) {
		e := waWebhookError{Code: CodeUnsupportedType, Title: "Message type unknown", Message: "Message type unknown"}
		e.ErrorData.Details = "Message type is currently not supported."
		d.waMessageWith("unsupported", obj{"type": typ}, obj{"errors": []waWebhookError{e}})
	}
}

// buildCTWA is the first message from a Click-to-WhatsApp ad; it opens the free entry point.
func buildCTWA(d *draft) {
	d.eff.entryPoint = true
	d.waMessageWith("text", obj{"body": "Hi! I saw your ad, is the 20% discount still on?"}, obj{"referral": obj{
		"source_url":      "https://fb.me/3cr4Wqqkv",
		"source_id":       d.s.ids.numericID(17),
		"source_type":     "ad",
		"headline":        "Spring collection — 20% off",
		"body":            "Chat with us on WhatsApp",
		"media_type":      "image",
		"image_url":       d.cdnImage(),
		"ctwa_clid":       base64.RawURLEncoding.EncodeToString([]byte(d.s.ids.token()))[:40],
		"welcome_message": obj{"text": "Hi! How can we help?"},
	}})
}

func (d *draft) cdnImage() string {
	if d.base != "" {
		return d.base + "/cdn/ad_" + d.s.ids.numericID(12) + ".jpg"
	}
	return "https://scontent.xx.fbcdn.net/v/t45.1600-4/ad_" + d.s.ids.numericID(12) + ".jpg"
}

// userPreference is the user_preferences webhook: the user stopped or resumed marketing messages.
func userPreference(value string) func(*draft) {
	return func(d *draft) {
		stop := value == "stop"
		d.eff.optOut = &stop
		detail := "User requested to stop marketing messages"
		if !stop {
			detail = "User requested to resume marketing messages"
		}
		pref := obj{"detail": detail, "category": "marketing_messages", "value": value, "timestamp": d.at.Unix()}
		contact := obj{"profile": obj{"name": d.c.Name}}
		if d.c.Phone != "" {
			pref["wa_id"], contact["wa_id"] = d.c.Phone, d.c.Phone
		}
		if d.c.BSUID != "" {
			pref["user_id"], contact["user_id"] = d.c.BSUID, d.c.BSUID
		}
		d.item = obj{"messaging_product": "whatsapp", "metadata": d.metadata(), "contacts": []obj{contact}, "user_preferences": []obj{pref}}
		d.field = "user_preferences"
	}
}

// groupOf is the customer's group: every fourth phone customer shares one (at most 8 participants).
// Assumption: the Groups API's inbound shape is a normal message plus "group_id" (Meta's group
// messages webhook reference, Nov 2025); participants are known only from their messages.
func (d *draft) groupOf() (string, []string) {
	n := d.c.Index % 4
	var participants []string
	for _, c := range d.s.pop {
		if c.Index%4 == n && c.Phone != "" && len(participants) < 8 {
			participants = append(participants, c.Phone)
		}
	}
	raw := fmt.Sprintf("capi_group:%s:%d", d.acct.ID, 120363000000000000+n)
	return base64.RawStdEncoding.EncodeToString([]byte(raw)), participants
}

func (d *draft) groupMessage(typ string, body obj) {
	gid, participants := d.groupOf()
	if !slices.Contains(participants, d.c.Phone) {
		participants = append(participants[:min(len(participants), 7)], d.c.Phone)
	}
	d.eff.group, d.eff.participants = gid, participants
	d.waMessageWith(typ, body, obj{"group_id": gid})
}

// waStatusKind is a status webhook for a recent send of the business (or a plausible one).
func waStatusKind(status string) func(*draft) {
	return func(d *draft) {
		st := waStatus{ID: d.outRef(), Status: status, Timestamp: strconv.FormatInt(d.at.Unix(), 10),
			RecipientID: d.c.Phone, RecipientUserID: d.c.BSUID}
		switch status {
		case "sent", "delivered":
			st.Pricing = &waPricing{Billable: false, PricingModel: "PMP", Type: "free_customer_service", Category: "service"}
		case "failed":
			e := waWebhookError{Code: CodeUndeliverable, Title: "Message undeliverable", Message: "Message undeliverable", Href: errorCodesHref}
			e.ErrorData.Details = "Message Undeliverable."
			st.Errors = []waWebhookError{e}
		}
		d.item = obj{"messaging_product": "whatsapp", "metadata": d.metadata(), "statuses": []waStatus{st}}
		d.field = "messages"
	}
}
