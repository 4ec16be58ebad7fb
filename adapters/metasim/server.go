package metasim

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// App is one of Meta's three messaging products.
type App string

// The three apps, spelled as our webhook paths spell them.
const (
	Messenger App = "messenger"
	Instagram App = "instagram"
	WhatsApp  App = "whatsapp"
)

// Apps lists the three apps in a stable order.
func Apps() []App { return []App{Messenger, Instagram, WhatsApp} }

// object is the webhook envelope's "object" field for the app.
func (a App) object() string {
	switch a {
	case Messenger:
		return "page"
	case Instagram:
		return "instagram"
	default:
		return "whatsapp_business_account"
	}
}

func (a App) valid() bool { return a == Messenger || a == Instagram || a == WhatsApp }

// Config sets up a simulator. The zero value is usable: real clock, no webhooks.
type Config struct {
	// Now is Meta's clock for windows, tag retirements, tokens and payload timestamps; nil means time.Now.
	Now func() time.Time
	// WebhookURL says where Meta posts an app's webhooks; nil means WebhookBase + "/webhooks/{app}".
	WebhookURL func(app App) string
	// WebhookBase is the receiver's base URL (e.g. "http://127.0.0.1:8080"); empty with a nil
	// WebhookURL means nowhere to post, so status webhooks are off.
	WebhookBase string
	// AppSecret signs webhooks of accounts that carry no secret of their own.
	AppSecret string
	// AppID is the app_id of Messenger echoes for accounts without their own; default "1517776481860111".
	AppID string

	// StatusDelay separates the steps of a status sequence (sent, delivered, read); 0 posts them at once.
	StatusDelay time.Duration
	// DisableStatusWebhooks stops the webhooks Meta sends after a send (statuses, echoes, reads).
	DisableStatusWebhooks bool
	// WebhookWorkers is how many webhook POSTs run at once; default 4.
	WebhookWorkers int
	// WebhookQueue bounds the webhooks waiting to be posted; beyond it they are dropped and counted. Default 65536.
	WebhookQueue int
	// WebhookBatch is the most events one webhook POST carries (Meta batches up to 1,000); default 1.
	WebhookBatch int
	// WebhookRetries is how many times a failed webhook POST is retried; default 2, negative means none.
	WebhookRetries int
	// WebhookTimeout bounds one webhook POST; default 10s.
	WebhookTimeout time.Duration
	// HTTPClient posts webhooks and traffic; nil means a pooled client with WebhookTimeout.
	HTTPClient *http.Client

	// Seed fixes the customer population and the generator's choices.
	Seed uint64
	// IDSalt mixes into every id the simulator mints (message ids, media ids,
	// tokens). A run that writes into a database an earlier run filled (the
	// demo restarted on its data directory) sets it, from the clock, so that
	// no id repeats one of the earlier run's; 0 keeps ids a function of Seed.
	IDSalt uint64
	// Customers is the population size; default 240.
	Customers int
	// BaseURL is the simulator's own URL, used in attachment links of generated payloads; Serve sets it when empty.
	BaseURL string

	// RateBurst is how much traffic the throughput bucket holds, as time at the account's rate; default 200ms.
	RateBurst time.Duration
	// RateLimitStatus is the HTTP status of throughput refusals (130429, 613); default 400.
	// Assumption: Meta's WhatsApp error table lists 130429 under 400 Bad Request and Graph sends
	// 613 as a 400 too; set 429 to test a client against the other reading.
	RateLimitStatus int
	// ReengagementAsync reports WhatsApp's 131047 as an accepted send and a failed status, as Meta
	// often does in practice, instead of the synchronous refusal the reference describes.
	ReengagementAsync bool
	// HangLimit bounds how long a "time out" drop holds a request; default 60s.
	HangLimit time.Duration
	// FetchMediaFrom is a URL prefix (e.g. the app's BASE_URL): media links
	// under it are fetched before a send is accepted, as Meta does; empty, none are.
	FetchMediaFrom string
	// MaxRecorded caps how many accepted sends are kept for Received and Sends; default 1<<20.
	MaxRecorded int
	// Logger receives webhook delivery failures; nil discards.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.AppID == "" {
		c.AppID = "1517776481860111"
	}
	if c.WebhookWorkers <= 0 {
		c.WebhookWorkers = 4
	}
	if c.WebhookQueue <= 0 {
		c.WebhookQueue = 65536
	}
	if c.WebhookBatch <= 0 {
		c.WebhookBatch = 1
	}
	if c.WebhookBatch > 1000 {
		c.WebhookBatch = 1000 // Meta's documented batch ceiling
	}
	if c.WebhookRetries == 0 {
		c.WebhookRetries = 2
	}
	if c.WebhookTimeout <= 0 {
		c.WebhookTimeout = 10 * time.Second
	}
	if c.Customers <= 0 {
		c.Customers = 240
	}
	if c.RateBurst <= 0 {
		c.RateBurst = 200 * time.Millisecond
	}
	if c.RateLimitStatus == 0 {
		c.RateLimitStatus = http.StatusBadRequest
	}
	if c.HangLimit <= 0 {
		c.HangLimit = time.Minute
	}
	if c.MaxRecorded <= 0 {
		c.MaxRecorded = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Sim is the simulated Meta: an http.Handler for the Graph endpoints plus Meta's state.
type Sim struct {
	cfg  Config
	now  func() time.Time // Meta's clock (policy, timestamps)
	wall func() time.Time // real time: throughput is about real requests per second
	mux  *http.ServeMux
	ids  idSource
	pop  []Customer

	mu       sync.Mutex // guards everything below it
	fetches  []Fetch    // media links fetched (media_fetch.go)
	accounts map[string]*account
	order    []string // account ids in the order they were added
	tokens   map[string]int
	revoked  map[string]bool
	media    map[string]*mediaObject
	rng      *rand.Rand
	baseURL  string

	faults faults
	rec    recorder
	hooks  *emitter

	closed    chan struct{}
	closeOnce sync.Once
}

// New builds a simulator and starts its webhook emitter; Close stops it.
func New(cfg Config) *Sim {
	cfg.setDefaults()
	s := &Sim{
		cfg:      cfg,
		now:      cfg.Now,
		wall:     time.Now,
		accounts: make(map[string]*account),
		tokens:   make(map[string]int),
		revoked:  make(map[string]bool),
		media:    make(map[string]*mediaObject),
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		baseURL:  strings.TrimRight(cfg.BaseURL, "/"),
		closed:   make(chan struct{}),
	}
	s.ids.salt = splitmix(cfg.Seed^0x3e7a) ^ splitmix(cfg.IDSalt)
	s.pop = newPopulation(cfg.Seed, cfg.Customers)
	s.rec.max = cfg.MaxRecorded
	s.hooks = newEmitter(s)
	s.mux = s.routes()
	return s
}

// routes is the map of the simulated Graph host.
func (s *Sim) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{version}/{id}/messages", s.handleMessages)
	mux.HandleFunc("POST /{version}/{id}/subscribed_apps", s.handleSubscribe)
	mux.HandleFunc("GET /{version}/{id}", s.handleMediaInfo)
	mux.HandleFunc("GET /{version}/{id}/message_templates", s.handleMessageTemplates)
	mux.HandleFunc("GET /whatsapp_business/attachments/{$}", s.handleMediaDownload)
	mux.HandleFunc("GET /cdn/{file}", s.handleCDN)
	return mux
}

