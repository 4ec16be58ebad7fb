package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/models"
)

type apiTokenKey struct{}

// apiBusiness is the business of the request's bearer token.
func apiBusiness(ctx context.Context) int64 {
	if t, _ := ctx.Value(apiTokenKey{}).(*models.APIToken); t != nil {
		return t.BusinessID
	}
	return 0
}

// apiPerson reports whether the request's token is a person's (an admin
// made it so); every other token is software.
func apiPerson(ctx context.Context) bool {
	t, _ := ctx.Value(apiTokenKey{}).(*models.APIToken)
	return t != nil && t.Person
}

// requireToken authenticates the JSON API by bearer token; every handler
// behind it scopes its queries to the token's business.
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
			writeJSONError(w, http.StatusUnauthorized, "unauthorized", "missing bearer token")
			return
		}
		t, err := s.store.APITokenByToken(r.Context(), strings.TrimSpace(token))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if t == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard", error="invalid_token"`)
			writeJSONError(w, http.StatusUnauthorized, "unauthorized", "invalid or revoked token")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), apiTokenKey{}, t)))
	})
}
