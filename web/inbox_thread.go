package web

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// threadPage is the inbox with one thread open; reading it clears its unread count.
func (s *Server) threadPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	t, ok := s.loadThread(w, r, v)
	if !ok {
		return
	}
	if t.UnreadCount > 0 {
		if err := s.store.MarkThreadRead(r.Context(), v.BusinessID, t.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
		t.UnreadCount = 0
	}
	s.renderThreadPage(w, r, t, http.StatusOK, nil)
}

// renderThreadPage renders the three panes; composer, when set, replaces the
// fresh composer (to show a refused send without JavaScript).
func (s *Server) renderThreadPage(w http.ResponseWriter, r *http.Request, t *models.Thread, status int, composer *views.ComposerView) {
	v := viewerFrom(r.Context())
	f := listFilter(r)
	listF := f
	listF.Cursor = "" // the list shows its first page; the cursor pages the messages
	b, err := s.basics(r.Context(), v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rendered := now()
	rows, older, err := s.inboxList(r.Context(), v, listF, b, t.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	tv, err := s.threadView(r.Context(), v, t, f.Cursor, b, listURL(listF))
	if err != nil {
		s.badCursorOrError(w, r, err)
		return
	}
	if composer != nil {
		tv.Composer = *composer
	} else if r.Method == http.MethodGet {
		tv.Composer.Notice = s.sessions.PopString(r.Context(), "flash")
		if key := s.sessions.PopString(r.Context(), "flash_error"); key != "" {
			tv.Composer.Error = views.T(r.Context(), key)
		}
	}
	s.render(w, r, status, views.Inbox(views.InboxView{
		Page: s.page(r, t.Title, "inbox"), Filter: listF, Rows: rows, OlderURL: older, Thread: tv,
		Labels: b.labels, Members: b.members, Alerts: b.alerts, IsAdmin: v.Can("admin"),
		WSURL: wsURL(listF, t.ID, false, rendered), ListEmpty: emptyKey(listF),
	}))
}

// loadThread loads the {id} thread of the viewer's business, or answers 404.
func (s *Server) loadThread(w http.ResponseWriter, r *http.Request, v *Viewer) (*models.Thread, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return nil, false
	}
	t, err := s.store.Thread(r.Context(), v.BusinessID, id)
	if err != nil || t == nil {
		s.notFoundOrError(w, r, err)
		return nil, false
	}
	return t, true
}

// notFoundOrError answers a missing (or another business's) row with 404.
func (s *Server) notFoundOrError(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.notFound(w, r)
}
