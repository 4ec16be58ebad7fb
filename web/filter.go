package web

import (
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// listFilter reads the inbox filter from the query string; unknown values
// are dropped rather than refused, so a stale link still opens.
func listFilter(r *http.Request) views.ListFilter {
	q := r.URL.Query()
	f := views.ListFilter{Cursor: q.Get("cursor")}
	if a := q.Get("app"); models.ValidApp(a) {
		f.App = a
	}
	switch st := q.Get("status"); st {
	case models.ThreadOpen, models.ThreadPending, models.ThreadSnoozed, models.ThreadClosed, "all":
		f.Status = st
	}
	switch a := q.Get("assignee"); {
	case a == "me" || a == "none":
		f.Assignee = a
	case formID(a) > 0:
		f.Assignee = a
	}
	if l := formID(q.Get("label")); l > 0 {
		f.Label = q.Get("label")
	}
	f.Unread = q.Get("unread") == "1"
	f.Q = strings.TrimSpace(q.Get("q"))
	if len(f.Q) > 200 {
		f.Q = f.Q[:200]
	}
	return f
}

// storeFilter turns the page's filter into the store's; the status
// defaults to open, "all" means any.
func storeFilter(f views.ListFilter, userID int64) models.ThreadFilter {
	tf := models.ThreadFilter{App: f.App, Status: f.Status, LabelID: formID(f.Label), Unread: f.Unread, Query: f.Q, Cursor: f.Cursor}
	switch f.Status {
	case "":
		tf.Status = models.ThreadOpen
	case "all":
		tf.Status = ""
	}
	switch f.Assignee {
	case "me":
		tf.AssigneeID = userID
	case "none":
		tf.AssigneeID = -1
	default:
		tf.AssigneeID = formID(f.Assignee)
	}
	return tf
}

// withQuery joins a path and an encoded query.
func withQuery(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}
