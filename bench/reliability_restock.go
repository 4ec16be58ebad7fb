package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
)

// restock: every customer waits for a product; its stock goes from 0 to
// plenty through the API, and the serve process is killed -9 while the
// restock run's alerts drain to the simulator (no status webhooks, no
// echoes), then restarted. Each waiting customer may hear at most once,
// counted at the simulator; those whose alert the crash left unknowable are
// shown as unknown, never resent.
func (h *harness) restock(ctx context.Context, stdout io.Writer, customers int, mps int, env []string) error {
	var cur atomic.Pointer[child]
	sim := metasim.New(metasim.Config{AppSecret: benchAppSecret, DisableStatusWebhooks: true, Customers: customers, Seed: 12,
		WebhookURL: func(app metasim.App) string {
			if k := cur.Load(); k != nil {
				return "http://" + k.addr + "/webhooks/" + string(app)
			}
			return ""
		}})
	defer sim.Close()
	if err := sim.AddAccount(metasim.Account{App: metasim.WhatsApp, ID: benchPhoneID, AccessToken: "token", MPS: mps}); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = sim.Serve(ctx, ln) }()
	env = append(env, "GRAPH_API_URL=http://"+ln.Addr().String())
	k, err := h.startChild(ctx, "serve", env...)
	if err != nil {
		return err
	}
	cur.Store(k)

	// Every customer writes first (the alert is a free-form text in the window).
	pop := sim.Customers()
	for i := range pop {
		in, err := sim.Build(metasim.Event{App: metasim.WhatsApp, Kind: "text", Customer: &pop[i]})
		if err != nil {
			return err
		}
		if _, err := sim.Deliver(ctx, in); err != nil {
			return err
		}
	}
	if _, err := h.waitThreads(ctx, len(pop)); err != nil {
		return err
	}
	token, err := h.personToken(ctx, h.store)
	if err != nil {
		return err
	}
	api := func(method, path, body string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, method, "http://"+cur.Load().addr+path, bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if st, err := api("POST", "/api/v1/products", `{"sku":"GB-1","name":"Giacca blu","stock":0}`); err != nil || st != http.StatusCreated {
		return fmt.Errorf("reliability: create product: %d %v", st, err)
	}
	p, err := h.store.Product(ctx, h.bizID, "GB-1")
	if err != nil || p == nil {
		return fmt.Errorf("reliability: product: %v", err)
	}
	waiting, err := h.store.JoinAllDirect(ctx, h.bizID, p.ID, "postback")
	if err != nil {
		return err
	}
	start := time.Now()
	if st, err := api("PATCH", "/api/v1/products/GB-1", fmt.Sprintf(`{"stock":%d}`, waiting+10)); err != nil || st != http.StatusOK {
		return fmt.Errorf("reliability: restock: %d %v", st, err)
	}
	fmt.Fprintf(stdout, "%d customers waiting; stock 0 → %d\n", waiting, waiting+10)

	// Kill -9 once a third has reached Meta, with the run and sends in flight.
	for sim.Stats().Accepted < int64(waiting)/3 {
		time.Sleep(10 * time.Millisecond)
	}
	k.kill()
	atKill := sim.Stats().Accepted
	fmt.Fprintf(stdout, "kill -9 with %d of %d alerts at Meta after %s\n", atKill, waiting, time.Since(start).Round(time.Millisecond))
	restarted := time.Now()
	if k, err = h.startChild(ctx, "serve", env...); err != nil {
		return err
	}
	cur.Store(k)

	// Until the run is done and nothing is queued (or 15 minutes).
	deadline := time.Now().Add(15 * time.Minute)
	var run models.RunSummary
	var counts map[string]int64
	for {
		runs, err := h.store.ProductRuns(ctx, h.bizID, p.ID, 1)
		if err != nil {
			return err
		}
		if counts, err = h.outboundCounts(ctx); err != nil {
			return err
		}
		if len(runs) == 1 {
			run = runs[0]
		}
		if run.Status == models.RunDone && counts["queued"] == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Fprintf(stdout, "run %s (%s): %d handled, %d notified; drained %s after the restart: %v\n", run.Status, run.Outcome,
		run.Handled, run.Notified, time.Since(restarted).Round(time.Second), counts)

	// At Meta: each customer's alert at most once.
	heard := map[string]int{}
	for _, s := range sim.Sends(benchPhoneID) {
		if strings.Contains(s.Text, "Giacca blu") {
			heard[s.Recipient]++
		}
	}
	twice := 0
	for _, n := range heard {
		if n > 1 {
			twice += n - 1
		}
	}
	fmt.Fprintf(stdout, "at Meta: %d of %d customers alerted, %d alerted twice; %d unknown (in flight at the kill, not resent)\n",
		len(heard), waiting, twice, counts["unknown"])
	if twice > 0 {
		return fmt.Errorf("reliability: %d customers alerted twice", twice)
	}
	if run.Handled != waiting {
		return fmt.Errorf("reliability: the run handled %d of %d entries", run.Handled, waiting)
	}
	return nil
}
