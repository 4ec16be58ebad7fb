package metasim

import (
	"encoding/json"
	"maps"
	"sync"
	"time"
)

// Send is one request Meta accepted: a message (MessageID set) or an action (Action set).
type Send struct {
	App           App
	Account       string // Page id, Instagram account id or phone_number_id
	Recipient     string // PSID, IGSID, wa_id, BSUID or group id, as Meta resolved it
	MessageID     string // mid or wamid; empty for actions
	Action        string // "" for messages; typing_on, typing_off, mark_seen, react, unreact, read
	Type          string // text, image, video, audio, file, document, sticker, template, interactive, reaction, location, contacts
	Text          string // the text, caption or template name, for quick assertions
	MessagingType string // Messenger/Instagram messaging_type
	Tag           string // Messenger/Instagram tag
	Template      string // WhatsApp or utility template name
	Category      string // WhatsApp pricing category: service, marketing, utility, authentication
	Version       string // Graph version of the request path
	At            time.Time
	Raw           json.RawMessage // the request body exactly as received
}

// Body decodes the request body.
func (s Send) Body() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(s.Raw, &m)
	return m
}

// Stats counts what the simulator did.
type Stats struct {
	Accepted        int64         // sends and actions Meta accepted
	Refused         int64         // requests answered with an error (including injected ones)
	Injected        int64         // of Refused, those FailNext scripted
	Dropped         int64         // accepted sends whose answer was lost (DropNext)
	RefusedByCode   map[int]int64 // refusals by Meta error code
	WebhooksPosted  int64         // webhook POSTs the receiver answered 2xx
	WebhooksFailed  int64         // webhook POSTs that failed after every retry
	WebhooksDropped int64         // webhook events dropped because the queue was full
}

// recorder keeps every accepted send (up to max) and counts refusals.
type recorder struct {
	mu        sync.Mutex
	max       int
	sends     []Send
	accepted  int64
	refusals  int64
	injects   int64
	drops     int64
	byCode    map[int]int64
	byAccount map[string]int64
}

func (r *recorder) add(s Send) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accepted++
	if len(r.sends) < r.max {
		r.sends = append(r.sends, s)
	}
}

func (r *recorder) refused(account string, code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byCode == nil {
		r.byCode = make(map[int]int64)
		r.byAccount = make(map[string]int64)
	}
	r.refusals++
	r.byCode[code]++
	r.byAccount[account]++
}

func (r *recorder) injected() {
	r.mu.Lock()
	r.injects++
	r.mu.Unlock()
}

func (r *recorder) dropped() {
	r.mu.Lock()
	r.drops++
	r.mu.Unlock()
}

// accept records an accepted send and schedules the webhooks Meta sends after it.
func (s *Sim) accept(res *sendResult) {
	s.rec.add(res.send)
	s.hooks.schedule(res.hooks)
	if res.after != nil {
		go res.after()
	}
}

// Received returns every accepted send and action, in the order Meta accepted them.
func (s *Sim) Received() []Send {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return append([]Send(nil), s.rec.sends...)
}

// Sends returns the account's accepted messages (not actions), in order.
func (s *Sim) Sends(account string) []Send {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	var out []Send
	for _, snd := range s.rec.sends {
		if snd.Account == account && snd.Action == "" {
			out = append(out, snd)
		}
	}
	return out
}

// RefusedCount is how many requests to the account Meta refused.
func (s *Sim) RefusedCount(account string) int64 {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return s.rec.byAccount[account]
}

// Stats returns the simulator's counters.
func (s *Sim) Stats() Stats {
	s.rec.mu.Lock()
	st := Stats{
		Accepted:      s.rec.accepted,
		Refused:       s.rec.refusals,
		Injected:      s.rec.injects,
		Dropped:       s.rec.drops,
		RefusedByCode: maps.Clone(s.rec.byCode),
	}
	s.rec.mu.Unlock()
	if st.RefusedByCode == nil {
		st.RefusedByCode = map[int]int64{}
	}
	st.WebhooksPosted, st.WebhooksFailed, st.WebhooksDropped = s.hooks.counts()
	return st
}

// Reset forgets recorded sends and counters; Meta's state (windows, tokens, opt-outs) stays.
func (s *Sim) Reset() {
	s.rec.mu.Lock()
	s.rec.sends, s.rec.accepted, s.rec.refusals, s.rec.injects, s.rec.drops = nil, 0, 0, 0, 0
	s.rec.byCode, s.rec.byAccount = nil, nil
	s.rec.mu.Unlock()
	s.hooks.resetCounts()
}
