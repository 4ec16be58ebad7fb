package jobs

import (
	"context"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// syncedTemplates is RestockTemplates over the templates synced from Meta:
// the product's template, only while Meta lists it approved on that channel.
type syncedTemplates struct{ store *models.Store }

func (t syncedTemplates) RestockTemplate(ctx context.Context, businessID, channelID int64, p *models.Product) (string, string, models.TemplateParams, error) {
	if p.WATemplateName == "" {
		return "", "", nil, nil
	}
	tpls, err := t.store.Templates(ctx, businessID)
	if err != nil {
		return "", "", nil, err
	}
	for _, tp := range tpls {
		if tp.ChannelID == channelID && tp.Name == p.WATemplateName && tp.Language == p.WATemplateLanguage {
			if tp.Status != models.TemplateApproved {
				return "", "", nil, nil // paused, rejected or deleted at Meta: sending it would be refused
			}
			return tp.Name, tp.Language, tp.Parameters, nil
		}
	}
	return "", "", nil, nil // not synced from this channel's WABA
}

// bookQuotes is RestockPrices over the price table.
type bookQuotes struct{ book *pricing.Book }

func (b bookQuotes) RestockQuote(ctx context.Context, businessID int64, phone string, at time.Time) (int64, string, bool, error) {
	q, err := b.book.QuotePhone(ctx, businessID, phone, "marketing", at)
	if err != nil {
		return 0, "", false, nil // no price, or no market for this number: the cost is unknown, not a failure
	}
	return q.PriceMicros, q.Currency, true, nil
}
