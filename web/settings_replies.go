package web

import (
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/views"
)

func (s *Server) settingsReplies(w http.ResponseWriter, r *http.Request) {
	s.renderReplies(w, r, http.StatusOK, s.settingsView(r, "replies"))
}

func (s *Server) renderReplies(w http.ResponseWriter, r *http.Request, status int, sv views.SettingsView) {
	v := viewerFrom(r.Context())
	var err error
	if sv.Canned, err = s.store.CannedResponses(r.Context(), v.BusinessID); err != nil {
		s.serverError(w, r, err)
		return
	}
	if sv.Labels, err = s.store.Labels(r.Context(), v.BusinessID); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, views.Settings(sv))
}

// cannedCreate saves a reply agents insert with /shortcut.
func (s *Server) cannedCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	if err := s.store.SaveCannedResponse(r.Context(), v.BusinessID, r.PostFormValue("shortcut"), r.PostFormValue("body")); err != nil {
		sv := s.settingsView(r, "replies")
		sv.Error = err.Error()
		s.renderReplies(w, r, http.StatusUnprocessableEntity, sv)
		return
	}
	seeOther(w, r, "/settings/replies?notice=settings.saved")
}

func (s *Server) cannedDelete(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := s.store.DeleteCannedResponse(r.Context(), v.BusinessID, id); err != nil {
		s.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/settings/replies?notice=settings.saved")
}

func (s *Server) labelCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 40 {
		s.badRequest(w, r)
		return
	}
	if _, err := s.store.CreateLabel(r.Context(), v.BusinessID, name); err != nil {
		s.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/settings/replies?notice=settings.saved")
}

func (s *Server) labelDelete(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := s.store.DeleteLabel(r.Context(), v.BusinessID, id); err != nil {
		s.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/settings/replies?notice=settings.saved")
}
