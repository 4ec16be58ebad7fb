package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	sc, err := h.startKillScenario(ctx, customers, mps, 13, env, func(sim *metasim.Sim) error { return h.helloWorld(ctx, sim) })
	if err != nil {
		return err
	}
	defer sc.close()
	sim := sc.sim
	api := func(path, body string, out any) error {
		st, b, err := sc.api(ctx, http.DefaultClient, http.MethodPost, path, body)
		if err != nil {
			return err
		}
		if st/100 != 2 {
			return fmt.Errorf("reliability: POST %s: %d %s", path, st, b)
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

	_, restarted, err := sc.killWhen(ctx, stdout, planned/3, planned, start)
	if err != nil {
		return err
	}

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

// helloWorld approves the hello_world utility template of the number,
// here and at Meta.
func (h *harness) helloWorld(ctx context.Context, sim *metasim.Sim) error {
	if err := sim.AddTemplate(benchPhoneID, metasim.Template{Name: "hello_world", Language: "en_US", Category: "UTILITY", Body: "Hello World"}); err != nil {
		return err
	}
	ch, err := h.store.ChannelByAccount(ctx, models.AppWhatsApp, benchPhoneID)
	if err != nil || ch == nil {
		return fmt.Errorf("reliability: channel: %v", err)
	}
	return h.store.Gorm(ctx).Create(&models.WATemplate{BusinessID: h.bizID, ChannelID: ch.ID, Name: "hello_world", Language: "en_US",
		Category: "utility", Status: "approved", Body: "Hello World"}).Error
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
