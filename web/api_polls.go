package web

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// apiPollView is the contract's Poll.
type apiPollView struct {
	ID       int64           `json:"id"`
	ThreadID int64           `json:"thread_id"`
	Question string          `json:"question"`
	Multiple bool            `json:"multiple"`
	Closed   bool            `json:"closed"`
	Options  []apiPollOption `json:"options"`
	Voters   int             `json:"voters"`
}

// apiPollOption is one option; index is the number a customer replies with.
type apiPollOption struct {
	Index int            `json:"index"`
	Text  string         `json:"text"`
	Votes int            `json:"votes"`
	ByApp map[string]int `json:"by_app"`
}

func pollJSON(p *models.PollTally) apiPollView {
	v := apiPollView{ID: p.ID, ThreadID: p.ThreadID, Question: p.Question, Multiple: p.Multiple, Closed: p.Closed(),
		Voters: p.Voters, Options: []apiPollOption{}}
	for i, o := range p.Options {
		v.Options = append(v.Options, apiPollOption{Index: o.Position, Text: o.Text, Votes: p.Counts[i], ByApp: p.ByApp[i]})
	}
	return v
}

// apiPollCreate sends a poll to every customer of the thread: 201 Poll.
func (s *Server) apiPollCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Question string   `json:"question"`
		Options  []string `json:"options"`
		Multiple bool     `json:"multiple"`
	}
	threadID, ok := pathID(r, "id")
	if s.opts.Polls == nil || !decodeBody(w, r, &body) {
		writeUnavailable(w, s.opts.Polls == nil)
		return
	}
	if !ok {
		s.notFound(w, r)
		return
	}
	p, err := s.opts.Polls.Create(r.Context(), jobs.PollRequest{BusinessID: apiBusiness(r.Context()), ThreadID: threadID,
		Question: body.Question, Options: body.Options, Multiple: body.Multiple})
	var field *models.FieldError
	switch {
	case errors.As(err, &field):
		writeFieldError(w, field.Field, "invalid_poll", field.Message)
		return
	case err != nil:
		s.sendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, pollJSON(p))
}

func (s *Server) apiPoll(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	p, err := s.store.Poll(r.Context(), apiBusiness(r.Context()), id)
	if err != nil || p == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pollJSON(p))
}

// apiPollClose stops counting; body {"announce":true} sends the results.
func (s *Server) apiPollClose(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Announce bool `json:"announce"`
	}
	id, ok := pathID(r, "id")
	switch {
	case s.opts.Polls == nil:
		writeUnavailable(w, true)
		return
	case !ok:
		s.notFound(w, r)
		return
	case r.ContentLength != 0 && !decodeBody(w, r, &body):
		return
	}
	p, err := s.opts.Polls.Close(r.Context(), apiBusiness(r.Context()), id, body.Announce)
	if err != nil {
		s.sendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pollJSON(p))
}
