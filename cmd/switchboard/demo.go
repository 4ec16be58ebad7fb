package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
	"github.com/switchboard-inbox/switchboard/web"
)

// Demo sign-ins, printed at start.
const (
	demoEmail    = "agent@demo.switchboard"
	demoPassword = "switchboard-demo"
	demoBusiness = "Bottega Demo"
	demoSecret   = "demo-meta-app-secret"
)

// demoAccounts are the Page, Instagram account and WhatsApp number the demo
// business connects, all hosted by the built-in Meta simulator.
var demoAccounts = []metasim.Account{
	{App: metasim.Messenger, ID: "104729588000001", AccessToken: "demo-page-token", HumanAgent: true},
	{App: metasim.Instagram, ID: "17841400000000001", AccessToken: "demo-ig-token", HumanAgent: true},
	{App: metasim.WhatsApp, ID: "106540352200001", WABAID: "102290129300001", AccessToken: "demo-wa-token", DisplayPhone: "390212345678"},
}

// demoTemplates are the approved WhatsApp templates of the demo number.
var demoTemplates = []models.WATemplate{
	{Name: "order_update", Language: "it", Category: "utility", Body: "Ciao {{1}}, il tuo ordine {{2}} è in viaggio."},
	{Name: "back_in_stock", Language: "en_US", Category: "marketing", Body: "Hi {{1}}, {{2}} is back in stock!"},
	{Name: "appointment_reminder", Language: "en_US", Category: "utility", Body: "Hi {{1}}, see you on {{2}}."},
}

func cmdDemo(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	started := time.Now()
	if err := cfg.ensureDemoSecretKey(); err != nil {
		return err
	}
	store, stop, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()

	// Meta, simulated: Graph sends go to it, and it posts signed webhooks to us.
	var appURL atomic.Value
	appURL.Store("")
	sim := metasim.New(metasim.Config{
		AppSecret:   demoSecret,
		StatusDelay: 700 * time.Millisecond,        // ticks arrive one by one, as on a phone
		IDSalt:      uint64(time.Now().UnixNano()), // a restart on the same data directory mints new ids
		WebhookURL: func(app metasim.App) string {
			if u := appURL.Load().(string); u != "" {
				return u + "/webhooks/" + string(app)
			}
			return ""
		},
	})
	defer sim.Close()
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = sim.Serve(ctx, simLn) }()
	simURL := "http://" + simLn.Addr().String()
	sim.SetBaseURL(simURL)
	cfg.GraphAPIURL = simURL
	if err := seedDemo(ctx, store, sim); err != nil {
		return err
	}
	if err := demoCampaignTemplates(sim, cfg.BaseURL); err != nil { // demo_campaign.go
		return err
	}
	// Templates come from the simulated Meta, as a real business's would.
	if _, err := templateSyncer(cfg, store, log).SyncAll(ctx); err != nil {
		log.Warn("demo template sync", "error", err)
	}

	return runApp(ctx, cfg, log, store, "all", func(url string) {
		appURL.Store(url)
		fmt.Fprintf(stdout, "\nSwitchboard demo is running (ready in %s)\n\n    %s/login\n    email:    %s\n    password: %s\n\n"+
			"Simulated customers are writing on Messenger, Instagram and WhatsApp (Meta simulator at %s).\nPress Ctrl-C to stop.\n\n",
			time.Since(started).Round(10*time.Millisecond), url, demoEmail, demoPassword, simURL)
		go demoTraffic(ctx, sim, log)
		go demoGroup(ctx, store, sim, url, log)    // demo_group.go: the relay group and its poll
		go demoCampaign(ctx, store, sim, url, log) // demo_campaign.go: a campaign that ran and a draft
	})
}

