package metasim

import (
	"maps"
	"strconv"
)

// Inbound kinds of Messenger (object "page") — Meta's Messenger webhook reference.
var messengerKinds = map[string]kindSpec{
	"text":        {weight: 40, opens: true, build: func(d *draft) { d.message(obj{"text": d.text}) }},
	"quick_reply": {weight: 6, opens: true, build: buildQuickReply},
	"reply":       {weight: 4, opens: true, build: buildReply},
	"image":       {weight: 6, opens: true, build: attachment("image", ".jpg")},
	"video":       {weight: 1, opens: true, build: attachment("video", ".mp4")},
	"audio":       {weight: 2, opens: true, build: attachment("audio", ".m4a")},
	"file":        {weight: 1, opens: true, build: attachment("file", ".pdf")},
	"location":    {weight: 1, opens: true, build: buildMessengerLocation},
	"fallback":    {weight: 1, opens: true, build: buildFallback},
	"template":    {weight: 1, opens: true, build: buildSharedTemplate},
	"sticker":     {weight: 2, opens: true, build: buildSticker},
	"postback":    {weight: 3, opens: true, build: buildPostback},
	// An m.me link opening an existing thread refreshes the window; an ad referral alone does not
	// (the user must then message).
	"referral_link":               {weight: 1, opens: true, build: buildReferralLink},
	"referral_ad":                 {weight: 1, build: buildReferralAd},
	"optin_otn":                   {weight: 1, build: buildOptinOTN},
	"optin_notification_messages": {weight: 0, build: buildOptinNotifications},
	"optin_notification_stop":     {weight: 0, build: notificationStatus("STOP_NOTIFICATIONS")},
	"optin_notification_resume":   {weight: 0, build: notificationStatus("RESUME_NOTIFICATIONS")},
	"reaction":                    {weight: 3, opens: true, build: buildReact},
	"unreact":                     {weight: 1, build: buildUnreact},
	"delivery":                    {weight: 8, status: true, build: buildDelivery},
	"read":                        {weight: 8, status: true, build: buildRead},
	// Assumption: Meta documents is_deleted for Instagram only; Messenger unsends are modelled alike.
	"unsend": {weight: 1, build: buildUnsend},
	"edit":   {weight: 1, build: buildEdit},
	"echo":   {weight: 2, build: buildEcho},
}

// Inbound kinds of Instagram (object "instagram") — Instagram Platform webhook examples.
var instagramKinds = map[string]kindSpec{
	"text":        {weight: 40, opens: true, build: func(d *draft) { d.message(obj{"text": d.text}) }},
	"quick_reply": {weight: 3, opens: true, build: buildQuickReply},
	"reply":       {weight: 3, opens: true, build: buildReply},
	"image":       {weight: 6, opens: true, build: attachment("image", ".jpg")},
	"video":       {weight: 1, opens: true, build: attachment("video", ".mp4")},
	"audio":       {weight: 2, opens: true, build: attachment("audio", ".m4a")},
	"file":        {weight: 1, opens: true, build: attachment("file", ".pdf")},
	"story_mention": {weight: 3, opens: true, build: func(d *draft) {
		d.attachments(obj{"type": "story_mention", "payload": obj{"url": d.cdn("story", ".jpg")}})
	}},
	"story_reply": {weight: 3, opens: true, build: func(d *draft) {
		d.message(obj{"text": d.text, "reply_to": obj{"story": obj{"url": d.cdn("story", ".jpg"), "id": d.s.ids.numericID(17)}}})
	}},
	"ig_reel": {weight: 2, opens: true, build: reelShare("ig_reel")},
	"reel":    {weight: 1, opens: true, build: reelShare("reel")},
	"ig_story": {weight: 1, opens: true, build: func(d *draft) {
		d.attachments(obj{"type": "ig_story", "payload": obj{"url": d.cdn("story", ".jpg"), "id": d.s.ids.numericID(17)}})
	}},
	"ig_post": {weight: 2, opens: true, build: func(d *draft) {
		d.attachments(obj{"type": "ig_post", "payload": obj{"url": d.cdn("post", ".jpg"), "title": "New in: linen shirts", "ig_post_media_id": d.s.ids.numericID(17)}})
	}},
	// Meta stopped sending "share" for posts on 1 Feb 2026; the default mix drops it after that date.
	"share": {weight: 1, opens: true, build: func(d *draft) {
		d.attachments(obj{"type": "share", "payload": obj{"url": d.cdn("post", ".jpg")}})
	}},
	"reaction":      {weight: 3, opens: true, build: buildReact},
	"unreact":       {weight: 1, build: buildUnreact},
	"postback":      {weight: 2, opens: true, build: buildPostback},
	"seen":          {weight: 10, status: true, build: func(d *draft) { d.item = d.fromUser(obj{"read": obj{"mid": d.outRef()}}) }},
	"edit":          {weight: 1, build: buildEdit},
	"unsend":        {weight: 1, build: buildUnsend},
	"unsupported":   {weight: 1, opens: true, build: func(d *draft) { d.message(obj{"is_unsupported": true}) }},
	"echo":          {weight: 2, build: buildEcho},
	"referral_ad":   {weight: 1, opens: true, build: buildInstagramAdMessage},
	"referral_link": {weight: 1, opens: true, build: buildReferralLink},
}

