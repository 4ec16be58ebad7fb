package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// Campaigns creates, estimates and runs campaigns (implemented by jobs.Campaigner).
type Campaigns interface {
	Create(ctx context.Context, businessID int64, in jobs.CampaignInput, by *int64) (*models.Campaign, error)
	Update(ctx context.Context, businessID, id int64, in jobs.CampaignInput) (*models.Campaign, error)
	Estimate(ctx context.Context, businessID, id int64) (*jobs.Estimate, error)
	Start(ctx context.Context, businessID, id int64) (*models.Campaign, error)
	Pause(ctx context.Context, businessID, id int64) (*models.Campaign, error)
	Resume(ctx context.Context, businessID, id int64) (*models.Campaign, error)
	Cancel(ctx context.Context, businessID, id int64) (*models.Campaign, error)
	SetBudget(ctx context.Context, businessID, id int64, budget string) (*models.Campaign, error)
	RetryFailed(ctx context.Context, businessID, id int64, by *int64) (*models.Campaign, error)
	TestSend(ctx context.Context, businessID, id, identityID int64) (*models.Message, error)
	Previews(ctx context.Context, businessID, id int64, n int) ([]jobs.Preview, error)
	PreviewDraft(ctx context.Context, businessID int64, in jobs.CampaignInput, n int) ([]jobs.Preview, error)
}

var errNoCampaigns = errors.New("campaigns are not available on this server")

// campaignRoutes registers the campaigns API (contract, part 2) and the
// admin pages (campaigns.go).
func (s *Server) campaignRoutes(mux *http.ServeMux) {
	api := func(h http.HandlerFunc) http.Handler { return s.requireToken(h) }
	mux.Handle("POST /api/v1/campaigns", api(s.apiCampaignCreate))
	mux.Handle("GET /api/v1/campaigns", api(s.apiCampaigns))
	mux.Handle("GET /api/v1/campaigns/{id}", api(s.apiCampaign))
	mux.Handle("PATCH /api/v1/campaigns/{id}", api(s.apiCampaignUpdate))
	mux.Handle("POST /api/v1/campaigns/{id}/estimate", api(s.apiCampaignEstimate))
	mux.Handle("POST /api/v1/campaigns/{id}/start", api(s.apiCampaignAction(Campaigns.Start)))
	mux.Handle("POST /api/v1/campaigns/{id}/pause", api(s.apiCampaignAction(Campaigns.Pause)))
	mux.Handle("POST /api/v1/campaigns/{id}/resume", api(s.apiCampaignAction(Campaigns.Resume)))
	mux.Handle("POST /api/v1/campaigns/{id}/cancel", api(s.apiCampaignAction(Campaigns.Cancel)))
	mux.Handle("POST /api/v1/campaigns/{id}/budget", api(s.apiCampaignBudget))
	mux.Handle("POST /api/v1/campaigns/{id}/retry-failed", api(s.apiCampaignRetry))
	mux.Handle("POST /api/v1/campaigns/{id}/test", api(s.apiCampaignTest))
	s.campaignPageRoutes(mux)
}

// apiCampaignJSON is the contract's campaign.
type apiCampaignJSON struct {
	ID           int64             `json:"id"`
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	ChannelID    int64             `json:"channel_id"`
	Template     *jobs.TemplateRef `json:"template,omitempty"`
	Text         string            `json:"text,omitempty"`
	Variables    []string          `json:"variables"`
	Audience     json.RawMessage   `json:"audience"`
	Status       string            `json:"status"`
	PausedReason string            `json:"paused_reason"`
	ScheduledAt  *time.Time        `json:"scheduled_at"`
	TimeZone     string            `json:"time_zone"`
	StartedAt    *time.Time        `json:"started_at"`
	FinishedAt   *time.Time        `json:"finished_at"`
	RatePerSec   int               `json:"rate_per_second"`
	DryRun       bool              `json:"dry_run"`
	ParentID     *int64            `json:"parent_id"`
	Counts       map[string]int64  `json:"counts"`
	Cost         map[string]string `json:"cost"`
	Budget       string            `json:"budget"`
	Currency     string            `json:"currency"`
	Revenue      string            `json:"revenue"`
}

