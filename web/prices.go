package web

import (
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
	"github.com/switchboard-inbox/switchboard/views"
)

// money writes a price as the pages show it: "USD 0.0592".
func money(currency string, micros int64) string {
	return currency + " " + pricing.FormatMicros(micros)
}

func cell(p *models.CountryPrice) string { return cellIn(p, "") }

// cellIn writes a cell of a table priced in currency: the code only when it differs.
func cellIn(p *models.CountryPrice, currency string) string {
	switch {
	case p == nil:
		return "—"
	case p.Unavailable:
		return "n/a"
	case p.Currency == currency:
		return pricing.FormatMicros(p.PriceMicros)
	}
	return money(p.Currency, p.PriceMicros)
}

func (s *Server) settingsPrices(w http.ResponseWriter, r *http.Request) {
	pv, ok := s.pricesView(w, r)
	if !ok {
		return
	}
	if n := r.URL.Query().Get("notice"); n == "prices.imported" || n == "settings.saved" {
		pv.Notice = n
	}
	if phone := r.URL.Query().Get("phone"); phone != "" {
		pv.Quote = s.quoteBox(r, phone, r.URL.Query().Get("category"), pv.At)
	}
	s.render(w, r, http.StatusOK, views.PricesPage(pv))
}

// pricesView loads the table in force on ?at= (default today) and the other dates.
func (s *Server) pricesView(w http.ResponseWriter, r *http.Request) (views.PricesView, bool) {
	v := viewerFrom(r.Context())
	ctx := r.Context()
	at, ok := dateParam(r, "at")
	if !ok {
		at, _ = dateParam(&http.Request{}, "")
	}
	pv := views.PricesView{Page: s.page(r, views.T(ctx, "settings.prices"), "settings"), At: at.Format(time.DateOnly),
		Categories: models.PriceCategories, Markets: pricing.Markets(),
		Form: map[string]string{"phone": r.URL.Query().Get("phone"), "category": r.URL.Query().Get("category"), "effective_from": nextQuarter(at)}}
	all, err := s.store.PriceRows(ctx, v.BusinessID)
	if err == nil {
		pv.Sample, err = s.store.PricesAreSample(ctx, v.BusinessID)
	}
	if err != nil {
		s.serverError(w, r, err)
		return pv, false
	}
	today := time.Now().UTC().Format(time.DateOnly)
	seen := map[string]bool{}
	inForce := map[string]map[string]*models.CountryPrice{} // market → category → row
	for i := range all {
		p := &all[i]
		d := p.EffectiveFrom.Format(time.DateOnly)
		if !seen[d] {
			seen[d] = true
			pv.Dates = append(pv.Dates, views.PriceDate{Date: d, Upcoming: d > today})
		}
		if d > pv.At {
			continue
		}
		if inForce[p.Market] == nil {
			inForce[p.Market] = map[string]*models.CountryPrice{}
		}
		inForce[p.Market][p.Category] = p // rows are oldest first: the last one wins
	}
	for i := range pv.Dates {
		pv.Dates[i].Shown = pv.Dates[i].Date == latestOnOrBefore(pv.Dates, pv.At)
	}
	markets := make([]string, 0, len(inForce))
	for m := range inForce {
		markets = append(markets, m)
	}
	sort.Strings(markets)
	for _, m := range markets {
		for _, p := range inForce[m] {
			pv.Currency = p.Currency // one currency per rate card; a stray one shows its code
		}
	}
	for _, m := range markets {
		row := views.PriceMarketRow{Market: m}
		for _, c := range pv.Categories {
			p := inForce[m][c]
			row.Cells = append(row.Cells, cellIn(p, pv.Currency))
			if p != nil {
				if d := p.EffectiveFrom.Format(time.DateOnly); d > row.Since {
					row.Since = d
				}
			}
		}
		pv.Table = append(pv.Table, row)
	}
	return pv, true
}

func latestOnOrBefore(ds []views.PriceDate, at string) string {
	best := ""
	for _, d := range ds {
		if d.Date <= at && d.Date > best {
			best = d.Date
		}
	}
	return best
}

