package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// sends: agents' replies queued through the API drain to the simulator,
// which sends no status webhooks and no echoes; the server is killed -9
// mid-drain and restarted. Nobody may get a message twice, and the sends
// whose outcome the crash made unknowable must be visible as such.
func (h *harness) sends(ctx context.Context, stdout io.Writer, n, customers int, mps int, env []string) error {
	sc, err := h.startKillScenario(ctx, customers, mps, 11, env, nil) // each reply is inside its window
	if err != nil {
		return err
	}
	defer sc.close()
	sim, threads := sc.sim, sc.threads

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
				st, _, err := sc.api(ctx, client, "POST", fmt.Sprintf("/api/v1/threads/%d/messages", threads[int(i)%len(threads)]), string(body))
				if err != nil {
					continue
				}
				if st == http.StatusCreated {
					queued.Add(1)
				}
			}
		})
	}
	wg.Wait()
	fmt.Fprintf(stdout, "queued %d replies in %s\n", queued.Load(), time.Since(start).Round(time.Millisecond))

	// Kill -9 once a third has reached Meta, with sends in flight.
	atKill, restarted, err := sc.killWhen(ctx, stdout, queued.Load()/3, queued.Load(), start)
	if err != nil {
		return err
	}
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
