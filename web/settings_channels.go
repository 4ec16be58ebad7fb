package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

func (s *Server) settingsChannels(w http.ResponseWriter, r *http.Request) {
	s.renderChannels(w, r, http.StatusOK, s.settingsView(r, "channels"))
}

func (s *Server) renderChannels(w http.ResponseWriter, r *http.Request, status int, sv views.SettingsView) {
	v := viewerFrom(r.Context())
	var err error
	if sv.Channels, err = s.store.Channels(r.Context(), v.BusinessID); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, views.Settings(sv))
}

// channelCreate connects an account; secrets are sealed by the store.
func (s *Server) channelCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	n := models.NewChannel{
		BusinessID:  v.BusinessID,
		App:         r.PostFormValue("app"),
		AccountID:   strings.TrimSpace(r.PostFormValue("account_id")),
		Name:        strings.TrimSpace(r.PostFormValue("name")),
		WABAID:      strings.TrimSpace(r.PostFormValue("waba_id")),
		AccessToken: strings.TrimSpace(r.PostFormValue("access_token")),
		AppSecret:   strings.TrimSpace(r.PostFormValue("app_secret")),
		VerifyToken: strings.TrimSpace(r.PostFormValue("verify_token")),
		HumanAgent:  r.PostFormValue("human_agent") == "1",
	}
	if n.VerifyToken == "" {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		n.VerifyToken = base64.RawURLEncoding.EncodeToString(b)
	}
	sv := s.settingsView(r, "channels")
	sv.Form = map[string]string{"app": n.App, "account_id": n.AccountID, "name": n.Name, "waba_id": n.WABAID, "verify_token": n.VerifyToken}
	if err := n.Validate(); err != nil {
		sv.Error = err.Error()
		s.renderChannels(w, r, http.StatusUnprocessableEntity, sv)
		return
	}
	if ch, err := s.store.ChannelByAccount(r.Context(), n.App, n.AccountID); err != nil || ch != nil {
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		sv.Error = "This account is already connected."
		s.renderChannels(w, r, http.StatusConflict, sv)
		return
	}
	ch, err := s.store.CreateChannel(r.Context(), n)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.syncOnConnect(r.Context(), ch)
	seeOther(w, r, "/settings/channels?notice=channels.connected")
}

// channelToken re-authorises a channel with a new access token.
func (s *Server) channelToken(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	ch, err := s.store.Channel(r.Context(), v.BusinessID, id)
	if err != nil || ch == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("access_token"))
	if token == "" {
		s.badRequest(w, r)
		return
	}
	if err := s.store.UpdateChannelToken(r.Context(), v.BusinessID, id, token); err != nil {
		s.serverError(w, r, err)
		return
	}
	// Tell open inboxes the alert is gone.
	if err := s.store.Notify(r.Context(), models.Event{Type: "channel", BusinessID: v.BusinessID}); err != nil {
		s.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/settings/channels?notice=settings.saved")
}