// ServeHTTP answers as graph.facebook.com would.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops the webhook emitter and releases requests held by DropHang; it is idempotent.
func (s *Sim) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.hooks.stop()
	})
	return nil
}

// SetBaseURL tells the simulator its own URL (e.g. an httptest server's), for attachment links.
func (s *Sim) SetBaseURL(u string) {
	s.mu.Lock()
	s.baseURL = strings.TrimRight(u, "/")
	s.mu.Unlock()
}

// Run serves the simulator on addr until ctx ends (the `switchboard metasim` entry point).
// It does not Close the simulator: the caller owns it.
func (s *Sim) Run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve serves the simulator on ln until ctx ends, then shuts down gracefully. If the simulator
// has no BaseURL yet, the listener's address becomes it.
func (s *Sim) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.baseURL == "" {
		s.baseURL = "http://" + ln.Addr().String()
	}
	s.mu.Unlock()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	stopped := make(chan struct{})
	go func() { // shuts the server when ctx ends, or exits when Serve fails first
		select {
		case <-ctx.Done():
			shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdownCtx)
		case <-stopped:
		}
	}()
	err := srv.Serve(ln)
	close(stopped)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// BaseURL is the simulator's own URL, as set by Config.BaseURL, SetBaseURL or Serve.
func (s *Sim) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// maxBody caps request bodies; Meta's own limit is larger, ours only has to stop runaway tests.
const maxBody = 4 << 20

