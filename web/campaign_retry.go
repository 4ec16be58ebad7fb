package web

import (
	"strconv"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/views"
)

// retryOffered: some recipients failed at the per-user cap, which a day later
// may pass ("retry failed after 24 h" posts to the campaign's own retry action).
func retryOffered(reasons []views.CampaignReasonOption) bool {
	for _, r := range reasons {
		if r.Failed && r.Value == strconv.Itoa(jobs.CodeUserCap) && r.N > 0 {
			return true
		}
	}
	return false
}
