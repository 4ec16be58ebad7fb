package web

import (
	"context"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
	"github.com/switchboard-inbox/switchboard/views"
)

// composerView asks the policy engine (through the outbox) what may be sent
// now; without an outbox it estimates from the thread and offers nothing.
func (s *Server) composerView(ctx context.Context, businessID int64, t *models.Thread) (views.ComposerView, error) {
	return s.composerViewWith(ctx, businessID, t, nil)
}

// composerViewWith is composerView with the saved replies already loaded
// (nil: read them).
func (s *Server) composerViewWith(ctx context.Context, businessID int64, t *models.Thread, canned *[]models.CannedResponse) (views.ComposerView, error) {
	c := views.ComposerView{ThreadID: t.ID, Available: s.outbox != nil}
	if len(t.Apps) > 0 {
		c.App = t.Apps[0]
	}
	names := map[int64]string{}
	for _, p := range t.Participants {
		names[p.IdentityID] = p.DisplayName
	}
	if s.outbox != nil {
		ds, err := s.outbox.Decisions(ctx, businessID, t.ID)
		if err != nil {
			return c, err
		}
		for _, d := range ds {
			c.Decisions = append(c.Decisions, decisionView(d, names[d.IdentityID]))
		}
	} else {
		c.Approximate = true
		c.Decisions = []views.DecisionView{approxDecision(t, now())}
	}
	p := c.Primary()
	if c.Available && p.App == models.AppWhatsApp && p.Template && t.ChannelID != nil {
		tpls, err := s.store.WATemplates(ctx, businessID, *t.ChannelID)
		if err != nil {
			return c, err
		}
		c.Templates = tpls
	}
	if c.Available && p.App == models.AppWhatsApp {
		c.Prices = s.composerPrices(ctx, businessID, t, c.Templates, c.FreeText())
	}
	if canned != nil {
		c.Canned = *canned
		return c, nil
	}
	var err error
	if c.Canned, err = s.store.CannedResponses(ctx, businessID); err != nil {
		return c, err
	}
	return c, nil
}

func decisionView(d policy.Decision, name string) views.DecisionView {
	return views.DecisionView{
		Name: name, App: string(d.App), Allowed: d.Allowed, Tag: string(d.Tag), Reason: string(d.Reason),
		ExpiresAt: d.ExpiresAt, Template: d.Options.Has(policy.OptionTemplate),
		HumanAgent: d.Options.Has(policy.OptionHumanAgent), OTN: d.Options.Has(policy.OptionOTN),
	}
}

// approxDecision mirrors the engine's main rules from the thread alone.
func approxDecision(t *models.Thread, at time.Time) views.DecisionView {
	d := views.DecisionView{}
	if len(t.Apps) > 0 {
		d.App = t.Apps[0]
	}
	if len(t.Participants) > 0 {
		d.Name = t.Participants[0].DisplayName
	}
	w := views.ApproxWindow(t.Apps, t.LastCustomerAt, at)
	switch {
	case w.State == "open":
		d.Allowed, d.Reason, d.ExpiresAt = true, "ok", w.Until
	case w.State == "human_agent":
		d.Allowed, d.Tag, d.Reason, d.ExpiresAt = true, "HUMAN_AGENT", "ok", w.Until
	case d.App == models.AppWhatsApp:
		d.Reason, d.Template = "template_required", true
	case w.State == "closed":
		d.Reason = "human_agent_expired"
	default:
		d.Reason = "window_closed"
	}
	return d
}
