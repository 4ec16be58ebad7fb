package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/embeddedpg"
)

// openDatabase connects to DATABASE_URL, or starts the embedded cluster when
// it is unset. The returned stop closes the pool and stops a cluster we started.
func openDatabase(ctx context.Context, cfg *Config, log *slog.Logger) (*models.DB, func(), error) {
	url := cfg.DatabaseURL
	var cluster *embeddedpg.Cluster
	if url == "" {
		var err error
		cluster, err = embeddedpg.New(filepath.Join(cfg.DataDir, "postgres"))
		if errors.Is(err, embeddedpg.ErrNoBinaries) {
			return nil, nil, fmt.Errorf("DATABASE_URL is unset and no PostgreSQL to embed.\n%s", embeddedpg.InstallHelp)
		}
		if err != nil {
			return nil, nil, err
		}
		log.Info("starting embedded PostgreSQL", "dir", cluster.Dir)
		if err := cluster.Start(ctx); err != nil {
			return nil, nil, err
		}
		if err := cluster.EnsureDatabase(ctx, "switchboard"); err != nil {
			_ = cluster.Stop()
			return nil, nil, err
		}
		url = cluster.URL("switchboard")
	}
	db, err := models.Open(ctx, url, models.DefaultPoolMaxConns)
	if err != nil {
		if cluster != nil {
			_ = cluster.Stop()
		}
		return nil, nil, err
	}
	stop := func() {
		db.Close()
		if cluster != nil {
			if err := cluster.Stop(); err != nil {
				log.Error("stopping embedded PostgreSQL", "error", err)
			} else {
				log.Info("embedded PostgreSQL stopped")
			}
		}
	}
	return db, stop, nil
}

func openStore(ctx context.Context, cfg *Config, log *slog.Logger) (*models.Store, func(), error) {
	cipher, err := models.NewCipher(cfg.SecretKey)
	if err != nil {
		return nil, nil, fmt.Errorf("SECRET_KEY: %w", err)
	}
	db, stop, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if err := models.Migrate(ctx, db.SQL); err != nil {
		stop()
		return nil, nil, err
	}
	return models.NewStore(db, cipher), stop, nil
}

func cmdMigrate(ctx context.Context, cfg *Config, log *slog.Logger) error {
	db, stop, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	if err := models.Migrate(ctx, db.SQL); err != nil {
		return err
	}
	log.Info("migrations applied")
	return nil
}
