package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// Polls sends and closes polls (implemented by jobs.Polls).
type Polls interface {
	Create(ctx context.Context, req jobs.PollRequest) (*models.PollTally, error)
	Close(ctx context.Context, businessID, pollID int64, announce bool) (*models.PollTally, error)
}

// pollCreate sends the composer's poll to the thread.
func (s *Server) pollCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	t, ok := s.loadThread(w, r, v)
	if !ok {
		return
	}
	if s.opts.Polls == nil {
		s.notFound(w, r)
		return
	}
	uid := v.User.ID
	var options []string
	for _, line := range strings.Split(r.PostFormValue("options"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			options = append(options, line)
		}
	}
	_, err := s.opts.Polls.Create(r.Context(), jobs.PollRequest{BusinessID: v.BusinessID, ThreadID: t.ID, AuthorUserID: &uid,
		Question: r.PostFormValue("question"), Options: options, Multiple: r.PostFormValue("multiple") == "1"})
	if msg, ok := pollProblem(r.Context(), err); ok {
		c, cerr := s.composerView(r.Context(), v.BusinessID, t)
		if cerr != nil {
			s.serverError(w, r, cerr)
			return
		}
		c.Error = msg
		c.Poll = &views.PollDraft{Question: r.PostFormValue("question"), Options: r.PostFormValue("options"), Multiple: r.PostFormValue("multiple") == "1"}
		s.renderThreadPage(w, r, t, http.StatusUnprocessableEntity, &c)
		return
	}
	if err != nil {
		s.notFoundOrError(w, r, ignoreNotFound(err))
		return
	}
	s.sessions.Put(r.Context(), "flash", "poll.sent")
	http.Redirect(w, r, "/inbox/threads/"+views.Itoa(t.ID), http.StatusSeeOther)
}

// pollClose stops counting votes, optionally sending the results.
func (s *Server) pollClose(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok || s.opts.Polls == nil {
		s.notFound(w, r)
		return
	}
	p, err := s.opts.Polls.Close(r.Context(), v.BusinessID, id, r.PostFormValue("announce") == "1")
	if err != nil || p == nil {
		s.notFoundOrError(w, r, ignoreNotFound(err))
		return
	}
	http.Redirect(w, r, "/inbox/threads/"+views.Itoa(p.ThreadID), http.StatusSeeOther)
}

// pollProblem explains a poll the agent can fix: bad input or a refused send.
func pollProblem(ctx context.Context, err error) (string, bool) {
	var field *models.FieldError
	var refused *jobs.RefusedError
	var invalid *jobs.InvalidError
	switch {
	case errors.As(err, &field):
		return views.T(ctx, "poll.bad", fieldMessage(ctx, field)), true
	case errors.As(err, &refused):
		return views.T(ctx, "reason."+string(refused.Decision.Reason)), true
	case errors.As(err, &invalid):
		return views.T(ctx, "poll.bad", invalid.Message), true
	}
	return "", false
}
