package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// pathID reads a positive int64 path value; ok is false for anything else,
// which handlers answer with 404.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// formID reads an optional positive id from a form or query value.
func formID(v string) int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

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

// matches reports whether t belongs in a list with filter tf (all but the
// full-text query, which callers treat separately).
func matches(t *models.Thread, tf models.ThreadFilter) bool {
	if tf.Status != "" && t.Status != tf.Status {
		return false
	}
	if tf.App != "" && !contains(t.Apps, tf.App) {
		return false
	}
	switch {
	case tf.AssigneeID > 0 && (t.AssigneeID == nil || *t.AssigneeID != tf.AssigneeID):
		return false
	case tf.AssigneeID < 0 && t.AssigneeID != nil:
		return false
	}
	if tf.Unread && t.UnreadCount == 0 {
		return false
	}
	if tf.LabelID > 0 {
		found := false
		for _, l := range t.Labels {
			found = found || l.ID == tf.LabelID
		}
		return found
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// withQuery joins a path and an encoded query.
func withQuery(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}

// isHTMX reports whether htmx sent the request (it then wants a fragment).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// seeOther redirects after a form post (PRG), or tells htmx to.
func seeOther(w http.ResponseWriter, r *http.Request, to string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// now is the clock handlers read (one place to fake it if ever needed).
var now = time.Now
