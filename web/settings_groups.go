package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// settingsGroups shows the relay groups' settings (the leave words).
func (s *Server) settingsGroups(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	sv := s.settingsView(r, "groups")
	var err error
	if sv.LeaveWords, err = s.store.RelayLeaveWords(r.Context(), v.BusinessID); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.Settings(sv))
}

// leaveWordsSave replaces the business's leave words; bad ones re-render the form.
func (s *Server) leaveWordsSave(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	raw := r.PostFormValue("leave_words")
	err := s.store.SetRelayLeaveWords(r.Context(), v.BusinessID, strings.Split(raw, ","))
	if errors.Is(err, models.ErrBadLeaveWords) {
		sv := s.settingsView(r, "groups")
		sv.Error, sv.LeaveWords = views.T(r.Context(), "groups.leave_bad"), []string{raw}
		s.render(w, r, http.StatusUnprocessableEntity, views.Settings(sv))
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/groups?notice=settings.saved", http.StatusSeeOther)
}
