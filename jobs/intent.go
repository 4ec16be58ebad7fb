package jobs

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// human reports whether a person composed the request: an author, or an API
// caller asking for HUMAN_AGENT (which only a person may use), and never a job.
func (r *SendRequest) human() bool {
	return !r.Automated && (r.AuthorUserID != nil || r.HumanAgent)
}

// validate refuses requests that can never be sent as written, before any
// database work; what depends on the channel is checked by the adapter later.
func (r *SendRequest) validate() error {
	if r.BusinessID == 0 || r.ThreadID == 0 {
		return &InvalidError{Message: "thread: missing"}
	}
	if strings.EqualFold(r.Tag, string(policy.TagHumanAgent)) {
		r.Tag, r.HumanAgent = "", true
	}
	modes := 0
	for _, set := range []bool{r.Template != nil, r.OTNRequest != nil, r.List != nil, len(r.QuickReplies) > 0, len(r.Attachments) > 0} {
		if set {
			modes++
		}
	}
	switch {
	case modes > 1:
		return &InvalidError{Message: "message: choose one of template, otn_request, list, quick_replies or attachments"}
	case r.HumanAgent && !r.human():
		return &InvalidError{Message: "human_agent: only a person may send with HUMAN_AGENT, never an automated send"}
	case r.UseOTN && (r.Template != nil || r.OTNRequest != nil):
		return &InvalidError{Message: "use_otn: a one-time notification pays for a plain message, not a template or a request"}
	case (r.Template != nil || r.OTNRequest != nil) && strings.TrimSpace(r.Text) != "":
		return &InvalidError{Message: "text: a template or an OTN request carries no text of its own"}
	case len(r.Attachments) > 1:
		return &InvalidError{Message: "attachments: one attachment per message"}
	case modes == 0 && strings.TrimSpace(r.Text) == "":
		return &InvalidError{Message: "text: empty message"}
	}
	if t := r.Template; t != nil && (t.Name == "" || t.Language == "") {
		return &InvalidError{Message: "template: needs a name and a language"}
	}
	if len(r.ChoiceIDs) > 0 && len(r.ChoiceIDs) != len(r.QuickReplies) {
		return &InvalidError{Message: fmt.Sprintf("choice_ids: %d payloads for %d quick replies", len(r.ChoiceIDs), len(r.QuickReplies))}
	}
	for _, id := range r.ChoiceIDs {
		if strings.TrimSpace(id) == "" {
			return &InvalidError{Message: "choice_ids: a quick reply's payload is empty"}
		}
	}
	if o := r.OTNRequest; o != nil && (o.Title == "" || o.Payload == "") {
		return &InvalidError{Message: "otn_request: needs a title and a payload"}
	}
	for _, a := range r.Attachments {
		switch a.Kind {
		case "image", "video", "audio", "file":
		default:
			return &InvalidError{Message: fmt.Sprintf("attachments: kind %q is not image, video, audio or file", a.Kind)}
		}
		if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &InvalidError{Message: "attachments: url must be an http(s) link Meta can fetch"}
		}
	}
	return nil
}

// kind is the contract's message kind of what the request sends.
func (r *SendRequest) kind() string {
	switch {
	case r.Template != nil, r.OTNRequest != nil:
		return "template"
	case len(r.Attachments) == 1:
		return r.Attachments[0].Kind
	}
	return "text"
}

// factsOf is the policy engine's view of one customer of a thread.
func factsOf(ch *models.Channel, c *models.SendCustomer, send policy.Send) policy.Facts {
	f := policy.Facts{
		App: policy.App(ch.App),
		Channel: policy.Channel{Status: policy.ChannelStatus(ch.State), NewsPage: ch.NewsPage,
			HumanAgent: ch.HumanAgent, UtilityMessaging: ch.UtilityTemplates},
		Events: policy.Events{},
		Send:   send,
	}
	if c == nil {
		return f // a group nobody has spoken in yet: no customer facts at all
	}
	id := &c.Identity
	country := id.Country
	if country == "" && id.Phone != "" {
		country = adapters.CountryOf(id.Phone)
	}
	f.IdentityID = id.ID
	f.Identity = policy.Identity{Blocked: id.BlockedAt != nil, Reported: id.ReportedAt != nil,
		MarketingOptOut: id.MarketingOptOutAt != nil, Country: country, Phone: id.Phone}
	for kind, at := range c.Events {
		if kind == "ctwa_referral" {
			f.CTWAReferralAt = at
			continue
		}
		f.Events.Record(policy.EventKind(kind), at)
	}
	for _, t := range c.Tokens {
		f.OTNTokens = append(f.OTNTokens, policy.OTNToken{CreatedAt: t.CreatedAt, Used: t.Used()})
	}
	return f
}

// verdict is the decision a send goes out under, and for whom it was made.
type verdict struct {
	policy.Decision
	customer *models.SendCustomer
}

// decide judges the send for every customer of the thread. A direct thread has
// one. A group hears one message and its window opens with any member's
// message, so the most permissive member decides; with nobody allowing it, the
// first refusal is the answer.
func decide(sc *models.SendContext, send policy.Send, now func() time.Time) verdict {
	if len(sc.Customers) == 0 {
		return verdict{Decision: policy.Decide(factsOf(sc.Channel, nil, send), now())}
	}
	var first verdict
	for i := range sc.Customers {
		c := &sc.Customers[i]
		d := policy.Decide(factsOf(sc.Channel, c, send), now())
		if d.Allowed {
			return verdict{Decision: d, customer: c}
		}
		if i == 0 {
			first = verdict{Decision: d, customer: c}
		}
	}
	return first
}

// windowUntil is when the window a decided send relies on closes: free-form
// and HUMAN_AGENT sends only; templates, OTN and utility sends need none.
func windowUntil(app string, send policy.Send, d policy.Decision) (t time.Time) {
	switch {
	case !d.Allowed:
		return t
	case app == models.AppWhatsApp && send.Kind != policy.SendTemplate:
		return d.ExpiresAt
	case d.MessagingType == policy.MessagingResponse || d.MessagingType == policy.MessagingUpdate:
		return d.ExpiresAt
	case d.Tag == policy.TagHumanAgent:
		return d.ExpiresAt
	}
	return t
}
