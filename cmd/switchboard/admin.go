package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/web"
)

func cmdAdmin(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("admin: which command? create-business, add-channel, sync-templates, create-user, create-token, webhook-log\n\n%s", usage)
	}
	if cfg.DatabaseURL == "" {
		if err := cfg.ensureDemoSecretKey(); err != nil { // the embedded database keeps its own key
			return err
		}
	} else if err := cfg.requireSecretKey(); err != nil {
		return err
	}
	fs := flag.NewFlagSet("admin "+args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	var (
		business                            = fs.Int64("business", 0, "business id")
		name                                = fs.String("name", "", "name")
		app                                 = fs.String("app", "", "messenger, instagram or whatsapp")
		accountID                           = fs.String("account-id", "", "Page id, Instagram account id or WhatsApp phone-number id")
		appSecret, accessToken, verifyToken = fs.String("app-secret", "", "the Meta app's secret"), fs.String("access-token", "", "Page, Instagram or system-user token"), fs.String("verify-token", "", "webhook verify token")
		email, password, role               = fs.String("email", "", "email"), fs.String("password", "", "password"), fs.String("role", "agent", "admin, agent or staff")
		humanAgent                          = fs.Bool("human-agent", false, "the app has the Human Agent permission for this Page/account")
		person                              = fs.Bool("person", false, "create-token: a person sends with this token (may use HUMAN_AGENT); default: software")
		wabaID                              = fs.String("waba-id", "", "WhatsApp Business Account id (templates are synced from it)")
		otn                                 = fs.Bool("otn", false, "the Page has One-Time Notifications (Messenger)")
	)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	store, stop, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	needBusiness := func() error {
		if *business <= 0 {
			return fmt.Errorf("--business is required")
		}
		b, err := store.Business(ctx, *business)
		if err != nil {
			return err
		}
		if b == nil {
			return fmt.Errorf("no business with id %d", *business)
		}
		return nil
	}
	switch args[0] {
	case "create-business":
		if *name == "" {
			return fmt.Errorf("--name is required")
		}
		b, err := store.CreateBusiness(ctx, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, b.ID)
	case "add-channel":
		if err := needBusiness(); err != nil {
			return err
		}
		ch, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: *business, App: *app, AccountID: *accountID,
			AccessToken: *accessToken, AppSecret: *appSecret, VerifyToken: *verifyToken, Name: *name, HumanAgent: *humanAgent,
			WABAID: *wabaID})
		if err != nil {
			return err
		}
		if *otn {
			if err := store.SetChannelOTN(ctx, *business, ch.ID, true); err != nil {
				return err
			}
		}
		fmt.Fprintln(stdout, ch.ID)
		if ch.App == models.AppWhatsApp && ch.WABAID != "" { // sync on connect; a failure is shown in Settings → Templates
			if _, err := templateSyncer(cfg, store, log).SyncChannel(ctx, ch); err != nil {
				log.Warn("template sync on connect failed", "channel_id", ch.ID, "error", err)
			}
		}
	case "sync-templates":
		if err := needBusiness(); err != nil {
			return err
		}
		res, err := templateSyncer(cfg, store, log).SyncBusiness(ctx, *business)
		n := 0
		for _, r := range res {
			n += r.Fetched
		}
		fmt.Fprintf(stdout, "%d templates from %d WhatsApp channels\n", n, len(res))
		if err != nil {
			return err
		}
	case "create-user":
		if err := needBusiness(); err != nil {
			return err
		}
		if *email == "" || len(*password) < 8 || !models.ValidRole(*role) {
			return fmt.Errorf("--email, --password (8+ characters) and --role admin|agent|staff are required")
		}
		hash, err := web.HashPassword(*password, web.DefaultArgon2)
		if err != nil {
			return err
		}
		u, err := store.CreateUser(ctx, *business, *email, *name, hash, *role)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, u.ID)
	case "create-token":
		if err := needBusiness(); err != nil {
			return err
		}
		if *name == "" {
			return fmt.Errorf("--name is required")
		}
		create := store.CreateAPIToken
		if *person {
			create = store.CreatePersonAPIToken
		}
		token, _, err := create(ctx, *business, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, token)
	case "webhook-log":
		// The operator's view: payloads no business may see (unknown accounts, unreadable bodies).
		entries, err := store.OperatorWebhookLog(ctx, 100)
		if err != nil {
			return err
		}
		for _, e := range entries {
			fmt.Fprintf(stdout, "%s\t%s\t%s\tpayload %d\t%s\t%s\n", e.CreatedAt.UTC().Format(time.RFC3339), e.App, e.Kind,
				e.RawWebhookID, e.EventType, e.Error)
		}
	default:
		return fmt.Errorf("admin: unknown command %q", args[0])
	}
	return nil
}

func templateSyncer(cfg *Config, store *models.Store, log *slog.Logger) *jobs.TemplateSyncer {
	return jobs.NewTemplateSyncer(store, &meta.Client{BaseURL: cfg.GraphAPIURL, Version: cfg.GraphAPIVersion}, log, nil)
}
