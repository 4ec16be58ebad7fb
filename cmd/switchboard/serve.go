package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
	"github.com/switchboard-inbox/switchboard/web"
)

func cmdServe(ctx context.Context, cfg *Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	role := fs.String("role", "all", "web, worker or all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *role != "all" && *role != "web" && *role != "worker" {
		return fmt.Errorf("--role must be web, worker or all, got %q", *role)
	}
	if err := cfg.requireSecretKey(); err != nil {
		return err
	}
	store, stop, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	return runApp(ctx, cfg, log, store, *role, nil)
}

// runApp runs the HTTP server and/or the background workers until ctx ends,
// then shuts them down gracefully. ready, when set, receives the listen URL.
func runApp(ctx context.Context, cfg *Config, log *slog.Logger, store *models.Store, role string, ready func(url string)) error {
	app, err := buildApp(ctx, cfg, log, store)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { app.prices.Follow(ctx, store, nil); return nil }) // other replicas' price imports, at once
	if role == "all" || role == "worker" {
		for _, w := range app.workers {
			g.Go(func() error { return w(ctx) })
		}
	}
	if role == "all" || role == "web" {
		for _, w := range app.webWorkers {
			g.Go(func() error { return w(ctx) })
		}
		url, err := serveHTTP(ctx, g, log, cfg.ListenAddr, app.handler)
		if err != nil {
			return fmt.Errorf("LISTEN_ADDR: %w", err)
		}
		if ready != nil {
			ready(url)
		}
	}
	if cfg.MetricsAddr != "" {
		if _, err := serveHTTP(ctx, g, log, cfg.MetricsAddr, app.server.MetricsHandler()); err != nil {
			return fmt.Errorf("METRICS_ADDR: %w", err)
		}
	}
	err = g.Wait()
	log.Info("stopped")
	return err
}

// serveHTTP serves h on addr in g until ctx ends, then shuts it down; it
// returns the URL it listens on.
func serveHTTP(ctx context.Context, g *errgroup.Group, log *slog.Logger, addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	url := listenURL(ln)
	log.Info("listening", "url", url)
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
	return url, nil
}

// listenURL is where this process actually listens (port 0 resolved).
func listenURL(ln net.Listener) string {
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// app is the wired process: its HTTP handler, the loops that serve it
// (webWorkers), and the background workers.
type app struct {
	handler    http.Handler
	server     *web.Server
	prices     *pricing.Book
	webWorkers []func(context.Context) error
	workers    []func(context.Context) error
}

func buildApp(ctx context.Context, cfg *Config, log *slog.Logger, store *models.Store) (*app, error) {
	graph := &meta.Client{BaseURL: cfg.GraphAPIURL, Version: cfg.GraphAPIVersion}
	processor := inbound.NewProcessor(store, log, 0)
	profiles := inbound.NewProfiles(store, graph, log)
	journal := inbound.NewJournal(store, 4, processor.Wake)
	prices := pricing.NewBook(store, 0) // one quote book: an import through the web is seen by the send path at once
	pipeline, err := jobs.New(store, log, jobs.Config{MediaBaseURL: cfg.BaseURL, GraphURL: cfg.GraphAPIURL, GraphVersion: cfg.GraphAPIVersion, Prices: prices,
		ReconcileAfter: cfg.reconcileAfter()})
	if err != nil {
		return nil, err
	}
	processor.Relay = pipeline.Relay()
	pipeline.Campaigns().SetBaseURL(cfg.BaseURL) // tracked links: BASE_URL/c/<token>
	srv := web.New(store, log, web.Options{
		Outbox:             pipeline.Outbox(),
		BaseURL:            cfg.BaseURL,
		SecureCookies:      strings.HasPrefix(cfg.BaseURL, "https://"),
		MetaAppSecret:      cfg.MetaAppSecret,
		MetaVerifyToken:    cfg.MetaVerifyToken,
		Journal:            journal,
		Graph:              graph,
		MetricsToken:       cfg.MetricsToken,
		TrustedProxyHeader: cfg.TrustedProxy,
		Wake:               processor.Wake,
		Templates:          jobs.NewTemplateSyncer(store, graph, log, nil),
		Prices:             prices,
		Groups:             pipeline.Relay(),
		Polls:              pipeline.Polls(),
		Restock:            pipeline.Restocker(),
		Campaigns:          pipeline.Campaigns(),
	})
	if err := pipeline.Register(srv.Metrics().Registry); err != nil {
		return nil, err
	}
	if err := processor.Register(srv.Metrics().Registry); err != nil {
		return nil, err
	}
	if err := journal.Register(srv.Metrics().Registry); err != nil {
		return nil, err
	}
	return &app{
		handler:    srv.Handler(),
		server:     srv,
		prices:     prices,
		webWorkers: []func(context.Context) error{journal.Run, srv.RunLive},
		workers:    []func(context.Context) error{processor.Run, profiles.Run, pipeline.Run},
	}, nil
}
