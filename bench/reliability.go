// Package bench holds the harnesses behind `switchboard bench …`: load
// generators and fault injectors that run the real binary as child
// processes against a real PostgreSQL, and print what a user would see.
package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/embeddedpg"
)

const (
	benchSecretKey = "reliability-secret-key-0123456789"
	benchAppSecret = "reliability-app-secret"
	benchPhoneID   = "500600700"
)

// Reliability runs one fault scenario (kill9, outage, bodies, replicas)
// against `switchboard serve` children and prints the figures.
func Reliability(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench reliability", flag.ContinueOnError)
	duration := fs.Duration("duration", 30*time.Second, "how long to post")
	concurrency := fs.Int("concurrency", 32, "concurrent webhook POSTs")
	outage := fs.Duration("outage", 15*time.Second, "outage: how long PostgreSQL stays down")
	bodies := fs.Int("bodies", 140, "bodies: concurrent large POSTs")
	bodySize := fs.Int("body-size", 8<<20-1024, "bodies: bytes per POST")
	replicas := fs.Int("replicas", 3, "replicas: serve processes on one database")
	maxConns := fs.Int("max-connections", 100, "PostgreSQL max_connections for the run")
	sends := fs.Int("sends", 3000, "sends: replies queued before the kill")
	customers := fs.Int("customers", 300, "sends, restock, campaign: customers (one thread each)")
	mps := fs.Int("mps", 100, "sends, restock, campaign: the number's throughput cap at the simulator")
	var childEnv multiFlag
	fs.Var(&childEnv, "env", "NAME=value for the serve children (repeatable)")
	if len(args) == 0 {
		return errors.New("bench reliability: which scenario? kill9, sends, restock, campaign, outage, bodies, replicas")
	}
	scenario := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	h, err := newHarness(ctx, *maxConns)
	if err != nil {
		return err
	}
	defer h.close()
	switch scenario {
	case "kill9":
		return h.kill9(ctx, stdout, *duration, *concurrency)
	case "sends":
		return h.sends(ctx, stdout, *sends, *customers, *mps, childEnv)
	case "restock":
		return h.restock(ctx, stdout, *customers, *mps, childEnv)
	case "campaign":
		return h.campaign(ctx, stdout, *customers, *mps, childEnv)
	case "outage":
		return h.outage(ctx, stdout, *duration, *concurrency, *outage)
	case "bodies":
		return h.bodies(ctx, stdout, *bodies, *bodySize)
	case "replicas":
		return h.replicas(ctx, stdout, *duration, *concurrency, *replicas)
	}
	return fmt.Errorf("bench reliability: unknown scenario %q", scenario)
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// harness is a private PostgreSQL cluster, a migrated database with one
// WhatsApp channel, and the children serving it.
type harness struct {
	dir      string
	cluster  *embeddedpg.Cluster
	maxConns int
	bizID    int64 // the one business the harness creates
	dbURL    string
	db       *models.DB
	store    *models.Store
	exe      string
	mu       sync.Mutex
	kids     []*child
}

func newHarness(ctx context.Context, maxConns int) (*harness, error) {
	dir, err := os.MkdirTemp("", "switchboard-reliability-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // the server runs as postgres when we are root
		return nil, err
	}
	h := &harness{dir: dir, maxConns: maxConns}
	if h.exe, err = os.Executable(); err != nil {
		return nil, err
	}
	if h.cluster, err = embeddedpg.New(filepath.Join(dir, "postgres")); err != nil {
		return nil, err
	}
	if err := h.cluster.Start(ctx); err != nil {
		return nil, err
	}
	// The embedded cluster allows 200; a default server allows 100.
	if err := h.pgRestart("fast"); err != nil {
		return nil, err
	}
	if err := h.cluster.EnsureDatabase(ctx, "reliability"); err != nil {
		return nil, err
	}
	h.dbURL = h.cluster.URL("reliability")
	if h.db, err = models.Open(ctx, h.dbURL+"&pool_max_conns=4", 4); err != nil {
		return nil, err
	}
	if err := models.Migrate(ctx, h.db.SQL); err != nil {
		return nil, err
	}
	cipher, _ := models.NewCipher(benchSecretKey)
	h.store = models.NewStore(h.db, cipher)
	store := h.store
	biz, err := store.CreateBusiness(ctx, "Reliability")
	if err != nil {
		return nil, err
	}
	h.bizID = biz.ID
	_, err = store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: "whatsapp", AccountID: benchPhoneID,
		AccessToken: "token", AppSecret: benchAppSecret})
	return h, err
}

