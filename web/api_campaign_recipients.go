package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// apiRecipientsPage bounds one JSON page of recipients.
const apiRecipientsPage = 1000

// apiCampaignRecipient is the contract's recipient.
type apiCampaignRecipient struct {
	ID         int64             `json:"id"`
	IdentityID *int64            `json:"identity_id"`
	Status     string            `json:"status"`
	SkipReason string            `json:"skip_reason"`
	Error      *apiCampaignError `json:"error"`
	Price      string            `json:"price"`
	Currency   string            `json:"currency"`
	SentAt     *time.Time        `json:"sent_at"`
	Delivered  *time.Time        `json:"delivered_at"`
	ReadAt     *time.Time        `json:"read_at"`
	RepliedAt  *time.Time        `json:"replied_at"`
	ClickedAt  *time.Time        `json:"clicked_at"`
	OrderedAt  *time.Time        `json:"ordered_at"`
	Revenue    string            `json:"revenue"`
}

type apiCampaignError struct {
	Code  int32  `json:"code"`
	Title string `json:"title"`
}

// apiCampaignRecipients is GET /api/v1/campaigns/{id}/recipients?status=&reason=&cursor=:
// JSON pages in id order, or with Accept: text/csv the whole export.
func (s *Server) apiCampaignRecipients(w http.ResponseWriter, r *http.Request) {
	if wantsCSV(r) {
		s.apiCampaignRecipientsCSV(w, r)
		return
	}
	ctx := r.Context()
	id, ok := pathID(r, "id")
	if !ok {
		writeJSONError(w, http.StatusNotFound, "not_found", "no such campaign")
		return
	}
	c, err := s.store.Campaign(ctx, apiBusiness(ctx), id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if c == nil {
		writeJSONError(w, http.StatusNotFound, "not_found", "no such campaign")
		return
	}
	q := r.URL.Query()
	f := models.RecipientFilter{Status: q.Get("status"), Reason: q.Get("reason")}
	if f.Status != "" && !validRecipientStatus(f.Status) {
		writeFieldError(w, "status", "invalid", "unknown status")
		return
	}
	after, _ := strconv.ParseInt(q.Get("cursor"), 10, 64)
	rows, err := s.store.CampaignRecipientRows(ctx, c.BusinessID, c.ID, f, after, apiRecipientsPage+1)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var next any
	if len(rows) > apiRecipientsPage {
		rows = rows[:apiRecipientsPage]
		next = strconv.FormatInt(rows[len(rows)-1].ID, 10)
	}
	out := make([]apiCampaignRecipient, len(rows))
	for i, row := range rows {
		out[i] = apiCampaignRecipient{ID: row.ID, IdentityID: row.IdentityID, Status: row.Status, SkipReason: row.SkipReason,
			Price: pricing.FormatMicros(row.PriceMicros), Currency: row.Currency, SentAt: row.SentAt, Delivered: row.DeliveredAt,
			ReadAt: row.ReadAt, RepliedAt: row.RepliedAt, ClickedAt: row.ClickedAt, OrderedAt: row.OrderedAt,
			Revenue: pricing.FormatMicros(row.RevenueMicros)}
		if row.ErrorCode != nil || row.ErrorTitle != "" {
			out[i].Error = &apiCampaignError{Title: row.ErrorTitle}
			if row.ErrorCode != nil {
				out[i].Error.Code = *row.ErrorCode
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"recipients": out, "next_cursor": next})
}
