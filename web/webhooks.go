package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
)

// maxWebhookBody caps a webhook POST; Meta's batches of up to 1,000 updates fit well within it.
const maxWebhookBody = 8 << 20

// Journal makes a raw webhook durable before it is acknowledged (ingest.Journal).
type Journal interface {
	Append(ctx context.Context, app string, body []byte, signature string) error
}

// webhookRoutes registers GET and POST /webhooks/{messenger,instagram,whatsapp}.
func (s *Server) webhookRoutes(mux *http.ServeMux) {
	for _, app := range models.Apps {
		mux.HandleFunc("GET /webhooks/"+app, s.webhookVerify(app))
		mux.HandleFunc("POST /webhooks/"+app, s.webhookReceive(app))
	}
}

// webhookVerify answers Meta's subscription handshake with the raw challenge.
func (s *Server) webhookVerify(app string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		keys, err := s.webhookKeys.get(r, s, app)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		challenge, ok := meta.VerifyChallenge(r.URL.Query(), keys.verifyTokens...)
		if !ok {
			s.metrics.webhooks.WithLabelValues(app, "bad_verify_token").Inc()
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, challenge)
	}
}

// webhookReceive checks the signature over the raw bytes, stores the payload
// durably, and only then answers 200. Parsing happens after, from the journal.
func (s *Server) webhookReceive(app string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.metrics.webhooks.WithLabelValues(app, "too_large").Inc()
				http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		sig := r.Header.Get("X-Hub-Signature-256")
		if sig == "" {
			s.metrics.webhooks.WithLabelValues(app, "unsigned").Inc()
			http.Error(w, "missing X-Hub-Signature-256", http.StatusUnauthorized)
			return
		}
		keys, err := s.webhookKeys.get(r, s, app)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if !meta.VerifySignature(body, sig, keys.secrets...) {
			// A secret added since the last refresh must not be refused: look again once.
			if keys, err = s.webhookKeys.refresh(r, s, app); err != nil || !meta.VerifySignature(body, sig, keys.secrets...) {
				s.metrics.webhooks.WithLabelValues(app, "bad_signature").Inc()
				http.Error(w, "bad signature", http.StatusForbidden)
				return
			}
		}
		if !json.Valid(body) {
			s.metrics.webhooks.WithLabelValues(app, "malformed").Inc()
			s.log.Warn("webhook: malformed JSON", "app", app, "bytes", len(body), "request_id", RequestID(r.Context()))
			http.Error(w, "malformed JSON", http.StatusBadRequest)
			return
		}
		if s.journal == nil {
			http.Error(w, "ingest unavailable", http.StatusServiceUnavailable)
			return
		}
		if err := s.journal.Append(r.Context(), app, body, sig); err != nil {
			// Meta retries a 5xx; nothing is acknowledged that is not stored.
			s.metrics.webhooks.WithLabelValues(app, "store_failed").Inc()
			s.log.Error("webhook: unable to store", "app", app, "error", err, "request_id", RequestID(r.Context()))
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		s.metrics.webhooks.WithLabelValues(app, "accepted").Inc()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "EVENT_RECEIVED")
	}
}

// webhookKeyCache holds each app's accepted secrets and verify tokens: the
// Meta app's own plus every channel's, refreshed at most every few seconds.
type webhookKeyCache struct {
	mu   sync.Mutex
	keys map[string]webhookKeys
}

type webhookKeys struct {
	secrets      [][]byte
	verifyTokens []string
	loaded       time.Time
}

const webhookKeyTTL = 10 * time.Second

func (c *webhookKeyCache) get(r *http.Request, s *Server, app string) (webhookKeys, error) {
	c.mu.Lock()
	k, ok := c.keys[app]
	c.mu.Unlock()
	if ok && time.Since(k.loaded) < webhookKeyTTL {
		return k, nil
	}
	return c.refresh(r, s, app)
}

func (c *webhookKeyCache) refresh(r *http.Request, s *Server, app string) (webhookKeys, error) {
	chs, err := s.store.AllChannels(r.Context(), app)
	if err != nil {
		return webhookKeys{}, err
	}
	k := webhookKeys{loaded: time.Now()}
	if s.opts.MetaAppSecret != "" {
		k.secrets = append(k.secrets, []byte(s.opts.MetaAppSecret))
	}
	if s.opts.MetaVerifyToken != "" {
		k.verifyTokens = append(k.verifyTokens, s.opts.MetaVerifyToken)
	}
	for i := range chs {
		_, secret, err := s.store.ChannelSecrets(&chs[i])
		if err != nil {
			return webhookKeys{}, err
		}
		if secret != "" {
			k.secrets = append(k.secrets, []byte(secret))
		}
		if chs[i].VerifyToken != "" {
			k.verifyTokens = append(k.verifyTokens, chs[i].VerifyToken)
		}
	}
	c.mu.Lock()
	if c.keys == nil {
		c.keys = map[string]webhookKeys{}
	}
	c.keys[app] = k
	c.mu.Unlock()
	return k, nil
}
