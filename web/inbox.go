package web

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/views"
)

// inboxPage is the list with no thread open.
func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	f := listFilter(r)
	b, err := s.basics(r.Context(), v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rendered := now()
	rows, older, err := s.inboxList(r.Context(), v, f, b, 0)
	if err != nil {
		s.badCursorOrError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.Inbox(views.InboxView{
		Page: s.page(r, views.T(r.Context(), "nav.inbox"), "inbox"), Filter: f, Rows: rows, OlderURL: older,
		Labels: b.labels, Members: b.members, Alerts: b.alerts, IsAdmin: v.Can("admin"),
		WSURL: wsURL(f, 0, false, rendered), ListEmpty: emptyKey(f),
	}))
}

func emptyKey(f views.ListFilter) string {
	if f == (views.ListFilter{}) {
		return "list.empty_all"
	}
	return "list.empty"
}

// badCursorOrError answers a tampered cursor with 400 and anything else with 500.
func (s *Server) badCursorOrError(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil && err.Error() == "bad cursor" {
		s.badRequest(w, r)
		return
	}
	s.serverError(w, r, err)
}
