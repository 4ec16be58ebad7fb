package policy

import "time"

// Decide judges f.Send under DefaultRules at now.
func Decide(f Facts, now time.Time) Decision { return DecideWith(defaultRules, f, now) }

// ForHumanReply answers what GET /policy shows agents before they type: may a person reply now, and how.
func ForHumanReply(f Facts, now time.Time) Decision {
	f.Send = Send{Kind: SendHumanReply}
	return Decide(f, now)
}

// DecideWith judges f.Send under the given rules at now. It is pure: same input, same Decision.
func DecideWith(rules RuleSet, f Facts, now time.Time) Decision {
	// The judge holds copies, not pointers to these parameters, so that nothing here escapes to the heap.
	j := judge{rules: rules, f: f, now: now, kind: f.Send.Kind.normal()}
	d := Decision{IdentityID: f.IdentityID, App: f.App}
	switch { // before anything else is looked at, so these refusals carry no options
	case f.Identity.Blocked || f.Identity.Reported:
		return j.refuse(d, ReasonBlocked, time.Time{})
	case !f.App.valid() || !f.Channel.usable():
		return j.refuse(d, ReasonChannelUnauthorised, time.Time{})
	}
	j.windowEnd = j.rules.windowEnd(f.App, f.Events, false, now)
	d.Options = j.options()
	d.FreeEntryPointUntil = j.rules.freeEntryPointUntil(&j.f, now)
	if f.Send.Promotional && f.Identity.MarketingOptOut {
		return j.refuse(d, ReasonMarketingOptedOut, time.Time{})
	}
	switch j.kind {
	case SendBroadcast:
		return j.broadcast(d)
	case SendUtilityTemplate:
		if !j.feature(FeatureUtilityTemplates) {
			return j.refuse(d, ReasonChannelUnauthorised, time.Time{})
		}
		return j.allow(d, MessagingUtility, "", time.Time{})
	case SendTemplate:
		return j.template(d)
	case SendOTNRequest, SendOTNMessage:
		return j.otn(d)
	}
	return j.freeForm(d)
}

// judge carries one decision's inputs so the steps below stay short.
type judge struct {
	rules     RuleSet
	f         Facts
	now       time.Time
	kind      SendKind
	windowEnd time.Time // the standard window's close; open while now is before it
}

// open reports whether the standard window is open: [last event, last event + duration), so at exactly
// 24h it is closed. An event stamped after now (clock skew) counts as already happened.
func (j *judge) open() bool { return j.now.Before(j.windowEnd) }

// feature reports whether the app offers ft now to this channel.
func (j *judge) feature(ft Feature) bool { return j.rules.feature(ft, &j.f, j.now) }

// allow fills an allowed decision; WhatsApp never carries a messaging type.
func (j *judge) allow(d Decision, mt MessagingType, tag Tag, expires time.Time) Decision {
	if j.f.App == AppWhatsApp {
		mt = ""
	}
	d.Allowed, d.MessagingType, d.Tag, d.Reason, d.ExpiresAt = true, mt, tag, ReasonOK, expires
	return d
}

// refuse fills a refusal, keeping the options and pricing facts already found.
func (j *judge) refuse(d Decision, r Reason, expires time.Time) Decision {
	d.Allowed, d.MessagingType, d.Tag, d.Reason, d.ExpiresAt = false, "", "", r, expires
	return d
}

// inWindowType is RESPONSE for an answer to the customer and UPDATE for anything the business starts:
// sends marked Proactive, and relays, polls, broadcasts and OTN messages, which never answer anyone.
func (j *judge) inWindowType() MessagingType {
	switch {
	case j.f.Send.Proactive, j.kind == SendRelay, j.kind == SendPoll, j.kind == SendBroadcast, j.kind == SendOTNMessage:
		return MessagingUpdate
	}
	return MessagingResponse
}

