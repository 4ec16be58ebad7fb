package web

import (
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/views"
)

func (s *Server) settingsTokens(w http.ResponseWriter, r *http.Request) {
	s.renderTokens(w, r, http.StatusOK, s.settingsView(r, "tokens"))
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, sv views.SettingsView) {
	v := viewerFrom(r.Context())
	var err error
	if sv.Tokens, err = s.store.APITokens(r.Context(), v.BusinessID); err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // the new token is on this page once
	s.render(w, r, status, views.Settings(sv))
}

// tokenCreate makes an API token and shows it this once (no redirect, so
// it is never in a URL or the history).
func (s *Server) tokenCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 80 {
		s.badRequest(w, r)
		return
	}
	create := s.store.CreateAPIToken
	person := r.PostFormValue("person") == "1"
	if person {
		create = s.store.CreatePersonAPIToken
	}
	token, t, err := create(r.Context(), v.BusinessID, name)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	uid := v.User.ID
	if err := s.store.Audit(r.Context(), v.BusinessID, &uid, "api_token.create", "api_token", t.ID, nil, map[string]any{"name": name, "person": person}); err != nil {
		s.serverError(w, r, err)
		return
	}
	sv := s.settingsView(r, "tokens")
	sv.NewToken = token
	s.renderTokens(w, r, http.StatusCreated, sv)
}

// tokenRevoke stops one of the business's tokens from working.
func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	ts, err := s.store.APITokens(r.Context(), v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	found := false
	for _, t := range ts {
		found = found || t.ID == id
	}
	if !found {
		s.notFound(w, r)
		return
	}
	if err := s.store.RevokeAPIToken(r.Context(), v.BusinessID, id); err != nil {
		s.serverError(w, r, err)
		return
	}
	uid := v.User.ID
	if err := s.store.Audit(r.Context(), v.BusinessID, &uid, "api_token.revoke", "api_token", id, nil, nil); err != nil {
		s.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/settings/tokens?notice=settings.saved")
}
