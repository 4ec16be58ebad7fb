package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-inbox/switchboard/bench"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/embeddedpg"
	"github.com/switchboard-inbox/switchboard/web"
)

func cmdBench(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bench: which benchmark? ingest, ws, reliability")
	}
	switch args[0] {
	case "ingest":
		return benchIngest(ctx, cfg, args[1:], stdout)
	case "ws":
		return bench.WS(ctx, wsEnv(cfg), args[1:], stdout)
	case "reliability":
		return bench.Reliability(ctx, args[1:], stdout)
	case "ws-load": // the child process of "bench ws"
		return bench.WSLoad(ctx, os.Stdin, stdout)
	}
	return fmt.Errorf("bench: unknown benchmark %q", args[0])
}

// benchDatabase gives a benchmark a fresh database "switchboard_bench" on the
// configured server (or the embedded one), never touching the real data.
func benchDatabase(ctx context.Context, cfg *Config, log *slog.Logger) (*models.DB, func(), error) {
	admin := cfg.DatabaseURL
	var cluster *embeddedpg.Cluster
	if admin == "" {
		var err error
		if cluster, err = embeddedpg.New(filepath.Join(cfg.DataDir, "postgres")); err != nil {
			return nil, nil, err
		}
		if err := cluster.Start(ctx); err != nil {
			return nil, nil, err
		}
		admin = cluster.URL("postgres")
	}
	adminDB, err := models.Open(ctx, admin, 2)
	if err != nil {
		return nil, nil, err
	}
	_, _ = adminDB.Pool.Exec(ctx, `DROP DATABASE IF EXISTS switchboard_bench WITH (FORCE)`)
	if _, err := adminDB.Pool.Exec(ctx, `CREATE DATABASE switchboard_bench`); err != nil {
		adminDB.Close()
		return nil, nil, err
	}
	adminDB.Close()
	url := replaceDatabase(admin, "switchboard_bench")
	db, err := models.Open(ctx, url, 64)
	if err != nil {
		return nil, nil, err
	}
	if err := models.Migrate(ctx, db.SQL); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, func() {
		db.Close()
		if cluster != nil {
			_ = cluster.Stop()
		}
	}, nil
}

// wsEnv wires the websocket benchmark: its own database, and the app
// started on it as serve starts it, with the Graph API pointed nowhere
// (nothing there calls Meta; never reach the real one).
func wsEnv(cfg *Config) bench.WSEnv {
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	benchCfg := *cfg
	benchCfg.GraphAPIURL = "http://127.0.0.1:9"
	return bench.WSEnv{
		Database: func(ctx context.Context) (*models.DB, func(), error) { return benchDatabase(ctx, cfg, quiet) },
		Start: func(ctx context.Context, store *models.Store) (*web.Server, string, error) {
			return startBenchApp(ctx, &benchCfg, quiet, store)
		},
	}
}

// startBenchApp runs the app as runApp does, keeping the web server at hand.
func startBenchApp(ctx context.Context, cfg *Config, log *slog.Logger, store *models.Store) (*web.Server, string, error) {
	app, err := buildApp(ctx, cfg, log, store)
	if err != nil {
		return nil, "", err
	}
	for _, w := range append(app.workers, app.webWorkers...) {
		go func() {
			if err := w(ctx); err != nil && ctx.Err() == nil {
				log.Error("bench ws: worker stopped", "error", err)
			}
		}()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	hs := &http.Server{Handler: app.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = hs.Close()
	}()
	return app.server, listenURL(ln), nil
}
