package web

import (
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

func (s *Server) settingsUsers(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, http.StatusOK, s.settingsView(r, "users"))
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, sv views.SettingsView) {
	v := viewerFrom(r.Context())
	var err error
	if sv.Members, err = s.store.Members(r.Context(), v.BusinessID); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, views.Settings(sv))
}

// userCreate adds a person to the business with a role.
func (s *Server) userCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	name := strings.TrimSpace(r.PostFormValue("name"))
	password, role := r.PostFormValue("password"), r.PostFormValue("role")
	sv := s.settingsView(r, "users")
	sv.Form = map[string]string{"email": email, "name": name}
	if !strings.Contains(email, "@") || len(password) < 10 || !models.ValidRole(role) {
		sv.Error = views.T(r.Context(), "users.bad")
		s.renderUsers(w, r, http.StatusUnprocessableEntity, sv)
		return
	}
	if u, err := s.store.UserByEmail(r.Context(), email); err != nil || u != nil {
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		sv.Error = views.T(r.Context(), "users.exists")
		s.renderUsers(w, r, http.StatusConflict, sv)
		return
	}
	hash, err := HashPassword(password, s.opts.Argon2)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if _, err := s.store.CreateUser(r.Context(), v.BusinessID, email, name, hash, role); err != nil {
		s.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/settings/users?notice=users.added")
}

// userRole changes another member's role (never one's own, so an admin
// cannot lock the business out by accident).
func (s *Server) userRole(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	role := r.PostFormValue("role")
	if !models.ValidRole(role) || id == v.User.ID {
		s.badRequest(w, r)
		return
	}
	m, err := s.store.Membership(r.Context(), v.BusinessID, id)
	if err != nil || m == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	if err := s.store.SetRole(r.Context(), v.BusinessID, id, role); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.endAccess(r.Context(), v.BusinessID, id, ""); err != nil {
		s.serverError(w, r, err)
		return
	}
	uid := v.User.ID
	if err := s.store.Audit(r.Context(), v.BusinessID, &uid, "user.role", "user", id, map[string]string{"role": m.Role}, map[string]string{"role": role}); err != nil {
		s.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/settings/users?notice=settings.saved")
}

// userRemove takes another member out of the business (never oneself) and
// ends their open sockets here.
func (s *Server) userRemove(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if id == v.User.ID {
		s.badRequest(w, r)
		return
	}
	m, err := s.store.Membership(r.Context(), v.BusinessID, id)
	if err != nil || m == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	if err := s.store.RemoveMember(r.Context(), v.BusinessID, id); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.endAccess(r.Context(), v.BusinessID, id, ""); err != nil {
		s.serverError(w, r, err)
		return
	}
	uid := v.User.ID
	if err := s.store.Audit(r.Context(), v.BusinessID, &uid, "user.remove", "user", id, map[string]string{"role": m.Role}, nil); err != nil {
		s.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/settings/users?notice=users.removed")
}
