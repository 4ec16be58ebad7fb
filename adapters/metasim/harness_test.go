package metasim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	pageID    = "104857600000001"
	igID      = "17841400000000001"
	phoneID   = "109000000000001"
	wabaID    = "102000000000001"
	pageToken = "EAAGpage-token"
	igToken   = "IGQVJ-ig-token"
	waToken   = "EAAGwa-system-user-token"
	secret    = "app-secret-42"

	psid     = "2400000000000001"
	igsid    = "17800000000000001"
	itPhone  = "393331234567"
	usPhone  = "12125550123"
	caPhone  = "15145550123"
	bsuidOne = "IT.12345678901234567890"
)

// clock is a settable Meta clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// receiver is a webhook endpoint that checks Meta's signature on the raw body.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	bodies map[string][][]byte // by path
	bad    int
	status int // answer; 0 means 200
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, bodies: make(map[string][][]byte)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if !VerifySignature(secret, raw, req.Header.Get("X-Hub-Signature-256")) {
			r.bad++
			w.WriteHeader(http.StatusForbidden)
			return
		}
		r.bodies[req.URL.Path] = append(r.bodies[req.URL.Path], raw)
		if r.status != 0 {
			w.WriteHeader(r.status)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// all returns the decoded bodies posted to the path.
func (r *receiver) all(path string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, b := range r.bodies[path] {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			r.t.Errorf("webhook body is not JSON: %v: %s", err, b)
			continue
		}
		out = append(out, m)
	}
	return out
}

// raw returns the bodies posted to the path, as received.
func (r *receiver) raw(path string) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies[path]...)
}

func (r *receiver) badSignatures() int { r.mu.Lock(); defer r.mu.Unlock(); return r.bad }

// waitFor polls until cond holds; a generous deadline turns a hang into a failure, not a timing claim.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// harness is a simulator behind a real HTTP server, with the three accounts and a receiver.
type harness struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *clock
	recv  *receiver
}

func newHarness(t *testing.T, now time.Time, tweak ...func(*Config)) *harness {
	t.Helper()
	return startHarness(t, now, nil, tweak...)
}

// newFrozenHarness stops real time for the rate limiter, so buckets never refill.
func newFrozenHarness(t *testing.T, now time.Time) *harness {
	t.Helper()
	frozen := time.Now()
	return startHarness(t, now, func() time.Time { return frozen })
}

func startHarness(t *testing.T, now time.Time, wall func() time.Time, tweak ...func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: &clock{t: now}, recv: newReceiver(t)}
	cfg := Config{Now: h.clock.Now, WebhookBase: h.recv.srv.URL, AppSecret: secret, Seed: 7}
	for _, f := range tweak {
		f(&cfg)
	}
	h.sim = New(cfg)
	if wall != nil {
		h.sim.wall = wall // before any request runs
	}
	t.Cleanup(func() { _ = h.sim.Close() })
	h.srv = httptest.NewServer(h.sim)
	t.Cleanup(h.srv.Close)
	h.sim.SetBaseURL(h.srv.URL)
	for _, a := range []Account{
		{App: Messenger, ID: pageID, AccessToken: pageToken},
		{App: Instagram, ID: igID, AccessToken: igToken},
		{App: WhatsApp, ID: phoneID, WABAID: wabaID, AccessToken: waToken, DisplayPhone: "15550001111"},
	} {
		if err := h.sim.AddAccount(a); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// post sends body (a string is sent raw) with a Bearer token and decodes the JSON answer.
func (h *harness) post(path, token string, body any) (int, map[string]any) {
	h.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			h.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return h.do(req)
}

func (h *harness) do(req *http.Request) (int, map[string]any) {
	h.t.Helper()
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		h.t.Fatalf("answer is not JSON (%d): %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

// metaErr extracts error.code and error.error_subcode from an answer.
func metaErr(m map[string]any) (code, subcode int) {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(float64)
	s, _ := e["error_subcode"].(float64)
	return int(c), int(s)
}

// dig walks a decoded JSON value by object keys and array indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

// isASCII reports whether a body holds only ASCII, as Meta's escaped JSON does.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func hasPrefix(v any, prefix string) bool { return strings.HasPrefix(str(v), prefix) }

// messengerText is a Messenger/Instagram RESPONSE text body to the recipient.
func messengerText(recipient, text string) map[string]any {
	return map[string]any{"recipient": map[string]any{"id": recipient}, "messaging_type": "RESPONSE",
		"message": map[string]any{"text": text}}
}

// waText is a WhatsApp text body to a number.
func waTextTo(to, text string) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
		"type": "text", "text": map[string]any{"body": text}}
}

func waTemplateTo(to, name string) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "to": to, "type": "template",
		"template": map[string]any{"name": name, "language": map[string]any{"code": "en_US"}}}
}

var (
	date2025 = time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	date2026 = time.Date(2026, 5, 12, 12, 0, 0, 0, time.UTC)
	today    = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
)
