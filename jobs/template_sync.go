package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/adapters/whatsapp"
	"github.com/switchboard-inbox/switchboard/models"
)

// TemplateSyncInterval is how often every WhatsApp channel's templates are
// fetched again, besides connect, "Sync now" and Meta's template webhooks.
const TemplateSyncInterval = 6 * time.Hour

// TemplateSyncer makes each WhatsApp channel's templates what its WABA lists
// on Meta. The CLI, the settings page and the periodic River job share it.
type TemplateSyncer struct {
	store *models.Store
	graph whatsapp.Graph
	log   *slog.Logger
	now   func() time.Time
	// PageSize is how many templates one Graph page asks for; 0 means 100.
	PageSize int
}

// NewTemplateSyncer syncs through graph; now nil means time.Now.
func NewTemplateSyncer(store *models.Store, graph *meta.Client, log *slog.Logger, now func() time.Time) *TemplateSyncer {
	if now == nil {
		now = time.Now
	}
	return &TemplateSyncer{store: store, graph: graph, log: log, now: now}
}

// ErrNoWABA is a WhatsApp channel connected without its WABA id: it has no
// templates to sync until an admin adds it.
var ErrNoWABA = errors.New("jobs: the channel has no WhatsApp Business Account id")

// SyncChannel fetches one channel's templates. A failure is logged on the
// channel (shown in Settings → Templates) and returned; templates stay as they were.
func (s *TemplateSyncer) SyncChannel(ctx context.Context, ch *models.Channel) (models.TemplateSync, error) {
	if ch.App != models.AppWhatsApp {
		return models.TemplateSync{}, fmt.Errorf("jobs: channel %d is %s, not WhatsApp", ch.ID, ch.App)
	}
	at := s.now()
	fail := func(err error) (models.TemplateSync, error) {
		if rerr := s.store.RecordTemplateSyncFailure(ctx, ch, at, err); rerr != nil {
			return models.TemplateSync{}, errors.Join(err, rerr)
		}
		return models.TemplateSync{ChannelID: ch.ID, BusinessID: ch.BusinessID, SyncedAt: at, Error: err.Error()}, err
	}
	if ch.WABAID == "" {
		return fail(ErrNoWABA)
	}
	token, _, err := s.store.ChannelSecrets(ch)
	if err != nil {
		return models.TemplateSync{}, err
	}
	listed, err := whatsapp.FetchTemplates(ctx, s.graph, token, ch.WABAID, s.PageSize)
	if err != nil {
		return fail(err)
	}
	return s.store.ReplaceTemplates(ctx, ch, listed, at)
}

// SyncBusiness syncs every WhatsApp channel of the business and returns each
// outcome; the error joins the channels that failed.
func (s *TemplateSyncer) SyncBusiness(ctx context.Context, businessID int64) ([]models.TemplateSync, error) {
	chs, err := s.store.Channels(ctx, businessID)
	if err != nil {
		return nil, err
	}
	return s.syncEach(ctx, chs)
}

// SyncAll syncs every WhatsApp channel of every business (the periodic job).
func (s *TemplateSyncer) SyncAll(ctx context.Context) ([]models.TemplateSync, error) {
	chs, err := s.store.AllChannels(ctx, models.AppWhatsApp)
	if err != nil {
		return nil, err
	}
	return s.syncEach(ctx, chs)
}

func (s *TemplateSyncer) syncEach(ctx context.Context, chs []models.Channel) ([]models.TemplateSync, error) {
	var out []models.TemplateSync
	var errs []error
	for i := range chs {
		ch := &chs[i]
		if ch.App != models.AppWhatsApp || ch.State == models.ChannelDisabled {
			continue
		}
		res, err := s.SyncChannel(ctx, ch)
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("channel %d: %w", ch.ID, err))
		}
		out = append(out, res)
	}
	return out, errors.Join(errs...)
}

// templateSyncArgs syncs every WhatsApp channel (the periodic job).
type templateSyncArgs struct{}

func (templateSyncArgs) Kind() string { return "template_sync" }

type templateSyncWorker struct {
	river.WorkerDefaults[templateSyncArgs]
	s *TemplateSyncer
}

// Work never fails the job for Meta's answer: each channel's outcome is
// recorded for its admins, and the next run (or "Sync now") tries again.
func (w *templateSyncWorker) Work(ctx context.Context, _ *river.Job[templateSyncArgs]) error {
	res, err := w.s.SyncAll(ctx)
	if err != nil {
		w.s.log.Warn("template sync", "channels", len(res), "error", err)
	}
	return ctx.Err()
}

func (w *templateSyncWorker) Timeout(*river.Job[templateSyncArgs]) time.Duration {
	return 10 * time.Minute
}

// templateSyncPeriodic is the every-6-hours sync of all WhatsApp channels.
func templateSyncPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(TemplateSyncInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return templateSyncArgs{}, &river.InsertOpts{Queue: queueOutbound, MaxAttempts: 1,
				UniqueOpts: river.UniqueOpts{ByPeriod: TemplateSyncInterval}}
		}, nil)
}