func (h *harness) close() {
	h.mu.Lock()
	for _, k := range h.kids {
		k.stop()
	}
	h.mu.Unlock()
	if h.db != nil {
		h.db.Close()
	}
	_ = h.pgStop("fast")
	_ = os.RemoveAll(h.dir)
}

func (h *harness) pgStop(mode string) error { return h.cluster.StopMode(mode) }

func (h *harness) pgStart() error {
	return h.cluster.StartWith(context.Background(), fmt.Sprintf("max_connections=%d", h.maxConns))
}

func (h *harness) pgRestart(mode string) error {
	if err := h.pgStop(mode); err != nil {
		return err
	}
	return h.pgStart()
}

// child is one `switchboard serve` process.
type child struct {
	cmd  *exec.Cmd
	addr string
	log  string
	done chan struct{}
}

func (h *harness) startChild(ctx context.Context, name string, env ...string) (*child, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logPath := filepath.Join(h.dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(h.exe, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+h.dbURL, "LISTEN_ADDR="+addr, "BASE_URL=http://"+addr,
		"SECRET_KEY="+benchSecretKey, "META_APP_SECRET="+benchAppSecret, "GRAPH_API_URL=http://127.0.0.1:9",
		"SWITCHBOARD_DATA="+filepath.Join(h.dir, name), "LOG_FORMAT=text")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	k := &child{cmd: cmd, addr: addr, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(k.done) }()
	h.mu.Lock()
	h.kids = append(h.kids, k)
	h.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return k, nil
			}
		}
		select {
		case <-k.done:
			return nil, fmt.Errorf("%s exited before ready (see %s)", name, logPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("%s not ready in 60 s (see %s)", name, logPath)
}

func (k *child) kill() {
	_ = k.cmd.Process.Signal(syscall.SIGKILL)
	<-k.done
}

func (k *child) stop() {
	select {
	case <-k.done:
		return
	default:
	}
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		k.kill()
	}
}

// peakRSS is the child's high-water resident set, from /proc.
func (k *child) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", k.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM")
}

