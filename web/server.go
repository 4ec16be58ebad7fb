// Package web is Switchboard's HTTP side: the route table, middleware,
// one small file per action, webhook endpoints, the JSON API and the
// websocket hub.
package web

import (
	"cmp"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/gorilla/websocket"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// Options are the web server's settings from the environment.
type Options struct {
	BaseURL         string
	SecureCookies   bool // true when BaseURL is https
	Argon2          Argon2Params
	MetaAppSecret   string
	MetaVerifyToken string
	Outbox          Outbox       // nil: sending is unavailable (answers 503)
	Restock         Restock      // nil: stock changes answer 503
	Journal         Journal      // nil: webhooks answer 503
	Graph           *meta.Client // fetches WhatsApp media for the /media proxy
	// WebhookBodyBudget bounds the webhook body bytes in memory at once
	// (default DefaultWebhookBodyBudget); past it webhooks answer 503.
	WebhookBodyBudget int64
	Wake              func() // tells the inbound processor a payload is pending again (a replay)
	// TrustedProxyHeader names the header a reverse proxy in front of us
	// sets to the client's address (X-Forwarded-For, X-Real-IP); empty:
	// the connection's address, and forwarding headers are ignored.
	TrustedProxyHeader string
	// MetricsToken, when set, serves /metrics on the main listener to
	// "Authorization: Bearer <token>" only; unset, it is not served there.
	MetricsToken string
	Templates    TemplateSync  // nil: "Sync now" and sync on connect are unavailable
	Prices       *pricing.Book // nil: a book of the server's own
	Groups       Groups        // nil: no relay groups (404 in the inbox, 503 in the API)
	Polls        Polls         // nil: no polls
	Campaigns    Campaigns     // nil: the campaigns API answers 503
}

// Server holds what every handler needs.
type Server struct {
	store         *models.Store
	log           *slog.Logger
	opts          Options
	sessions      *scs.SessionManager
	metrics       *Metrics
	throttle      *loginThrottle
	quietPatterns map[string]bool
	outbox        Outbox
	restock       Restock
	journal       Journal
	graph         *meta.Client
	webhookKeys   webhookKeyCache
	webhookBodies *bodyBudget
	templates     TemplateSync
	prices        *pricing.Book
	dummyHash     string // compared against when the address is unknown
	hub           *hub   // the websocket clients of this process
	restockLive   restockWatchers
	campaignLive  campaignWatchers   // report pages watching a campaign (campaign_live.go)
	campaignAggs  campaignAggregates // report charts (campaign_report.go)
	channelNames  channelLabels      // report headers' channel names (campaign_report.go)
	upgrader      websocket.Upgrader
	mediaSlots    mediaSlots // bounds /media downloads in flight
	tallies       tallyGate  // paces live poll tallies (poll_live.go)
}

// New builds the server; Handler returns its routes wrapped in middleware.
func New(store *models.Store, log *slog.Logger, opts Options) *Server {
	if opts.Argon2.Memory == 0 {
		opts.Argon2 = DefaultArgon2
	}
	sm := scs.New()
	sm.Codec = newDecodedSessions(sm.Codec)
	// scs's idle-timeout refresh would write the session row on every page; see touchCoalescingStore.
	sm.Store = newTouchCoalescingStore(pgxstore.NewWithCleanupInterval(store.DB.Pool, 30*time.Minute), sm.Codec)
	sm.Lifetime = 14 * 24 * time.Hour
	sm.IdleTimeout = 3 * 24 * time.Hour
	sm.Cookie.Name = "switchboard_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = opts.SecureCookies
	dummy, err := HashPassword("no such user", opts.Argon2)
	if err != nil {
		panic(err) // crypto/rand failed
	}
	metrics := NewMetrics()
	srv := &Server{
		dummyHash:     dummy,
		hub:           newHub(metrics),
		upgrader:      newUpgrader(),
		mediaSlots:    make(mediaSlots, maxMediaInFlight),
		store:         store,
		log:           log,
		opts:          opts,
		sessions:      sm,
		metrics:       metrics,
		throttle:      newLoginThrottle(10, time.Minute),
		outbox:        opts.Outbox,
		restock:       opts.Restock,
		journal:       opts.Journal,
		webhookBodies: &bodyBudget{limit: cmp.Or(opts.WebhookBodyBudget, DefaultWebhookBodyBudget)},
		templates:     opts.Templates,
		prices:        opts.Prices,
		graph:         opts.Graph,
		quietPatterns: map[string]bool{
			"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /static/{hash}/{path...}": true,
		},
	}
	sm.ErrorFunc = srv.serverError // a session store that cannot reach the database answers like any handler
	if srv.prices == nil {
		srv.prices = pricing.NewBook(store, 0)
	}
	return srv
}

// Metrics exposes the server's Prometheus registry (for other packages' collectors).
func (s *Server) Metrics() *Metrics { return s.metrics }

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	cop := http.NewCrossOriginProtection()
	var h http.Handler = mux
	h = cop.Handler(h)
	h = securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.accessLog(h)
	h = withRequestID(h)
	return h
}
