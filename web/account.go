package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/views"
)

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.renderAccount(w, r, http.StatusOK, views.AccountView{Saved: q.Get("saved") == "1", PasswordSaved: q.Get("saved") == "password"})
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, av views.AccountView) {
	v := viewerFrom(r.Context())
	av.Page = s.page(r, views.T(r.Context(), "account.title"), "account")
	av.Email, av.Locale = v.User.Email, v.User.Locale
	s.render(w, r, status, views.Account(av))
}

// accountPassword changes the user's own password, given the current one,
// and ends every socket they have open (on every replica).
func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	if !s.throttle.allow(time.Now(), "password:"+strconv.FormatInt(v.User.ID, 10)) {
		s.renderAccount(w, r, http.StatusTooManyRequests, views.AccountView{PasswordError: "login.throttled"})
		return
	}
	u, err := s.store.UserByEmail(r.Context(), v.User.Email) // the stored hash, not the cached one
	if err != nil || u == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	if ok, err := CheckPassword(current, u.PasswordHash); err != nil || !ok {
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.renderAccount(w, r, http.StatusUnprocessableEntity, views.AccountView{PasswordError: "account.password_wrong"})
		return
	}
	if len(next) < 10 {
		s.renderAccount(w, r, http.StatusUnprocessableEntity, views.AccountView{PasswordError: "account.password_short"})
		return
	}
	hash, err := HashPassword(next, s.opts.Argon2)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.store.SetPasswordHash(r.Context(), v.User.ID, hash); err != nil {
		s.serverError(w, r, err)
		return
	}
	ms, err := s.store.Memberships(r.Context(), v.User.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, m := range ms {
		if err := s.endAccess(r.Context(), m.BusinessID, v.User.ID, ""); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/account?saved=password")
}

// accountLocale sets the language the user reads the UI in.
func (s *Server) accountLocale(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	loc := r.PostFormValue("locale")
	if loc != "en" && loc != "it" {
		s.badRequest(w, r)
		return
	}
	if err := s.store.SetLocale(r.Context(), v.User.ID, loc); err != nil {
		s.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/account?saved=1")
}
