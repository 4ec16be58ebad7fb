package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// maxMediaBytes is WhatsApp's largest media (documents, 100 MB).
const maxMediaBytes = 100 << 20

// mediaStreamLimit bounds one download: 100 MB at a slow 2 Mbit/s.
const mediaStreamLimit = 7 * time.Minute

// maxMediaInFlight bounds the /media downloads a process streams at once;
// past it they answer 503 (each holds a connection to Meta and one to the browser).
const maxMediaInFlight = 32

// mediaSlots is a counting semaphore over /media downloads.
type mediaSlots chan struct{}

// take claims a slot without waiting; false when all are busy.
func (m mediaSlots) take() bool {
	select {
	case m <- struct{}{}:
		return true
	default:
		return false
	}
}

func (m mediaSlots) give() { <-m }

// mediaURLLifetime: Meta's media URLs expire after five minutes; we refetch a bit sooner.
const mediaURLLifetime = 4 * time.Minute

// media streams a WhatsApp attachment, known only by its media id, from
// Meta to the browser as it arrives (never whole in memory), at most
// maxMediaInFlight at a time. The URL is looked up through the Graph API
// when first shown and cached while it lives.
func (s *Server) media(w http.ResponseWriter, r *http.Request) {
	if !s.mediaSlots.take() {
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "too many media downloads at once; retry shortly", http.StatusServiceUnavailable)
		return
	}
	defer s.mediaSlots.give()
	v := viewerFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	s.streamAttachment(w, r, v.BusinessID, id, false)
}

// streamAttachment streams one of the business's WhatsApp attachments from
// Meta; with linked, an attachment Meta gave as a link (Messenger,
// Instagram) is a redirect to it.
func (s *Server) streamAttachment(w http.ResponseWriter, r *http.Request, businessID, id int64, linked bool) {
	att, ch, err := s.store.AttachmentWithChannel(r.Context(), businessID, id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if linked && att != nil && att.MediaID == "" && att.URL != "" {
		http.Redirect(w, r, att.URL, http.StatusFound)
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
	streamCtx, cancelStream := context.WithTimeout(r.Context(), mediaStreamLimit)
	defer cancelStream()
	body, err := s.graph.OpenMedia(streamCtx, token, url)
	if err != nil {
		s.mediaError(w, r, err)
		return
	}
	defer body.Close()
	s.streamMedia(w, r, att.ID, att.MimeType, body)
}

// streamMedia copies a download to the browser as it arrives, up to
// maxMediaBytes; a download that breaks or runs past it aborts the response
// so the browser never keeps a truncated file as whole.
func (s *Server) streamMedia(w http.ResponseWriter, r *http.Request, attID int64, ctype string, body *meta.MediaBody) {
	if body.Length > maxMediaBytes {
		s.mediaError(w, r, fmt.Errorf("media %d: %d bytes, more than %d", attID, body.Length, maxMediaBytes))
		return
	}
	in := bufio.NewReaderSize(body, 512)
	if ctype == "" {
		sniff, _ := in.Peek(512)
		ctype = http.DetectContentType(sniff)
	}
	w.Header().Set("Content-Type", ctype)
	if body.Length >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(body.Length, 10))
	}
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox") // never run what a customer sent
	if _, err := io.Copy(w, io.LimitReader(in, maxMediaBytes)); err != nil {
		s.log.Warn("media: stream ended early", "attachment", attID, "error", err, "request_id", RequestID(r.Context()))
		panic(http.ErrAbortHandler)
	}
	if n, _ := in.Read(make([]byte, 1)); n > 0 {
		s.log.Warn("media: larger than the limit; cut", "attachment", attID, "limit", maxMediaBytes, "request_id", RequestID(r.Context()))
		panic(http.ErrAbortHandler)
	}
}

// mediaError: Meta no longer has the media (or refuses us) — say so plainly.
func (s *Server) mediaError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Warn("media: unable to fetch from Meta", "error", err, "class", meta.Classify(err), "request_id", RequestID(r.Context()))
	http.Error(w, "media unavailable from Meta", http.StatusBadGateway)
}
