package jobs

import (
	"context"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// refusals re-runs the policy on claimed sends against the facts of now, just
// before the Graph call: a customer who blocked us or opted out while the
// message waited, a HUMAN_AGENT reply retried past its 7 days. It returns the
// failed outcome of each claim the policy now refuses, by message id.
func (d *deliverer) refusals(ctx context.Context, businessID int64, claims []models.OutboundClaim) (map[int64]models.SendOutcome, error) {
	threadIDs := make([]int64, 0, len(claims))
	seen := make(map[int64]bool, len(claims))
	for i := range claims {
		if t := claims[i].ThreadID; !seen[t] {
			seen[t] = true
			threadIDs = append(threadIDs, t)
		}
	}
	scs, err := d.store.SendContexts(ctx, businessID, threadIDs, false)
	if err != nil {
		return nil, err
	}
	refused := map[int64]models.SendOutcome{}
	for i := range claims {
		c := &claims[i]
		spec := specOf(c.Details)
		sc := scs[c.ThreadID]
		if sc == nil || sc.Channel == nil {
			continue // the thread is gone; the send fails on its own
		}
		v := decide(ownToken(sc, spec.OTNTokenID), spec.intent(c.App), d.cfg.Now)
		if v.Allowed {
			continue
		}
		o := models.SendOutcome{MessageID: c.ID, At: d.cfg.Now(), OTNTokenID: spec.OTNTokenID, Failed: true,
			ErrorTitle: "Not sent: " + v.Reason.Explain(), PolicyReason: string(v.Reason)}
		refused[c.ID] = o
		d.log.Info("outbound: the policy refuses a queued send now", "message", c.ID, "reason", v.Reason)
	}
	return refused, nil
}

// ownToken is the send context as the message that reserved tokenID sees it:
// that token is its own to spend, so it counts as unused, and no other token
// is. Without a token the context is returned as is.
func ownToken(sc *models.SendContext, tokenID int64) *models.SendContext {
	if tokenID == 0 {
		return sc
	}
	own := *sc
	own.Customers = make([]models.SendCustomer, len(sc.Customers))
	for i, c := range sc.Customers {
		c.Tokens = nil
		for _, t := range sc.Customers[i].Tokens {
			if t.ID == tokenID && t.UsedAt == nil {
				t.Reserved = false
				c.Tokens = append(c.Tokens, t)
			}
		}
		own.Customers[i] = c
	}
	return &own
}

// intent is the policy question the spec asks on this app; the same at
// queueing and at send time.
func (s *sendSpec) intent(app string) policy.Send {
	if s.Leg != nil {
		return policy.LegSend(*s.Leg)
	}
	p := policy.Send{Tag: policy.Tag(s.Tag), Promotional: s.Promotional, Proactive: s.Proactive}
	switch {
	case s.OTNRequest != nil:
		p.Kind = policy.SendOTNRequest
	case s.Template != nil && app == models.AppMessenger:
		p.Kind = policy.SendUtilityTemplate
	case s.Template != nil:
		p.Kind, p.Category = policy.SendTemplate, policy.TemplateCategory(s.Template.Category)
	case s.UseOTN:
		p.Kind = policy.SendOTNMessage
	case s.Human:
		p.Kind = policy.SendHumanReply
	default:
		p.Kind = policy.SendAutomated
	}
	return p
}
