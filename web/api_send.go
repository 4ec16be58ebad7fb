package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// maxSendBody caps a send request; the longest Meta text is a few KB.
const maxSendBody = 64 << 10

// sendRoutes registers the policy and send endpoints.
func (s *Server) sendRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/threads/{id}/policy", s.requireToken(http.HandlerFunc(s.apiThreadPolicy)))
	mux.Handle("POST /api/v1/threads/{id}/messages", s.requireToken(http.HandlerFunc(s.apiSendMessage)))
}

// apiSendBody is the contract's POST body, plus a few optional extensions.
type apiSendBody struct {
	Text         string                   `json:"text"`
	Template     *jobs.TemplateRequest    `json:"template"`
	Attachments  []jobs.AttachmentRequest `json:"attachments"`
	HumanAgent   bool                     `json:"human_agent"`
	QuickReplies []string                 `json:"quick_replies"`
	OTNRequest   *jobs.OTNRequest         `json:"otn_request"`
	UseOTN       bool                     `json:"use_otn"`
	ReplyToID    *int64                   `json:"reply_to_id"`
	List         *jobs.ListRequest        `json:"list"`
	Tag          string                   `json:"tag"`
	Automated    bool                     `json:"automated"` // composed by the caller's software, not typed by a person
	Proactive    bool                     `json:"proactive"`
	Promotional  bool                     `json:"promotional"`
}

// apiSendMessage queues a message: 201 with it (status queued), 422 with the
// policy's reason code, 400 for a request that can never be sent as written.
func (s *Server) apiSendMessage(w http.ResponseWriter, r *http.Request) {
	if s.outbox == nil {
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", "sending is not configured on this server")
		return
	}
	threadID, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	var body apiSendBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSendBody))
	if err := dec.Decode(&body); err != nil || dec.Decode(&struct{}{}) != io.EOF {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the body must be one JSON object")
		return
	}
	// Software (any token not made a person's) is automated whatever the
	// body says, and HUMAN_AGENT is a person's reply only.
	automated := body.Automated || !apiPerson(r.Context())
	if automated && (body.HumanAgent || strings.EqualFold(body.Tag, string(policy.TagHumanAgent))) {
		writeJSONError(w, http.StatusUnprocessableEntity, "human_agent_automated",
			"HUMAN_AGENT is only for a reply a person typed: this token is software or the send is automated (an admin can create a person token in Settings → API tokens)")
		return
	}
	if s.opts.Groups != nil {
		t, err := s.store.Thread(r.Context(), apiBusiness(r.Context()), threadID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if t != nil && t.Origin == "relay" {
			s.apiThreadGroupSend(w, r, t.BusinessID, t.ID, &body) // api_groups.go
			return
		}
	}
	msg, err := s.outbox.Send(r.Context(), jobs.SendRequest{
		BusinessID: apiBusiness(r.Context()), ThreadID: threadID, Automated: automated,
		Text: body.Text, HumanAgent: body.HumanAgent, Template: body.Template, Attachments: body.Attachments,
		QuickReplies: body.QuickReplies, OTNRequest: body.OTNRequest, UseOTN: body.UseOTN, ReplyToID: body.ReplyToID,
		List: body.List, Tag: body.Tag, Proactive: body.Proactive, Promotional: body.Promotional,
	})
	if err != nil {
		s.sendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, msg)
}

// sendError maps the outbox's errors onto the contract.
func (s *Server) sendError(w http.ResponseWriter, r *http.Request, err error) {
	var refused *jobs.RefusedError
	var invalid *jobs.InvalidError
	switch {
	case errors.As(err, &refused):
		d := refused.Decision
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"error":    map[string]string{"code": string(d.Reason), "message": d.Reason.Explain()},
			"decision": d,
		})
	case errors.As(err, &invalid):
		writeJSONError(w, http.StatusBadRequest, "invalid_request", invalid.Message)
	case errors.Is(err, models.ErrNotFound):
		s.notFound(w, r)
	default:
		s.serverError(w, r, err)
	}
}

// apiThreadPolicy answers what an agent may send now: one Decision per
// customer participant.
func (s *Server) apiThreadPolicy(w http.ResponseWriter, r *http.Request) {
	if s.outbox == nil {
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", "sending is not configured on this server")
		return
	}
	threadID, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	ds, err := s.outbox.Decisions(r.Context(), apiBusiness(r.Context()), threadID)
	if err != nil {
		s.sendError(w, r, err)
		return
	}
	if ds == nil {
		ds = []policy.Decision{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"decisions": ds})
}
