package metasim

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// obj is a JSON object under construction.
type obj = map[string]any

// sendResult is an accepted send: the answer, the record and the webhooks Meta sends after it.
type sendResult struct {
	response any
	send     Send
	hooks    []webhookEvent
	after    func() // what the customer does next (campaign behaviour), run apart
}

// webhookEvent is one item of a webhook: a messaging event (Messenger, Instagram) or a change
// value (WhatsApp), and the entry it belongs to.
type webhookEvent struct {
	app     App
	entryID string // Page id, Instagram account id, or WABA id
	secret  string // the app secret that signs it
	field   string // WhatsApp change field: messages, user_preferences
	item    any
	step    int // position in a status sequence: posted after step × StatusDelay
}

// event wraps an item for this account's webhook entry.
func (a *account) event(step int, field string, item any) webhookEvent {
	entry := a.ID
	if a.App == WhatsApp {
		entry = a.WABAID
		if field == "" {
			field = "messages"
		}
	}
	return webhookEvent{app: a.App, entryID: entry, secret: a.AppSecret, field: field, item: item, step: step}
}

// envelope is Meta's webhook body: {"object", "entry":[{"id", "time", "messaging"|"changes"}]}.
type envelope struct {
	Object string          `json:"object"`
	Entry  []envelopeEntry `json:"entry"`
}

type envelopeEntry struct {
	ID        string           `json:"id"`
	Time      int64            `json:"time,omitempty"` // milliseconds; WhatsApp entries carry none
	Messaging []any            `json:"messaging,omitempty"`
	Changes   []envelopeChange `json:"changes,omitempty"`
}

type envelopeChange struct {
	Value any    `json:"value"`
	Field string `json:"field"`
}

// buildEnvelope batches events of one app into entries, one per account, in order.
func buildEnvelope(app App, at time.Time, events []webhookEvent) envelope {
	env := envelope{Object: app.object()}
	index := make(map[string]int, 1)
	for _, ev := range events {
		i, ok := index[ev.entryID]
		if !ok {
			i = len(env.Entry)
			index[ev.entryID] = i
			e := envelopeEntry{ID: ev.entryID}
			if app != WhatsApp {
				e.Time = at.UnixMilli()
			}
			env.Entry = append(env.Entry, e)
		}
		if app == WhatsApp {
			env.Entry[i].Changes = append(env.Entry[i].Changes, envelopeChange{Value: ev.item, Field: ev.field})
		} else {
			env.Entry[i].Messaging = append(env.Entry[i].Messaging, ev.item)
		}
	}
	return env
}

// EncodeMeta encodes v as Meta writes webhook JSON: non-ASCII as \uXXXX (surrogate pairs beyond
// the BMP) and "/" as "\/". A receiver that re-serialises the body will not reproduce these
// bytes, which is why signatures must be checked on the raw body.
func EncodeMeta(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return escapeMeta(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// escapeMeta rewrites valid JSON in Meta's escaped style; "/" and non-ASCII only occur in strings.
func escapeMeta(b []byte) []byte {
	const hexDigits = "0123456789abcdef"
	appendU := func(out []byte, r rune) []byte {
		return append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
	}
	out := make([]byte, 0, len(b)+len(b)/8)
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '/':
			out = append(out, '\\', '/')
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			i += size
			if r >= 0x10000 {
				hi, lo := utf16.EncodeRune(r)
				out = appendU(appendU(out, hi), lo)
			} else {
				out = appendU(out, r)
			}
		}
	}
	return out
}

// Sign is the X-Hub-Signature-256 value Meta sends: "sha256=" + hex HMAC-SHA256 of the raw body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// signSHA1 is the legacy X-Hub-Signature header Meta still sends alongside.
func signSHA1(secret string, body []byte) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(body)
	return "sha1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks an X-Hub-Signature-256 header against the raw body, in constant time.
func VerifySignature(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// postSigned POSTs a signed webhook body as Meta does and reports the receiver's status.
func postSigned(ctx context.Context, client *http.Client, url, secret string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set("X-Hub-Signature-256", Sign(secret, body))
	req.Header.Set("X-Hub-Signature", signSHA1(secret, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// webhookURL is where Meta posts the app's webhooks; "" means nowhere.
func (s *Sim) webhookURL(app App) string {
	if s.cfg.WebhookURL != nil {
		return s.cfg.WebhookURL(app)
	}
	if s.cfg.WebhookBase == "" {
		return ""
	}
	return strings.TrimRight(s.cfg.WebhookBase, "/") + "/webhooks/" + string(app)
}

// newHTTPClient pools enough connections for thousands of webhooks per second on loopback.
func newHTTPClient(timeout time.Duration) (*http.Client, *http.Transport) {
	t := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: t}, t
}

// scheduled is a webhook event waiting for its moment.
type scheduled struct {
	due time.Time
	seq uint64
	at  time.Time // Meta's clock when the event was created, for entry.time
	url string
	ev  webhookEvent
}

// schedule is a min-heap of scheduled events by due time, then creation order.
type schedule []scheduled

func (h schedule) Len() int { return len(h) }
func (h schedule) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h schedule) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *schedule) Push(x any)   { *h = append(*h, x.(scheduled)) }
func (h *schedule) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// emitter posts the webhooks Meta sends after sends: a scheduler releases events when due and a
// bounded pool of workers posts them, batching up to Config.WebhookBatch per POST.
type emitter struct {
	s         *Sim
	client    *http.Client
	transport *http.Transport
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	mu      sync.Mutex
	pending schedule
	seq     uint64
	wake    chan struct{}
	ready   chan scheduled

	queued  atomic.Int64 // pending + ready
	posted  atomic.Int64
	failed  atomic.Int64
	dropped atomic.Int64
}

func newEmitter(s *Sim) *emitter {
	ctx, cancel := context.WithCancel(context.Background())
	e := &emitter{s: s, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), ready: make(chan scheduled, 1024)}
	e.client = s.cfg.HTTPClient
	if e.client == nil {
		e.client, e.transport = newHTTPClient(s.cfg.WebhookTimeout)
	}
	e.wg.Add(1 + s.cfg.WebhookWorkers)
	go e.runScheduler()
	for range s.cfg.WebhookWorkers {
		go e.runWorker()
	}
	return e
}

