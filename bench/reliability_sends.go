package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
)

// sends: agents' replies queued through the API drain to the simulator,
// which sends no status webhooks and no echoes; the server is killed -9
// mid-drain and restarted. Nobody may get a message twice, and the sends
// whose outcome the crash made unknowable must be visible as such.
func (h *harness) sends(ctx context.Context, stdout io.Writer, n, customers int, mps int, env []string) error {
	var cur atomic.Pointer[child]
	sim := metasim.New(metasim.Config{AppSecret: benchAppSecret, DisableStatusWebhooks: true, Customers: customers, Seed: 11,
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

	// Every customer writes first, so each reply is inside its window.
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
	threads, err := h.waitThreads(ctx, len(pop))
	if err != nil {
		return err
	}
	token, err := h.personToken(ctx, h.store)
	if err != nil {
		return err
	}

	// Queue n replies, spread over the threads, as fast as the API takes them.
	start := time.Now()
	var queued atomic.Int64
	var wg sync.WaitGroup
	var next atomic.Int64
	client := &http.Client{Timeout: 20 * time.Second}
	for w := 0; w < 16; w++ {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				body, _ := json.Marshal(map[string]any{"text": fmt.Sprintf("reply %d", i)})
				url := fmt.Sprintf("http://%s/api/v1/threads/%d/messages", cur.Load().addr, threads[int(i)%len(threads)])
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					queued.Add(1)
				}
			}
		})
	}
	wg.Wait()
	fmt.Fprintf(stdout, "queued %d replies in %s\n", queued.Load(), time.Since(start).Round(time.Millisecond))

	// Kill -9 once a third has reached Meta, with sends in flight.
	for sim.Stats().Accepted < queued.Load()/3 {
		time.Sleep(20 * time.Millisecond)
	}
	k.kill()
	atKill := sim.Stats().Accepted
	fmt.Fprintf(stdout, "kill -9 with %d of %d at Meta\n", atKill, queued.Load())
	restarted := time.Now()
	if k, err = h.startChild(ctx, "serve", env...); err != nil {
		return err
	}
	cur.Store(k)
	fmt.Fprintf(stdout, "restarted, ready in %s\n", time.Since(restarted).Round(time.Millisecond))

	// Drain: until nothing is queued or in flight (or 15 minutes).
	deadline := time.Now().Add(15 * time.Minute)
	var firstAfter time.Duration
	for {
		if firstAfter == 0 && sim.Stats().Accepted > atKill {
			firstAfter = time.Since(restarted)
		}
		counts, err := h.outboundCounts(ctx)
		if err != nil {
			return err
		}
		if counts["queued"] == 0 || time.Now().After(deadline) {
			fmt.Fprintf(stdout, "drained in %s after the restart (first send %s after it): %v\n",
				time.Since(restarted).Round(time.Second), firstAfter.Round(time.Millisecond), counts)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}

	// At Meta: each reply text at most once.
	seen := map[string]int{}
	for _, s := range sim.Sends(benchPhoneID) {
		if strings.HasPrefix(s.Text, "reply ") {
			seen[s.Text]++
		}
	}
	twice := 0
	for _, c := range seen {
		if c > 1 {
			twice += c - 1
		}
	}
	fmt.Fprintf(stdout, "at Meta: %d distinct replies, %d sent twice\n", len(seen), twice)
	if twice > 0 {
		return fmt.Errorf("reliability: %d replies sent twice", twice)
	}
	return nil
}

func (h *harness) waitThreads(ctx context.Context, want int) ([]int64, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ids, err := h.store.ThreadIDs(ctx, h.bizID)
		if err != nil {
			return nil, err
		}
		if len(ids) >= want {
			return ids, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d threads after 2 minutes", len(ids), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *harness) outboundCounts(ctx context.Context) (map[string]int64, error) {
	return h.store.OutboundStatusCounts(ctx, h.bizID)
}

// personToken is an API token of the business (the harness's agents).
func (h *harness) personToken(ctx context.Context, store *models.Store) (string, error) {
	tok, _, err := store.CreatePersonAPIToken(ctx, h.bizID, "reliability agents")
	return tok, err
}