// textPayload is one signed customer text with a unique wamid.
func textPayload(i int64) ([]byte, string) {
	body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
"metadata":{"display_phone_number":"390200000000","phone_number_id":%q},"contacts":[{"profile":{"name":"Customer %d"},"wa_id":"39347%07d"}],
"messages":[{"from":"39347%07d","id":"wamid.R%d","timestamp":"%d","type":"text","text":{"body":"message %d"}}]}}]}]}`,
		benchPhoneID, i%500, i%500, i%500, i, time.Now().Unix(), i)
	return body, meta.Sign(body, []byte(benchAppSecret))
}

// tally counts POST outcomes by status code (0: no answer).
type tally struct {
	mu    sync.Mutex
	codes map[int]int
	acked []int64
}

func (t *tally) add(code int, id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.codes == nil {
		t.codes = map[int]int{}
	}
	t.codes[code]++
	if code == http.StatusOK {
		t.acked = append(t.acked, id)
	}
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for _, c := range []int{200, 403, 500, 503, 0} {
		if n := t.codes[c]; n > 0 || c == 200 {
			label := strconv.Itoa(c)
			if c == 0 {
				label = "no answer"
			}
			parts = append(parts, fmt.Sprintf("%s: %d", label, n))
		}
	}
	for c, n := range t.codes {
		if c != 200 && c != 403 && c != 500 && c != 503 && c != 0 {
			parts = append(parts, fmt.Sprintf("%d: %d", c, n))
		}
	}
	return strings.Join(parts, ", ")
}

// post sends unique texts to whichever child target() names until stop.
func post(ctx context.Context, target func() string, concurrency int, stop <-chan struct{}, t *tally, firstOK func(time.Time)) {
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Go(func() {
			for ctx.Err() == nil {
				select {
				case <-stop:
					return
				default:
				}
				i := next.Add(1)
				body, sig := textPayload(i)
				req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+target()+"/webhooks/whatsapp", bytes.NewReader(body))
				req.Header.Set("X-Hub-Signature-256", sig)
				resp, err := client.Do(req)
				if err != nil {
					t.add(0, i)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				t.add(resp.StatusCode, i)
				if resp.StatusCode == http.StatusOK && firstOK != nil {
					firstOK(time.Now())
				}
			}
		})
	}
	wg.Wait()
}

// verify waits until every stored payload is applied, then checks that each
// acknowledged event is in the inbox exactly once.
func (h *harness) verify(ctx context.Context, stdout io.Writer, t *tally) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		pending, err := h.store.PendingWebhookCount(ctx)
		if err != nil {
			return err
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d payloads still pending after 3 minutes", pending)
		}
		time.Sleep(200 * time.Millisecond)
	}
	stored, err := h.store.ExternalIDCounts(ctx, h.bizID, "wamid.R")
	if err != nil {
		return err
	}
	lost, dups := 0, 0
	for _, n := range stored {
		if n > 1 {
			dups += n - 1
		}
	}
	t.mu.Lock()
	for _, i := range t.acked {
		if stored["wamid.R"+strconv.FormatInt(i, 10)] == 0 {
			lost++
		}
	}
	acked := len(t.acked)
	t.mu.Unlock()
	fmt.Fprintf(stdout, "acknowledged %d, in the inbox %d, acknowledged but lost %d, stored twice %d\n", acked, len(stored), lost, dups)
	if lost > 0 || dups > 0 {
		return fmt.Errorf("reliability: %d lost, %d duplicated", lost, dups)
	}
	return nil
}

// kill9: webhooks at full speed; the server is killed -9 twice mid-burst and
// restarted. Every acknowledged event must be in the inbox once.
func (h *harness) kill9(ctx context.Context, stdout io.Writer, d time.Duration, concurrency int) error {
	k, err := h.startChild(ctx, "serve")
	if err != nil {
		return err
	}
	var cur atomic.Pointer[child]
	cur.Store(k)
	var t tally
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { post(ctx, func() string { return cur.Load().addr }, concurrency, stop, &t, nil) })
	for i := 1; i <= 2; i++ {
		time.Sleep(d / 3)
		cur.Load().kill()
		fmt.Fprintf(stdout, "kill -9 #%d at %s (%s)\n", i, time.Duration(i)*d/3, t.String())
		started := time.Now()
		nk, err := h.startChild(ctx, "serve")
		if err != nil {
			close(stop)
			wg.Wait()
			return err
		}
		fmt.Fprintf(stdout, "  restarted, ready in %s\n", time.Since(started).Round(time.Millisecond))
		cur.Store(nk)
	}
	time.Sleep(d / 3)
	close(stop)
	wg.Wait()
	fmt.Fprintf(stdout, "POSTs: %s\n", t.String())
	return h.verify(ctx, stdout, &t)
}

// outage: webhooks at full speed while PostgreSQL restarts (fast, then
// immediate) and then stays down for the outage. Meta must get only 200s and
// 503s (which it retries), never a 500, and acks must resume by themselves.
func (h *harness) outage(ctx context.Context, stdout io.Writer, d time.Duration, concurrency int, down time.Duration) error {
	k, err := h.startChild(ctx, "serve")
	if err != nil {
		return err
	}
	var t tally
	var lastOK atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		post(ctx, func() string { return k.addr }, concurrency, stop, &t, func(at time.Time) { lastOK.Store(at.UnixNano()) })
	})
	recovery := func(back time.Time) time.Duration {
		for time.Since(back) < time.Minute {
			if ok := lastOK.Load(); ok > back.UnixNano() {
				return time.Duration(ok - back.UnixNano())
			}
			time.Sleep(5 * time.Millisecond)
		}
		return -1
	}
	time.Sleep(d / 4)
	for _, mode := range []string{"fast", "immediate"} {
		if err := h.pgRestart(mode); err != nil {
			return err
		}
		back := time.Now()
		fmt.Fprintf(stdout, "PostgreSQL %s restart: first 200 %s after it was back (%s)\n", mode, recovery(back).Round(time.Millisecond), t.String())
		time.Sleep(d / 4)
	}
	if err := h.pgStop("fast"); err != nil {
		return err
	}
	time.Sleep(down)
	if err := h.pgStart(); err != nil {
		return err
	}
	back := time.Now()
	fmt.Fprintf(stdout, "PostgreSQL down %s: first 200 %s after it was back (%s)\n", down, recovery(back).Round(time.Millisecond), t.String())
	time.Sleep(d / 4)
	close(stop)
	wg.Wait()
	fmt.Fprintf(stdout, "POSTs: %s\n", t.String())
	if t.codes[http.StatusInternalServerError] > 0 {
		return fmt.Errorf("reliability: %d answers were 500", t.codes[http.StatusInternalServerError])
	}
	return h.verify(ctx, stdout, &t)
}

// bodies: many concurrent large signed POSTs (one shared buffer on the client
// side), then as many unsigned; the server's peak RSS after each.
func (h *harness) bodies(ctx context.Context, stdout io.Writer, n, size int) error {
	for _, signed := range []bool{true, false} {
		name := "unsigned"
		if signed {
			name = "signed"
		}
		k, err := h.startChild(ctx, "serve-"+name)
		if err != nil {
			return err
		}
		before, _ := k.peakRSS()
		body := bytes.Repeat([]byte(" "), size)
		copy(body, `{"object":"whatsapp_business_account","entry":[]}`)
		sig := meta.Sign(body, []byte(benchAppSecret))
		var t tally
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
		start := time.Now()
		for i := 0; i < n; i++ {
			wg.Go(func() {
				req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+k.addr+"/webhooks/whatsapp", bytes.NewReader(body))
				if signed {
					req.Header.Set("X-Hub-Signature-256", sig)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.add(0, 0)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				t.add(resp.StatusCode, 0)
			})
		}
		wg.Wait()
		peak, err := k.peakRSS()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d concurrent %s %.1f MiB POSTs in %s: peak RSS %.0f MiB (idle %.0f MiB); answers %s\n", n, name,
			float64(size)/(1<<20), time.Since(start).Round(time.Millisecond), float64(peak)/(1<<20), float64(before)/(1<<20), t.String())
		k.stop()
	}
	return nil
}

// replicas: several serve processes on one database with max_connections as
// a default server has; webhooks spread across them.
func (h *harness) replicas(ctx context.Context, stdout io.Writer, d time.Duration, concurrency, n int) error {
	var kids []*child
	for i := 0; i < n; i++ {
		k, err := h.startChild(ctx, fmt.Sprintf("replica-%d", i))
		if err != nil {
			return err
		}
		kids = append(kids, k)
	}
	var t tally
	var rr atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		post(ctx, func() string { return kids[int(rr.Add(1))%len(kids)].addr }, concurrency, stop, &t, nil)
	})
	time.Sleep(d)
	close(stop)
	wg.Wait()
	conns, _ := h.db.Sessions(ctx)
	tooMany := 0
	for _, k := range kids {
		b, _ := os.ReadFile(k.log)
		tooMany += strings.Count(string(b), "too many clients")
	}
	fmt.Fprintf(stdout, "%d replicas: POSTs %s; connections at the end %d; \"too many clients\" in logs %d\n", n, t.String(), conns, tooMany)
	return h.verify(ctx, stdout, &t)
}