// demoTraffic: a few older conversations (so every policy state is on
// screen), a burst of new ones, then a customer every few seconds.
func demoTraffic(ctx context.Context, sim *metasim.Sim, log *slog.Logger) {
	now := time.Now()
	history := []metasim.Event{
		{App: metasim.WhatsApp, Kind: "text", At: now.Add(-22*time.Hour - 30*time.Minute)},  // free reply closes soon
		{App: metasim.Messenger, Kind: "text", At: now.Add(-23*time.Hour - 40*time.Minute)}, // closes in minutes
		{App: metasim.Messenger, Kind: "text", At: now.Add(-3 * 24 * time.Hour)},            // HUMAN_AGENT only
		{App: metasim.Instagram, Kind: "text", At: now.Add(-5 * 24 * time.Hour)},            // HUMAN_AGENT only
		{App: metasim.WhatsApp, Kind: "order", At: now.Add(-4 * 24 * time.Hour)},            // templates only
		{App: metasim.Instagram, Kind: "text", At: now.Add(-9 * 24 * time.Hour)},            // nothing free: window closed
	}
	for _, ev := range history {
		in, err := sim.Build(ev)
		if err == nil {
			_, err = sim.Deliver(ctx, in)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("demo history", "error", err)
		}
	}
	demoRestockTraffic(ctx, sim, log)
	opening := []string{"messenger:text", "instagram:text", "whatsapp:text", "whatsapp:image", "instagram:story_mention",
		"whatsapp:order", "messenger:quick_reply", "whatsapp:location", "instagram:story_reply", "whatsapp:poll_creation",
		"messenger:text", "whatsapp:reply", "instagram:reaction", "whatsapp:contacts", "messenger:image", "whatsapp:voice"}
	if _, err := sim.RunTraffic(ctx, metasim.TrafficConfig{Kinds: opening, Count: len(opening), Rate: 8}); err != nil && ctx.Err() == nil {
		log.Warn("demo traffic", "error", err)
	}
	if _, err := sim.RunTraffic(ctx, metasim.TrafficConfig{Rate: 0.25}); err != nil && ctx.Err() == nil {
		log.Warn("demo traffic", "error", err)
	}
}

// seedDemo creates the demo business once (later runs reuse it) and tells
// the simulator about the accounts either way.
func seedDemo(ctx context.Context, store *models.Store, sim *metasim.Sim) error {
	for _, a := range demoAccounts {
		if err := sim.AddAccount(a); err != nil {
			return err
		}
		if a.App == metasim.WhatsApp {
			for _, t := range demoTemplates {
				if err := sim.AddTemplate(a.ID, metasim.Template{Name: t.Name, Language: t.Language, Category: upper(t.Category), Body: t.Body}); err != nil {
					return err
				}
			}
			if err := sim.AddTemplateExamples(a.ID); err != nil {
				return err
			}
		}
	}
	if u, err := store.UserByEmail(ctx, demoEmail); err != nil || u != nil {
		return err
	}
	b, err := store.CreateBusiness(ctx, demoBusiness)
	if err != nil {
		return err
	}
	users := []struct{ email, name, role string }{
		{demoEmail, "Giulia (admin)", models.RoleAdmin},
		{"marco@demo.switchboard", "Marco (agent)", models.RoleAgent},
		{"sara@demo.switchboard", "Sara (store staff)", models.RoleStaff},
	}
	for _, u := range users {
		hash, err := web.HashPassword(demoPassword, web.DefaultArgon2)
		if err != nil {
			return err
		}
		if _, err := store.CreateUser(ctx, b.ID, u.email, u.name, hash, u.role); err != nil {
			return err
		}
	}
	names := map[metasim.App]string{metasim.Messenger: "Bottega on Facebook", metasim.Instagram: "@bottega.demo", metasim.WhatsApp: "Bottega WhatsApp +39 02 1234 5678"}
	for _, a := range demoAccounts {
		_, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: b.ID, App: string(a.App), AccountID: a.ID, Name: names[a.App],
			WABAID: a.WABAID, DisplayPhone: a.DisplayPhone, AccessToken: a.AccessToken, AppSecret: demoSecret,
			VerifyToken: "demo-verify-token", HumanAgent: a.HumanAgent})
		if err != nil {
			return err
		}
	}
	// A sample rate card, labelled as such on the prices page: not Meta's prices.
	rows, lineErrs := pricing.ParseRateCard(pricing.SampleRateCard, quarterStart(time.Now()))
	if len(lineErrs) > 0 {
		return fmt.Errorf("demo: sample rate card: %v", lineErrs)
	}
	if _, err := store.ImportSamplePrices(ctx, b.ID, rows); err != nil {
		return err
	}
	if err := seedDemoRestock(ctx, store, b.ID); err != nil {
		return err
	}
	for _, l := range []models.Label{{Name: "order", Color: "#2563eb"}, {Name: "vip", Color: "#b45309"}, {Name: "complaint", Color: "#b91c1c"}} {
		created, err := store.CreateLabel(ctx, b.ID, l.Name)
		if err != nil {
			return err
		}
		if err := store.SetLabelColor(ctx, b.ID, created.ID, l.Color); err != nil {
			return err
		}
	}
	for _, c := range []models.CannedResponse{
		{Shortcut: "hours", Body: "We're open Monday to Saturday, 9:00–19:00."},
		{Shortcut: "shipping", Body: "Orders ship within 24 hours; delivery takes 2–3 working days."},
		{Shortcut: "grazie", Body: "Grazie mille! A presto."},
	} {
		if err := store.SaveCannedResponse(ctx, b.ID, c.Shortcut, c.Body); err != nil {
			return err
		}
	}
	return nil
}

// quarterStart is the 1 Jan, 1 Apr, 1 Jul or 1 Oct on or before t.
func quarterStart(t time.Time) time.Time {
	return time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
