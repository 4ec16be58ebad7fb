package pricing

import (
	"context"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
)

type fixedRows []models.CountryPrice

func (f fixedRows) PriceRows(context.Context, int64) ([]models.CountryPrice, error) { return f, nil }

// BenchmarkQuoteMarket is the send path's price lookup once the book is warm:
// no database round trip.
func BenchmarkQuoteMarket(b *testing.B) {
	rows, errs := ParseRateCard(SampleRateCard, oct1)
	if errs != nil {
		b.Fatal(errs)
	}
	book := NewBook(fixedRows(rows), 0)
	ctx, at := context.Background(), date(2026, 11, 2)
	rcpt := Recipient{Country: "IT", Market: "Italy"}
	if _, err := book.QuoteMarket(ctx, 1, rcpt, "marketing", at); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := book.QuoteMarket(ctx, 1, rcpt, "marketing", at); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuotePhone adds libphonenumber's parse of the recipient's number.
func BenchmarkQuotePhone(b *testing.B) {
	rows, _ := ParseRateCard(SampleRateCard, oct1)
	book := NewBook(fixedRows(rows), 0)
	ctx, at := context.Background(), date(2026, 11, 2)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := book.QuotePhone(ctx, 1, "+393471234567", "marketing", at); err != nil {
			b.Fatal(err)
		}
	}
}