func campaignJSON(c *models.Campaign, n models.CampaignCounts) apiCampaignJSON {
	out := apiCampaignJSON{ID: c.ID, Name: c.Name, Kind: c.Kind, ChannelID: c.ChannelID, Text: c.MessageText, Variables: c.Vars(),
		Audience: json.RawMessage(c.Audience), Status: c.Status, PausedReason: c.PausedReason, ScheduledAt: c.ScheduledAt,
		TimeZone: c.TimeZone, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt, RatePerSec: c.RatePerSecond, DryRun: c.DryRun,
		ParentID: c.ParentID, Budget: pricing.FormatMicros(c.BudgetMicros), Currency: c.Currency,
		Revenue: pricing.FormatMicros(c.RevenueMicros)}
	if out.Variables == nil {
		out.Variables = []string{}
	}
	if c.TemplateName != "" {
		out.Template = &jobs.TemplateRef{Name: c.TemplateName, Language: c.TemplateLanguage}
	}
	out.Counts = map[string]int64{"total": n.Total, "pending": n.Pending, "skipped": n.Skipped, "queued": n.Queued,
		"unknown": n.Unknown, "sent": n.Sent, "delivered": n.Delivered, "read": n.Read, "replied": n.Replied,
		"clicked": n.Clicked, "failed": n.Failed}
	out.Cost = map[string]string{"estimated": pricing.FormatMicros(n.EstimatedMicros), "actual": pricing.FormatMicros(n.ActualMicros),
		"currency": c.Currency}
	return out
}

// estimateJSON is the contract's estimate.
func estimateJSON(e *jobs.Estimate) map[string]any {
	markets := make([]map[string]any, len(e.ByMarket))
	for i, m := range e.ByMarket {
		markets[i] = map[string]any{"market": m.Market, "recipients": m.Recipients, "price": pricing.FormatMicros(m.PriceMicros),
			"total": pricing.FormatMicros(m.TotalMicros)}
	}
	return map[string]any{"recipients": e.Recipients, "skipped": e.Skipped, "unpriced": e.Unpriced, "affordable": e.Affordable,
		"category": e.Category, "cost": map[string]any{"total": pricing.FormatMicros(e.TotalMicros), "currency": e.Currency,
			"by_market": markets, "budget": pricing.FormatMicros(e.BudgetMicros), "over_budget": e.OverBudget()}}
}

// campaignError answers a campaign operation's error; false when there was none.
func (s *Server) campaignError(w http.ResponseWriter, r *http.Request, err error) bool {
	var fe *models.FieldError
	switch {
	case err == nil:
		return false
	case errors.As(err, &fe):
		writeFieldError(w, fe.Field, "invalid", fe.Message)
	case errors.Is(err, models.ErrNotFound):
		s.notFound(w, r)
	case errors.Is(err, models.ErrCampaignState):
		writeJSONError(w, http.StatusConflict, "invalid_state", "the campaign's state does not allow this now")
	case errors.Is(err, errNoCampaigns):
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	default:
		s.serverError(w, r, err)
	}
	return true
}

func (s *Server) campaignsOrFail(w http.ResponseWriter, r *http.Request) (Campaigns, bool) {
	if s.opts.Campaigns == nil {
		s.campaignError(w, r, errNoCampaigns)
		return nil, false
	}
	return s.opts.Campaigns, true
}

func decodeCampaignInput(w http.ResponseWriter, r *http.Request) (jobs.CampaignInput, bool) {
	var in jobs.CampaignInput
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSendBody))
	if err := dec.Decode(&in); err != nil || dec.Decode(&struct{}{}) != io.EOF {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the body must be one campaign object (see the contract)")
		return in, false
	}
	return in, true
}

