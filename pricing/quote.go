package pricing

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// ErrNoPrice means the table has no price for the market and category on
// that day (nothing imported yet, or Meta's "n/a").
var ErrNoPrice = errors.New("pricing: no price for that market and category on that day")

// ErrBadCategory is a category Meta does not price.
var ErrBadCategory = errors.New("pricing: category must be marketing, utility, authentication, authentication_international or service")

// Quote is what one message to a recipient costs.
type Quote struct {
	Recipient
	Category      string
	Currency      string
	PriceMicros   int64
	EffectiveFrom time.Time
}

// PriceRows is the store method a Book loads from.
type PriceRows interface {
	PriceRows(ctx context.Context, businessID int64) ([]models.CountryPrice, error)
}

// Book answers quotes from memory: the send path asks for a price per
// message and must not wait on the database. It holds every dated row of each
// business it was asked about (a few hundred), so any day is answered without
// a query; Invalidate after an import or edit, and MaxAge bounds how long
// another replica's import stays unseen.
type Book struct {
	src    PriceRows
	now    func() time.Time
	maxAge time.Duration

	mu     sync.RWMutex
	tables map[int64]*table
	gen    uint64 // bumped by every invalidation: a table loaded across one is not kept
}

// table is one business's prices: per market and category, newest date first.
type table struct {
	loaded time.Time
	cells  map[cellKey][]models.CountryPrice
}

type cellKey struct{ market, category string }

// NewBook builds a quote cache over the store; maxAge 0 means 5 minutes.
func NewBook(src PriceRows, maxAge time.Duration) *Book {
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	return &Book{src: src, now: time.Now, maxAge: maxAge, tables: map[int64]*table{}}
}

// Invalidate drops a business's cached prices (after an import or an edit).
func (b *Book) Invalidate(businessID int64) {
	b.mu.Lock()
	delete(b.tables, businessID)
	b.gen++
	b.mu.Unlock()
}

// InvalidateAll drops every cached table (a replica that may have missed
// change notifications).
func (b *Book) InvalidateAll() {
	b.mu.Lock()
	b.tables = map[int64]*table{}
	b.gen++
	b.mu.Unlock()
}

// PriceChanges is where a book hears of other replicas' imports and edits
// (models.Store.ListenPriceChanges: PostgreSQL NOTIFY).
type PriceChanges interface {
	ListenPriceChanges(ctx context.Context, ready func(), changed func(businessID int64)) error
}

// Follow keeps the book in step with every replica's price imports and edits
// until ctx ends: each change drops that business's table at once, instead
// of after MaxAge. After a lost connection it drops everything and listens
// again. ready (may be nil) is called each time it listens.
func (b *Book) Follow(ctx context.Context, src PriceChanges, ready func()) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := src.ListenPriceChanges(ctx, func() {
			b.InvalidateAll() // whatever changed while not listening
			backoff = 100 * time.Millisecond
			if ready != nil {
				ready()
			}
		}, b.Invalidate)
		if err == nil || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// ValidCategory reports whether Meta prices the category.
func ValidCategory(c string) bool {
	for _, k := range models.PriceCategories {
		if c == k {
			return true
		}
	}
	return false
}

// QuotePhone prices one message of category to an E.164 phone on day at.
func (b *Book) QuotePhone(ctx context.Context, businessID int64, phone, category string, at time.Time) (Quote, error) {
	if !ValidCategory(category) {
		return Quote{}, ErrBadCategory
	}
	rcpt, err := MarketOf(phone, at)
	if err != nil {
		return Quote{}, err
	}
	return b.QuoteMarket(ctx, businessID, rcpt, category, at)
}

// QuoteMarket prices one message of category in the recipient's market on day at.
func (b *Book) QuoteMarket(ctx context.Context, businessID int64, rcpt Recipient, category string, at time.Time) (Quote, error) {
	t, err := b.table(ctx, businessID)
	if err != nil {
		return Quote{}, err
	}
	q := Quote{Recipient: rcpt, Category: category}
	y, m, d := at.UTC().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for _, p := range t.cells[cellKey{rcpt.Market, category}] {
		if p.EffectiveFrom.After(day) {
			continue
		}
		if p.Unavailable {
			return q, ErrNoPrice
		}
		q.Currency, q.PriceMicros, q.EffectiveFrom = p.Currency, p.PriceMicros, p.EffectiveFrom
		return q, nil
	}
	return q, ErrNoPrice
}

func (b *Book) table(ctx context.Context, businessID int64) (*table, error) {
	b.mu.RLock()
	t := b.tables[businessID]
	b.mu.RUnlock()
	if t != nil && b.now().Sub(t.loaded) < b.maxAge {
		return t, nil
	}
	b.mu.RLock()
	gen := b.gen
	b.mu.RUnlock()
	rows, err := b.src.PriceRows(ctx, businessID)
	if err != nil {
		return nil, err
	}
	t = &table{loaded: b.now(), cells: map[cellKey][]models.CountryPrice{}}
	for _, r := range rows {
		k := cellKey{r.Market, r.Category}
		t.cells[k] = append(t.cells[k], r)
	}
	for _, cs := range t.cells {
		sort.Slice(cs, func(i, j int) bool { return cs[i].EffectiveFrom.After(cs[j].EffectiveFrom) })
	}
	b.mu.Lock()
	if b.gen == gen { // else prices changed while loading: answer from these, cache the next load
		b.tables[businessID] = t
	}
	b.mu.Unlock()
	return t, nil
}
