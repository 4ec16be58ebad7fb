package metasim

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

// CampaignBehaviour is how a WhatsApp number's customers answer its
// MARKETING templates: the share who are delivered, read, reply, click the
// tracked link, order; who stopped marketing (the send fails with 131050 and
// they stay opted out) or hit Meta's per-user marketing cap (131049); and
// after how many sends Meta pauses the template (its status webhook, then
// 132015 on every send). Each customer's fate is a hash of Seed, their
// number and the template: the same under the same seed, whatever the
// order of sends.
type CampaignBehaviour struct {
	Seed      uint64
	Delivered float64 // of those sent
	Read      float64 // of those delivered
	Replied   float64 // of those who read: an inbound text webhook
	Clicked   float64 // of those who read: an HTTP GET of the tracked link (URL button, else a body link)
	Ordered   float64 // of those who read: an inbound order webhook
	OptOut    float64 // of those sent: failed 131050, and opted out from then on
	UserCap   float64 // of those sent: failed 131049
	// PauseTemplateAfter pauses the template after this many sends (0: never).
	PauseTemplateAfter int
	ReplyText          string        // default "Grazie! Lo prendo"
	OrderCurrency      string        // the orders' currency; default EUR
	ActAfter           time.Duration // how long after the send the customer acts; default 3 × StatusDelay
	// Client fetches clicked links; default one that does not follow redirects.
	Client *http.Client
}

// CampaignStats is what the simulated customers did, for tests to compare.
type CampaignStats struct {
	Sent, Delivered, Read, Replied, Clicked, Ordered, OptedOut, Capped int64
	ClickErrors                                                        int64
}

type campaignState struct {
	b     CampaignBehaviour
	sends map[string]int // template → sends accepted
	stats struct {
		sent, delivered, read, replied, clicked, ordered, optedOut, capped, clickErrors atomic.Int64
	}
}

// campaignPlan is one customer's fate for one template send.
type campaignPlan struct {
	optOut, capped               bool
	delivered, read              bool
	replied, clicked, ordered    bool
	pauseTemplate                bool
	template, language, clickURL string
	phone                        string
}

// SetCampaignBehaviour gives the account's customers campaign behaviour
// (nil-like zero rates mean everyone is delivered and reads nothing further).
func (s *Sim) SetCampaignBehaviour(accountID string, b CampaignBehaviour) error {
	if b.ReplyText == "" {
		b.ReplyText = "Grazie! Lo prendo"
	}
	if b.ActAfter <= 0 {
		b.ActAfter = 3*s.cfg.StatusDelay + 10*time.Millisecond
	}
	if b.Client == nil {
		b.Client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	return s.withAccount(accountID, func(a *account) { a.campaign = &campaignState{b: b, sends: map[string]int{}} })
}

// CampaignStats reports what the account's customers did so far.
func (s *Sim) CampaignStats(accountID string) CampaignStats {
	var out CampaignStats
	_ = s.withAccount(accountID, func(a *account) {
		if c := a.campaign; c != nil {
			out = CampaignStats{Sent: c.stats.sent.Load(), Delivered: c.stats.delivered.Load(), Read: c.stats.read.Load(),
				Replied: c.stats.replied.Load(), Clicked: c.stats.clicked.Load(), Ordered: c.stats.ordered.Load(),
				OptedOut: c.stats.optedOut.Load(), Capped: c.stats.capped.Load(), ClickErrors: c.stats.clickErrors.Load()}
		}
	})
	return out
}

// roll is a customer's uniform draw in [0,1) for one decision.
func (c *campaignState) roll(phone, template, what string) float64 {
	h := fnv.New64a()
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], c.b.Seed)
	h.Write(seed[:])
	h.Write([]byte(phone + "|" + template + "|" + what))
	return float64(h.Sum64()>>11) / float64(1<<53)
}

