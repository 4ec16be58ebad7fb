package web

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// Restock is how the web side changes stock and runs restocks (implemented
// by jobs.Restocker): every stock change goes through it.
type Restock interface {
	SetStock(ctx context.Context, businessID int64, sku string, stock int, by *int64) (*models.StockChange, error)
	Import(ctx context.Context, businessID int64, rows []models.ImportRow, by *int64) (*models.ImportResult, error)
	Rerun(ctx context.Context, businessID int64, sku string, by *int64) (*models.RestockRun, error)
	Preview(ctx context.Context, businessID int64, p *models.Product, entries []models.WaitlistEntry) (*jobs.RestockPreview, error)
}

// LineError is one bad line of a CSV import.
type LineError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// maxImportRows bounds one CSV import.
const maxImportRows = 10000

// parseProductCSV reads `sku,name,stock[,url,image_url]` (an optional header
// line first). Any bad line makes the whole import fail: errors lists them all.
func parseProductCSV(r io.Reader) ([]models.ImportRow, []LineError) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord, cr.TrimLeadingSpace = -1, true
	var rows []models.ImportRow
	var errs []LineError
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			errs = append(errs, LineError{line, "not valid CSV"})
			break
		}
		if len(rows) == 0 && len(errs) == 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "sku") {
			continue // the header
		}
		if len(rows)+len(errs) >= maxImportRows {
			errs = append(errs, LineError{line, fmt.Sprintf("at most %d products per import", maxImportRows)})
			break
		}
		row, msg := importRow(rec)
		if msg == "" {
			if prev, dup := seen[row.SKU]; dup {
				msg = fmt.Sprintf("SKU %s is already on line %d", row.SKU, prev)
			}
		}
		if msg != "" {
			errs = append(errs, LineError{line, msg})
			continue
		}
		seen[row.SKU] = line
		rows = append(rows, models.ImportRow{Line: line, Input: row})
	}
	if len(rows) == 0 && len(errs) == 0 {
		errs = append(errs, LineError{1, "no products in the file"})
	}
	return rows, errs
}

// importRow reads one record; msg says what is wrong with it.
func importRow(rec []string) (models.ProductInput, string) {
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	if len(rec) < 3 || len(rec) > 5 {
		return models.ProductInput{}, fmt.Sprintf("expected sku,name,stock[,url,image_url], got %d columns", len(rec))
	}
	stock, err := strconv.Atoi(rec[2])
	if err != nil {
		return models.ProductInput{}, fmt.Sprintf("stock %q is not a whole number", rec[2])
	}
	in := models.ProductInput{SKU: rec[0], Name: rec[1], Stock: stock}
	if len(rec) > 3 {
		in.URL, in.HasURL = rec[3], true
	}
	if len(rec) > 4 {
		in.ImageURL, in.HasImageURL = rec[4], true
	}
	if err := in.Validate(); err != nil {
		return in, err.Error()
	}
	return in, ""
}
