package web

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/models"

	"github.com/switchboard-inbox/switchboard/views"
)

func (s *Server) settingsHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/settings/channels", http.StatusSeeOther)
}

// settingsView starts the view of one settings tab.
func (s *Server) settingsView(r *http.Request, tab string) views.SettingsView {
	v := viewerFrom(r.Context())
	return views.SettingsView{
		Page: s.page(r, views.T(r.Context(), "settings."+tab), "settings"), Tab: tab, BaseURL: s.opts.BaseURL,
		SelfUserID: v.User.ID, Notice: noticeKey(r.URL.Query().Get("notice")),
	}
}

// noticeKey admits only the notices the settings pages send after a redirect.
func noticeKey(n string) string {
	switch n {
	case "settings.saved", "channels.connected", "users.added", "users.removed", "webhooks.replayed":
		return n
	}
	return ""
}

func (s *Server) settingsWebhooks(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	sv := s.settingsView(r, "webhooks")
	var err error
	if sv.Webhooks, err = s.store.WebhookLog(r.Context(), v.BusinessID, 100); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.Settings(sv))
}

// webhookReplay queues a payload with a failed event of this business to be
// applied again (after a fix); what already landed is not stored twice.
func (s *Server) webhookReplay(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := s.store.ReplayWebhook(r.Context(), v.BusinessID, id); errors.Is(err, models.ErrNotFound) {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	if s.opts.Wake != nil {
		s.opts.Wake()
	}
	http.Redirect(w, r, "/settings/webhooks?notice=webhooks.replayed", http.StatusSeeOther)
}
