package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
	"github.com/switchboard-inbox/switchboard/views"
)

// spendMonth reads ?month=YYYY-MM (default this month, UTC).
func spendMonth(r *http.Request) (from time.Time, ok bool) {
	now := time.Now().UTC()
	from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if m := r.URL.Query().Get("month"); m != "" {
		t, err := time.Parse("2006-01", m)
		if err != nil {
			return from, false
		}
		from = t
	}
	return from, true
}

func (s *Server) spendRows(w http.ResponseWriter, r *http.Request) ([]models.SpendRow, time.Time, bool) {
	v := viewerFrom(r.Context())
	from, ok := spendMonth(r)
	if !ok {
		s.badRequest(w, r)
		return nil, from, false
	}
	rows, err := s.store.SpendMonth(r.Context(), v.BusinessID, from)
	if err != nil {
		s.serverError(w, r, err)
		return nil, from, false
	}
	return rows, from, true
}

// settingsSpend is this month's (or ?month=) WhatsApp spend, estimated vs actual.
func (s *Server) settingsSpend(w http.ResponseWriter, r *http.Request) {
	rows, from, ok := s.spendRows(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	sv := views.SpendView{Page: s.page(r, views.T(ctx, "settings.spend"), "settings"), Month: from.Format("2006-01"),
		PrevMonth: from.AddDate(0, -1, 0).Format("2006-01")}
	if next := from.AddDate(0, 1, 0); !next.After(time.Now().UTC()) {
		sv.NextMonth = next.Format("2006-01")
	}
	totals := map[string]*models.SpendRow{}
	type bar struct{ est, act int64 }
	byMarket := map[string]*bar{}
	var order []string
	for _, row := range rows {
		sv.Rows = append(sv.Rows, views.SpendViewRow{Channel: row.ChannelName, Market: marketLabel(ctx, row.Market),
			Category: row.Category, Messages: row.Messages, Charged: row.Charged,
			Estimated: money(row.Currency, row.EstimatedMicros), Actual: money(row.Currency, row.ActualMicros)})
		t := totals[row.Currency]
		if t == nil {
			t = &models.SpendRow{Currency: row.Currency}
			totals[row.Currency] = t
		}
		t.Messages, t.Charged = t.Messages+row.Messages, t.Charged+row.Charged
		t.EstimatedMicros, t.ActualMicros = t.EstimatedMicros+row.EstimatedMicros, t.ActualMicros+row.ActualMicros
		key := marketLabel(ctx, row.Market) + " · " + row.Currency
		if byMarket[key] == nil {
			byMarket[key] = &bar{}
			order = append(order, key)
		}
		byMarket[key].est += row.EstimatedMicros
		byMarket[key].act += row.ActualMicros
	}
	for _, t := range totals {
		sv.Totals = append(sv.Totals, views.SpendViewRow{Messages: t.Messages, Charged: t.Charged,
			Estimated: money(t.Currency, t.EstimatedMicros), Actual: money(t.Currency, t.ActualMicros)})
	}
	sort.Slice(sv.Totals, func(i, j int) bool { return sv.Totals[i].Estimated < sv.Totals[j].Estimated })
	sort.Strings(order)
	var top int64 = 1
	for _, b := range byMarket {
		top = max(top, b.est, b.act)
	}
	for _, k := range order {
		b := byMarket[k]
		sv.Bars = append(sv.Bars, views.SpendBar{Label: k, Estimated: pricing.FormatMicros(b.est), Actual: pricing.FormatMicros(b.act),
			EstimatedW: int(b.est * 320 / top), ActualW: int(b.act * 320 / top)})
	}
	s.render(w, r, http.StatusOK, views.SpendPage(sv))
}

// marketLabel names an unknown market (a customer without a phone number) as such.
func marketLabel(ctx context.Context, market string) string {
	if market == "" {
		return views.T(ctx, "spend.unknown_market")
	}
	return market
}

// spendCSV is the month's spend as CSV, one line per channel, market and category.
func (s *Server) spendCSV(w http.ResponseWriter, r *http.Request) {
	rows, from, ok := s.spendRows(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="spend-`+from.Format("2006-01")+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"month", "channel", "market", "category", "currency", "messages", "estimated", "charged", "actual"})
	for _, row := range rows {
		_ = cw.Write([]string{from.Format("2006-01"), csvSafe(row.ChannelName), row.Market, row.Category, row.Currency,
			strconv.Itoa(row.Messages), pricing.FormatMicros(row.EstimatedMicros), strconv.Itoa(row.Charged), pricing.FormatMicros(row.ActualMicros)})
	}
	cw.Flush()
}

// csvSafe stops a spreadsheet from reading a channel name as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
