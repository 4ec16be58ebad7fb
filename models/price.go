package models

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Price categories, as Meta's rate card names its columns.
const (
	CategoryMarketing         = "marketing"
	CategoryUtility           = "utility"
	CategoryAuthentication    = "authentication"
	CategoryAuthenticationInt = "authentication_international"
	CategoryService           = "service"
)

// PriceCategories lists the categories in rate-card column order.
var PriceCategories = []string{CategoryMarketing, CategoryUtility, CategoryAuthentication, CategoryAuthenticationInt, CategoryService}

// CountryPrice is what one message of a category costs in a market from a
// date on, until a later row of the same market and category. Unavailable is
// Meta's "n/a": no price, and it supersedes an older one.
type CountryPrice struct {
	ID            int64
	BusinessID    int64
	Market        string
	Category      string
	PriceMicros   int64
	Unavailable   bool
	Currency      string
	EffectiveFrom time.Time `gorm:"type:date"`
	CreatedAt     time.Time
}

// PriceChange is one cell an import or edit changes: Old is the price in
// force on the new row's date (nil when the market and category had none).
type PriceChange struct {
	Market   string        `json:"market"`
	Category string        `json:"category"`
	Old      *CountryPrice `json:"-"`
	New      CountryPrice  `json:"-"`
}

// PriceRows lists every dated price of the business (past, in force and
// upcoming), oldest date first.
func (s *Store) PriceRows(ctx context.Context, businessID int64) ([]CountryPrice, error) {
	var rows []CountryPrice
	err := s.Gorm(ctx).Where("business_id = ?", businessID).Order("effective_from, market, category").Find(&rows).Error
	return rows, wrapErr(err, "list prices")
}

// PricesInForce lists the price of each market and category in force on day at.
func (s *Store) PricesInForce(ctx context.Context, businessID int64, at time.Time) ([]CountryPrice, error) {
	var rows []CountryPrice
	err := s.Gorm(ctx).Raw(`SELECT DISTINCT ON (market, category) * FROM country_prices
		WHERE business_id = ? AND effective_from <= ? ORDER BY market, category, effective_from DESC`,
		businessID, day(at)).Scan(&rows).Error
	return rows, wrapErr(err, "list prices in force on %s", day(at))
}

// PriceChanges compares rows (one import, all of one date) with the prices in
// force on their date and returns the cells that would change.
func (s *Store) PriceChanges(ctx context.Context, businessID int64, rows []CountryPrice) ([]PriceChange, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	current, err := s.PricesInForce(ctx, businessID, rows[0].EffectiveFrom)
	if err != nil {
		return nil, err
	}
	old := make(map[string]*CountryPrice, len(current))
	for i := range current {
		old[current[i].Market+"/"+current[i].Category] = &current[i]
	}
	var out []PriceChange
	for _, r := range rows {
		o := old[r.Market+"/"+r.Category]
		if o != nil && o.PriceMicros == r.PriceMicros && o.Unavailable == r.Unavailable && o.Currency == r.Currency {
			continue
		}
		out = append(out, PriceChange{Market: r.Market, Category: r.Category, Old: o, New: r})
	}
	return out, nil
}

// ImportPrices writes one rate card (every row of one date) in a single
// transaction, audited with the cells it changed, and returns those changes.
func (s *Store) ImportPrices(ctx context.Context, businessID int64, userID *int64, rows []CountryPrice) ([]PriceChange, error) {
	return s.importPrices(ctx, businessID, userID, rows, "prices.import")
}

// ImportSamplePrices imports the demo's sample rate card, audited as a sample
// so the prices page can say these are not Meta's prices.
func (s *Store) ImportSamplePrices(ctx context.Context, businessID int64, rows []CountryPrice) ([]PriceChange, error) {
	return s.importPrices(ctx, businessID, nil, rows, "prices.import_sample")
}

// PricesAreSample reports whether the business's latest rate card is the demo's sample.
func (s *Store) PricesAreSample(ctx context.Context, businessID int64) (bool, error) {
	var action string
	err := s.Gorm(ctx).Raw(`SELECT action FROM audit_events WHERE business_id = ? AND action IN ('prices.import', 'prices.import_sample')
		ORDER BY created_at DESC, id DESC LIMIT 1`, businessID).Scan(&action).Error
	return action == "prices.import_sample", wrapErr(err, "find latest rate card")
}