// handleMessages is the one send endpoint of all three apps; the account's app decides the rules.
func (s *Sim) handleMessages(w http.ResponseWriter, r *http.Request) {
	if !s.faults.wait(r.Context(), s.closed) {
		return
	}
	version := r.PathValue("version")
	if !validVersion(version) {
		s.refuse(w, Messenger, "", errUnknownPath(r.URL.Path))
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return
	}
	acct, merr := s.authorize(r, r.PathValue("id"))
	if merr != nil {
		s.refuse(w, appOf(acct), accountID(acct), merr)
		return
	}
	if merr := s.faults.injected(); merr != nil {
		s.rec.injected()
		s.refuse(w, acct.App, acct.ID, merr)
		return
	}
	var res *sendResult
	if acct.App == WhatsApp {
		res, merr = s.sendWhatsApp(acct, version, raw)
	} else {
		res, merr = s.sendMessaging(acct, version, raw)
	}
	if merr != nil {
		s.refuse(w, acct.App, acct.ID, merr)
		return
	}
	s.accept(res)
	switch s.faults.takeDrop() {
	case DropReset:
		s.rec.dropped()
		panic(http.ErrAbortHandler) // Meta accepted it; the caller never learns
	case DropHang:
		s.rec.dropped()
		s.hang(r.Context())
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, http.StatusOK, res.response)
}

// handleSubscribe answers subscribed_apps so a connect-channel flow can run against the simulator.
func (s *Sim) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	acct, merr := s.authorize(r, r.PathValue("id"))
	if merr != nil {
		s.refuse(w, appOf(acct), accountID(acct), merr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// hang holds a request until the caller gives up, the simulator closes, or HangLimit passes.
func (s *Sim) hang(ctx context.Context) {
	t := time.NewTimer(s.cfg.HangLimit)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.closed:
	case <-t.C:
	}
}

// refuse writes Meta's error body and counts the refusal.
func (s *Sim) refuse(w http.ResponseWriter, app App, account string, e *metaError) {
	s.rec.refused(account, e.Code)
	writeError(w, app, e, s.ids.traceID())
}

// authorize checks the token as Graph does: first the token itself, then its right to the object.
func (s *Sim) authorize(r *http.Request, id string) (*account, *metaError) {
	tok := accessToken(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := s.accounts[id]
	if id == "me" {
		acct = s.accountByToken(tok)
	}
	switch {
	case tok == "":
		return acct, errNoToken()
	case s.revoked[tok]:
		return acct, errTokenInvalidated()
	case s.tokens[tok] == 0:
		return acct, errBadToken()
	case acct == nil || acct.AccessToken != tok:
		return acct, errUnsupportedObject("post", id)
	}
	return acct, nil
}

// accountByToken resolves /me for Instagram Login and Page tokens.
func (s *Sim) accountByToken(tok string) *account {
	for _, id := range s.order {
		if a := s.accounts[id]; a.AccessToken == tok && a.App != WhatsApp {
			return a
		}
	}
	return nil
}

// accessToken reads the token from the Authorization header or the access_token query parameter.
func accessToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "OAuth "} {
		if tok, ok := strings.CutPrefix(h, scheme); ok {
			return strings.TrimSpace(tok)
		}
	}
	return r.URL.Query().Get("access_token")
}

// validVersion accepts Graph versions written like v25.0.
func validVersion(v string) bool {
	major, minor, ok := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	return ok && strings.HasPrefix(v, "v") && isDigits(major) && isDigits(minor)
}

// versionMajor is 25 for "v25.0"; unparsable versions count as current.
func versionMajor(v string) int {
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	n := 0
	for _, c := range major {
		n = n*10 + int(c-'0')
	}
	if n == 0 {
		return 99
	}
	return n
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func appOf(a *account) App {
	if a == nil {
		return Messenger
	}
	return a.App
}

func accountID(a *account) string {
	if a == nil {
		return ""
	}
	return a.ID
}

// writeJSON answers in Meta's JSON style (escaped unicode and slashes).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := EncodeMeta(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
