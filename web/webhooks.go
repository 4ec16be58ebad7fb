package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/models"
)

// maxWebhookBody caps a webhook POST; Meta's batches of up to 1,000 updates fit well within it.
const maxWebhookBody = 8 << 20

// DefaultWebhookBodyBudget bounds the webhook bytes held in memory at once.
const DefaultWebhookBodyBudget = 128 << 20

// Journal makes a raw webhook durable before it is acknowledged (inbound.Journal).
type Journal interface {
	Append(ctx context.Context, row models.NewRawWebhook) error
}

// webhookRoutes registers GET and POST /webhooks/{messenger,instagram,whatsapp}.
func (s *Server) webhookRoutes(mux *http.ServeMux) {
	for _, app := range models.Apps {
		mux.HandleFunc("GET /webhooks/"+app, s.webhookVerify(app))
		mux.HandleFunc("POST /webhooks/"+app, s.webhookReceive(app))
	}
}

// webhookUnavailable asks Meta to retry later: plain text, nothing to parse.
func webhookUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
}

// webhookVerify answers Meta's subscription handshake with the raw challenge.
func (s *Server) webhookVerify(app string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		keys, err := s.webhookKeys.get(r.Context(), s, app, false)
		if err != nil {
			s.log.Error("webhook: no keys", "app", app, "error", err, "request_id", RequestID(r.Context()))
			webhookUnavailable(w)
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
// durably with the secret that verified it, and only then answers 200.
// Parsing and routing happen after, from the journal.
func (s *Server) webhookReceive(app string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sig := r.Header.Get("X-Hub-Signature-256")
		if sig == "" {
			s.metrics.webhooks.WithLabelValues(app, "unsigned").Inc()
			http.Error(w, "missing X-Hub-Signature-256", http.StatusUnauthorized)
			return
		}
		body, release, status := s.webhookBodies.read(w, r)
		defer release()
		switch status {
		case http.StatusRequestEntityTooLarge:
			s.metrics.webhooks.WithLabelValues(app, "too_large").Inc()
			http.Error(w, "payload too large", status)
			return
		case http.StatusServiceUnavailable:
			s.metrics.webhooks.WithLabelValues(app, "over_budget").Inc()
			webhookUnavailable(w)
			return
		case http.StatusBadRequest:
			http.Error(w, "unreadable body", status)
			return
		}
		signer, err := s.webhookSigner(r.Context(), app, body, sig)
		if err != nil {
			s.metrics.webhooks.WithLabelValues(app, "keys_unavailable").Inc()
			s.log.Error("webhook: no keys", "app", app, "error", err, "request_id", RequestID(r.Context()))
			webhookUnavailable(w)
			return
		}
		if signer == nil {
			s.metrics.webhooks.WithLabelValues(app, "bad_signature").Inc()
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		if !json.Valid(body) {
			s.metrics.webhooks.WithLabelValues(app, "malformed").Inc()
			s.log.Warn("webhook: malformed JSON", "app", app, "bytes", len(body), "request_id", RequestID(r.Context()))
			http.Error(w, "malformed JSON", http.StatusBadRequest)
			return
		}
		if s.journal == nil {
			webhookUnavailable(w)
			return
		}
		if err := s.journal.Append(r.Context(), models.NewRawWebhook{App: app, Signature: sig, Signer: *signer, Body: body}); err != nil {
			// Meta retries a 5xx; nothing is acknowledged that is not stored.
			s.metrics.webhooks.WithLabelValues(app, "store_failed").Inc()
			s.log.Error("webhook: unable to store", "app", app, "error", err, "request_id", RequestID(r.Context()))
			webhookUnavailable(w)
			return
		}
		s.metrics.webhooks.WithLabelValues(app, "accepted").Inc()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "EVENT_RECEIVED")
	}
}

// webhookSigner tells which secret signed body: the Meta app's own (one
// HMAC), else the app secrets of the channels its entries route to — never
// every channel's. nil: no secret that may speak for these entries signed it.
func (s *Server) webhookSigner(ctx context.Context, app string, body []byte, sig string) (*models.WebhookSigner, error) {
	keys, err := s.webhookKeys.get(ctx, s, app, false)
	if err != nil {
		return nil, err
	}
	if len(keys.appSecret) > 0 && meta.VerifySignature(body, sig, keys.appSecret) {
		return &models.WebhookSigner{App: true}, nil
	}
	accounts := inbound.Accounts(app, body)
	if len(accounts) == 0 {
		return nil, nil
	}
	signer := keys.channelSigner(accounts, body, sig)
	if signer == nil && keys.missesAny(accounts) {
		// A channel connected since the last load must not be refused: look again (rate-limited).
		if keys, err = s.webhookKeys.get(ctx, s, app, true); err != nil {
			return nil, err
		}
		signer = keys.channelSigner(accounts, body, sig)
	}
	return signer, nil
}

// webhookKeyCache holds each app's accepted secrets and verify tokens,
// reloaded every webhookKeyTTL and at most once per webhookKeyRetry; while
// the database is away the last good keys keep serving.
type webhookKeyCache struct {
	mu     sync.Mutex
	keys   map[string]*webhookKeys
	tried  map[string]time.Time // last load attempt, per app
	forced map[string]time.Time // last load asked for by an unknown account
}

type webhookKeys struct {
	appSecret    []byte
	verifyTokens []string
	byAccount    map[string][]channelSecret // account id, and WhatsApp WABA id → channels
	loaded       time.Time
}

type channelSecret struct {
	channelID int64
	secret    []byte
}

const (
	webhookKeyTTL   = 10 * time.Second
	webhookKeyRetry = time.Second
	webhookKeyLoad  = 3 * time.Second
)

// channelSigner checks the secrets of the channels the accounts route to,
// each distinct secret once, and lists every such channel it verifies.
func (k *webhookKeys) channelSigner(accounts []string, body []byte, sig string) *models.WebhookSigner {
	var (
		tried [][]byte
		good  [][]byte
		ids   []int64
	)
	for _, a := range accounts {
		for _, cs := range k.byAccount[a] {
			if slices.Contains(ids, cs.channelID) {
				continue
			}
			ok := slices.ContainsFunc(good, func(s []byte) bool { return bytes.Equal(s, cs.secret) })
			if !ok && !slices.ContainsFunc(tried, func(s []byte) bool { return bytes.Equal(s, cs.secret) }) {
				tried = append(tried, cs.secret)
				if meta.VerifySignature(body, sig, cs.secret) {
					good, ok = append(good, cs.secret), true
				}
			}
			if ok {
				ids = append(ids, cs.channelID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return &models.WebhookSigner{Channels: ids}
}

func (k *webhookKeys) missesAny(accounts []string) bool {
	for _, a := range accounts {
		if _, ok := k.byAccount[a]; !ok {
			return true
		}
	}
	return false
}

// get returns app's keys, loading them when stale (or when force asks, at
// most once per webhookKeyRetry). A failed load keeps serving the last keys.
func (c *webhookKeyCache) get(ctx context.Context, s *Server, app string, force bool) (*webhookKeys, error) {
	c.mu.Lock()
	k := c.keys[app]
	fresh := k != nil && time.Since(k.loaded) < webhookKeyTTL
	// Forced loads come from unknown accounts, which anyone can name: at most one per webhookKeyRetry.
	if fresh && (!force || time.Since(c.forced[app]) < webhookKeyRetry) || !fresh && k != nil && time.Since(c.tried[app]) < webhookKeyRetry {
		c.mu.Unlock()
		return k, nil
	}
	if c.tried == nil {
		c.tried, c.forced = map[string]time.Time{}, map[string]time.Time{}
	}
	c.tried[app] = time.Now()
	if force {
		c.forced[app] = time.Now()
	}
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, webhookKeyLoad)
	defer cancel()
	loaded, err := loadWebhookKeys(ctx, s, app)
	if err != nil {
		if k != nil {
			s.log.Warn("webhook: keys not reloaded; serving the last ones", "app", app, "error", err)
			return k, nil
		}
		return nil, err
	}
	c.mu.Lock()
	if c.keys == nil {
		c.keys = map[string]*webhookKeys{}
	}
	c.keys[app] = loaded
	c.mu.Unlock()
	return loaded, nil
}

func loadWebhookKeys(ctx context.Context, s *Server, app string) (*webhookKeys, error) {
	chs, err := s.store.AllChannels(ctx, app)
	if err != nil {
		return nil, err
	}
	k := &webhookKeys{loaded: time.Now(), byAccount: map[string][]channelSecret{}}
	if s.opts.MetaAppSecret != "" {
		k.appSecret = []byte(s.opts.MetaAppSecret)
	}
	if s.opts.MetaVerifyToken != "" {
		k.verifyTokens = append(k.verifyTokens, s.opts.MetaVerifyToken)
	}
	for i := range chs {
		ch := &chs[i]
		_, secret, err := s.store.ChannelSecrets(ch)
		if err != nil {
			return nil, err
		}
		if secret != "" {
			cs := channelSecret{channelID: ch.ID, secret: []byte(secret)}
			k.byAccount[ch.AccountID] = append(k.byAccount[ch.AccountID], cs)
			if ch.WABAID != "" && ch.WABAID != ch.AccountID {
				k.byAccount[ch.WABAID] = append(k.byAccount[ch.WABAID], cs)
			}
		}
		if ch.VerifyToken != "" {
			k.verifyTokens = append(k.verifyTokens, ch.VerifyToken)
		}
	}
	return k, nil
}

// bodyBudget bounds the webhook body bytes held in memory at once, so many
// concurrent large POSTs get 503 (Meta retries) instead of growing the
// process without bound.
type bodyBudget struct {
	used  atomic.Int64
	limit int64
}

func (b *bodyBudget) take(n int64) bool {
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

// read returns the body in one buffer of its exact size, the function that
// gives its bytes back to the budget, and an HTTP status when it could not.
func (b *bodyBudget) read(w http.ResponseWriter, r *http.Request) ([]byte, func(), int) {
	var held int64
	release := func() { b.used.Add(-held) }
	if r.ContentLength > maxWebhookBody {
		return nil, release, http.StatusRequestEntityTooLarge
	}
	src := http.MaxBytesReader(w, r.Body, maxWebhookBody)
	if n := r.ContentLength; n >= 0 {
		if !b.take(n) {
			return nil, release, http.StatusServiceUnavailable
		}
		held = n
		body := make([]byte, n)
		if _, err := io.ReadFull(src, body); err != nil {
			return nil, release, http.StatusBadRequest
		}
		return body, release, 0
	}
	// Unknown length (chunked): take the budget as the body grows.
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	for {
		n, err := src.Read(chunk)
		if n > 0 {
			if !b.take(int64(n)) {
				return nil, release, http.StatusServiceUnavailable
			}
			held += int64(n)
			buf.Write(chunk[:n])
		}
		if errors.Is(err, io.EOF) {
			return buf.Bytes(), release, 0
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, release, http.StatusRequestEntityTooLarge
			}
			return nil, release, http.StatusBadRequest
		}
	}
}