// fromUser is a messaging event from the customer to the account.
func (d *draft) fromUser(extra obj) obj {
	m := obj{"sender": obj{"id": d.user}, "recipient": obj{"id": d.acct.ID}, "timestamp": d.at.UnixMilli()}
	maps.Copy(m, extra)
	return m
}

// message is a new customer message with the given fields.
func (d *draft) message(fields obj) {
	msg := obj{"mid": d.newMID()}
	maps.Copy(msg, fields)
	d.item = d.fromUser(obj{"message": msg})
}

// attachments is a new customer message carrying one attachment.
func (d *draft) attachments(a obj) { d.message(obj{"attachments": []obj{a}}) }

// cdn is an attachment URL: on the simulator when it knows its URL, else on Meta's CDN hosts.
func (d *draft) cdn(name, ext string) string {
	file := name + "_" + d.s.ids.numericID(12) + ext
	switch {
	case d.base != "":
		return d.base + "/cdn/" + file
	case d.app == Instagram:
		return "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=" + file + "&signature=AbzQ1x"
	default:
		return "https://scontent.xx.fbcdn.net/v/t1.15752-9/" + file + "?_nc_cat=1&oh=00_AfA&oe=6600A0B0"
	}
}

func attachment(typ, ext string) func(*draft) {
	return func(d *draft) {
		d.attachments(obj{"type": typ, "payload": obj{"url": d.cdn(typ, ext)}})
	}
}

var quickReplies = [][2]string{{"Yes please", "QR_YES"}, {"Track my order", "QR_TRACK"}, {"Talk to a human", "QR_AGENT"}}

func buildQuickReply(d *draft) {
	qr := pick(d, quickReplies...)
	if d.choice != nil {
		qr = [2]string{d.choice.Title, d.choice.ID}
	}
	d.message(obj{"text": qr[0], "quick_reply": obj{"payload": d.payload(qr[1])}})
}

func buildReply(d *draft) {
	ref := d.outRef()
	d.message(obj{"text": d.text, "reply_to": obj{"mid": ref}})
}

func buildMessengerLocation(d *draft) {
	lat, long := 45.4642+d.rng.Float64()/100, 9.19+d.rng.Float64()/100
	d.attachments(obj{"type": "location", "title": d.c.Name + "'s Location",
		"url":     "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.bing.com%2Fmaps%2Fdefault.aspx%3Fcp%3D45.46~9.19",
		"payload": obj{"coordinates": obj{"lat": lat, "long": long}}})
}

func buildFallback(d *draft) {
	d.attachments(obj{"type": "fallback", "title": "Summer lookbook", "url": "https://example.com/lookbook/summer", "payload": nil})
}

func buildSharedTemplate(d *draft) {
	d.attachments(obj{"type": "template", "payload": obj{"template_type": "generic", "sharable": true, "elements": []obj{{
		"title": "Linen shirt — sand", "subtitle": "€49.00", "image_url": d.cdn("product", ".jpg"),
		"default_action": obj{"type": "web_url", "url": "https://shop.example.com/p/linen-shirt"},
	}}}})
}

// likeSticker is Messenger's thumbs-up sticker id.
const likeSticker = 369239263222822

func buildSticker(d *draft) {
	d.message(obj{"sticker_id": likeSticker, "attachments": []obj{{"type": "image",
		"payload": obj{"url": d.cdn("sticker", ".png"), "sticker_id": likeSticker}}}})
}

func buildPostback(d *draft) {
	title, payload := "Get Started", "GET_STARTED"
	if d.rng.IntN(2) == 0 {
		title, payload = "Opening hours", "HOURS"
	}
	d.item = d.fromUser(obj{"postback": obj{"mid": d.newMID(), "title": title, "payload": d.payload(payload)}})
}

