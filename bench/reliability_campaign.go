package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
)

// campaign: a WhatsApp campaign to every customer is started through the
// API, and the serve process (its runner and its send workers) is killed -9
// once a third of the recipients have reached Meta, then restarted. Counted
// at the simulator (no status webhooks, no echoes): nobody twice, nobody
// lost; a send the crash left unknowable (its request may have reached Meta)
// is shown as unknown and never resent.
func (h *harness) campaign(ctx context.Context, stdout io.Writer, customers, mps int, env []string) error {
	sim, addr, err := h.campaignSim(ctx, customers, mps)
	if err != nil {
		return err
	}
	defer sim.Close()
	env = append(env, "GRAPH_API_URL=http://"+addr)
	k, err := h.startChild(ctx, "serve", env...)
	if err != nil {
		return err
	}
	cur := k
	pop := sim.Customers()
	// Every customer writes first: the customers become contacts with a WhatsApp identity.
	for i := range pop {
		in, err := sim.Build(metasim.Event{App: metasim.WhatsApp, Kind: "text", Customer: &pop[i]})
		if err != nil {
			return err
		}
		if _, err := sim.Deliver(ctx, in); err != nil {
			return err
		}
	}
	if _, err := h.waitThreads(ctx, len(pop)); err != nil {
		return err
	}
	token, err := h.personToken(ctx, h.store)
	if err != nil {
		return err
	}
	api := func(path, body string, out any) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+cur.addr+path, bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("reliability: POST %s: %d %s", path, resp.StatusCode, b)
		}
		return json.Unmarshal(b, out)
	}
	ch, err := h.store.ChannelByAccount(ctx, models.AppWhatsApp, benchPhoneID)
	if err != nil || ch == nil {
		return fmt.Errorf("reliability: channel: %v", err)
	}
	var camp struct {
		ID int64 `json:"id"`
	}
	if err := api("/api/v1/campaigns", fmt.Sprintf(`{"name":"kill -9","channel_id":%d,"template":{"name":"hello_world","language":"en_US"},
		"budget":"100000.00","currency":"EUR","time_zone":"UTC"}`, ch.ID), &camp); err != nil {
		return err
	}
	start := time.Now()
	if err := api(fmt.Sprintf("/api/v1/campaigns/%d/start", camp.ID), `{}`, &struct{}{}); err != nil {
		return err
	}
	n, err := h.store.CampaignCounts(ctx, camp.ID)
	if err != nil {
		return err
	}
	planned := n.Total - n.Skipped
	fmt.Fprintf(stdout, "campaign %d: %d recipients (%d skipped)\n", camp.ID, planned, n.Skipped)

	for sim.Stats().Accepted < planned/3 {
		time.Sleep(5 * time.Millisecond)
	}
	k.kill()
	atKill := sim.Stats().Accepted
	fmt.Fprintf(stdout, "kill -9 with %d of %d at Meta after %s\n", atKill, planned, time.Since(start).Round(time.Millisecond))
	restarted := time.Now()
	if cur, err = h.startChild(ctx, "serve", env...); err != nil {
		return err
	}
	defer cur.stop()

	deadline := time.Now().Add(15 * time.Minute)
	var c *models.Campaign
	for {
		if c, err = h.store.Campaign(ctx, h.bizID, camp.ID); err != nil {
			return err
		}
		if n, err = h.store.CampaignCounts(ctx, camp.ID); err != nil {
			return err
		}
		if c.Status == models.CampaignDone && n.Queued == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Fprintf(stdout, "campaign %s %s after the restart: %d sent, %d unknown, %d failed, %d queued, %d pending\n",
		c.Status, time.Since(restarted).Round(time.Second), n.Sent, n.Unknown, n.Failed, n.Queued, n.Pending)
	return h.campaignTally(ctx, stdout, sim, camp.ID, planned)
}

// campaignSim is the simulator with one WhatsApp number capped at mps and
// its approved hello_world template, here and at Meta.
func (h *harness) campaignSim(ctx context.Context, customers, mps int) (*metasim.Sim, string, error) {
	var webhook func() string
	sim := metasim.New(metasim.Config{AppSecret: benchAppSecret, DisableStatusWebhooks: true, Customers: customers, Seed: 13,
		WebhookURL: func(metasim.App) string { return webhook() }})
	webhook = func() string {
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.kids) == 0 {
			return ""
		}
		return "http://" + h.kids[len(h.kids)-1].addr + "/webhooks/whatsapp"
	}
	if err := sim.AddAccount(metasim.Account{App: metasim.WhatsApp, ID: benchPhoneID, AccessToken: "token", MPS: mps}); err != nil {
		return nil, "", err
	}
	if err := sim.AddTemplate(benchPhoneID, metasim.Template{Name: "hello_world", Language: "en_US", Category: "UTILITY", Body: "Hello World"}); err != nil {
		return nil, "", err
	}
	ch, err := h.store.ChannelByAccount(ctx, models.AppWhatsApp, benchPhoneID)
	if err != nil || ch == nil {
		return nil, "", fmt.Errorf("reliability: channel: %v", err)
	}
	if err := h.store.Gorm(ctx).Create(&models.WATemplate{BusinessID: h.bizID, ChannelID: ch.ID, Name: "hello_world", Language: "en_US",
		Category: "utility", Status: "approved", Body: "Hello World"}).Error; err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	go func() { _ = sim.Serve(ctx, ln) }()
	return sim, ln.Addr().String(), nil
}

// campaignTally counts the campaign's sends at Meta per recipient: twice is
// a duplicate; none, for a recipient whose send is not unknown, is lost.
func (h *harness) campaignTally(ctx context.Context, stdout io.Writer, sim *metasim.Sim, campaignID, planned int64) error {
	heard := map[string]int{}
	for _, s := range sim.Sends(benchPhoneID) {
		heard[s.Recipient]++
	}
	var dup, lost, unknown, unknownAtMeta, recipients int64
	for after := int64(0); ; {
		rs, err := h.store.CampaignRecipients(ctx, h.bizID, campaignID, "", after, 500)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			break
		}
		for _, r := range rs {
			after = r.ID
			if r.Status == models.RecipientSkipped || r.IdentityID == nil {
				continue
			}
			recipients++
			id, err := h.store.Identity(ctx, h.bizID, *r.IdentityID)
			if err != nil || id == nil {
				return fmt.Errorf("reliability: identity of recipient %d: %v", r.ID, err)
			}
			k := heard[id.ExternalID]
			switch {
			case k > 1:
				dup += int64(k - 1)
			case r.Status == models.RecipientUnknown:
				unknown++
				unknownAtMeta += int64(k)
			case k == 0:
				lost++
			}
		}
	}
	fmt.Fprintf(stdout, "at Meta: %d of %d recipients sent, %d duplicates, %d lost; %d unknown (in flight at the kill, never resent; %d of them did reach Meta)\n",
		int64(len(heard)), recipients, dup, lost, unknown, unknownAtMeta)
	switch {
	case recipients != planned:
		return fmt.Errorf("reliability: %d recipients, %d planned", recipients, planned)
	case dup > 0:
		return fmt.Errorf("reliability: %d duplicates", dup)
	case lost > 0:
		return fmt.Errorf("reliability: %d recipients lost", lost)
	}
	return nil
}
