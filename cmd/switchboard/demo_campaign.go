package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
)

// The demo's campaign template: the customer's first name, the offer and a
// code in the body, and a URL button whose suffix is the tracked link's token.
const (
	demoCampaignTemplate = "saldi_invernali"
	demoCampaignBody     = "Ciao {{1}}, i saldi invernali sono iniziati: {{2}}. Usa il codice {{3}} alla cassa."
)

// demoCampaignTemplates approves the campaign template at the simulated
// Meta before the template sync, its button pointing at our /c/ redirect.
func demoCampaignTemplates(sim *metasim.Sim, baseURL string) error {
	for _, a := range demoAccounts {
		if a.App != metasim.WhatsApp {
			continue
		}
		if err := sim.AddTemplate(a.ID, metasim.Template{Name: demoCampaignTemplate, Language: "it", Category: "MARKETING",
			Body: demoCampaignBody, URL: strings.TrimRight(baseURL, "/") + "/c/{{1}}"}); err != nil {
			return err
		}
		// The customers' behaviour towards marketing, fixed by a seed; they order in
		// USD, the currency of the demo's price table and so of its campaigns.
		if err := sim.SetCampaignBehaviour(a.ID, metasim.CampaignBehaviour{Seed: 42, Delivered: 0.93, Read: 0.7, Replied: 0.25,
			Clicked: 0.35, Ordered: 0.12, OptOut: 0.03, UserCap: 0.04, ActAfter: 4 * time.Second,
			OrderCurrency: "USD"}); err != nil {
			return err
		}
	}
	return nil
}

// demoCampaign gives the demo a WhatsApp customer list (as if imported), a
// draft ready to estimate and schedule, and a campaign that runs against the
// simulator at once. Only on the first run: later runs keep what is there.
func demoCampaign(ctx context.Context, store *models.Store, sim *metasim.Sim, baseURL string, log *slog.Logger) {
	if err := playDemoCampaign(ctx, store, sim, baseURL); err != nil && ctx.Err() == nil {
		log.Warn("demo campaign", "error", err)
	}
}

func playDemoCampaign(ctx context.Context, store *models.Store, sim *metasim.Sim, baseURL string) error {
	ch, err := store.ChannelByAccount(ctx, string(metasim.WhatsApp), demoAccountOf(metasim.WhatsApp))
	if err != nil || ch == nil {
		return fmt.Errorf("demo WhatsApp channel: %v", err)
	}
	existing, err := store.Campaigns(ctx, ch.BusinessID, 1)
	if err != nil || len(existing) > 0 {
		return err
	}
	// The shop's customer list: the simulator's WhatsApp users with a number.
	n := 0
	for _, c := range sim.Customers() {
		if c.Phone == "" || n >= 80 {
			continue
		}
		found, err := store.IdentityByExternal(ctx, ch.ID, c.Phone)
		if err != nil {
			return err
		}
		if found != nil {
			n++
			continue
		}
		contact := &models.Contact{BusinessID: ch.BusinessID, Name: c.Name, Phone: "+" + c.Phone, Country: c.Country}
		if n%9 == 4 {
			contact.Name = "" // some customers never told us their name: the fallback "cliente" is used
		}
		if err := store.CreateContact(ctx, contact); err != nil {
			return err
		}
		id := &models.Identity{BusinessID: ch.BusinessID, ContactID: contact.ID, ChannelID: ch.ID, App: models.AppWhatsApp,
			ExternalID: c.Phone, Phone: "+" + c.Phone, Country: c.Country, DisplayName: contact.Name}
		if err := store.CreateIdentity(ctx, id); err != nil {
			// The simulated traffic may have brought this customer in meanwhile:
			// keep theirs and drop the contact made for ours.
			if again, err2 := store.IdentityByExternal(ctx, ch.ID, c.Phone); err2 != nil || again == nil {
				return err
			}
			if err := store.DeleteContact(ctx, contact.ID); err != nil {
				return err
			}
		}
		n++
	}
	token, _, err := store.CreateAPIToken(ctx, ch.BusinessID, "demo campaigns")
	if err != nil {
		return err
	}
	api := demoAPI{base: baseURL, token: token}
	campaign := func(name string, audience map[string]any, budget string, rate int) map[string]any {
		return map[string]any{"name": name, "channel_id": ch.ID, "template": map[string]string{"name": demoCampaignTemplate, "language": "it"},
			"variables": []string{"{first_name|cliente}", "fino al 40% su giacche e maglioni", "SALDI40", "{link:https://bottega.example/saldi}"},
			"audience":  audience, "time_zone": "Europe/Rome", "budget": budget, "rate_per_second": rate}
	}
	var out struct {
		ID int64 `json:"id"`
	}
	// The one that already ran: every customer, five a second.
	if code, err := api.post(ctx, "/api/v1/campaigns", campaign("Saldi invernali — tutti", map[string]any{}, "20.00", 5), &out); err != nil || code != 201 {
		return fmt.Errorf("create the demo campaign: %d %v", code, err)
	}
	if code, err := api.post(ctx, fmt.Sprintf("/api/v1/campaigns/%d/start", out.ID), nil, nil); err != nil || code != 200 {
		return fmt.Errorf("start the demo campaign: %d %v", code, err)
	}
	// The draft: customers in Italy, France and Germany, ready to estimate and schedule.
	if code, err := api.post(ctx, "/api/v1/campaigns", campaign("Anteprima saldi IT FR DE", map[string]any{"countries": []string{"IT", "FR", "DE"}}, "10.00", 0), nil); err != nil || code != 201 {
		return fmt.Errorf("create the demo draft: %d %v", code, err)
	}
	return nil
}
