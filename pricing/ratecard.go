package pricing

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// MaxRateCard is the largest rate card accepted; Meta's are a few KiB.
const MaxRateCard = 1 << 20

// rateCardColumns are the columns of Meta's rate card, in order, with the
// price category of each priced column.
var rateCardColumns = []struct{ header, category string }{
	{"market", ""},
	{"currency", ""},
	{"marketing", models.CategoryMarketing},
	{"utility", models.CategoryUtility},
	{"authentication", models.CategoryAuthentication},
	{"authentication-international", models.CategoryAuthenticationInt},
	{"service", models.CategoryService},
}

// LineError is one bad line of a rate card.
type LineError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// ErrEmptyRateCard is a file with no header and no rows.
var ErrEmptyRateCard = errors.New("the file is empty")

// ParseRateCard reads Meta's rate-card CSV (quoted, possibly multi-line
// headers; "n/a" cells; one currency) into the rows of one import dated
// effectiveFrom. Any bad line makes the whole card bad: every one is reported.
func ParseRateCard(data []byte, effectiveFrom time.Time) ([]models.CountryPrice, []LineError) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // Excel's BOM
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, []LineError{{Line: 1, Message: ErrEmptyRateCard.Error()}}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	p := rateCardParser{effectiveFrom: effectiveFrom, seen: map[string]int{}}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			p.fail(line, "cannot read CSV: %v", err)
			if pe == nil {
				break
			}
			continue
		}
		p.record(line, rec)
	}
	switch {
	case !p.header && len(p.errs) == 0:
		p.fail(1, "no header row: want %s", wantHeader())
	case p.header && len(p.rows) == 0 && len(p.errs) == 0:
		p.fail(p.headerLine, "the file has a header but no markets")
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return p.rows, nil
}

type rateCardParser struct {
	effectiveFrom time.Time
	header        bool
	headerLine    int
	currency      string
	currencyLine  int
	seen          map[string]int // market → line
	rows          []models.CountryPrice
	errs          []LineError
}

func (p *rateCardParser) fail(line int, format string, args ...any) {
	p.errs = append(p.errs, LineError{Line: line, Message: fmt.Sprintf(format, args...)})
}

func (p *rateCardParser) record(line int, rec []string) {
	if blank(rec) {
		return
	}
	if !p.header {
		if isHeader(rec) {
			p.header, p.headerLine = true, line
			return
		}
		if nonEmpty(rec) <= 1 {
			return // a title or note above Meta's header
		}
		p.fail(line, "wrong or missing header: want %s", wantHeader())
		p.header = true // report it once, then check the rows anyway
		return
	}
	if len(rec) != len(rateCardColumns) {
		p.fail(line, "has %d columns, want %d", len(rec), len(rateCardColumns))
		return
	}
	market, ok := CanonicalMarket(rec[0])
	if !ok {
		p.fail(line, "unknown market %q", strings.TrimSpace(rec[0]))
		return
	}
	if first, dup := p.seen[market]; dup {
		p.fail(line, "market %q appears twice (first on line %d)", market, first)
		return
	}
	p.seen[market] = line
	currency := strings.ToUpper(strings.TrimSpace(rec[1]))
	if !isCurrency(currency) {
		p.fail(line, "currency %q is not a 3-letter ISO code", strings.TrimSpace(rec[1]))
		return
	}
	if p.currency == "" {
		p.currency, p.currencyLine = currency, line
	} else if currency != p.currency {
		p.fail(line, "currency %s differs from %s on line %d: one currency per file", currency, p.currency, p.currencyLine)
		return
	}
	var rows []models.CountryPrice
	for i, col := range rateCardColumns[2:] {
		cell := strings.TrimSpace(rec[i+2])
		row := models.CountryPrice{Market: market, Category: col.category, Currency: currency, EffectiveFrom: p.effectiveFrom}
		if strings.EqualFold(cell, "n/a") {
			row.Unavailable = true
		} else {
			micros, err := ParseMicros(cell)
			if err != nil {
				p.fail(line, "%s %s: %v", market, col.header, err)
				return
			}
			row.PriceMicros = micros
		}
		rows = append(rows, row)
	}
	p.rows = append(p.rows, rows...)
}

func isHeader(rec []string) bool {
	if len(rec) != len(rateCardColumns) {
		return false
	}
	for i, c := range rateCardColumns {
		if headerCell(rec[i]) != c.header {
			return false
		}
	}
	return true
}

// headerCell folds a header as Meta wraps it ("Authentication-\nInternational").
func headerCell(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.Join(strings.Fields(s), "")), "_", "-")
}

func wantHeader() string {
	return "Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service"
}

func blank(rec []string) bool { return nonEmpty(rec) == 0 }

func nonEmpty(rec []string) int {
	n := 0
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			n++
		}
	}
	return n
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// ParseMicros reads a non-negative decimal price ("0.0592") as integer
// millionths, exactly: no float ever touches money.
func ParseMicros(s string) (int64, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0, errors.New("empty rate")
	case strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("negative rate %q", s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if !digits(whole) || (frac != "" && !digits(frac)) || (frac == "" && strings.HasSuffix(s, ".")) {
		return 0, fmt.Errorf("rate %q is not a number", s)
	}
	if len(frac) > 6 {
		return 0, fmt.Errorf("rate %q has more than 6 decimals", s)
	}
	if len(whole) > 9 {
		return 0, fmt.Errorf("rate %q is too large", s)
	}
	frac += strings.Repeat("0", 6-len(frac))
	var n int64
	for _, c := range whole + frac {
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// FormatMicros writes millionths as the API's decimal string: at least four
// decimals, as Meta's rate cards print them ("0.0592", "1.2500").
func FormatMicros(m int64) string { return formatMicros(m, 4) }

// FormatAmount is an amount of money as people write a budget: at least 2
// decimals, more only where they count ("10.00", "1.8602").
func FormatAmount(m int64) string { return formatMicros(m, 2) }

func formatMicros(m int64, decimals int) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	s := fmt.Sprintf("%d.%06d", m/1_000_000, m%1_000_000)
	for strings.HasSuffix(s, "0") && len(s)-strings.Index(s, ".") > decimals+1 {
		s = s[:len(s)-1]
	}
	return sign + s
}
