package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// relayMedia serves a stored attachment to Meta's fetcher by a signed,
// expiring link (models.Cipher.MediaRef): a relay group member's photo
// re-sent to the others. No session: the link is the permission. A link we
// did not make is 404; an expired one 403.
func (s *Server) relayMedia(w http.ResponseWriter, r *http.Request) {
	businessID, id, err := s.store.Cipher().ParseMediaRef(r.PathValue("ref"), time.Now())
	switch {
	case errors.Is(err, models.ErrExpiredLink):
		http.Error(w, "this link has expired", http.StatusForbidden)
		return
	case err != nil:
		http.NotFound(w, r)
		return
	}
	if !s.mediaSlots.take() {
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "too many media downloads at once; retry shortly", http.StatusServiceUnavailable)
		return
	}
	defer s.mediaSlots.give()
	s.streamAttachment(w, r, businessID, id, true)
}
