package policy

import "time"

// RestockVia is the way a back-in-stock alert can reach a customer now.
type RestockVia string

// The ways, strictest last; RestockSkip carries the policy's reason.
const (
	RestockOTN      RestockVia = "otn"      // Messenger: the customer's one-time notification token pays for it
	RestockText     RestockVia = "text"     // free-form inside the window (UPDATE on Messenger and Instagram)
	RestockTemplate RestockVia = "template" // WhatsApp outside the window: a MARKETING template
	RestockSkip     RestockVia = "skip"     // not now; the customer keeps waiting
)

// RestockDecision is how to notify one waiting customer, and the decision it rests on.
type RestockDecision struct {
	Via      RestockVia
	Decision Decision
}

// restockAlert is the intent of a back-in-stock alert: software composed it, the business starts it,
// and it is marketing even when the customer asked for it (§6.1), so it never goes under a tag nor to
// a customer who stopped marketing.
var restockAlert = Send{Kind: SendAutomated, Proactive: true, Promotional: true}

// Restock picks how a back-in-stock alert reaches the customer (§6.1, §1.3, §3.2):
//   - Messenger: an unused OTN token outside the window; inside it a plain UPDATE (the token is kept);
//     otherwise window_closed.
//   - Instagram: inside the window only; otherwise window_closed (HUMAN_AGENT is for people).
//   - WhatsApp: free-form inside the window; outside it a marketing template, refused to opted-out
//     customers and paused regions with the policy's reason.
func Restock(f Facts, now time.Time) RestockDecision {
	text := f
	text.Send = restockAlert
	d := Decide(text, now)
	if d.Allowed {
		return RestockDecision{Via: RestockText, Decision: d}
	}
	switch {
	case d.Reason == ReasonBlocked || d.Reason == ReasonChannelUnauthorised || d.Reason == ReasonMarketingOptedOut:
		return RestockDecision{Via: RestockSkip, Decision: d}
	case f.App == AppMessenger && len(f.OTNTokens) > 0:
		otn := f
		otn.Send = Send{Kind: SendOTNMessage, Promotional: true}
		if od := Decide(otn, now); od.Allowed && od.OTNToken > 0 {
			return RestockDecision{Via: RestockOTN, Decision: od}
		} else if od.Reason != ReasonChannelUnauthorised {
			d = od // otn_token_used / otn_token_expired say more than window_closed
		}
	case f.App == AppWhatsApp:
		tpl := f
		tpl.Send = Send{Kind: SendTemplate, Category: CategoryMarketing, Promotional: true}
		if td := Decide(tpl, now); td.Allowed {
			return RestockDecision{Via: RestockTemplate, Decision: td}
		} else {
			d = td
		}
	}
	return RestockDecision{Via: RestockSkip, Decision: d}
}
