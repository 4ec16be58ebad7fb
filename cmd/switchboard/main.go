// Command switchboard is the unified inbox: `demo`, `serve`, `migrate`,
// `metasim`, `admin …` and `bench …`. This file only wires things together.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Switchboard — Messenger, Instagram and WhatsApp in one inbox.

Usage:
  switchboard demo                  start everything with an embedded database and simulated customers
  switchboard serve [--role all|web|worker]
  switchboard migrate               apply database migrations
  switchboard metasim [--addr :9090] run the Meta simulator alone
  switchboard admin create-business --name N
  switchboard admin add-channel --business ID --app messenger|instagram|whatsapp --account-id ID --app-secret S --access-token T [--verify-token V] [--waba-id W] [--human-agent]
  switchboard admin sync-templates --business ID   fetch every WhatsApp channel's templates from Meta
  switchboard admin create-user --business ID --email E --password P --role admin|agent|staff
  switchboard admin create-token --business ID --name N [--person]
  switchboard admin webhook-log     payloads no business may see (unknown accounts, unreadable bodies)
  switchboard bench ingest|ws|reliability [flags]   (reliability: kill9, outage, bodies, replicas)

Configuration comes from the environment; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogFormat)
	switch args[0] {
	case "serve":
		return cmdServe(ctx, cfg, log, args[1:])
	case "demo":
		return cmdDemo(ctx, cfg, log, args[1:], stdout)
	case "migrate":
		return cmdMigrate(ctx, cfg, log)
	case "metasim":
		return cmdMetasim(ctx, cfg, log, args[1:], stdout)
	case "admin":
		return cmdAdmin(ctx, cfg, log, args[1:], stdout)
	case "bench":
		return cmdBench(ctx, cfg, log, args[1:], stdout)
	}
	return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
}

func newLogger(format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}