func (s *Server) writeCampaign(w http.ResponseWriter, r *http.Request, status int, c *models.Campaign) {
	n, err := s.store.CampaignCounts(r.Context(), c.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	writeJSON(w, status, campaignJSON(c, n))
}

func (s *Server) apiCampaignCreate(w http.ResponseWriter, r *http.Request) {
	cm, ok := s.campaignsOrFail(w, r)
	if !ok {
		return
	}
	in, ok := decodeCampaignInput(w, r)
	if !ok {
		return
	}
	c, err := cm.Create(r.Context(), apiBusiness(r.Context()), in, nil)
	if s.campaignError(w, r, err) {
		return
	}
	s.writeCampaign(w, r, http.StatusCreated, c)
}

func (s *Server) apiCampaignUpdate(w http.ResponseWriter, r *http.Request) {
	cm, id, ok := s.campaignTarget(w, r)
	if !ok {
		return
	}
	in, ok := decodeCampaignInput(w, r)
	if !ok {
		return
	}
	c, err := cm.Update(r.Context(), apiBusiness(r.Context()), id, in)
	if s.campaignError(w, r, err) {
		return
	}
	s.writeCampaign(w, r, http.StatusOK, c)
}

func (s *Server) apiCampaigns(w http.ResponseWriter, r *http.Request) {
	cs, err := s.store.Campaigns(r.Context(), apiBusiness(r.Context()), 500)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	out := make([]apiCampaignJSON, len(cs))
	for i := range cs {
		n, err := s.store.CampaignCounts(r.Context(), cs[i].ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		out[i] = campaignJSON(&cs[i], n)
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": out})
}

func (s *Server) apiCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	c, err := s.store.Campaign(r.Context(), apiBusiness(r.Context()), id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if c == nil {
		s.notFound(w, r)
		return
	}
	s.writeCampaign(w, r, http.StatusOK, c)
}

func (s *Server) apiCampaignEstimate(w http.ResponseWriter, r *http.Request) {
	cm, id, ok := s.campaignTarget(w, r)
	if !ok {
		return
	}
	e, err := cm.Estimate(r.Context(), apiBusiness(r.Context()), id)
	if s.campaignError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, estimateJSON(e))
}

// apiCampaignAction answers start, pause, resume and cancel.
func (s *Server) apiCampaignAction(act func(Campaigns, context.Context, int64, int64) (*models.Campaign, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cm, id, ok := s.campaignTarget(w, r)
		if !ok {
			return
		}
		c, err := act(cm, r.Context(), apiBusiness(r.Context()), id)
		if s.campaignError(w, r, err) {
			return
		}
		s.writeCampaign(w, r, http.StatusOK, c)
	}
}

func (s *Server) apiCampaignBudget(w http.ResponseWriter, r *http.Request) {
	cm, id, ok := s.campaignTarget(w, r)
	if !ok {
		return
	}
	var body struct {
		Budget string `json:"budget"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", `the body must be {"budget":"100.00"}`)
		return
	}
	c, err := cm.SetBudget(r.Context(), apiBusiness(r.Context()), id, body.Budget)
	if s.campaignError(w, r, err) {
		return
	}
	s.writeCampaign(w, r, http.StatusOK, c)
}

func (s *Server) apiCampaignRetry(w http.ResponseWriter, r *http.Request) {
	cm, id, ok := s.campaignTarget(w, r)
	if !ok {
		return
	}
	c, err := cm.RetryFailed(r.Context(), apiBusiness(r.Context()), id, nil)
	if s.campaignError(w, r, err) {
		return
	}
	s.writeCampaign(w, r, http.StatusCreated, c)
}

func (s *Server) apiCampaignTest(w http.ResponseWriter, r *http.Request) {
	cm, id, ok := s.campaignTarget(w, r)
	if !ok {
		return
	}
	var body struct {
		IdentityID int64 `json:"identity_id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", `the body must be {"identity_id":N}`)
		return
	}
	m, err := cm.TestSend(r.Context(), apiBusiness(r.Context()), id, body.IdentityID)
	var fe *models.FieldError
	if errors.As(err, &fe) || errors.Is(err, models.ErrNotFound) {
		s.campaignError(w, r, err)
		return
	}
	if err != nil {
		s.sendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

// campaignTarget is the campaigns service and the {id} of the request, or
// false once it has answered (no service, or an id that is not a number).
func (s *Server) campaignTarget(w http.ResponseWriter, r *http.Request) (Campaigns, int64, bool) {
	cm, ok := s.campaignsOrFail(w, r)
	if !ok {
		return nil, 0, false
	}
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return nil, 0, false
	}
	return cm, id, true
}
