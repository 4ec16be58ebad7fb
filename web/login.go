package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/views"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, views.Login(s.page(r, "Sign in", ""), views.LoginForm{Next: safeNext(r.URL.Query().Get("next"))}))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	password := r.PostFormValue("password")
	form := views.LoginForm{Email: email, Next: safeNext(r.PostFormValue("next"))}
	if !s.throttle.allow(time.Now(), "email:"+email, "ip:"+clientIP(r)) {
		form.Error = "login.throttled"
		s.render(w, r, http.StatusTooManyRequests, views.Login(s.page(r, "Sign in", ""), form))
		return
	}
	u, err := s.store.UserByEmail(r.Context(), email)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ok := false
	if u != nil {
		if ok, err = CheckPassword(password, u.PasswordHash); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	var businessID int64
	if ok {
		ms, err := s.store.Memberships(r.Context(), u.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if len(ms) > 0 {
			businessID = ms[0].BusinessID
		}
	}
	if !ok || businessID == 0 {
		form.Error = "login.invalid"
		s.render(w, r, http.StatusUnauthorized, views.Login(s.page(r, "Sign in", ""), form))
		return
	}
	// A new token at sign-in defeats session fixation.
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.sessions.Put(r.Context(), sessionUserID, u.ID)
	s.sessions.Put(r.Context(), sessionBusinessID, businessID)
	http.Redirect(w, r, form.Next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.Destroy(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps post-login redirects on our own site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
}
