package web

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// csvPage is how many recipients one query of the export reads.
const csvPage = 5000

// campaignRecipientsCSV is the report's download: GET /campaigns/{id}/recipients.csv?status=&reason=.
func (s *Server) campaignRecipientsCSV(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	s.writeRecipientsCSV(w, r, c)
}

// apiCampaignRecipientsCSV is GET /api/v1/campaigns/{id}/recipients with Accept: text/csv.
func (s *Server) apiCampaignRecipientsCSV(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		writeJSONError(w, http.StatusNotFound, "not_found", "no such campaign")
		return
	}
	c, err := s.store.Campaign(r.Context(), apiBusiness(r.Context()), id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if c == nil {
		writeJSONError(w, http.StatusNotFound, "not_found", "no such campaign")
		return
	}
	s.writeRecipientsCSV(w, r, c)
}

// wantsCSV is a request that asks for the CSV form of a list.
func wantsCSV(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/csv")
}

var recipientCSVHeader = []string{"recipient_id", "identity_id", "name", "phone", "country", "market", "status", "skip_reason",
	"error_code", "error_title", "price", "actual_price", "currency", "queued_at", "sent_at", "delivered_at", "read_at",
	"replied_at", "clicked_at", "ordered_at", "failed_at", "revenue"}

// writeRecipientsCSV streams the campaign's recipients, filtered by status and reason, page by page.
func (s *Server) writeRecipientsCSV(w http.ResponseWriter, r *http.Request, c *models.Campaign) {
	q := r.URL.Query()
	f := models.RecipientFilter{Status: q.Get("status"), Reason: q.Get("reason")}
	if f.Status != "" && !validRecipientStatus(f.Status) {
		if wantsJSON(r) {
			writeFieldError(w, "status", "invalid", "unknown status")
		} else {
			s.badRequest(w, r)
		}
		return
	}
	ctx := r.Context()
	rows, err := s.store.CampaignRecipientRows(ctx, c.BusinessID, c.ID, f, 0, csvPage)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="campaign-`+strconv.FormatInt(c.ID, 10)+`-recipients.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(recipientCSVHeader)
	for {
		for _, row := range rows {
			_ = cw.Write(recipientCSVRecord(row))
		}
		cw.Flush()
		if len(rows) < csvPage || cw.Error() != nil {
			break
		}
		if rows, err = s.store.CampaignRecipientRows(ctx, c.BusinessID, c.ID, f, rows[len(rows)-1].ID, csvPage); err != nil {
			s.log.Error("campaign csv: stopped", "campaign", c.ID, "error", err) // the status line has gone: the file ends short
			return
		}
	}
}

func recipientCSVRecord(r models.RecipientRow) []string {
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	id := ""
	if r.IdentityID != nil {
		id = strconv.FormatInt(*r.IdentityID, 10)
	}
	code := ""
	if r.ErrorCode != nil {
		code = strconv.Itoa(int(*r.ErrorCode))
	}
	actual := ""
	if r.ActualMicros != nil {
		actual = pricing.FormatMicros(*r.ActualMicros)
	}
	return []string{strconv.FormatInt(r.ID, 10), id, csvText(r.Name), csvPhone(r.Phone), r.Country, csvText(r.Market), r.Status,
		r.SkipReason, code, csvText(r.ErrorTitle), pricing.FormatMicros(r.PriceMicros), actual, r.Currency,
		at(r.QueuedAt), at(r.SentAt), at(r.DeliveredAt), at(r.ReadAt), at(r.RepliedAt), at(r.ClickedAt), at(r.OrderedAt),
		at(r.FailedAt), pricing.FormatMicros(r.RevenueMicros)}
}

// csvText keeps a customer's text from running as a formula in a
// spreadsheet (=, +, -, @, tab, CR start one); encoding/csv does the quoting.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvPhone leaves an E.164 number as it is; anything else is text.
func csvPhone(s string) string {
	if len(s) > 1 && s[0] == '+' && strings.Trim(s[1:], "0123456789") == "" {
		return s
	}
	return csvText(s)
}