// nextQuarter is the next 1 Jan, 1 Apr, 1 Jul or 1 Oct: when Meta changes rates.
func nextQuarter(t time.Time) string {
	m := ((int(t.Month())-1)/3+1)*3 + 1
	y := t.Year()
	if m > 12 {
		m, y = 1, y+1
	}
	return time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

func (s *Server) quoteBox(r *http.Request, phone, category, at string) *views.PriceQuote {
	ctx := r.Context()
	day, _ := time.Parse(time.DateOnly, at)
	q, err := s.prices.QuotePhone(ctx, viewerFrom(ctx).BusinessID, phone, category, day)
	out := &views.PriceQuote{Phone: phone, Category: category, Country: q.Country, Market: q.Market}
	switch {
	case errors.Is(err, pricing.ErrBadCategory):
		out.Error = views.T(ctx, "prices.bad_category")
	case errors.Is(err, pricing.ErrBadPhone), errors.Is(err, pricing.ErrNoPhone):
		out.Error = views.T(ctx, "prices.bad_phone")
	case errors.Is(err, pricing.ErrNoPrice):
		out.Error = views.T(ctx, "prices.no_price", q.Market)
	case err != nil:
		out.Error = err.Error()
	default:
		out.Price = money(q.Currency, q.PriceMicros)
	}
	return out
}

// pricesPreview reads an uploaded rate card and shows what it would change.
func (s *Server) pricesPreview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, pricing.MaxRateCard+64<<10) // the file plus the form around it
	pv, ok := s.pricesView(w, r)
	if !ok {
		return
	}
	var tooBig *http.MaxBytesError
	if err := r.ParseMultipartForm(2 * pricing.MaxRateCard); errors.As(err, &tooBig) {
		pv.Error = views.T(ctx, "prices.too_large")
		s.render(w, r, http.StatusRequestEntityTooLarge, views.PricesPage(pv))
		return
	} else if err != nil {
		s.badRequest(w, r)
		return
	}
	from, err := time.Parse(time.DateOnly, r.FormValue("effective_from"))
	if err != nil {
		pv.Error = views.T(ctx, "prices.bad_date")
		s.render(w, r, http.StatusUnprocessableEntity, views.PricesPage(pv))
		return
	}
	pv.Form["effective_from"] = from.Format(time.DateOnly)
	data, fits, err := uploadedCard(r)
	if !fits {
		pv.Error = views.T(ctx, "prices.too_large")
		s.render(w, r, http.StatusRequestEntityTooLarge, views.PricesPage(pv))
		return
	}
	if err != nil {
		s.badRequest(w, r)
		return
	}
	rows, lineErrs := pricing.ParseRateCard(data, from)
	if len(lineErrs) > 0 {
		for _, e := range lineErrs {
			pv.LineErrors = append(pv.LineErrors, views.PriceLineError{Line: e.Line, Message: e.Message})
		}
		s.render(w, r, http.StatusUnprocessableEntity, views.PricesPage(pv))
		return
	}
	changes, err := s.store.PriceChanges(ctx, viewerFrom(ctx).BusinessID, rows)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	pv.Preview = &views.PricePreview{EffectiveFrom: from.Format(time.DateOnly), CSV: string(data), Markets: len(rows) / len(models.PriceCategories)}
	for _, c := range changes {
		pv.Preview.Changes = append(pv.Preview.Changes, views.PriceChangeRow{Market: c.Market, Category: c.Category, Old: cell(c.Old), New: cell(&c.New)})
	}
	s.render(w, r, http.StatusOK, views.PricesPage(pv))
}

// uploadedCard is the file of the import form.
func uploadedCard(r *http.Request) ([]byte, bool, error) {
	f, _, err := r.FormFile("file")
	if err != nil {
		return nil, true, err
	}
	defer f.Close()
	return readRateCard(f)
}

// pricesImport stores a previewed rate card.
func (s *Server) pricesImport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 3*pricing.MaxRateCard) // form-encoded CSV grows when escaped
	from, err := time.Parse(time.DateOnly, r.PostFormValue("effective_from"))
	csv := r.PostFormValue("csv")
	if err != nil || len(csv) > pricing.MaxRateCard {
		s.badRequest(w, r)
		return
	}
	v := viewerFrom(ctx)
	_, lineErrs, err := s.importRateCard(r, v.BusinessID, &v.User.ID, []byte(csv), from)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(lineErrs) > 0 { // the preview passed, so the form was tampered with
		s.badRequest(w, r)
		return
	}
	seeOther(w, r, "/settings/prices?notice=prices.imported&at="+from.Format(time.DateOnly))
}

// pricesEdit changes one cell by hand ("n/a" marks it unavailable).
func (s *Server) pricesEdit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	p := models.CountryPrice{Category: r.PostFormValue("category"), Currency: strings.ToUpper(strings.TrimSpace(r.PostFormValue("currency")))}
	market, okMarket := pricing.CanonicalMarket(r.PostFormValue("market"))
	from, errDate := time.Parse(time.DateOnly, r.PostFormValue("effective_from"))
	price := strings.TrimSpace(r.PostFormValue("price"))
	var errPrice error
	if strings.EqualFold(price, "n/a") {
		p.Unavailable = true
	} else {
		p.PriceMicros, errPrice = pricing.ParseMicros(price)
	}
	p.Market, p.EffectiveFrom = market, from
	var msg string
	switch {
	case !okMarket:
		msg = views.T(ctx, "prices.bad_market")
	case !pricing.ValidCategory(p.Category):
		msg = views.T(ctx, "prices.bad_category")
	case errDate != nil:
		msg = views.T(ctx, "prices.bad_date")
	case errPrice != nil:
		msg = errPrice.Error()
	case len(p.Currency) != 3:
		msg = views.T(ctx, "prices.bad_currency")
	}
	if msg != "" {
		pv, ok := s.pricesView(w, r)
		if ok {
			pv.Error = msg
			s.render(w, r, http.StatusUnprocessableEntity, views.PricesPage(pv))
		}
		return
	}
	if err := s.store.SetPrice(ctx, v.BusinessID, &v.User.ID, p); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.prices.Invalidate(v.BusinessID)
	seeOther(w, r, "/settings/prices?notice=settings.saved&at="+from.Format(time.DateOnly))
}
