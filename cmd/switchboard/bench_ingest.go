package main

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"

	"github.com/switchboard-inbox/switchboard/bench"
	"github.com/switchboard-inbox/switchboard/models"
)

// benchIngest wires `switchboard bench ingest` (the harness is bench.Ingest):
// a fresh database and the real app on loopback.
func benchIngest(ctx context.Context, cfg *Config, args []string, stdout io.Writer) error {
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, stop, err := benchDatabase(ctx, cfg, quiet)
	if err != nil {
		return err
	}
	defer stop()
	serve := func(ctx context.Context, store *models.Store, ready func(string)) error {
		benchCfg := *cfg
		benchCfg.ListenAddr = "127.0.0.1:0"
		return runApp(ctx, &benchCfg, quiet, store, "all", ready)
	}
	return bench.Ingest(ctx, db, serve, args, stdout)
}

// replaceDatabase points a PostgreSQL URL at another database.
func replaceDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}
