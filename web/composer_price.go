package web

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
	"github.com/switchboard-inbox/switchboard/views"
)

// composerPrices says what a send would cost before the agent presses Send:
// one line per category the composer offers ("Marketing template · Italy ·
// USD 0.0691"; "service" for a free-form reply). Only for a WhatsApp thread
// with one customer; a category without a price shows nothing.
func (s *Server) composerPrices(ctx context.Context, businessID int64, t *models.Thread, tpls []models.WATemplate, freeText bool) map[string]string {
	if t.Kind != "direct" || len(t.Participants) != 1 || t.Participants[0].App != models.AppWhatsApp {
		return nil
	}
	phone := adapters.PhoneFromWaID(t.Participants[0].ExternalID)
	rcpt, err := pricing.MarketOf(phone, time.Now())
	if err != nil {
		return map[string]string{"unknown": views.T(ctx, "composer.price_unknown_market")}
	}
	categories := map[string]bool{}
	for _, tpl := range tpls {
		categories[tpl.Category] = true
	}
	if freeText {
		categories[models.CategoryService] = true
	}
	out := map[string]string{}
	for c := range categories {
		q, err := s.prices.QuoteMarket(ctx, businessID, rcpt, c, time.Now())
		if errors.Is(err, pricing.ErrNoPrice) || err != nil {
			continue // no price known: say nothing rather than "free"
		}
		price := money(q.Currency, q.PriceMicros)
		if c == models.CategoryService {
			out[c] = views.T(ctx, "composer.price_reply", rcpt.Market, price)
		} else {
			out[c] = views.T(ctx, "composer.price_template", views.T(ctx, "price.category."+c), rcpt.Market, price)
		}
	}
	return out
}
