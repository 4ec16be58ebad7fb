package web

import (
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// threadPage is the inbox with one thread open; reading it clears its
// unread count. The thread, the list and the thread's messages, notes and
// contacts come in one round trip. A click on a row of an inbox already on
// screen (paneRequest) gets the thread's pane alone: the list is not read.
func (s *Server) threadPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	b, err := s.basics(r.Context(), v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	f, listF := threadPageFilters(r)
	if _, _, err := models.DecodeCursor(f.Cursor); f.Cursor != "" && err != nil {
		s.badRequest(w, r) // a tampered messages cursor
		return
	}
	pane := paneRequest(r)
	rendered := now()
	rb := s.store.NewReadBatch()
	thread := rb.ThreadsWithLabels(v.BusinessID, []int64{id})
	var page *models.ThreadPage
	if !pane {
		page = rb.InboxThreads(v.BusinessID, storeFilter(listF, v.User.ID))
	}
	load := queueThreadView(rb, v.BusinessID, id, f.Cursor)
	load.restock = rb.RestockOptions(v.BusinessID, id, restockPicker)
	if err := rb.Send(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(*thread) == 0 {
		s.notFound(w, r) // another business's thread too
		return
	}
	t := &(*thread)[0]
	if t.UnreadCount > 0 {
		if err := s.store.MarkThreadRead(r.Context(), v.BusinessID, t.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
		t.UnreadCount = 0
		if !pane {
			if page, err = s.readThreadInList(r, v, listF, page, t.ID); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
	}
	s.respondThreadPage(w, r, t, b, f, listF, rendered, page, load, http.StatusOK, nil)
}

// paneRequest reports whether r opens a thread in an inbox already on
// screen: htmx asks for the thread pane (views.paneLinks). A history
// restore asks for the whole page.
func paneRequest(r *http.Request) bool {
	return r.Method == http.MethodGet && isHTMX(r) && r.Header.Get("HX-Target") == "thread-pane" &&
		r.Header.Get("HX-History-Restore-Request") != "true"
}

// readThreadInList brings a list page loaded before the thread was marked
// read up to date: the row shows no unread count, and a list of unread
// threads, which it has left, is read again.
func (s *Server) readThreadInList(r *http.Request, v *Viewer, listF views.ListFilter, page *models.ThreadPage, threadID int64) (*models.ThreadPage, error) {
	if listF.Unread {
		return s.store.InboxThreads(r.Context(), v.BusinessID, storeFilter(listF, v.User.ID))
	}
	for i := range page.Threads {
		if page.Threads[i].ID == threadID {
			page.Threads[i].UnreadCount = 0
		}
	}
	return page, nil
}

// threadPageFilters are the page's filter (whose cursor pages the messages)
// and its list's (the first page).
func threadPageFilters(r *http.Request) (f, listF views.ListFilter) {
	f = listFilter(r)
	listF = f
	listF.Cursor = ""
	return f, listF
}

// renderThreadPage renders the three panes for a loaded thread; composer,
// when set, replaces the fresh composer (to show a refused send without
// JavaScript).
func (s *Server) renderThreadPage(w http.ResponseWriter, r *http.Request, t *models.Thread, status int, composer *views.ComposerView) {
	v := viewerFrom(r.Context())
	f, listF := threadPageFilters(r)
	b, err := s.basics(r.Context(), v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rendered := now()
	// The list and the thread's messages, notes and contacts: one round trip.
	rb := s.store.NewReadBatch()
	page := rb.InboxThreads(v.BusinessID, storeFilter(listF, v.User.ID))
	load := queueThreadView(rb, v.BusinessID, t.ID, f.Cursor)
	load.restock = rb.RestockOptions(v.BusinessID, t.ID, restockPicker)
	if err := rb.Send(r.Context()); err != nil {
		s.badCursorOrError(w, r, err) // only the messages' cursor can be bad: the list's is cleared
		return
	}
	s.respondThreadPage(w, r, t, b, f, listF, rendered, page, load, status, composer)
}

// respondThreadPage renders the thread page from what was loaded.
func (s *Server) respondThreadPage(w http.ResponseWriter, r *http.Request, t *models.Thread, b *businessBasics,
	f, listF views.ListFilter, rendered time.Time, page *models.ThreadPage, load threadViewLoad, status int, composer *views.ComposerView) {
	v := viewerFrom(r.Context())
	tv, err := s.buildThreadView(r.Context(), load, v, t, b, listURL(listF))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	tv.Restock = s.restockAction(t, load.restock)
	if composer != nil {
		tv.Composer = *composer
	} else if r.Method == http.MethodGet {
		if err := s.pickedTemplate(r, t, &tv.Composer); err != nil { // composer_template.go
			s.serverError(w, r, err)
			return
		}
		tv.Composer.Notice = s.sessions.PopString(r.Context(), "flash")
		if key := s.sessions.PopString(r.Context(), "flash_error"); key != "" {
			tv.Composer.Error = views.T(r.Context(), key)
		}
	}
	// One URL, two bodies: a cache must not answer one with the other.
	w.Header().Add("Vary", "HX-Request, HX-Target")
	if page == nil {
		s.render(w, r, status, views.ThreadPaneSwap(views.ThreadPaneSwapView{
			Title: t.Title, Thread: *tv, WSURL: wsURL(listF, t.ID, false, rendered),
			Row: openedRow(t, listF, v, b, rendered),
		}))
		return
	}
	rows, older := listRows(page, listF, b, t.ID)
	s.render(w, r, status, presized(views.Inbox(views.InboxView{
		Page: s.page(r, t.Title, "inbox"), Filter: listF, Rows: rows, OlderURL: older, Thread: tv,
		Labels: b.labels, Members: b.members, Alerts: b.alerts, IsAdmin: v.Can("admin"),
		WSURL: wsURL(listF, t.ID, false, rendered), ListEmpty: emptyKey(listF),
	})))
}

// openedRow is the row of thread t, just opened in place, for the list on
// screen: current and read; nil when t no longer belongs in that list (it
// left a list of unread threads), which then drops it.
func openedRow(t *models.Thread, listF views.ListFilter, v *Viewer, b *businessBasics, at time.Time) *views.ThreadRow {
	row := threadRow(t, b.names, t.ID, listF.Values(false).Encode(), at)
	row.OOB = "true"
	if listF.Q == "" && !matches(t, storeFilter(listF, v.User.ID)) {
		row.OOB = "delete"
	}
	return &row
}

// restockPicker is how many products the thread page's restock picker lists.
const restockPicker = 200

// loadThread loads the {id} thread of the viewer's business with its
// participants and labels, or answers 404.
func (s *Server) loadThread(w http.ResponseWriter, r *http.Request, v *Viewer) (*models.Thread, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return nil, false
	}
	t, err := s.store.ThreadWithLabels(r.Context(), v.BusinessID, id)
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