// options lists what else is open now, whatever the intent, so the UI can offer it.
func (j *judge) options() Options {
	var o Options
	if j.feature(FeatureTemplates) {
		o |= OptionTemplate
	}
	if j.feature(FeatureUtilityTemplates) {
		o |= OptionUtilityTemplate
	}
	if j.feature(FeatureOTN) {
		if i, _, _ := j.rules.pickToken(&j.f, j.now); i >= 0 {
			o |= OptionOTN
		}
	}
	if !j.open() {
		if r, _ := j.rules.tagVerdict(TagHumanAgent, &j.f, true, j.now); r == ReasonOK {
			o |= OptionHumanAgent
		}
	}
	return o
}

// freeForm judges text and media a person or a bot composed: anything inside the window; outside it a
// template on WhatsApp, or on Messenger/Instagram a non-promotional tag (HUMAN_AGENT for a person).
func (j *judge) freeForm(d Decision) Decision {
	s := j.f.Send
	if s.PrivateReply && j.f.App != AppWhatsApp {
		end := j.rules.windowEnd(j.f.App, j.f.Events, true, j.now)
		if j.now.Before(end) {
			return j.allow(d, MessagingResponse, "", end)
		}
		return j.refuse(d, ReasonWindowClosed, time.Time{})
	}
	if j.open() {
		return j.allow(d, j.inWindowType(), "", j.windowEnd)
	}
	if j.f.App == AppWhatsApp {
		return j.refuse(d, ReasonTemplateRequired, time.Time{})
	}
	if s.Promotional { // MESSAGE_TAG must carry nothing promotional (§1.2)
		return j.refuse(d, ReasonWindowClosed, time.Time{})
	}
	tag := s.Tag
	if tag == "" {
		if j.kind != SendHumanReply {
			return j.refuse(d, ReasonWindowClosed, time.Time{})
		}
		tag = TagHumanAgent
	}
	r, at := j.rules.tagVerdict(tag, &j.f, j.kind == SendHumanReply, j.now)
	if r != ReasonOK {
		return j.refuse(d, r, at)
	}
	return j.allow(d, MessagingMessageTag, tag, at)
}

// template judges a WhatsApp template: allowed in or out of the window, except marketing to a customer
// who opted out or in a paused country.
func (j *judge) template(d Decision) Decision {
	if !j.feature(FeatureTemplates) {
		return j.refuse(d, ReasonChannelUnauthorised, time.Time{})
	}
	switch j.f.Send.Category {
	case CategoryUtility, CategoryAuthentication:
		return j.allow(d, "", "", time.Time{})
	}
	if j.f.Identity.MarketingOptOut {
		return j.refuse(d, ReasonMarketingOptedOut, time.Time{})
	}
	paused, change := j.rules.marketingPause(&j.f, j.now)
	if paused {
		return j.refuse(d, ReasonMarketingPausedRegion, change)
	}
	return j.allow(d, "", "", change)
}

// otn judges the "Notify me" request (inside the window only) and the message a token pays for. Inside
// the window the message goes out as a plain UPDATE and the token is kept for later.
func (j *judge) otn(d Decision) Decision {
	if !j.feature(FeatureOTN) {
		return j.refuse(d, ReasonChannelUnauthorised, time.Time{})
	}
	if j.open() {
		return j.allow(d, j.inWindowType(), "", j.windowEnd)
	}
	if j.kind == SendOTNRequest {
		return j.refuse(d, ReasonWindowClosed, time.Time{})
	}
	i, end, r := j.rules.pickToken(&j.f, j.now)
	if r != ReasonOK {
		return j.refuse(d, r, time.Time{})
	}
	// Meta's OTN send addresses recipient.one_time_notif_token and carries no messaging_type.
	d = j.allow(d, "", "", end)
	d.OTNToken = i + 1
	return d
}

// broadcast judges a news-messaging broadcast: news Pages only, and never promotional outside the window.
func (j *judge) broadcast(d Decision) Decision {
	if !j.feature(FeatureNewsMessaging) {
		return j.refuse(d, ReasonNotNewsPage, time.Time{})
	}
	if j.f.Send.Promotional {
		if j.open() {
			return j.allow(d, MessagingUpdate, "", j.windowEnd)
		}
		return j.refuse(d, ReasonWindowClosed, time.Time{})
	}
	return j.allow(d, MessagingNonPromotionalSubscription, "", time.Time{})
}
