package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
)

// demoProducts: two sold out with customers waiting on every app, one in stock.
var demoProducts = []models.ProductInput{
	{SKU: "GB-1", Name: "Giacca blu", URL: "https://bottega.example/p/giacca-blu", WATemplateName: "back_in_stock", WATemplateLanguage: "en_US"},
	{SKU: "SR-2", Name: "Sciarpa rossa", URL: "https://bottega.example/p/sciarpa-rossa", WATemplateName: "back_in_stock", WATemplateLanguage: "en_US"},
	{SKU: "CL-3", Name: "Camicia di lino", URL: "https://bottega.example/p/camicia-lino", Stock: 12},
}

// seedDemoRestock adds the demo products; the Page has One-Time Notifications.
func seedDemoRestock(ctx context.Context, store *models.Store, businessID int64) error {
	for _, p := range demoProducts {
		if _, err := store.CreateProduct(ctx, businessID, p); err != nil {
			return err
		}
	}
	for _, a := range demoAccounts {
		if a.App != metasim.Messenger {
			continue
		}
		ch, err := store.ChannelByAccount(ctx, string(a.App), a.ID)
		if err != nil || ch == nil {
			return err
		}
		if err := store.SetChannelOTN(ctx, businessID, ch.ID, true); err != nil {
			return err
		}
	}
	return nil
}

// demoRestockTraffic: simulated customers tap "Notify me" on all three apps,
// some days ago (their window has closed) and some just now.
func demoRestockTraffic(ctx context.Context, sim *metasim.Sim, log *slog.Logger) {
	now := time.Now()
	taps := []metasim.Event{
		{App: metasim.Messenger, Kind: "optin_otn", Payload: "restock:GB-1", At: now.Add(-3 * 24 * time.Hour)},
		{App: metasim.Messenger, Kind: "optin_otn", Payload: "restock:GB-1", At: now.Add(-2 * 24 * time.Hour)},
		{App: metasim.Messenger, Kind: "postback", Payload: "restock:GB-1", At: now.Add(-2 * time.Hour)},
		{App: metasim.Messenger, Kind: "quick_reply", Payload: "restock:SR-2", At: now.Add(-40 * time.Hour)},
		{App: metasim.Instagram, Kind: "postback", Payload: "restock:GB-1", At: now.Add(-90 * time.Minute)},
		{App: metasim.Instagram, Kind: "quick_reply", Payload: "restock:GB-1", At: now.Add(-50 * time.Hour)},
		{App: metasim.Instagram, Kind: "referral_link", Payload: "restock:SR-2", At: now.Add(-30 * time.Minute)},
		{App: metasim.WhatsApp, Kind: "button_reply", Payload: "restock:GB-1", At: now.Add(-3 * time.Hour)},
		{App: metasim.WhatsApp, Kind: "button_reply", Payload: "restock:GB-1", At: now.Add(-4 * 24 * time.Hour)},
		{App: metasim.WhatsApp, Kind: "button_reply", Payload: "restock:SR-2", At: now.Add(-20 * time.Minute)},
		{App: metasim.WhatsApp, Kind: "button_reply", Payload: "restock:XX-9", At: now.Add(-10 * time.Minute)}, // not a product: the agent sees it
	}
	for _, ev := range taps {
		in, err := sim.Build(ev)
		if err == nil {
			_, err = sim.Deliver(ctx, in)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("demo restock sign-up", "error", err)
		}
	}
}
