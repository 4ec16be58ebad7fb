package web

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/models"
)

// apiTemplates is GET /api/v1/templates: every WhatsApp template of the
// business as Meta last reported it (deleted ones included, with that status).
func (s *Server) apiTemplates(w http.ResponseWriter, r *http.Request) {
	ts, err := s.store.Templates(r.Context(), apiBusiness(r.Context()))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if ts == nil {
		ts = []models.WATemplate{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": ts})
}
