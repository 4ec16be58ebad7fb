package web

import (
	"context"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// TemplateSync fetches a WhatsApp channel's templates from Meta (jobs.TemplateSyncer).
type TemplateSync interface {
	SyncChannel(ctx context.Context, ch *models.Channel) (models.TemplateSync, error)
}

// syncBudget bounds a sync an admin waits for ("Sync now", connecting a channel).
const syncBudget = 30 * time.Second

func (s *Server) settingsTemplates(w http.ResponseWriter, r *http.Request) {
	notice := ""
	if n := r.URL.Query().Get("notice"); n == "templates.synced" {
		notice = n
	}
	s.renderTemplates(w, r, http.StatusOK, notice, "")
}

func (s *Server) renderTemplates(w http.ResponseWriter, r *http.Request, status int, notice, errMsg string) {
	v := viewerFrom(r.Context())
	ctx := r.Context()
	chs, err := s.store.Channels(ctx, v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ts, err := s.store.Templates(ctx, v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	syncs, err := s.store.TemplateSyncs(ctx, v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	tv := views.TemplatesView{Page: s.page(r, views.T(ctx, "settings.templates"), "settings"), Notice: notice, Error: errMsg,
		CanSync: s.templates != nil}
	for _, ch := range chs {
		if ch.App != models.AppWhatsApp {
			continue
		}
		tc := views.TemplateChannel{Channel: ch}
		if sy, ok := syncs[ch.ID]; ok {
			tc.Sync = &sy
		}
		for _, t := range ts {
			if t.ChannelID == ch.ID {
				tc.Templates = append(tc.Templates, t)
			}
		}
		tv.Channels = append(tv.Channels, tc)
	}
	s.render(w, r, status, views.TemplatesPage(tv))
}

// templatesSync is "Sync now": fetch one channel's templates while the admin waits.
func (s *Server) templatesSync(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	ch, err := s.store.Channel(r.Context(), v.BusinessID, id)
	if err != nil || ch == nil || ch.App != models.AppWhatsApp {
		s.notFoundOrError(w, r, err)
		return
	}
	if s.templates == nil {
		s.renderTemplates(w, r, http.StatusServiceUnavailable, "", views.T(r.Context(), "templates.sync_unavailable"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), syncBudget)
	defer cancel()
	if _, err := s.templates.SyncChannel(ctx, ch); err != nil {
		// Recorded on the channel by the syncer; the page shows it.
		s.log.Warn("template sync", "channel_id", ch.ID, "error", err, "request_id", RequestID(r.Context()))
		s.renderTemplates(w, r, http.StatusBadGateway, "", views.T(r.Context(), "templates.sync_failed_long", err.Error()))
		return
	}
	seeOther(w, r, "/settings/templates?notice=templates.synced")
}

// syncOnConnect fetches a newly connected WhatsApp channel's templates. A
// failure is recorded for Settings → Templates; connecting still succeeds.
func (s *Server) syncOnConnect(ctx context.Context, ch *models.Channel) {
	if s.templates == nil || ch.App != models.AppWhatsApp || ch.WABAID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, syncBudget)
	defer cancel()
	if _, err := s.templates.SyncChannel(ctx, ch); err != nil {
		s.log.Warn("template sync on connect", "channel_id", ch.ID, "error", err)
	}
}
