package web

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/models"
)

// apiThreads is GET /api/v1/threads?app=&status=&q=&cursor=, newest activity first.
func (s *Server) apiThreads(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := models.ThreadFilter{App: q.Get("app"), Status: q.Get("status"), Query: q.Get("q"), Cursor: q.Get("cursor")}
	if f.App != "" && !models.ValidApp(f.App) {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "app must be messenger, instagram or whatsapp")
		return
	}
	switch f.Status {
	case "", models.ThreadOpen, models.ThreadPending, models.ThreadSnoozed, models.ThreadClosed:
	default:
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "status must be open, pending, snoozed or closed")
		return
	}
	if f.Cursor != "" {
		if _, _, err := models.DecodeCursor(f.Cursor); err != nil {
			writeJSONError(w, http.StatusBadRequest, "invalid_request", "bad cursor")
			return
		}
	}
	page, err := s.store.ListThreads(r.Context(), apiBusiness(r.Context()), f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.store.LoadThreadLabels(r.Context(), apiBusiness(r.Context()), page.Threads); err != nil {
		s.serverError(w, r, err)
		return
	}
	if page.Threads == nil {
		page.Threads = []models.Thread{}
	}
	writeJSON(w, http.StatusOK, struct {
		Threads    []models.Thread `json:"threads"`
		NextCursor *string         `json:"next_cursor"`
	}{page.Threads, nullable(page.NextCursor)})
}

// apiThread is GET /api/v1/threads/{id}.
func (s *Server) apiThread(w http.ResponseWriter, r *http.Request) {
	t, ok := s.apiLoadThread(w, r)
	if !ok {
		return
	}
	ts := []models.Thread{*t}
	if err := s.store.LoadThreadLabels(r.Context(), t.BusinessID, ts); err != nil {
		s.serverError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ts[0])
}

// apiMessages is GET /api/v1/threads/{id}/messages?cursor=, oldest first.
func (s *Server) apiMessages(w http.ResponseWriter, r *http.Request) {
	t, ok := s.apiLoadThread(w, r)
	if !ok {
		return
	}
	cursor := r.URL.Query().Get("cursor")
	if cursor != "" {
		if _, _, err := models.DecodeCursor(cursor); err != nil {
			writeJSONError(w, http.StatusBadRequest, "invalid_request", "bad cursor")
			return
		}
	}
	page, err := s.store.Messages(r.Context(), t.BusinessID, t.ID, cursor, 50)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if page.Messages == nil {
		page.Messages = []models.Message{}
	}
	writeJSON(w, http.StatusOK, struct {
		Messages   []models.Message `json:"messages"`
		NextCursor *string          `json:"next_cursor"`
	}{page.Messages, nullable(page.NextCursor)})
}

func (s *Server) apiLoadThread(w http.ResponseWriter, r *http.Request) (*models.Thread, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return nil, false
	}
	t, err := s.store.Thread(r.Context(), apiBusiness(r.Context()), id)
	if err != nil || t == nil {
		s.notFoundOrError(w, r, err)
		return nil, false
	}
	return t, true
}

// apiContact is GET /api/v1/contacts/{id} with the contact's identities.
func (s *Server) apiContact(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	c, err := s.store.Contact(r.Context(), apiBusiness(r.Context()), id)
	if err != nil || c == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	if c.Identities == nil {
		c.Identities = []models.Identity{}
	}
	writeJSON(w, http.StatusOK, c)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
