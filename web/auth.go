package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// Session keys.
const (
	sessionUserID     = "user_id"
	sessionBusinessID = "business_id"
)

// Viewer is the signed-in user acting in one business.
type Viewer struct {
	User       *models.User
	BusinessID int64
	Role       string
}

// Can reports whether the viewer's role includes role (admin includes all).
func (v *Viewer) Can(role string) bool { return v.Role == models.RoleAdmin || v.Role == role }

type viewerKey struct{}

// viewerFrom returns the viewer requireUser stored, or nil.
func viewerFrom(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
}

// signInNext is where signing in returns to: the page asked for, or, for
// htmx's request from a page (a form, a pane), that page; a path, never
// another host.
func signInNext(r *http.Request) string {
	if isHTMX(r) && r.Method != http.MethodGet {
		if u, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil && strings.HasPrefix(u.Path, "/") {
			return u.RequestURI()
		}
	}
	return r.URL.RequestURI()
}

// requireUser loads the session's user and membership, or sends them to sign in.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.sessionViewer(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if v == nil {
			seeOther(w, r, "/login?next="+url.QueryEscape(signInNext(r)))
			return
		}
		ctx := context.WithValue(r.Context(), viewerKey{}, v)
		ctx = views.WithLocale(ctx, v.User.Locale)
		next.ServeHTTP(w, r.WithContext(ctx))
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// It may have changed a member, a label or a channel: the
			// next page of this business reloads them.
			s.hub.cache.invalidate(v.BusinessID)
		}
	})
}

// requireRole answers 403 unless the viewer has role (admins pass).
func (s *Server) requireRole(role string, next http.Handler) http.Handler {
	return s.requireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !viewerFrom(r.Context()).Can(role) {
			s.forbidden(w, r)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

func (s *Server) sessionViewer(r *http.Request) (*Viewer, error) {
	uid := s.sessions.GetInt64(r.Context(), sessionUserID)
	bid := s.sessions.GetInt64(r.Context(), sessionBusinessID)
	if uid == 0 || bid == 0 {
		return nil, nil
	}
	u, err := s.hub.cache.viewer(bid, uid, func() (*models.SignedIn, error) {
		return s.store.SignedInUser(r.Context(), bid, uid) // one query: user and role
	})
	if err != nil || u == nil {
		return nil, err
	}
	user := u.User // the cached value is shared; handlers get their own copy
	return &Viewer{User: &user, BusinessID: bid, Role: u.Role}, nil
}
