package web

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/views"
)

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	s.render(w, r, http.StatusOK, views.Account(views.AccountView{
		Page: s.page(r, views.T(r.Context(), "account.title"), "account"), Email: v.User.Email, Locale: v.User.Locale,
		Saved: r.URL.Query().Get("saved") == "1",
	}))
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