func (s *Store) importPrices(ctx context.Context, businessID int64, userID *int64, rows []CountryPrice, action string) ([]PriceChange, error) {
	var changes []PriceChange
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if changes, err = tx.PriceChanges(ctx, businessID, rows); err != nil {
			return err
		}
		for _, r := range rows {
			if err := tx.upsertPrice(ctx, businessID, r); err != nil {
				return err
			}
		}
		if err := tx.auditPrices(ctx, businessID, userID, action, changes); err != nil {
			return err
		}
		return tx.notifyPrices(ctx, businessID)
	})
	return changes, err
}

// SetPrice edits one cell by hand, audited.
func (s *Store) SetPrice(ctx context.Context, businessID int64, userID *int64, p CountryPrice) error {
	return s.InTx(ctx, func(tx *Store) error {
		changes, err := tx.PriceChanges(ctx, businessID, []CountryPrice{p})
		if err != nil || len(changes) == 0 {
			return err
		}
		if err := tx.upsertPrice(ctx, businessID, p); err != nil {
			return err
		}
		if err := tx.auditPrices(ctx, businessID, userID, "prices.edit", changes); err != nil {
			return err
		}
		return tx.notifyPrices(ctx, businessID)
	})
}

// PricesChannel is the PostgreSQL notification channel of price changes: the
// payload is the business id. Every replica's quote book drops that
// business's cached table when it hears one.
const PricesChannel = "switchboard_prices"

// notifyPrices tells every replica the business's prices changed (on commit).
func (s *Store) notifyPrices(ctx context.Context, businessID int64) error {
	err := s.Gorm(ctx).Exec(`SELECT pg_notify(?, ?)`, PricesChannel, strconv.FormatInt(businessID, 10)).Error
	return wrapErr(err, "notify price change of business %d", businessID)
}

// ListenPriceChanges calls changed with each business whose prices another
// replica (or this one) changed, until ctx ends or the connection fails;
// ready is called once listening (before it, changes may have been missed:
// the caller drops everything it cached then).
func (s *Store) ListenPriceChanges(ctx context.Context, ready func(), changed func(businessID int64)) error {
	cfg := s.DB.Pool.Config().ConnConfig.Copy()
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(connectCtx, cfg)
	cancel()
	if err != nil {
		return wrapErr(err, "connect to listen for price changes")
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{PricesChannel}.Sanitize()); err != nil {
		return wrapErr(err, "listen for price changes")
	}
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return wrapErr(err, "wait for price changes")
		}
		if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			changed(id)
		}
	}
}

func (s *Store) upsertPrice(ctx context.Context, businessID int64, p CountryPrice) error {
	err := s.Gorm(ctx).Exec(`INSERT INTO country_prices (business_id, market, category, price_micros, unavailable, currency, effective_from)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (business_id, market, category, effective_from) DO UPDATE
		SET price_micros = EXCLUDED.price_micros, unavailable = EXCLUDED.unavailable, currency = EXCLUDED.currency, created_at = now()`,
		businessID, p.Market, p.Category, p.PriceMicros, p.Unavailable, p.Currency, day(p.EffectiveFrom)).Error
	return wrapErr(err, "save price %s/%s", p.Market, p.Category)
}

// priceAudit is one changed cell as the audit log keeps it.
type priceAudit struct {
	Market        string `json:"market"`
	Category      string `json:"category"`
	EffectiveFrom string `json:"effective_from"`
	Currency      string `json:"currency,omitempty"`
	Micros        *int64 `json:"price_micros"` // nil: none or n/a
}

func (s *Store) auditPrices(ctx context.Context, businessID int64, userID *int64, action string, changes []PriceChange) error {
	if len(changes) == 0 {
		return nil
	}
	before, after := make([]priceAudit, len(changes)), make([]priceAudit, len(changes))
	for i, c := range changes {
		after[i] = auditCell(c.New)
		if c.Old != nil {
			before[i] = auditCell(*c.Old)
		} else {
			before[i] = priceAudit{Market: c.Market, Category: c.Category}
		}
	}
	return s.Audit(ctx, businessID, userID, action, "country_prices", 0, before, after)
}

func auditCell(p CountryPrice) priceAudit {
	a := priceAudit{Market: p.Market, Category: p.Category, EffectiveFrom: day(p.EffectiveFrom), Currency: p.Currency}
	if !p.Unavailable {
		a.Micros = &p.PriceMicros
	}
	return a
}

// day is the calendar date of t as PostgreSQL's date reads it.
func day(t time.Time) string { return t.Format(time.DateOnly) }
