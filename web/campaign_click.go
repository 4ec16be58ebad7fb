package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// campaignClick is a tracked link of a campaign message: BASE_URL/c/{token}.
// The token names a recipient and a variable slot, signed; the target is that
// variable of the campaign as stored, so the redirect can only ever lead where
// the campaign's author pointed it. The first click of a recipient is counted.
func (s *Server) campaignClick(w http.ResponseWriter, r *http.Request) {
	recipientID, slot, err := s.store.Cipher().ParseCampaignClickToken(r.PathValue("token"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	t, err := s.store.CampaignClickTarget(r.Context(), recipientID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if t == nil {
		http.NotFound(w, r)
		return
	}
	target, ok := campaignLinkTarget(t.Variables, slot)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if _, err := s.store.RecordCampaignClick(r.Context(), recipientID, time.Now()); err != nil {
		s.log.Error("campaign click: unable to record", "recipient", recipientID, "error", err)
	}
	w.Header().Set("Cache-Control", "no-store") // every click reaches us; only the first counts
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusFound)
}

// campaignLinkTarget is the URL of the tracked link ({link:https://…}, as the
// campaign's author wrote it) in the campaign's variable slot, or false.
func campaignLinkTarget(variables []byte, slot int) (string, bool) {
	var vars []string
	if json.Unmarshal(variables, &vars) != nil || slot < 0 || slot >= len(vars) {
		return "", false
	}
	_, rest, ok := strings.Cut(vars[slot], "{link:")
	if !ok {
		return "", false
	}
	link, _, ok := strings.Cut(rest, "}")
	if !ok {
		return "", false
	}
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", false
	}
	return u.String(), true
}
