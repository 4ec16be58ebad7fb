package jobs

import (
	"context"
	"errors"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// estimate prices a WhatsApp message to a direct customer when it is queued:
// the template's category (service for free-form), the recipient's market,
// the rate in force today, from memory. Group sends are estimateGroup's.
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

// recordCosts stores the estimates of plans just written (their messages have
// ids), and the participants a native group message goes to.
func (o *Outbox) recordCosts(ctx context.Context, tx *models.Store, plans ...*plan) error {
	costs, err := costsOf(ctx, tx, plans)
	if err != nil {
		return err
	}
	return tx.RecordMessageCosts(ctx, costs)
}

// costsOf records the participants a native group message of plans goes to,
// and returns the estimates of plans to store (their messages have ids).
func costsOf(ctx context.Context, tx *models.Store, plans []*plan) ([]models.MessageCost, error) {
	var costs []models.MessageCost
	for _, p := range plans {
		if p.cost != nil {
			p.cost.MessageID = p.msg.ID
			costs = append(costs, *p.cost)
		}
		if err := tx.ExpectParticipants(ctx, p.msg.ID, p.participants, p.msg.SentAt); err != nil {
			return nil, err
		}
	}
	return costs, nil
}

// estimateGroup prices a WhatsApp message to a native group: Meta bills it
// once per delivered participant, so the estimate is each participant's rate
// summed (rate × participants when they share a market). The row names the
// first participant's known market.
func (o *Outbox) estimateGroup(ctx context.Context, ch *models.Channel, sc *models.SendContext, category string, windowOpen bool) (*models.MessageCost, error) {
	if o.prices == nil || ch.App != models.AppWhatsApp || len(sc.Customers) == 0 {
		return nil, nil
	}
	if category == "" {
		category = models.CategoryService
	}
	cost := &models.MessageCost{BusinessID: ch.BusinessID, ChannelID: &ch.ID, Category: category, Participants: len(sc.Customers)}
	free, _ := pricing.Free(category, windowOpen, false, o.now())
	var sum int64
	priced := false
	for i := range sc.Customers {
		rcpt, err := pricing.MarketOf(sc.Customers[i].Identity.Phone, o.now())
		if err != nil {
			continue // market unknown, never guessed
		}
		if cost.Market == "" {
			cost.Country, cost.Market = rcpt.Country, rcpt.Market
		}
		q, err := o.prices.QuoteMarket(ctx, ch.BusinessID, rcpt, category, o.now())
		switch {
		case errors.Is(err, pricing.ErrNoPrice):
			continue
		case err != nil:
			return nil, err
		}
		cost.Currency, sum, priced = q.Currency, sum+q.PriceMicros, true
	}
	switch {
	case free:
		sum, priced = 0, true
	case !priced:
		return cost, nil
	}
	cost.EstimatedMicros = &sum
	return cost, nil
}

// participantsOf are the ids Meta names a native group's participants by in
// its statuses (recipient_participant_id): their wa_id, else their BSUID.
func participantsOf(sc *models.SendContext) []string {
	out := make([]string, 0, len(sc.Customers))
	for i := range sc.Customers {
		if id := sc.Customers[i].Identity.ExternalID; id != "" {
			out = append(out, id)
		}
	}
	return out
}
