package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// campaignRetry is the report's "retry failed after 24 h": a follow-up of the
// recipients the per-user cap (131049) stopped, scheduled a day later.
func (s *Server) campaignRetry(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	if s.opts.Campaigns == nil {
		s.unavailable(w, r, errNoCampaigns)
		return
	}
	v := viewerFrom(r.Context())
	follow, err := s.opts.Campaigns.RetryFailed(r.Context(), v.BusinessID, c.ID, &v.User.ID)
	var fe *models.FieldError
	switch {
	case errors.As(err, &fe), errors.Is(err, models.ErrCampaignState):
		seeOther(w, r, campaignPath(c.ID)+"?notice=no_retry")
	case err != nil:
		s.serverError(w, r, err)
	default:
		seeOther(w, r, campaignPath(follow.ID)+"?notice=retried")
	}
}

// retryOffered: some recipients failed at the per-user cap, which a day later may pass.
func retryOffered(reasons []views.CampaignReasonOption) bool {
	for _, r := range reasons {
		if r.Failed && r.Value == strconv.Itoa(jobs.CodeUserCap) && r.N > 0 {
			return true
		}
	}
	return false
}
