package jobs

import (
	"context"
	"errors"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// estimate prices a WhatsApp message to a direct customer when it is queued:
// the template's category (service for free-form), the recipient's market,
// the rate in force today, from memory. Group sends are charged per
// delivered participant and are not estimated here.
//
// A free case (pricing.Free: a free entry point; before 1 Oct 2026 a reply
// or a utility template inside the window) is estimated at zero.
func (o *Outbox) estimate(ctx context.Context, ch *models.Channel, c *models.SendCustomer, category string, windowOpen, freeEntryPoint bool) (*models.MessageCost, error) {
	if o.prices == nil || ch.App != models.AppWhatsApp || c == nil {
		return nil, nil
	}
	if category == "" {
		category = models.CategoryService
	}
	cost := &models.MessageCost{BusinessID: ch.BusinessID, ChannelID: &ch.ID, Category: category}
	rcpt, err := pricing.MarketOf(c.Identity.Phone, o.now())
	if err != nil {
		return cost, nil // a BSUID-only or unreadable number: market unknown, never guessed
	}
	cost.Country, cost.Market = rcpt.Country, rcpt.Market
	free, _ := pricing.Free(category, windowOpen, freeEntryPoint, o.now())
	zero := int64(0)
	q, err := o.prices.QuoteMarket(ctx, ch.BusinessID, rcpt, category, o.now())
	switch {
	case errors.Is(err, pricing.ErrNoPrice):
		if free { // free whatever the table says
			cost.EstimatedMicros = &zero
		}
		return cost, nil
	case err != nil:
		return nil, err
	}
	cost.Currency, cost.EstimatedMicros = q.Currency, &q.PriceMicros
	if free {
		cost.EstimatedMicros = &zero
	}
	return cost, nil
}

// recordCosts stores the estimates of plans just written (their messages have ids).
func (o *Outbox) recordCosts(ctx context.Context, tx *models.Store, plans ...*plan) error {
	var costs []models.MessageCost
	for _, p := range plans {
		if p.cost != nil {
			p.cost.MessageID = p.msg.ID
			costs = append(costs, *p.cost)
		}
	}
	return tx.RecordMessageCosts(ctx, costs)
}
