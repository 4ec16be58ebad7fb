package pricing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
	"github.com/switchboard-inbox/switchboard/pricing"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func importCard(t *testing.T, s *models.Store, biz int64, card []byte, from string) []models.PriceChange {
	t.Helper()
	rows, errs := pricing.ParseRateCard(card, day(from))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	changes, err := s.ImportPrices(context.Background(), biz, nil, rows)
	if err != nil {
		t.Fatal(err)
	}
	return changes
}

// countingRows counts how often the book goes to the database.
type countingRows struct {
	*models.Store
	loads int
}

func (c *countingRows) PriceRows(ctx context.Context, biz int64) ([]models.CountryPrice, error) {
	c.loads++
	return c.Store.PriceRows(ctx, biz)
}

func TestQuotesAcrossAQuarterStart(t *testing.T) {
	ctx := context.Background()
	s := modelstest.NewStore(t)
	b, err := s.CreateBusiness(ctx, "Bottega")
	if err != nil {
		t.Fatal(err)
	}
	if ch := importCard(t, s, b.ID, pricing.SampleRateCard, "2026-07-01"); len(ch) != 5*len(pricing.Markets()) {
		t.Fatalf("first import changes %d cells, want every cell", len(ch))
	}
	// The next quarter's card: Italy's marketing rate rises, Austria's region falls.
	next := strings.Replace(string(pricing.SampleRateCard), `"Italy","USD","0.0691"`, `"Italy","USD","0.0750"`, 1)
	next = strings.Replace(next, `"Rest of Western Europe","USD","0.0592"`, `"Rest of Western Europe","USD","0.0550"`, 1)
	rows, _ := pricing.ParseRateCard([]byte(next), day("2026-10-01"))
	preview, err := s.PriceChanges(ctx, b.ID, rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(preview) != 2 || preview[0].Market != "Italy" || preview[0].Old.PriceMicros != 69_100 || preview[0].New.PriceMicros != 75_000 ||
		preview[1].Market != pricing.RestOfWestEurope || preview[1].Old.PriceMicros != 59_200 {
		t.Fatalf("preview %+v, want Italy 0.0691 → 0.0750 and Rest of Western Europe 0.0592 → 0.0550", preview)
	}
	importCard(t, s, b.ID, []byte(next), "2026-10-01")

	src := &countingRows{Store: s}
	book := pricing.NewBook(src, time.Hour)
	cases := []struct {
		phone, at, market string
		micros            int64
	}{
		{"+393471234567", "2026-09-30", "Italy", 69_100},
		{"+393471234567", "2026-10-01", "Italy", 75_000},
		{"+436641234567", "2026-09-30", pricing.RestOfWestEurope, 59_200},
		{"+436641234567", "2026-10-01", pricing.RestOfWestEurope, 55_000},
		{"+436641234567", "2027-03-31", pricing.RestOfWestEurope, 55_000},
		// Bangladesh and Kuwait leave their regions on 2026-10-01: the region's rate the day before, their own on the day.
		{"+8801712345678", "2026-09-30", pricing.RestOfAPAC, 73_200},
		{"+8801712345678", "2026-10-01", "Bangladesh", 70_100},
		{"+96550012345", "2026-09-30", pricing.RestOfMiddleEast, 65_400},
		{"+96550012345", "2026-10-01", "Kuwait", 69_000},
		{"+12125551234", "2026-10-01", pricing.NorthAmerica, 25_000},
		{"+442079460000", "2026-10-01", "United Kingdom", 52_900},
		{"+919812345678", "2026-10-01", "India", 10_700},
		{"+5511987654321", "2026-10-01", "Brazil", 62_500},
		{"+2348031234567", "2026-10-01", "Nigeria", 91_600},
		{"+971501234567", "2026-10-01", "United Arab Emirates", 79_600},
	}
	for _, c := range cases {
		q, err := book.QuotePhone(ctx, b.ID, c.phone, "marketing", day(c.at))
		if err != nil || q.Market != c.market || q.PriceMicros != c.micros || q.Currency != "USD" {
			t.Errorf("%s on %s: %+v, %v; want %s %d", c.phone, c.at, q, err, c.market, c.micros)
		}
	}
	if src.loads != 1 {
		t.Errorf("book loaded %d times for %d quotes, want once", src.loads, len(cases))
	}
	if _, err := book.QuotePhone(ctx, b.ID, "+393471234567", "marketing", day("2026-06-30")); !errors.Is(err, pricing.ErrNoPrice) {
		t.Errorf("before the first card: %v, want ErrNoPrice", err)
	}
	if _, err := book.QuotePhone(ctx, b.ID, "+393471234567", "authentication_international", day("2026-10-01")); !errors.Is(err, pricing.ErrNoPrice) {
		t.Errorf("n/a cell: %v, want ErrNoPrice", err)
	}
	if _, err := book.QuotePhone(ctx, b.ID, "", "marketing", day("2026-10-01")); !errors.Is(err, pricing.ErrNoPhone) {
		t.Errorf("BSUID-only: %v, want ErrNoPhone", err)
	}

	// A hand edit shows after Invalidate, and is audited old → new.
	err = s.SetPrice(ctx, b.ID, nil, models.CountryPrice{Market: "Italy", Category: "marketing", PriceMicros: 80_000, Currency: "USD", EffectiveFrom: day("2026-10-01")})
	if err != nil {
		t.Fatal(err)
	}
	book.Invalidate(b.ID)
	if q, _ := book.QuotePhone(ctx, b.ID, "+393471234567", "marketing", day("2026-10-02")); q.PriceMicros != 80_000 {
		t.Errorf("after edit: %d, want 80000", q.PriceMicros)
	}
	evs, err := s.AuditEvents(ctx, b.ID, 10)
	if err != nil || len(evs) != 3 || evs[0].Action != "prices.edit" || !strings.Contains(string(evs[0].Before), `"price_micros": 75000`) ||
		!strings.Contains(string(evs[0].After), `"price_micros": 80000`) {
		t.Fatalf("latest audit event %s %.200s → %.200s (%d events, %v)", evs[0].Action, evs[0].Before, evs[0].After, len(evs), err)
	}
	// History: the day before the quarter still answers the old price.
	inForce, err := s.PricesInForce(ctx, b.ID, day("2026-09-30"))
	if err != nil || len(inForce) != 5*len(pricing.Markets()) {
		t.Fatalf("in force on 2026-09-30: %d rows, %v", len(inForce), err)
	}
}
