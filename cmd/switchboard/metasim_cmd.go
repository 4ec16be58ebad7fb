package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
)

// cmdMetasim runs the Meta simulator alone: Graph send endpoints on --addr,
// and, with --webhooks, signed webhook traffic to a Switchboard.
func cmdMetasim(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("metasim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9090", "where the Graph API endpoints listen")
	webhooks := fs.String("webhooks", "", "base URL of the Switchboard to post webhooks to (e.g. http://localhost:8080); empty: none")
	secret := fs.String("app-secret", demoSecret, "the app secret webhooks are signed with")
	rate := fs.Float64("rate", 1, "simulated customer events per second (with --webhooks)")
	duration := fs.Duration("duration", 0, "stop the traffic after this long (0: until stopped)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sim := metasim.New(metasim.Config{AppSecret: *secret, WebhookBase: strings.TrimRight(*webhooks, "/"), StatusDelay: 500 * time.Millisecond, Logger: log})
	defer sim.Close()
	for _, a := range demoAccounts {
		if err := sim.AddAccount(a); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Meta simulator: Graph API at http://%s (use GRAPH_API_URL=http://%s)\nAccounts:\n", *addr, *addr)
	for _, a := range demoAccounts {
		fmt.Fprintf(stdout, "  %-9s account %s  token %s\n", a.App, a.ID, a.AccessToken)
	}
	if *webhooks != "" {
		go func() {
			st, err := sim.RunTraffic(ctx, metasim.TrafficConfig{Rate: *rate, Duration: *duration})
			log.Info("metasim traffic finished", "events", st.Events, "posts", st.Posts, "failed", st.Failed, "error", err)
		}()
	}
	return sim.Run(ctx, *addr)
}
