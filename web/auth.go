package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

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

// requireUser loads the session's user and membership, or sends them to sign in.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.sessionViewer(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if v == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		ctx := context.WithValue(r.Context(), viewerKey{}, v)
		ctx = views.WithLocale(ctx, v.User.Locale)
		next.ServeHTTP(w, r.WithContext(ctx))
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
	u, err := s.store.SignedInUser(r.Context(), bid, uid) // one query: user and role
	if err != nil || u == nil {
		return nil, err
	}
	return &Viewer{User: &u.User, BusinessID: bid, Role: u.Role}, nil
}

// page builds the layout data for the viewer.
func (s *Server) page(r *http.Request, title, section string) views.Page {
	p := views.Page{Title: title, Section: section, RequestID: RequestID(r.Context())}
	if v := viewerFrom(r.Context()); v != nil {
		p.SignedIn, p.UserName, p.Role = true, v.User.Name, v.Role
		if p.UserName == "" {
			p.UserName = v.User.Email
		}
	}
	return p
}

// loginThrottle limits sign-in attempts per key (address, IP) in a window.
type loginThrottle struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	hits   map[string][]time.Time
}

func newLoginThrottle(limit int, window time.Duration) *loginThrottle {
	return &loginThrottle{limit: limit, window: window, hits: map[string][]time.Time{}}
}

// allow records an attempt for every key and says whether all are under the limit.
func (t *loginThrottle) allow(now time.Time, keys ...string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	ok := true
	for _, k := range keys {
		recent := t.hits[k][:0]
		for _, at := range t.hits[k] {
			if now.Sub(at) < t.window {
				recent = append(recent, at)
			}
		}
		if len(recent) >= t.limit {
			ok = false
		}
		t.hits[k] = append(recent, now)
	}
	if len(t.hits) > 100_000 { // bound memory under a spray of addresses
		t.hits = map[string][]time.Time{}
	}
	return ok
}

// clientIP is the connection's address; we do not trust forwarding headers.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}
