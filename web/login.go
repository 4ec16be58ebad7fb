package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(views.WithLocale(r.Context(), browserLocale(r)))
	s.render(w, r, http.StatusOK, views.Login(s.page(r, views.T(r.Context(), "login.submit"), ""), views.LoginForm{Next: safeNext(r.URL.Query().Get("next"))}))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(views.WithLocale(r.Context(), browserLocale(r)))
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	password := r.PostFormValue("password")
	form := views.LoginForm{Email: email, Next: safeNext(r.PostFormValue("next"))}
	if !s.throttle.allow(time.Now(), "email:"+email, "ip:"+s.clientIP(r)) {
		form.Error = "login.throttled"
		s.render(w, r, http.StatusTooManyRequests, views.Login(s.page(r, views.T(r.Context(), "login.submit"), ""), form))
		return
	}
	u, err := s.store.UserByEmail(r.Context(), email)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// An unknown address costs the same argon2id work, so timing does not reveal accounts.
	hash := s.dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := CheckPassword(password, hash)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ok = ok && u != nil
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
		s.render(w, r, http.StatusUnauthorized, views.Login(s.page(r, views.T(r.Context(), "login.submit"), ""), form))
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
	uid := s.sessions.GetInt64(r.Context(), sessionUserID)
	bid := s.sessions.GetInt64(r.Context(), sessionBusinessID)
	session := sessionDigest(s.sessions.Token(r.Context()))
	if err := s.sessions.Destroy(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	if uid != 0 && bid != 0 {
		if err := s.endAccess(r.Context(), bid, uid, session); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps post-login redirects on our own site: a path of ours with
// no scheme and no host, and nothing a browser would strip or reinterpret
// into one (control characters, spaces, backslashes).
func safeNext(next string) string {
	if strings.ContainsFunc(next, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' || unicode.IsControl(r) }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil ||
		!strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}

// home sends each role to where its day starts.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if viewerFrom(r.Context()).Role == models.RoleStaff {
		http.Redirect(w, r, "/products", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
}

// browserLocale picks Italian for signed-out pages when the browser prefers it.
func browserLocale(r *http.Request) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "it") {
		return "it"
	}
	return "en"
}
