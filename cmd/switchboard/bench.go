package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/switchboard-inbox/switchboard/bench"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/embeddedpg"
)

func cmdBench(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bench: which benchmark? ingest, ws, reliability")
	}
	switch args[0] {
	case "ingest":
		return benchIngest(ctx, cfg, args[1:], stdout)
	case "ws":
		return benchWS(ctx, cfg, args[1:], stdout)
	case "reliability":
		return bench.Reliability(ctx, args[1:], stdout)
	case "ws-load": // the child process of "bench ws"
		return benchWSLoad(ctx, os.Stdin, stdout)
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
