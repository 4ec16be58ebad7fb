package inbound

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
)

// Profiles fills in the names of Messenger and Instagram customers, whose
// webhooks carry only an id, from Meta's User Profile API — outside the
// ingest transaction, so a slow Graph call never holds up webhooks.
type Profiles struct {
	store *models.Store
	graph *meta.Client
	log   *slog.Logger
	tried map[int64]time.Time // identities whose lookup failed, retried after an hour
}

// NewProfiles looks profiles up through graph.
func NewProfiles(store *models.Store, graph *meta.Client, log *slog.Logger) *Profiles {
	return &Profiles{store: store, graph: graph, log: log, tried: map[int64]time.Time{}}
}

// Run looks for nameless identities every few seconds until ctx ends.
func (p *Profiles) Run(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		if _, err := p.FetchMissing(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("profiles: lookup pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// FetchMissing names up to 20 recent nameless identities and reports how many it named.
func (p *Profiles) FetchMissing(ctx context.Context) (int, error) {
	rows, err := p.store.NamelessIdentities(ctx, 40)
	if err != nil {
		return 0, err
	}
	named := 0
	for _, row := range rows {
		if at, ok := p.tried[row.ID]; ok && time.Since(at) < time.Hour {
			continue
		}
		if named == 20 || ctx.Err() != nil {
			break
		}
		ch, err := p.store.Channel(ctx, row.BusinessID, row.ChannelID)
		if err != nil || ch == nil {
			return named, err
		}
		token, _, err := p.store.ChannelSecrets(ch)
		if err != nil {
			return named, err
		}
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		prof, err := p.graph.GetProfile(callCtx, token, row.ExternalID, row.App == models.AppInstagram)
		cancel()
		if err != nil || prof.DisplayName() == "" {
			p.tried[row.ID] = time.Now()
			continue
		}
		if err := p.store.SetIdentityProfile(ctx, &row.Identity, prof.DisplayName(), prof.Username, prof.ProfilePic); err != nil {
			return named, err
		}
		named++
	}
	return named, nil
}