func buildReferralLink(d *draft) {
	d.item = d.fromUser(obj{"referral": obj{"ref": d.payload("summer_sale"), "source": "SHORTLINK", "type": "OPEN_THREAD"}})
}

func adReferral(d *draft) obj {
	return obj{"ref": "ad_spring", "ad_id": d.s.ids.numericID(13), "source": "ADS", "type": "OPEN_THREAD",
		"ads_context_data": obj{"ad_title": "Spring collection — 20% off", "photo_url": d.cdn("ad", ".jpg"), "post_id": d.s.ids.numericID(16)}}
}

func buildReferralAd(d *draft) { d.item = d.fromUser(obj{"referral": adReferral(d)}) }

// buildInstagramAdMessage is the first message from a Click-to-Direct ad: the referral rides on it.
func buildInstagramAdMessage(d *draft) { d.message(obj{"text": d.text, "referral": adReferral(d)}) }

func buildOptinOTN(d *draft) {
	d.token = d.s.ids.token()
	d.eff.otn = d.token
	d.item = d.fromUser(obj{"optin": obj{"type": "one_time_notif_req", "payload": d.payload("RESTOCK_SKU_" + strconv.Itoa(1000+d.rng.IntN(9000))),
		"one_time_notif_token": d.token}})
}

func buildOptinNotifications(d *draft) {
	d.token = d.s.ids.token()
	d.eff.notif, d.eff.notifStatus = d.token, "resume"
	d.item = d.fromUser(obj{"optin": obj{"type": "notification_messages", "payload": "WEEKLY_DEALS", "title": "Weekly deals",
		"notification_messages_token": d.token, "notification_messages_frequency": "WEEKLY",
		"notification_messages_timezone": "Europe/Rome", "token_expiry_timestamp": d.at.Add(recurringLifetime).UnixMilli(),
		"user_token_status": "NOT_REFRESHED"}})
}

func notificationStatus(status string) func(*draft) {
	return func(d *draft) {
		d.token = firstNonEmpty(d.notif, d.s.ids.token())
		d.eff.notif, d.eff.notifStatus = d.token, "resume"
		if status == "STOP_NOTIFICATIONS" {
			d.eff.notifStatus = "stop"
		}
		d.item = d.fromUser(obj{"optin": obj{"type": "notification_messages", "payload": "WEEKLY_DEALS",
			"notification_messages_token": d.token, "notification_messages_status": status}})
	}
}

func buildReact(d *draft) {
	reaction, emoji := "love", "❤️"
	if d.rng.IntN(3) == 0 {
		reaction, emoji = "like", "👍"
	}
	d.item = d.fromUser(obj{"reaction": obj{"mid": d.outRef(), "action": "react", "reaction": reaction, "emoji": emoji}})
}

// buildUnreact removes a reaction; Meta sends only the mid and the action.
func buildUnreact(d *draft) {
	d.item = d.fromUser(obj{"reaction": obj{"mid": d.outRef(), "action": "unreact"}})
}

func buildDelivery(d *draft) {
	d.item = obj{"sender": obj{"id": d.user}, "recipient": obj{"id": d.acct.ID},
		"delivery": obj{"mids": []string{d.outRef()}, "watermark": d.at.UnixMilli()}}
}

func buildRead(d *draft) {
	d.outRef()
	d.item = d.fromUser(obj{"read": obj{"watermark": d.at.UnixMilli()}})
}

func buildUnsend(d *draft) {
	d.item = d.fromUser(obj{"message": obj{"mid": d.inRef(), "is_deleted": true}})
}

func buildEdit(d *draft) {
	d.item = d.fromUser(obj{"message_edit": obj{"mid": d.inRef(), "text": d.text + " (edited)", "num_edit": 1}})
}

// buildEcho is a reply sent from Meta's own inbox (Business Suite), which the integration must capture.
func buildEcho(d *draft) {
	d.id = d.s.ids.mid(d.app, d.acct.ID)
	msg := obj{"mid": d.id, "is_echo": true, "text": "Thanks, we'll check and get back to you."}
	if d.app == Messenger {
		msg["app_id"] = jsonID("263902037430900") // Meta Business Suite's inbox
	}
	d.item = obj{"sender": obj{"id": d.acct.ID}, "recipient": obj{"id": d.user}, "timestamp": d.at.UnixMilli(), "message": msg}
}

func reelShare(typ string) func(*draft) {
	return func(d *draft) {
		d.attachments(obj{"type": typ, "payload": obj{"reel_video_id": d.s.ids.numericID(17), "title": "How we dye our linen",
			"url": d.cdn("reel", ".mp4")}})
	}
}