// plan decides one marketing send's fate; the caller holds s.mu.
func (c *campaignState) plan(u *user, phone string, tpl Template, req *waSend) campaignPlan {
	p := campaignPlan{template: tpl.Name, language: tpl.Language, phone: phone}
	c.sends[tpl.Name+"|"+tpl.Language]++
	if n := c.b.PauseTemplateAfter; n > 0 && c.sends[tpl.Name+"|"+tpl.Language] == n {
		p.pauseTemplate = true
	}
	c.stats.sent.Add(1)
	switch {
	case c.roll(phone, tpl.Name, "optout") < c.b.OptOut:
		u.optedOut = true
		p.optOut = true
		c.stats.optedOut.Add(1)
		return p
	case c.roll(phone, tpl.Name, "cap") < c.b.UserCap:
		p.capped = true
		c.stats.capped.Add(1)
		return p
	}
	p.delivered = c.roll(phone, tpl.Name, "delivered") < c.b.Delivered
	p.read = p.delivered && c.roll(phone, tpl.Name, "read") < c.b.Read
	if p.delivered {
		c.stats.delivered.Add(1)
	}
	if !p.read {
		return p
	}
	c.stats.read.Add(1)
	p.replied = c.roll(phone, tpl.Name, "reply") < c.b.Replied
	p.ordered = c.roll(phone, tpl.Name, "order") < c.b.Ordered
	if c.roll(phone, tpl.Name, "click") < c.b.Clicked {
		p.clickURL = trackedLink(tpl, req)
		p.clicked = p.clickURL != ""
	}
	return p
}

var linkPattern = regexp.MustCompile(`https?://[^\s"]+`)

// trackedLink is the link a customer taps: the URL button with its suffix,
// else the first link in a body variable.
func trackedLink(tpl Template, req *waSend) string {
	type component struct {
		Type       string `json:"type"`
		SubType    string `json:"sub_type"`
		Parameters []struct {
			Text string `json:"text"`
		} `json:"parameters"`
	}
	var comps []component
	for _, raw := range req.Template.Components {
		var c component
		if json.Unmarshal(raw, &c) == nil {
			comps = append(comps, c)
		}
	}
	for _, c := range comps {
		if c.Type == "button" && c.SubType == "url" && len(c.Parameters) > 0 && tpl.URL != "" {
			return strings.Replace(tpl.URL, "{{1}}", c.Parameters[0].Text, 1)
		}
	}
	for _, c := range comps {
		for _, p := range c.Parameters {
			if m := linkPattern.FindString(p.Text); m != "" {
				return m
			}
		}
	}
	return ""
}

// actCampaign is the customer's behaviour after the send: Meta pauses the
// template when its count is reached; the customer replies, clicks, orders.
func (s *Sim) actCampaign(acct string, p campaignPlan) {
	if p.pauseTemplate {
		_ = s.SetTemplateStatus(acct, p.template, p.language, "PAUSED", "FIRST_PAUSE")
	}
	if !p.replied && !p.clicked && !p.ordered {
		return
	}
	var c *campaignState
	_ = s.withAccount(acct, func(a *account) { c = a.campaign })
	if c == nil {
		return
	}
	timer := time.NewTimer(c.b.ActAfter)
	select {
	case <-s.closed:
		timer.Stop()
		return
	case <-timer.C:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cust := &Customer{Name: "Customer " + p.phone, Phone: p.phone}
	if p.clicked {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.clickURL, nil)
		resp, err2 := (*http.Response)(nil), err
		if err == nil {
			resp, err2 = c.b.Client.Do(req)
		}
		if err2 != nil || resp.StatusCode >= 400 {
			c.stats.clickErrors.Add(1)
		} else {
			c.stats.clicked.Add(1)
		}
		if resp != nil {
			_ = resp.Body.Close()
		}
	}
	for _, kind := range []string{"text", "order"} {
		if kind == "text" && !p.replied || kind == "order" && !p.ordered {
			continue
		}
		ev := Event{App: WhatsApp, Kind: kind, Account: acct, Customer: cust, Currency: c.b.OrderCurrency}
		if kind == "text" {
			ev.Text = c.b.ReplyText
		}
		in, err := s.Build(ev)
		if err == nil {
			_, err = s.Deliver(ctx, in)
		}
		if err == nil && kind == "text" {
			c.stats.replied.Add(1)
		} else if err == nil {
			c.stats.ordered.Add(1)
		}
	}
}
