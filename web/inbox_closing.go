package web

import (
	"net/http"
	"strconv"

	"github.com/switchboard-inbox/switchboard/views"
)

// closingPage lists open threads by when a free reply stops being possible.
func (s *Server) closingPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	b, err := s.basics(r.Context(), v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rendered := now()
	ts, err := s.store.ClosingThreadsWithLabels(r.Context(), v.BusinessID, rendered, 100)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rows := make([]views.ThreadRow, len(ts))
	for i := range ts {
		rows[i] = threadRow(&ts[i], b.names, 0, "", rendered)
		rows[i].Href = "/inbox/threads/" + strconv.FormatInt(ts[i].ID, 10)
	}
	s.render(w, r, http.StatusOK, presized(views.Inbox(views.InboxView{
		Page: s.page(r, views.T(r.Context(), "nav.closing"), "closing"), Rows: rows, Closing: true,
		Labels: b.labels, Members: b.members, Alerts: b.alerts, IsAdmin: v.Can("admin"),
		WSURL: wsURL(views.ListFilter{}, 0, true, rendered), ListEmpty: "closing.empty",
	})))
}
