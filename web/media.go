package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// maxMediaBytes is WhatsApp's largest media (documents, 100 MB).
const maxMediaBytes = 100 << 20

// mediaURLLifetime: Meta's media URLs expire after five minutes; we refetch a bit sooner.
const mediaURLLifetime = 4 * time.Minute

// media streams a WhatsApp attachment known only by its media id: the URL is
// looked up through the Graph API when first shown and cached while it lives.
func (s *Server) media(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	att, ch, err := s.store.AttachmentWithChannel(r.Context(), v.BusinessID, id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if att == nil || ch == nil || att.MediaID == "" || s.graph == nil {
		s.notFound(w, r)
		return
	}
	token, _, err := s.store.ChannelSecrets(ch)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	url := att.CachedURL
	if url == "" || att.CachedAt == nil || time.Since(*att.CachedAt) > mediaURLLifetime {
		m, err := s.graph.GetMedia(ctx, token, att.MediaID)
		if err != nil {
			s.mediaError(w, r, err)
			return
		}
		url = m.URL
		if err := s.store.CacheMediaURL(r.Context(), att.ID, url); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	body, err := s.graph.DownloadMedia(ctx, token, url, maxMediaBytes)
	if err != nil {
		s.mediaError(w, r, err)
		return
	}
	ctype := att.MimeType
	if ctype == "" {
		ctype = http.DetectContentType(body)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox") // never run what a customer sent
	_, _ = w.Write(body)
}

// mediaError: Meta no longer has the media (or refuses us) — say so plainly.
func (s *Server) mediaError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Warn("media: unable to fetch from Meta", "error", err, "class", meta.Classify(err), "request_id", RequestID(r.Context()))
	http.Error(w, "media unavailable from Meta", http.StatusBadGateway)
}