// stop ends the scheduler and the workers; events still waiting are abandoned.
func (e *emitter) stop() {
	e.cancel()
	e.wg.Wait()
	if e.transport != nil {
		e.transport.CloseIdleConnections()
	}
}

// schedule queues events to be posted after their step's delay.
func (e *emitter) schedule(events []webhookEvent) {
	if len(events) == 0 || e.s.cfg.DisableStatusWebhooks || e.ctx.Err() != nil {
		return
	}
	now, at := time.Now(), e.s.now()
	limit := int64(e.s.cfg.WebhookQueue)
	e.mu.Lock()
	for _, ev := range events {
		url := e.s.webhookURL(ev.app)
		if url == "" {
			continue
		}
		if e.queued.Load() >= limit {
			e.dropped.Add(1)
			continue
		}
		e.queued.Add(1)
		e.seq++
		heap.Push(&e.pending, scheduled{due: now.Add(time.Duration(ev.step) * e.s.cfg.StatusDelay), seq: e.seq, at: at, url: url, ev: ev})
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// popDue takes up to 256 events that are due, and says how long until the next one (-1: none).
func (e *emitter) popDue(now time.Time) ([]scheduled, time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var due []scheduled
	for len(e.pending) > 0 && len(due) < 256 && !e.pending[0].due.After(now) {
		due = append(due, heap.Pop(&e.pending).(scheduled))
	}
	if len(e.pending) == 0 {
		return due, -1
	}
	return due, e.pending[0].due.Sub(now)
}

func (e *emitter) runScheduler() {
	defer e.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		due, wait := e.popDue(time.Now())
		for _, item := range due {
			select {
			case e.ready <- item:
			case <-e.ctx.Done():
				return
			}
		}
		if len(due) > 0 {
			continue // more may be due already
		}
		var fire <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			fire = timer.C
		}
		select {
		case <-e.ctx.Done():
			timer.Stop()
			return
		case <-e.wake:
		case <-fire:
		}
		timer.Stop()
	}
}

func (e *emitter) runWorker() {
	defer e.wg.Done()
	for {
		var first scheduled
		select {
		case first = <-e.ready:
		case <-e.ctx.Done():
			return
		}
		batch := []scheduled{first}
	fill:
		for len(batch) < e.s.cfg.WebhookBatch {
			select {
			case item := <-e.ready:
				batch = append(batch, item)
			default:
				break fill
			}
		}
		e.queued.Add(-int64(len(batch)))
		e.deliver(batch)
	}
}

// deliver posts a batch, one body per (url, secret), keeping the events' order.
func (e *emitter) deliver(batch []scheduled) {
	for len(batch) > 0 {
		head := batch[0]
		var same, rest []scheduled
		for _, item := range batch {
			if item.url == head.url && item.ev.secret == head.ev.secret && item.ev.app == head.ev.app {
				same = append(same, item)
			} else {
				rest = append(rest, item)
			}
		}
		events := make([]webhookEvent, len(same))
		for i, item := range same {
			events[i] = item.ev
		}
		body, err := EncodeMeta(buildEnvelope(head.ev.app, head.at, events))
		if err == nil {
			e.postWithRetry(head.url, head.ev.secret, body)
		}
		batch = rest
	}
}

// postWithRetry retries failed posts with doubling backoff, as Meta retries webhooks.
func (e *emitter) postWithRetry(url, secret string, body []byte) {
	attempts := 1 + max(0, e.s.cfg.WebhookRetries)
	backoff := 100 * time.Millisecond
	for i := range attempts {
		if i > 0 && !sleepCtx(e.ctx, backoff) {
			return
		}
		backoff *= 2
		status, err := postSigned(e.ctx, e.client, url, secret, body)
		if err == nil && status >= 200 && status < 300 {
			e.posted.Add(1)
			return
		}
		if e.ctx.Err() != nil {
			return
		}
		e.s.cfg.Logger.Warn("metasim: webhook not accepted", "url", url, "status", status, "err", err, "attempt", i+1)
	}
	e.failed.Add(1)
}

func (e *emitter) counts() (posted, failed, dropped int64) {
	return e.posted.Load(), e.failed.Load(), e.dropped.Load()
}

func (e *emitter) resetCounts() {
	e.posted.Store(0)
	e.failed.Store(0)
	e.dropped.Store(0)
}

// sleepCtx sleeps for d unless ctx ends first; false means it ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
