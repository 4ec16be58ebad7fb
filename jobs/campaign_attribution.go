package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard-inbox/switchboard/models"
)

// Campaign attribution reads new inbound messages in batches, apart from the
// inbound path (which stays as fast as it is), and credits the campaign that
// reached each sender last: replies, WhatsApp orders, stop words.
const (
	AttributionInterval = 2 * time.Second // how often a pass starts
	attributionBatch    = 5000            // messages read per statement
	attributionPasses   = 40              // batches per job at most: a backlog drains over several jobs
	// attributionSettle: messages younger than this are read again by the next
	// pass, so an insert committed late (with an id below the watermark) is
	// never skipped; longer than any inbound transaction.
	attributionSettle = 5 * time.Second
)

type campaignAttributionArgs struct{}

func (campaignAttributionArgs) Kind() string { return "campaign_attribution" }

type campaignAttributionWorker struct {
	river.WorkerDefaults[campaignAttributionArgs]
	store *models.Store
	log   *slog.Logger
}

func (w *campaignAttributionWorker) Work(ctx context.Context, _ *river.Job[campaignAttributionArgs]) error {
	_, err := AttributeCampaigns(ctx, w.store, attributionSettle)
	if err == nil { // the status webhooks of finished campaigns append counter rows too
		err = w.store.FoldCampaignCounts(ctx, 0, foldAbove)
	}
	if err != nil {
		w.log.Warn("campaign attribution", "error", err)
	}
	return err
}

func (w *campaignAttributionWorker) Timeout(*river.Job[campaignAttributionArgs]) time.Duration {
	return time.Minute
}

// AttributeCampaigns runs passes until the messages past the watermark are
// drained (or the bound is reached) and sums what they did.
func AttributeCampaigns(ctx context.Context, store *models.Store, settle time.Duration) (models.AttributionPass, error) {
	var total models.AttributionPass
	for range attributionPasses {
		p, err := store.AttributeCampaigns(ctx, attributionBatch, settle)
		if err != nil {
			return total, err
		}
		total.Scanned += p.Scanned
		total.Replies += p.Replies
		total.Orders += p.Orders
		total.OptOuts += p.OptOuts
		total.Campaigns = append(total.Campaigns, p.Campaigns...)
		moved := p.Watermark != total.Watermark
		total.Busy, total.Watermark = p.Busy, p.Watermark
		if p.Busy || p.Scanned < attributionBatch || !moved { // drained, or the rest is too young yet
			break
		}
	}
	return total, ctx.Err()
}

// campaignAttributionPeriodic starts a pass every AttributionInterval; one
// job at a time (a slow pass is not overtaken by the next).
func campaignAttributionPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(AttributionInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return campaignAttributionArgs{}, &river.InsertOpts{Queue: queueOutbound, MaxAttempts: 1,
				UniqueOpts: river.UniqueOpts{ByPeriod: AttributionInterval}}
		}, &river.PeriodicJobOpts{RunOnStart: true})
}
