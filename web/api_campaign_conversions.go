package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// apiCampaignConversion records a sale the shop's system attributes to a
// campaign: POST /api/v1/campaigns/{id}/conversions
// {"identity_id" or "phone", "amount":"12.50", "currency":"EUR", "external_id"}.
// Posting the same external_id again is answered 200 and counted once.
func (s *Server) apiCampaignConversion(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	biz := apiBusiness(ctx)
	id, ok := pathID(r, "id")
	if !ok {
		http.NotFound(w, r)
		return
	}
	c, err := s.store.Campaign(ctx, biz, id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if c == nil {
		writeJSONError(w, http.StatusNotFound, "not_found", "no such campaign")
		return
	}
	body, ok := decodeObject(w, r)
	if !ok {
		return
	}
	conv, field, msg := conversionInput(body)
	if field != "" {
		writeFieldError(w, field, "invalid", msg)
		return
	}
	conv.CampaignID = c.ID
	created, err := s.store.RecordConversion(ctx, biz, conv)
	switch {
	case errors.Is(err, models.ErrNotRecipient):
		f := "identity_id"
		if conv.IdentityID == 0 {
			f = "phone"
		}
		writeFieldError(w, f, "not_recipient", "the campaign was not sent to this customer")
		return
	case errors.Is(err, models.ErrConversionConflict):
		writeJSONError(w, http.StatusConflict, "duplicate", "this external_id was recorded with another amount")
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"campaign_id": c.ID, "external_id": conv.ExternalID, "created": created,
		"amount": pricing.FormatMicros(conv.AmountMicros), "currency": conv.Currency, "counted": strings.EqualFold(conv.Currency, c.Currency)})
}

// conversionInput reads the body; field names the bad input.
func conversionInput(body map[string]json.RawMessage) (c models.Conversion, field, msg string) {
	str := func(key string) (string, bool) {
		raw, ok := body[key]
		if !ok {
			return "", true
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return "", false
		}
		return strings.TrimSpace(v), true
	}
	if raw, ok := body["identity_id"]; ok && json.Unmarshal(raw, &c.IdentityID) != nil {
		return c, "identity_id", "identity_id must be a number"
	}
	var ok bool
	if c.Phone, ok = str("phone"); !ok {
		return c, "phone", "phone must be a string"
	}
	if c.IdentityID <= 0 && c.Phone == "" {
		return c, "identity_id", "identity_id or phone is required"
	}
	if c.Phone != "" && (!strings.HasPrefix(c.Phone, "+") || len(c.Phone) < 8) {
		return c, "phone", "phone must be E.164, e.g. +393331234567"
	}
	amount, ok := str("amount")
	if !ok || amount == "" {
		return c, "amount", `amount is required, as a decimal string ("12.50")`
	}
	var err error
	if c.AmountMicros, err = pricing.ParseMicros(amount); err != nil {
		return c, "amount", `amount must be a non-negative decimal string ("12.50")`
	}
	if c.Currency, ok = str("currency"); !ok || len(c.Currency) != 3 {
		return c, "currency", "currency must be a three-letter code"
	}
	c.Currency = strings.ToUpper(c.Currency)
	if c.ExternalID, ok = str("external_id"); !ok || c.ExternalID == "" || len(c.ExternalID) > 200 {
		return c, "external_id", "external_id is required (at most 200 characters)"
	}
	c.At = time.Now()
	return c, "", ""
}
