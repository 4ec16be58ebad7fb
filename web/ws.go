package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// wsConnect upgrades GET /ws for a signed-in agent. The page's open thread
// and filter come in the query; a thread of another business answers 404
// before any upgrade. The handler returns once the reader runs.
func (s *Server) wsConnect(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	q := r.URL.Query()
	view := clientView{filter: listFilter(r), closing: q.Get("closing") == "1"}
	view.tf = storeFilter(view.filter, v.User.ID)
	view.inserts = !view.closing && view.filter.Cursor == "" && view.filter.Q == ""
	if raw := q.Get("thread"); raw != "" {
		id := formID(raw)
		t, err := s.store.Thread(r.Context(), v.BusinessID, id)
		if err != nil || t == nil || id == 0 {
			s.notFoundOrError(w, r, err)
			return
		}
		view.threadID = id
	}
	since := time.Time{}
	if ms, err := strconv.ParseInt(q.Get("since"), 10, 64); err == nil {
		since = time.UnixMilli(ms)
	}
	conn, ok := s.upgrade(w, r)
	if !ok {
		return
	}
	c := &wsClient{
		conn: conn, businessID: v.BusinessID, userID: v.User.ID, locale: v.User.Locale, admin: v.Can(models.RoleAdmin), view: view,
		session: sessionDigest(s.sessions.Token(r.Context())),
	}
	s.hub.add(c)
	go s.readPump(c)
	if s.hub.missed(v.BusinessID, since) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		defer cancel()
		s.resync(ctx, c)
	}
}

// endAccess closes a member's sockets on every replica (through NOTIFY)
// and at once on this one: their sign-in, role or membership changed, and a
// socket keeps what it was opened with. session limits it to one session's.
func (s *Server) endAccess(ctx context.Context, businessID, userID int64, session string) error {
	s.hub.cache.invalidate(businessID) // a reconnecting socket must see the new role, not a cached one
	s.hub.revoke(businessID, userID, session)
	return s.store.Notify(ctx, models.Event{Type: models.EventAccess, BusinessID: businessID, UserID: userID, Session: session})
}

// sessionDigest names a session without its token, which stays secret.
func sessionDigest(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:16])
}

type hijackError struct{}

func (hijackError) Error() string { return "web: response writer cannot be hijacked" }

var errNoHijack error = hijackError{}

// hijacker finds the connection's own writer under the middleware's wrappers
// (gorilla/websocket v1.5.3 needs http.Hijacker and does not unwrap).
func hijacker(w http.ResponseWriter) (http.ResponseWriter, bool) {
	for {
		if _, ok := w.(http.Hijacker); ok {
			return w, true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil, false
		}
		w = u.Unwrap()
	}
}
