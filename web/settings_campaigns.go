package web

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-inbox/switchboard/views"
)

// The stop words an admin may keep: enough for several languages' "stop".
const (
	maxStopWords   = 30
	maxStopWordLen = 40
)

// settingsCampaigns shows the campaigns' settings (the stop words).
func (s *Server) settingsCampaigns(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	sv := s.settingsView(r, "campaigns")
	words, err := s.store.StopWords(r.Context(), v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	sv.StopWords = strings.Join(words, ", ")
	s.render(w, r, http.StatusOK, views.Settings(sv))
}

// parseStopWords splits the form's comma-separated words; the error is a
// catalogue key (an empty word, too many or too long).
func parseStopWords(raw string) ([]string, string) {
	var words []string
	for _, w := range strings.Split(raw, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			return nil, "campaign_settings.stop_empty"
		}
		if utf8.RuneCountInString(w) > maxStopWordLen {
			return nil, "campaign_settings.stop_long"
		}
		words = append(words, w)
	}
	if len(words) > maxStopWords {
		return nil, "campaign_settings.stop_long"
	}
	return words, ""
}

// stopWordsSave replaces the business's stop words (audited); bad ones
// re-render the form with the field's error.
func (s *Server) stopWordsSave(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	raw := r.PostFormValue("stop_words")
	words, bad := parseStopWords(raw)
	if bad != "" {
		sv := s.settingsView(r, "campaigns")
		sv.StopWords, sv.StopWordsError = raw, views.T(ctx, bad)
		s.render(w, r, http.StatusUnprocessableEntity, views.Settings(sv))
		return
	}
	before, err := s.store.StopWords(ctx, v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.store.SetStopWords(ctx, v.BusinessID, words); err != nil {
		s.serverError(w, r, err)
		return
	}
	uid := v.User.ID
	if err := s.store.Audit(ctx, v.BusinessID, &uid, "business.stop_words", "business", v.BusinessID,
		map[string][]string{"stop_words": before}, map[string][]string{"stop_words": words}); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/campaigns?notice=settings.saved", http.StatusSeeOther)
}
