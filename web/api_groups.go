package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// groupRoutes registers the relay-group and poll endpoints of the JSON API.
func (s *Server) groupRoutes(mux *http.ServeMux) {
	api := func(h http.HandlerFunc) http.Handler { return s.requireToken(h) }
	mux.Handle("POST /api/v1/groups", api(s.apiGroupCreate))
	mux.Handle("POST /api/v1/groups/{id}/members", api(s.apiMemberAdd))
	mux.Handle("DELETE /api/v1/groups/{id}/members/{identity}", api(s.apiMemberRemove))
	mux.Handle("POST /api/v1/groups/{id}/messages", api(s.apiGroupPost))
	mux.Handle("POST /api/v1/threads/{id}/polls", api(s.apiPollCreate))
	mux.Handle("GET /api/v1/polls/{id}", api(s.apiPoll))
	mux.Handle("POST /api/v1/polls/{id}/close", api(s.apiPollClose))
}

// decodeBody reads one JSON object into dst, answering 400 otherwise.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSendBody))
	if err := dec.Decode(dst); err != nil || dec.Decode(&struct{}{}) != io.EOF {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the body must be one JSON object")
		return false
	}
	return true
}

// groupError maps relay-group errors onto the contract.
func (s *Server) groupError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, models.ErrTooFewMembers):
		writeFieldError(w, "identity_ids", "too_few_members", "a relay group needs at least 2 customers")
	case errors.Is(err, models.ErrInAnotherGroup):
		writeJSONError(w, http.StatusConflict, "in_another_group", err.Error()+"; remove them from it first")
	case errors.Is(err, models.ErrNotFound), errors.Is(err, models.ErrNotRelayGroup):
		s.notFound(w, r)
	default:
		s.sendError(w, r, err)
	}
}

func (s *Server) apiGroupCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Title       string  `json:"title"`
		IdentityIDs []int64 `json:"identity_ids"`
	}
	if s.opts.Groups == nil || !decodeBody(w, r, &body) {
		writeUnavailable(w, s.opts.Groups == nil)
		return
	}
	t, err := s.opts.Groups.CreateGroup(r.Context(), apiBusiness(r.Context()), nil, body.Title, body.IdentityIDs)
	if err != nil {
		s.groupError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) apiMemberAdd(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IdentityID int64 `json:"identity_id"`
	}
	groupID, ok := pathID(r, "id")
	if s.opts.Groups == nil || !decodeBody(w, r, &body) {
		writeUnavailable(w, s.opts.Groups == nil)
		return
	}
	if !ok {
		s.notFound(w, r)
		return
	}
	biz := apiBusiness(r.Context())
	if err := s.opts.Groups.AddMember(r.Context(), biz, groupID, body.IdentityID, nil); err != nil {
		s.groupError(w, r, err)
		return
	}
	s.writeThread(w, r, biz, groupID, http.StatusOK)
}

func (s *Server) apiMemberRemove(w http.ResponseWriter, r *http.Request) {
	groupID, ok1 := pathID(r, "id")
	identityID, ok2 := pathID(r, "identity")
	switch {
	case s.opts.Groups == nil:
		writeUnavailable(w, true)
		return
	case !ok1 || !ok2:
		s.notFound(w, r)
		return
	}
	biz := apiBusiness(r.Context())
	if err := s.opts.Groups.RemoveMember(r.Context(), biz, groupID, identityID, nil); err != nil {
		s.groupError(w, r, err)
		return
	}
	s.writeThread(w, r, biz, groupID, http.StatusOK)
}

// apiGroupPost is a message to the whole group: 201 with its legs, each
// queued or refused with the policy's reason for that member.
func (s *Server) apiGroupPost(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text string `json:"text"`
	}
	groupID, ok := pathID(r, "id")
	if s.opts.Groups == nil || !decodeBody(w, r, &body) {
		writeUnavailable(w, s.opts.Groups == nil)
		return
	}
	if !ok {
		s.notFound(w, r)
		return
	}
	m, legs, ok := s.postToGroup(w, r, apiBusiness(r.Context()), groupID, body.Text)
	if ok {
		writeJSON(w, http.StatusCreated, map[string]any{"message": m, "legs": legs})
	}
}

// apiLeg is one leg of a group message in the API: queued (status) or refused.
type apiLeg struct {
	IdentityID int64  `json:"identity_id"`
	App        string `json:"app"`
	Status     string `json:"status"`
	Refusal    string `json:"refusal"`
}

// postToGroup sends text to every member of a relay group and loads its
// legs; on false the error has been written.
func (s *Server) postToGroup(w http.ResponseWriter, r *http.Request, biz, groupID int64, text string) (*models.Message, []apiLeg, bool) {
	m, err := s.opts.Groups.Post(r.Context(), biz, groupID, nil, text)
	var invalid *jobs.InvalidError
	switch {
	case errors.As(err, &invalid):
		writeFieldError(w, "text", "invalid_request", invalid.Message)
		return nil, nil, false
	case err != nil:
		s.groupError(w, r, err)
		return nil, nil, false
	}
	legs, err := s.store.RelayLegsFor(r.Context(), biz, []int64{m.ID})
	if err != nil {
		s.serverError(w, r, err)
		return nil, nil, false
	}
	out := []apiLeg{}
	for _, l := range legs[m.ID] {
		out = append(out, apiLeg{IdentityID: l.IdentityID, App: l.App, Status: l.Status, Refusal: l.Refusal})
	}
	return m, out, true
}

// apiThreadGroupSend is POST /api/v1/threads/{id}/messages on a relay group:
// the group's own send (text only), answered with the Message and its legs.
func (s *Server) apiThreadGroupSend(w http.ResponseWriter, r *http.Request, biz, groupID int64, body *apiSendBody) {
	if body.Template != nil || len(body.Attachments) > 0 || len(body.QuickReplies) > 0 || body.OTNRequest != nil ||
		body.UseOTN || body.List != nil || body.Tag != "" || body.HumanAgent || body.ReplyToID != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request",
			"a relay group takes text only: each member's leg is judged and sent on their own app")
		return
	}
	m, legs, ok := s.postToGroup(w, r, biz, groupID, body.Text)
	if ok {
		writeJSON(w, http.StatusCreated, struct {
			*models.Message
			Legs []apiLeg `json:"legs"`
		}{m, legs})
	}
}

func (s *Server) writeThread(w http.ResponseWriter, r *http.Request, businessID, id int64, status int) {
	t, err := s.store.Thread(r.Context(), businessID, id)
	if err != nil || t == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	writeJSON(w, status, t)
}

// writeUnavailable answers 503 when the feature is not wired; otherwise the
// caller already answered.
func writeUnavailable(w http.ResponseWriter, unavailable bool) {
	if unavailable {
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", "relay groups and polls are not configured on this server")
	}
}
