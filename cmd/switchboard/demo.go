package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/web"
)

// Demo sign-in, printed at start.
const (
	demoEmail    = "agent@demo.switchboard"
	demoPassword = "switchboard-demo"
	demoBusiness = "Bottega Demo"
)

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
	if err := seedDemo(ctx, store); err != nil {
		return err
	}
	return runApp(ctx, cfg, log, store, "all", func(url string) {
		fmt.Fprintf(stdout, "\nSwitchboard demo is running (ready in %s)\n\n    %s/login\n    email:    %s\n    password: %s\n\nPress Ctrl-C to stop.\n\n",
			time.Since(started).Round(10*time.Millisecond), url, demoEmail, demoPassword)
	})
}

// seedDemo creates the demo business once; later runs reuse it.
func seedDemo(ctx context.Context, store *models.Store) error {
	if u, err := store.UserByEmail(ctx, demoEmail); err != nil || u != nil {
		return err
	}
	b, err := store.CreateBusiness(ctx, demoBusiness)
	if err != nil {
		return err
	}
	hash, err := web.HashPassword(demoPassword, web.DefaultArgon2)
	if err != nil {
		return err
	}
	if _, err := store.CreateUser(ctx, b.ID, demoEmail, "Giulia (demo)", hash, models.RoleAdmin); err != nil {
		return err
	}
	return nil
}
