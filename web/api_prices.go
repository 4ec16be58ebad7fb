package web

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// dateParam reads a YYYY-MM-DD query parameter; empty means today (UTC).
func dateParam(r *http.Request, name string) (time.Time, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		y, m, d := time.Now().UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
	}
	t, err := time.Parse(time.DateOnly, v)
	return t, err == nil
}

// readRateCard reads an upload; fits is false over pricing.MaxRateCard bytes.
func readRateCard(body io.Reader) (data []byte, fits bool, err error) {
	data, err = io.ReadAll(io.LimitReader(body, pricing.MaxRateCard+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || len(data) > pricing.MaxRateCard {
		return nil, false, nil
	}
	return data, true, err
}

// priceJSON is one cell of the table in the API's shape.
type priceJSON struct {
	Market        string  `json:"market"`
	Category      string  `json:"category"`
	Currency      string  `json:"currency"`
	Price         *string `json:"price"` // null: Meta's "n/a"
	EffectiveFrom string  `json:"effective_from"`
}

func pricesJSON(rows []models.CountryPrice) []priceJSON {
	out := make([]priceJSON, 0, len(rows))
	for _, p := range rows {
		j := priceJSON{Market: p.Market, Category: p.Category, Currency: p.Currency, EffectiveFrom: p.EffectiveFrom.Format(time.DateOnly)}
		if !p.Unavailable {
			price := pricing.FormatMicros(p.PriceMicros)
			j.Price = &price
		}
		out = append(out, j)
	}
	return out
}

// apiPricesImport is POST /api/v1/prices/import?effective_from=YYYY-MM-DD with
// Meta's rate-card CSV as the body: all or nothing.
func (s *Server) apiPricesImport(w http.ResponseWriter, r *http.Request) {
	from, ok := time.Parse(time.DateOnly, r.URL.Query().Get("effective_from"))
	if ok != nil {
		writeFieldError(w, "effective_from", "invalid_request", "effective_from must be a date, YYYY-MM-DD")
		return
	}
	data, fits, err := readRateCard(http.MaxBytesReader(w, r.Body, pricing.MaxRateCard+1))
	if !fits {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "too_large", "a rate card is at most 1 MiB")
		return
	}
	if err != nil {
		s.badRequest(w, r)
		return
	}
	biz := apiBusiness(r.Context())
	changes, lineErrs, err := s.importRateCard(r, biz, nil, data, from)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(lineErrs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"error":    map[string]string{"code": "invalid_rate_card", "message": "nothing was imported: fix every line listed in errors", "field": "body"},
			"imported": 0, "errors": lineErrs,
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"imported": changes.markets, "changed": len(changes.changes), "errors": []pricing.LineError{}})
}

type imported struct {
	markets int
	changes []models.PriceChange
}

// importRateCard parses and, when every line is good, stores a rate card and
// refreshes the quote book. Line errors mean nothing was stored.
func (s *Server) importRateCard(r *http.Request, biz int64, userID *int64, data []byte, from time.Time) (imported, []pricing.LineError, error) {
	rows, lineErrs := pricing.ParseRateCard(data, from)
	if len(lineErrs) > 0 {
		return imported{}, lineErrs, nil
	}
	changes, err := s.store.ImportPrices(r.Context(), biz, userID, rows)
	if err != nil {
		return imported{}, nil, err
	}
	s.prices.Invalidate(biz)
	return imported{markets: len(rows) / len(models.PriceCategories), changes: changes}, nil, nil
}

// apiPrices is GET /api/v1/prices?at=YYYY-MM-DD: the table in force that day.
func (s *Server) apiPrices(w http.ResponseWriter, r *http.Request) {
	at, ok := dateParam(r, "at")
	if !ok {
		writeFieldError(w, "at", "invalid_request", "at must be a date, YYYY-MM-DD")
		return
	}
	rows, err := s.store.PricesInForce(r.Context(), apiBusiness(r.Context()), at)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"prices": pricesJSON(rows)})
}

// apiPriceQuote is GET /api/v1/prices/quote?phone=E164&category=…[&at=].
func (s *Server) apiPriceQuote(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	at, ok := dateParam(r, "at")
	if !ok {
		writeFieldError(w, "at", "invalid_request", "at must be a date, YYYY-MM-DD")
		return
	}
	quote, err := s.prices.QuotePhone(r.Context(), apiBusiness(r.Context()), q.Get("phone"), q.Get("category"), at)
	switch {
	case errors.Is(err, pricing.ErrBadCategory):
		writeFieldError(w, "category", "invalid_request", err.Error())
	case errors.Is(err, pricing.ErrNoPhone), errors.Is(err, pricing.ErrBadPhone):
		writeFieldError(w, "phone", "invalid_request", "phone must be an E.164 number such as +393471234567")
	case errors.Is(err, pricing.ErrNoPrice):
		writeJSON(w, http.StatusNotFound, map[string]any{
			"error":   map[string]string{"code": "no_price", "message": "no price for " + quote.Market + " " + quote.Category + " on that day"},
			"country": quote.Country, "market": quote.Market, "category": quote.Category,
		})
	case err != nil:
		s.serverError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]string{
			"country": quote.Country, "market": quote.Market, "category": quote.Category, "currency": quote.Currency,
			"price": pricing.FormatMicros(quote.PriceMicros), "effective_from": quote.EffectiveFrom.Format(time.DateOnly),
		})
	}
}
