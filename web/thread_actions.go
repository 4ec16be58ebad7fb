package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

func threadURL(id int64) string { return "/inbox/threads/" + views.Itoa(id) }

// threadStatus moves a thread to open, pending, snoozed (until a time) or closed.
func (s *Server) threadStatus(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	st := r.PostFormValue("status")
	u := models.ThreadUpdate{Status: &st}
	switch st {
	case models.ThreadOpen, models.ThreadPending, models.ThreadClosed:
	case models.ThreadSnoozed:
		until, ok := snoozeUntil(r)
		if !ok {
			s.sessions.Put(r.Context(), "flash_error", "thread.bad_snooze")
			seeOther(w, r, threadURL(id))
			return
		}
		u.SnoozedUntil = &until
	default:
		s.badRequest(w, r)
		return
	}
	s.updateThread(w, r, v, id, u)
}

// snoozeUntil reads the snooze end: app.js sends it as RFC 3339 with the
// browser's offset; a bare datetime-local value is taken as UTC.
func snoozeUntil(r *http.Request) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, r.PostFormValue("snoozed_until_utc")); err == nil {
		return t, t.After(now())
	}
	t, err := time.Parse("2006-01-02T15:04", r.PostFormValue("snoozed_until"))
	return t, err == nil && t.After(now())
}

// threadAssign gives the thread to a member of the business, or to nobody.
func (s *Server) threadAssign(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	var assignee *int64
	if uid := formID(r.PostFormValue("assignee_id")); uid > 0 {
		m, err := s.store.Membership(r.Context(), v.BusinessID, uid)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if m == nil {
			s.badRequest(w, r)
			return
		}
		assignee = &uid
	}
	s.updateThread(w, r, v, id, models.ThreadUpdate{AssigneeID: &assignee})
}

func (s *Server) updateThread(w http.ResponseWriter, r *http.Request, v *Viewer, id int64, u models.ThreadUpdate) {
	s.backToThread(w, r, id, s.store.UpdateThread(r.Context(), v.BusinessID, id, u))
}

// backToThread answers a change to thread id: 404 for another business's
// thread, 500 for a failure, else back to the thread.
func (s *Server) backToThread(w http.ResponseWriter, r *http.Request, id int64, err error) {
	switch {
	case errors.Is(err, models.ErrNotFound):
		s.notFound(w, r)
	case err != nil:
		s.serverError(w, r, err)
	default:
		seeOther(w, r, threadURL(id))
	}
}

// threadLabels sets the thread's labels, creating a new one if named.
func (s *Server) threadLabels(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.badRequest(w, r)
		return
	}
	var ids []int64
	for _, l := range r.PostForm["label"] {
		if lid := formID(l); lid > 0 {
			ids = append(ids, lid)
		}
	}
	if name := strings.TrimSpace(r.PostFormValue("new_label")); name != "" && len(name) <= 40 {
		l, err := s.store.CreateLabel(r.Context(), v.BusinessID, name)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		ids = append(ids, l.ID)
	}
	s.backToThread(w, r, id, s.store.SetThreadLabels(r.Context(), v.BusinessID, id, ids))
}

// threadRead marks a thread read for an agent who has it on screen when a
// customer's message arrives (app.js asks, while the page is in view): the
// unread count goes to zero in every agent's list, as opening it does. An
// id of another business's thread changes nothing and says nothing.
func (s *Server) threadRead(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := s.store.MarkThreadRead(r.Context(), v.BusinessID, id); err != nil {
		s.serverError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// noteAdd saves a private note; it is never sent to the customer.
func (s *Server) noteAdd(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	body := strings.TrimSpace(r.PostFormValue("body"))
	if body == "" || len(body) > 10_000 {
		s.badRequest(w, r)
		return
	}
	n, err := s.store.AddNote(r.Context(), v.BusinessID, id, v.User.ID, body)
	if err != nil || n == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	seeOther(w, r, threadURL(id))
}

// messageRetry re-queues a failed send, or sends an unknown one again (the
// outbox checks the policy again).
func (s *Server) messageRetry(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	m, err := s.store.Message(r.Context(), v.BusinessID, id)
	if err != nil || m == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	if s.outbox == nil {
		s.sessions.Put(r.Context(), "flash_error", "composer.unavailable")
		seeOther(w, r, threadURL(m.ThreadID))
		return
	}
	if _, err := s.outbox.Retry(r.Context(), v.BusinessID, id); err != nil {
		key, ok := refusalKey(err)
		if !ok {
			s.serverError(w, r, err)
			return
		}
		s.sessions.Put(r.Context(), "flash_error", key)
	} else {
		s.sessions.Put(r.Context(), "flash", "msg.retried")
	}
	seeOther(w, r, threadURL(m.ThreadID))
}
