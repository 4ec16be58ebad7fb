package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
)

// killScenario is what every kill -9 scenario stands on: a simulated
// WhatsApp number capped at mps that sends no status webhooks and no echoes
// (so only what reached Meta counts), a serve child its webhooks go to,
// every simulated customer having written first, and a person token for the
// API.
type killScenario struct {
	h       *harness
	sim     *metasim.Sim
	cur     atomic.Pointer[child] // the serve child running now
	env     []string
	token   string
	threads []int64 // one direct thread per customer
}

// startKillScenario sets the scenario up; prepare, when not nil, adds what
// the scenario needs at Meta before the serve child starts.
func (h *harness) startKillScenario(ctx context.Context, customers, mps int, seed uint64, env []string,
	prepare func(*metasim.Sim) error) (*killScenario, error) {
	sc := &killScenario{h: h}
	sc.sim = metasim.New(metasim.Config{AppSecret: benchAppSecret, DisableStatusWebhooks: true, Customers: customers, Seed: seed,
		WebhookURL: func(app metasim.App) string {
			if k := sc.cur.Load(); k != nil {
				return "http://" + k.addr + "/webhooks/" + string(app)
			}
			return ""
		}})
	if err := sc.setUp(ctx, mps, env, prepare); err != nil {
		sc.sim.Close()
		return nil, err
	}
	return sc, nil
}

func (sc *killScenario) setUp(ctx context.Context, mps int, env []string, prepare func(*metasim.Sim) error) error {
	if err := sc.sim.AddAccount(metasim.Account{App: metasim.WhatsApp, ID: benchPhoneID, AccessToken: "token", MPS: mps}); err != nil {
		return err
	}
	if prepare != nil {
		if err := prepare(sc.sim); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = sc.sim.Serve(ctx, ln) }()
	sc.env = append(env, "GRAPH_API_URL=http://"+ln.Addr().String())
	k, err := sc.h.startChild(ctx, "serve", sc.env...)
	if err != nil {
		return err
	}
	sc.cur.Store(k)
	pop := sc.sim.Customers()
	for i := range pop {
		in, err := sc.sim.Build(metasim.Event{App: metasim.WhatsApp, Kind: "text", Customer: &pop[i]})
		if err != nil {
			return err
		}
		if _, err := sc.sim.Deliver(ctx, in); err != nil {
			return err
		}
	}
	if sc.threads, err = sc.h.waitThreads(ctx, len(pop)); err != nil {
		return err
	}
	sc.token, err = sc.h.personToken(ctx, sc.h.store)
	return err
}

func (sc *killScenario) close() { sc.sim.Close() }

// api calls the running serve child's JSON API and returns the status and
// the answer's body.
func (sc *killScenario) api(ctx context.Context, client *http.Client, method, path, body string) (int, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, method, "http://"+sc.cur.Load().addr+path, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+sc.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// killWhen waits until at least n sends have reached Meta, kills the serve
// child with SIGKILL and starts another; it reports how many had reached
// Meta at the kill and when the new child was started.
func (sc *killScenario) killWhen(ctx context.Context, stdout io.Writer, n, of int64, since time.Time) (atKill int64, restarted time.Time, err error) {
	for sc.sim.Stats().Accepted < n {
		select {
		case <-ctx.Done():
			return 0, time.Time{}, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	sc.cur.Load().kill()
	atKill = sc.sim.Stats().Accepted
	fmt.Fprintf(stdout, "kill -9 with %d of %d at Meta after %s\n", atKill, of, time.Since(since).Round(time.Millisecond))
	restarted = time.Now()
	k, err := sc.h.startChild(ctx, "serve", sc.env...)
	if err != nil {
		return 0, restarted, err
	}
	sc.cur.Store(k)
	return atKill, restarted, nil
}
