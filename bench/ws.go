package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/web"
)

// WSEnv is what cmd wires for the websocket benchmark.
type WSEnv struct {
	// Database creates the benchmark's own fresh, migrated database.
	Database func(ctx context.Context) (*models.DB, func(), error)
	// Start runs the app on store as serve does (journal, inbound
	// processor, listener, websocket hub, HTTP) until ctx ends, and
	// returns its web server and base URL.
	Start func(ctx context.Context, store *models.Store) (*web.Server, string, error)
}

// WS measures the live inbox on loopback, against the app wired as serve
// wires it, through its real hub:
//
//   - idle capacity: the RSS each of -idle authenticated sockets costs the
//     server, next to the floor any server with a goroutine per socket
//     pays (a loopback TCP connection and one goroutine blocked reading it,
//     measured the same way), and one broadcast to all of them;
//   - webhook to browser: signed webhooks POSTed at -rate while -agents
//     sockets (spread over -businesses) are connected, timed from the POST's
//     start to the new row's frame at each socket of its business, next to
//     the bare commit+NOTIFY round trip at the same rate, and the server's
//     own live-path histograms (NOTIFY → frames queued, NOTIFY → frame written).
//
// The sockets and the webhook load live in a child process (this binary,
// "bench ws-load", WSLoad), so the server's RSS is its own and each side
// gets its own file descriptor limit.
func WS(ctx context.Context, env WSEnv, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench ws", flag.ContinueOnError)
	idle := fs.Int("idle", 10_000, "idle sockets for the capacity measurement (0 skips it)")
	agents := fs.Int("agents", 500, "connected sockets during the webhook load")
	businesses := fs.Int("businesses", 10, "businesses the agents and webhooks are spread over (at most 10)")
	rates := fs.String("rate", "2000", "webhooks per second; a comma-separated list runs one load per rate")
	duration := fs.Duration("duration", 20*time.Second, "how long to post webhooks at each rate")
	cpuprofile := fs.String("cpuprofile", "", "write the server's CPU profile during the webhook load to this file")
	traceFile := fs.String("trace", "", "write the server's execution trace during the webhook load to this file (go tool trace)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *businesses < 1 || *businesses > 10 || (*agents > 0 && *agents < *businesses) {
		return fmt.Errorf("bench ws: need 1-10 businesses and at least one agent each")
	}
	if err := raiseFileLimit(); err != nil {
		return err
	}
	db, stop, err := env.Database(ctx)
	if err != nil {
		return err
	}
	defer stop()
	cipher, _ := models.NewCipher("bench-secret-key-0123456789")
	store := models.NewStore(db, cipher)

	var rateList []int
	for _, f := range strings.Split(*rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r < 0 {
			return fmt.Errorf("bench ws: bad -rate %q", *rates)
		}
		rateList = append(rateList, r)
	}
	load := wsLoadConfig{Secret: "bench-app-secret", Duration: *duration}
	for i := 0; i < *businesses; i++ {
		b, err := seedWSBusiness(ctx, store, i, load.Secret)
		if err != nil {
			return err
		}
		load.Businesses = append(load.Businesses, b)
	}

	appCtx, cancelApp := context.WithCancel(ctx)
	defer cancelApp()
	srv, base, err := env.Start(appCtx, store)
	if err != nil {
		return err
	}
	load.Base = base
	for i := range load.Businesses {
		if load.Businesses[i].Cookie, err = signIn(base, load.Businesses[i].Email); err != nil {
			return err
		}
	}

	child, err := startWSLoad(ctx, load)
	if err != nil {
		return err
	}
	defer child.close()

	fmt.Fprintf(stdout, "\n## websockets (GOMAXPROCS %d, server and load in separate processes)\n", runtime.GOMAXPROCS(0))
	if *idle > 0 {
		if err := benchIdle(ctx, stdout, child, srv, db, *idle); err != nil {
			return err
		}
	}
	if *agents == 0 || len(rateList) == 0 {
		return nil
	}
	var warm wsReply
	if err := child.call("warm", &warm); err != nil { // every customer's thread exists: a webhook is one new row
		return err
	}
	if err := drainIngest(ctx, db); err != nil {
		return err
	}
	if err := child.call(fmt.Sprintf("open-agents %d", *agents), nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%d threads warmed; %d agents connected, %d per business; each webhook is a customer's text in an existing thread.\n",
		warm.Delivered, *agents, *agents / *businesses)
	fmt.Fprintf(stdout, "\n| webhooks/s asked | sent | frames timed | POST → frame p50 | p99 | max | POST ack p99 | ingest lag p50 / p99 | NOTIFY → frames queued p50 / p99 | NOTIFY → frame written p50 / p99 | raw commit+NOTIFY p50 / p99 | p99 ratio | CPU cores: server / load / PostgreSQL / machine |\n")
	fmt.Fprintf(stdout, "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, rate := range rateList {
		raw, err := notifyRoundTrip(ctx, db, rate, 5*time.Second)
		if err != nil {
			return err
		}
		stopProfile, err := startProfile(*cpuprofile, rate)
		if err != nil {
			return err
		}
		stopTrace, err := startTrace(*traceFile, rate)
		if err != nil {
			stopProfile()
			return err
		}
		var res wsReply
		from := time.Now()
		dispatch0, written0 := histBuckets(srv, "switchboard_live_dispatch_seconds"), histBuckets(srv, "switchboard_live_written_seconds")
		stages0 := make([]map[float64]uint64, len(wsStages))
		for i, st := range wsStages {
			stages0[i] = histBuckets(srv, st.metric)
		}
		cpu0 := sampleCPU(child.cmd.Process.Pid, db)
		err = child.call(fmt.Sprintf("load %d", rate), &res)
		cpu := sampleCPU(child.cmd.Process.Pid, db).since(cpu0)
		stopProfile()
		stopTrace()
		if err != nil {
			return err
		}
		lag, err := ingestLag(ctx, db, from)
		if err != nil {
			return err
		}
		d50, d99 := bucketQuantiles(dispatch0, histBuckets(srv, "switchboard_live_dispatch_seconds"))
		w50, w99 := bucketQuantiles(written0, histBuckets(srv, "switchboard_live_written_seconds"))
		fmt.Fprintf(stdout, "| %d | %.0f | %d of %d | %.2f ms | %.2f ms | %.1f ms | %.2f ms | %.1f / %.1f ms | ≤%s / ≤%s ms | ≤%s / ≤%s ms | %.2f / %.2f ms | %.1f× | %.2f / %.2f / %.2f / %.2f |\n",
			rate, res.Rate, res.Delivered, res.Expected, res.P50, res.P99, res.Max, res.AckP99, ms(lag.p50), ms(lag.p99),
			d50, d99, w50, w99, ms(raw.p50), ms(raw.p99), res.P99/ms(raw.p99), cpu.server, cpu.load, cpu.postgres, cpu.machine)
		if res.Refused > 0 {
			fmt.Fprintf(stdout, "(%d webhooks refused)\n", res.Refused)
		}
		// Where the time went, stage by stage (the server's own histograms:
		// bucket bounds, so "≤"), on a line of its own under the rate's row.
		var line strings.Builder
		fmt.Fprintf(&line, "| %d: stages p50 / p99 |", rate)
		for i, st := range wsStages {
			p50, p99 := scaledQuantiles(stages0[i], histBuckets(srv, st.metric), st.scale)
			fmt.Fprintf(&line, " %s ≤%s / ≤%s%s;", st.name, p50, p99, st.unit)
		}
		fmt.Fprintln(stdout, strings.TrimSuffix(line.String(), ";")+" |||||||||||||")
		if err := drainIngest(ctx, db); err != nil {
			return err
		}
	}
	return nil
}

// wsStages are the server's stage histograms bench ws reports per rate.
var wsStages = []struct {
	name, metric, unit string
	scale              float64
}{
	{"ack", "switchboard_inbound_ack_seconds", " ms", 1000},
	{"journal → applied", "switchboard_inbound_journal_to_applied_seconds", " ms", 1000},
	{"applied → NOTIFY", "switchboard_inbound_applied_to_notify_seconds", " ms", 1000},
	{"batch", "switchboard_inbound_batch_payloads", " payloads", 1},
}

// histBuckets reads one of the server's histograms (the live path's:
// switchboard_live_dispatch_seconds, switchboard_live_written_seconds):
// cumulative counts by upper bound (seconds).
func histBuckets(srv *web.Server, name string) map[float64]uint64 {
	out := map[float64]uint64{}
	mfs, _ := srv.Metrics().Registry.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		for _, b := range h.GetBucket() {
			out[b.GetUpperBound()] = b.GetCumulativeCount()
		}
		out[math.Inf(1)] = h.GetSampleCount()
	}
	return out
}

// bucketQuantiles is the bucket bound under which half and 99% of the
// observations between two histogram readings fall (in ms, as text).
func bucketQuantiles(before, after map[float64]uint64) (p50, p99 string) {
	return scaledQuantiles(before, after, 1000)
}

// scaledQuantiles is bucketQuantiles for bounds in any unit (times scale).
func scaledQuantiles(before, after map[float64]uint64, scale float64) (p50, p99 string) {
	bounds := make([]float64, 0, len(after))
	for b := range after {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	if len(bounds) == 0 {
		return "?", "?"
	}
	total := after[bounds[len(bounds)-1]] - before[bounds[len(bounds)-1]]
	at := func(q float64) string {
		for _, b := range bounds {
			if float64(after[b]-before[b]) >= q*float64(total) {
				if math.IsInf(b, 1) {
					return "∞" // beyond the largest bound
				}
				return strconv.FormatFloat(b*scale, 'f', -1, 64)
			}
		}
		return "∞"
	}
	return at(0.5), at(0.99)
}

// ingestLag is how long the webhooks received since from waited between
// their durable write and the transaction that applied them.
func ingestLag(ctx context.Context, db *models.DB, from time.Time) (latency, error) {
	var p50, p99 float64
	err := db.Pool.QueryRow(ctx, `SELECT
			coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)), 0),
			coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)), 0)
		FROM raw_webhooks WHERE received_at >= $1 AND processed_at IS NOT NULL`, from).Scan(&p50, &p99)
	return latency{p50: time.Duration(p50 * float64(time.Second)), p99: time.Duration(p99 * float64(time.Second))}, err
}

// cpuSample is CPU time used so far: this process (the server), the load
// process, the PostgreSQL backends of the bench database, and the machine.
type cpuSample struct {
	at                              time.Time
	server, load, postgres, machine float64 // seconds
}

// cpuUse is a sample difference in cores.
type cpuUse struct{ server, load, postgres, machine float64 }

func (c cpuSample) since(prev cpuSample) cpuUse {
	d := c.at.Sub(prev.at).Seconds()
	return cpuUse{(c.server - prev.server) / d, (c.load - prev.load) / d, (c.postgres - prev.postgres) / d, (c.machine - prev.machine) / d}
}

func sampleCPU(loadPID int, db *models.DB) cpuSample {
	const hz = 100 // USER_HZ
	s := cpuSample{at: time.Now(), server: procCPU("self") / hz, load: procCPU(strconv.Itoa(loadPID)) / hz}
	database := db.Pool.Config().ConnConfig.Database
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if bytes.HasPrefix(cmd, []byte("postgres: ")) && bytes.Contains(cmd, []byte(" "+database+" ")) {
			s.postgres += procCPU(e.Name()) / hz
		}
	}
	if stat, err := os.ReadFile("/proc/stat"); err == nil {
		f := strings.Fields(strings.SplitN(string(stat), "\n", 2)[0])
		for i, v := range f[1:] {
			if i == 3 || i == 4 { // idle, iowait
				continue
			}
			n, _ := strconv.ParseFloat(v, 64)
			s.machine += n / hz
		}
	}
	return s
}

// procCPU is a process's user and system time in clock ticks.
func procCPU(pid string) float64 {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return u + st
}

// drainIngest waits (at most two minutes) until every stored webhook is processed.
func drainIngest(ctx context.Context, db *models.DB) error {
	for i := 0; i < 1200; i++ {
		var pending int64
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM raw_webhooks WHERE outcome = 'pending'`).Scan(&pending); err != nil {
			return err
		}
		if pending == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("bench ws: ingest did not catch up in two minutes")
}

// startProfile profiles this process's CPU into path (suffixed with the
// rate) until the returned function is called; an empty path does nothing.
func startProfile(path string, rate int) (func(), error) {
	return startCapture(path, rate, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// startTrace is startProfile for the execution trace: where a profile
// shows no CPU, the trace shows what the goroutines waited for.
func startTrace(path string, rate int) (func(), error) {
	return startCapture(path, rate, trace.Start, trace.Stop)
}

func startCapture(path string, rate int, start func(io.Writer) error, stop func()) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", path, rate))
	if err != nil {
		return nil, err
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		stop()
		f.Close()
	}, nil
}

// benchIdle opens n idle TCP connections to the floor (tcpFloor) and then
// n sockets to the app, measuring the server's RSS for each, and
// broadcasts once to the app's.
func benchIdle(ctx context.Context, stdout io.Writer, child *wsLoad, srv *web.Server, db *models.DB, n int) error {
	floor, err := newTCPFloor()
	if err != nil {
		return err
	}
	defer floor.ln.Close()

	measure := func(label, cmd string, count func() int) error {
		before := settledMemory()
		var opened wsReply
		if err := child.call(cmd, &opened); err != nil {
			return err
		}
		for i := 0; i < 300 && count() < n; i++ { // the server adds a socket just after its upgrade answer
			time.Sleep(10 * time.Millisecond)
		}
		if c := count(); c != n {
			return fmt.Errorf("%s: %d of %d sockets registered", label, c, n)
		}
		time.Sleep(time.Second) // let every connection reach its idle state
		after := settledMemory()
		fmt.Fprintf(stdout, "| %s | %d | %.1f KiB | %.1f / %.1f KiB | %.0f/s |\n", label, n,
			float64(after.rss-before.rss)/float64(n)/1024,
			float64(after.heap-before.heap)/float64(n)/1024, float64(after.stacks-before.stacks)/float64(n)/1024, opened.Rate)
		return nil
	}
	fmt.Fprintf(stdout, "\n| server | idle sockets | RSS per socket | heap / stacks per socket | connections/s |\n|---|---|---|---|---|\n")
	if err := measure("TCP connection + reading goroutine (raw limit)", fmt.Sprintf("open-tcp %d %s", n, floor.ln.Addr()), func() int { return int(floor.count.Load()) }); err != nil {
		return err
	}
	// The raw limit of a broadcast: the same number of plain TCP writes of
	// a frame the size of the app's row frame, timed at the load's readers.
	var rawBC wsReply
	if err := child.call(fmt.Sprintf("arm-tcp %d", rawFrameSize), nil); err != nil {
		return err
	}
	rawStart := time.Now()
	floor.broadcast(bytes.Repeat([]byte("x"), rawFrameSize))
	if err := child.call(fmt.Sprintf("collect-tcp %d", rawStart.UnixNano()), &rawBC); err != nil {
		return err
	}
	if err := child.call("close", nil); err != nil {
		return err
	}
	for i := 0; i < 300 && floor.count.Load() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if err := measure("switchboard /ws", fmt.Sprintf("open-app %d", n), func() int { return wsConnections(srv) }); err != nil {
		return err
	}
	var bc wsReply
	written0 := histBuckets(srv, "switchboard_live_written_seconds")
	raw, err := notifyRoundTrip(ctx, db, 10, 3*time.Second)
	if err != nil {
		return err
	}
	if err := child.call("broadcast", &bc); err != nil {
		return err
	}
	w50, w99 := bucketQuantiles(written0, histBuckets(srv, "switchboard_live_written_seconds"))
	fmt.Fprintf(stdout, "\nbroadcast (one webhook → a new row on all %d sockets): first %.1f ms, p50 %.1f ms, p99 %.1f ms, all received %.1f ms (%d of %d); "+
		"NOTIFY → frame written p50 ≤%s ms, p99 ≤%s ms; raw commit+NOTIFY p50 %.2f ms, p99 %.2f ms; "+
		"raw broadcast (%d-byte write on each of %d plain TCP connections, a goroutine each): p50 %.1f ms, p99 %.1f ms, all %.1f ms (%d of %d)\n",
		n, bc.First, bc.P50, bc.P99, bc.Max, bc.Delivered, bc.Expected, w50, w99, ms(raw.p50), ms(raw.p99),
		rawFrameSize, n, rawBC.P50, rawBC.P99, rawBC.Max, rawBC.Delivered, rawBC.Expected)
	if err := child.call("close", nil); err != nil {
		return err
	}
	for i := 0; i < 500 && wsConnections(srv) > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

type memory struct{ rss, heap, stacks int64 }

// settledMemory collects garbage, returns what it can to the OS, and reads
// the process's resident set and the runtime's heap and stacks in use.
func settledMemory() memory {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := memory{heap: int64(ms.HeapInuse), stacks: int64(ms.StackInuse)}
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			m.rss = kb * 1024
		}
	}
	return m
}

// wsConnections reads the server's open-sockets gauge.
func wsConnections(srv *web.Server) int {
	mfs, err := srv.Metrics().Registry.Gather()
	if err != nil {
		return -1
	}
	for _, mf := range mfs {
		if mf.GetName() == "switchboard_websocket_connections" && len(mf.GetMetric()) > 0 {
			return int(mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	return 0
}

// tcpFloor is the raw limit of an idle socket: a loopback TCP connection
// accepted and one goroutine blocked reading it into a 1 KiB buffer, what
// any Go server with a reading goroutine per socket pays before its own
// state. It speaks no websocket: the only websocket server measured is the app's.
type tcpFloor struct {
	ln    net.Listener
	count atomic.Int64

	mu    sync.Mutex
	conns []net.Conn // accepted, for the raw broadcast
}

// broadcast writes frame to every accepted connection, each from a
// goroutine of its own (what a Go server with a writer per socket pays
// at the least), and returns once every write returned.
func (f *tcpFloor) broadcast(frame []byte) {
	f.mu.Lock()
	conns := slices.Clone(f.conns)
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = c.Write(frame)
		}()
	}
	wg.Wait()
}

func newTCPFloor() (*tcpFloor, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &tcpFloor{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.count.Add(1)
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			go func() {
				defer f.count.Add(-1)
				defer c.Close()
				buf := make([]byte, 1024)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	return f, nil
}

// latency is a run's percentiles.
type latency struct{ p50, p99, max time.Duration }

// wsBusiness is one business of the load: its WhatsApp number and the agent whose session the sockets use.
type wsBusiness struct {
	Account string
	WABA    string
	Email   string
	Cookie  string
}

type wsLoadConfig struct {
	Base       string
	Secret     string
	Duration   time.Duration
	Businesses []wsBusiness
}

const wsBenchPassword = "bench-password-123"

func seedWSBusiness(ctx context.Context, store *models.Store, i int, secret string) (wsBusiness, error) {
	b := wsBusiness{Account: fmt.Sprintf("1002003%03d", i), WABA: fmt.Sprintf("9008007%03d", i), Email: fmt.Sprintf("agent%d@bench.test", i)}
	biz, err := store.CreateBusiness(ctx, fmt.Sprintf("Bench %d", i))
	if err != nil {
		return b, err
	}
	if _, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: "whatsapp", AccountID: b.Account,
		AccessToken: "bench-token", AppSecret: secret}); err != nil {
		return b, err
	}
	hash, err := web.HashPassword(wsBenchPassword, web.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		return b, err
	}
	_, err = store.CreateUser(ctx, biz.ID, b.Email, "Agent", hash, models.RoleAgent)
	return b, err
}

// signIn signs the agent in and returns its session cookie header value.
func signIn(base, email string) (string, error) {
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.PostForm(base+"/login", url.Values{"email": {email}, "password": {wsBenchPassword}})
	if err != nil {
		return "", err
	}
	res.Body.Close()
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		if c.Name == "switchboard_session" {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("bench ws: sign-in of %s answered %d without a session", email, res.StatusCode)
}

// notifyRoundTrip is the raw limit of the live path: a one-row INSERT and
// pg_notify committed together, timed to its arrival at a listener, at rate.
func notifyRoundTrip(ctx context.Context, db *models.DB, rate int, d time.Duration) (latency, error) {
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_notify (id bigserial PRIMARY KEY, body text NOT NULL)`); err != nil {
		return latency{}, err
	}
	defer func() { _, _ = db.Pool.Exec(context.Background(), `DROP TABLE IF EXISTS bench_notify`) }()
	conn, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return latency{}, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN bench_notify`); err != nil {
		return latency{}, err
	}
	total := int(float64(rate) * d.Seconds())
	starts := make([]int64, total)
	lat := make([]time.Duration, 0, total)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(lat) < total {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				return
			}
			if i, err := strconv.Atoi(n.Payload); err == nil && i < total {
				lat = append(lat, time.Duration(time.Now().UnixNano()-atomic.LoadInt64(&starts[i])))
			}
		}
	}()
	pace(ctx, rate, total, 32, func(i int) {
		atomic.StoreInt64(&starts[i], time.Now().UnixNano())
		_, _ = db.Pool.Exec(ctx, `WITH r AS (INSERT INTO bench_notify (body) VALUES ($1) RETURNING id)
			SELECT pg_notify('bench_notify', $1) FROM r`, strconv.Itoa(i))
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = conn.Close(context.Background())
		<-done
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		return latency{}, errors.New("bench ws: no notification arrived")
	}
	return latency{p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], max: lat[len(lat)-1]}, nil
}

// pace calls fn(0..total-1) from workers, starting call i at i/rate seconds
// (open loop: a slow call delays no later start beyond the workers' number).
func pace(ctx context.Context, rate, total, workers int, fn func(i int)) {
	jobs := make(chan int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				fn(i)
			}
		}()
	}
	start := time.Now()
	for i := 0; i < total && ctx.Err() == nil; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); wait > 0 {
			time.Sleep(wait)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// raiseFileLimit lifts the soft limit on open files to the hard one (at
// most 1<<20): each side of the benchmark holds one descriptor per socket.
func raiseFileLimit() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = min(lim.Max, 1<<20)
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// wsLoad is the child process holding the sockets and posting webhooks.
type wsLoad struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// wsReply is the child's answer to one command.
type wsReply struct {
	Error               string
	Rate                float64 // connections/s (open), webhooks/s sent (load)
	Delivered, Expected int
	Refused             int
	First, P50, P99     float64 // ms
	Max, AckP99         float64 // ms
}

func startWSLoad(ctx context.Context, cfg wsLoadConfig) (*wsLoad, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "ws-load")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &wsLoad{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	c.out.Buffer(make([]byte, 1<<20), 1<<20)
	b, _ := json.Marshal(cfg)
	if _, err := fmt.Fprintf(in, "%s\n", b); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// call sends one command and decodes the child's one-line answer.
func (c *wsLoad) call(cmd string, reply *wsReply) error {
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		return err
	}
	if !c.out.Scan() {
		return fmt.Errorf("bench ws: load process ended during %q: %v", cmd, c.out.Err())
	}
	var r wsReply
	if err := json.Unmarshal(c.out.Bytes(), &r); err != nil {
		return fmt.Errorf("bench ws: load process said %q", c.out.Text())
	}
	if r.Error != "" {
		return fmt.Errorf("bench ws: %s: %s", cmd, r.Error)
	}
	if reply != nil {
		*reply = r
	}
	return nil
}

func (c *wsLoad) close() {
	_, _ = fmt.Fprintln(c.in, "quit")
	_ = c.in.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// WSLoad is the child of WS ("bench ws-load"): it reads its configuration, then answers one
// command per line on stdin with one JSON line on stdout.
func WSLoad(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	if err := raiseFileLimit(); err != nil {
		return err
	}
	in := bufio.NewScanner(stdin)
	if !in.Scan() {
		return errors.New("bench ws-load: no configuration")
	}
	var cfg wsLoadConfig
	if err := json.Unmarshal(in.Bytes(), &cfg); err != nil {
		return err
	}
	l := &loadClient{cfg: cfg}
	defer l.closeAll()
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		var r wsReply
		var err error
		switch f[0] {
		case "quit":
			return nil
		case "open-tcp":
			n, _ := strconv.Atoi(f[1])
			r.Rate, err = l.openTCP(ctx, n, f[2])
		case "open-app":
			n, _ := strconv.Atoi(f[1])
			r.Rate, err = l.open(ctx, n, 1)
		case "close":
			l.closeAll()
		case "arm-tcp":
			size, _ := strconv.Atoi(f[1])
			l.armTCP(size)
		case "collect-tcp":
			start, _ := strconv.ParseInt(f[1], 10, 64)
			r = l.collectTCP(start)
		case "broadcast":
			r, err = l.broadcast(ctx)
		case "warm":
			r, err = l.warm(ctx)
		case "open-agents":
			n, _ := strconv.Atoi(f[1])
			r.Rate, err = l.open(ctx, n, len(cfg.Businesses))
		case "load":
			rate, _ := strconv.Atoi(f[1])
			r, err = l.load(ctx, rate)
		default:
			err = fmt.Errorf("unknown command %q", f[0])
		}
		if err != nil {
			r = wsReply{Error: err.Error()}
		}
		b, _ := json.Marshal(r)
		if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return err
		}
	}
	return in.Err()
}

// loadClient holds the sockets: each one's reader records, for every new
// row frame carrying a marker "wsb-<n>", the time it arrived.
type loadClient struct {
	cfg   wsLoadConfig
	sim   *metasim.Sim
	next  int // the next marker
	conns []*websocket.Conn
	tcp   []net.Conn // the raw limit's connections

	tcpArrivals []int64 // by connection: when the raw broadcast's frame arrived (unix ns)
	tcpWG       sync.WaitGroup
	wg          sync.WaitGroup

	mu       sync.Mutex
	starts   []int64 // POST start (unix ns) by marker
	arrivals []time.Duration
	count    atomic.Int64
}

// openTCP dials n plain TCP connections to addr and returns connections/s.
func (l *loadClient) openTCP(ctx context.Context, n int, addr string) (float64, error) {
	start := time.Now()
	var d net.Dialer
	for i := 0; i < n; i++ {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return 0, err
		}
		l.tcp = append(l.tcp, c)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// open dials n sockets to the app spread over the first spread businesses
// from 64 dialers and returns connections/s.
func (l *loadClient) open(ctx context.Context, n, spread int) (float64, error) {
	dialer := websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 256, HandshakeTimeout: 30 * time.Second}
	since := strconv.FormatInt(time.Now().UnixMilli(), 10)
	conns := make([]*websocket.Conn, n)
	var next atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || firstErr.Load() != nil {
					return
				}
				b := l.cfg.Businesses[i%spread]
				u, h := "ws"+strings.TrimPrefix(l.cfg.Base, "http")+"/ws?since="+since, http.Header{}
				h.Set("Cookie", b.Cookie)
				c, res, err := dialer.DialContext(ctx, u, h)
				if err != nil {
					if res != nil {
						err = fmt.Errorf("%w (HTTP %d)", err, res.StatusCode)
					}
					firstErr.CompareAndSwap(nil, err)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		return 0, err
	}
	rate := float64(n) / time.Since(start).Seconds()
	for _, c := range conns {
		l.conns = append(l.conns, c)
		l.wg.Add(1)
		go l.read(c)
	}
	return rate, nil
}

func (l *loadClient) read(c *websocket.Conn) {
	defer l.wg.Done()
	buf := make([]byte, 0, 16<<10)
	marker, insert := []byte("wsb-"), []byte(`afterbegin:#thread-list`)
	for {
		_, r, err := c.NextReader()
		if err != nil {
			return
		}
		buf = buf[:0]
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil {
				break
			}
		}
		now := time.Now().UnixNano()
		// A frame carries every change since the socket's last one: time
		// each new message's row (a row moved to the top) it contains.
		for rest := buf; ; {
			i := bytes.Index(rest, insert)
			if i < 0 {
				break
			}
			rest = rest[i+len(insert):]
			j := bytes.Index(rest, marker)
			if j < 0 {
				break
			}
			seq, k := 0, j+len(marker)
			for ; k < len(rest) && rest[k] >= '0' && rest[k] <= '9'; k++ {
				seq = seq*10 + int(rest[k]-'0')
			}
			rest = rest[k:]
			l.mu.Lock()
			if seq < len(l.starts) && l.starts[seq] != 0 {
				l.arrivals = append(l.arrivals, time.Duration(now-l.starts[seq]))
			}
			l.mu.Unlock()
			l.count.Add(1)
		}
	}
}

// rawFrameSize is the raw broadcast's frame: about the app's new-row frame.
const rawFrameSize = 1024

// armTCP starts a reader on each raw connection that records when size
// bytes have arrived (unix ns).
func (l *loadClient) armTCP(size int) {
	l.tcpArrivals = make([]int64, len(l.tcp))
	l.tcpWG = sync.WaitGroup{}
	for i, c := range l.tcp {
		l.tcpWG.Add(1)
		go func() {
			defer l.tcpWG.Done()
			buf := make([]byte, size)
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			if _, err := io.ReadFull(c, buf); err == nil {
				l.tcpArrivals[i] = time.Now().UnixNano()
			}
			_ = c.SetReadDeadline(time.Time{})
		}()
	}
}

// collectTCP waits for armTCP's readers and sums up their arrivals after start (unix ns).
func (l *loadClient) collectTCP(start int64) wsReply {
	l.tcpWG.Wait()
	var lat []time.Duration
	for _, at := range l.tcpArrivals {
		if at != 0 {
			lat = append(lat, time.Duration(at-start))
		}
	}
	slices.Sort(lat)
	r := wsReply{Delivered: len(lat), Expected: len(l.tcp)}
	if len(lat) > 0 {
		r.First, r.P50, r.P99, r.Max = ms(lat[0]), ms(lat[len(lat)/2]), ms(lat[min(len(lat)-1, len(lat)*99/100)]), ms(lat[len(lat)-1])
	}
	return r
}

func (l *loadClient) closeAll() {
	for _, c := range l.tcp {
		_ = c.Close()
	}
	l.tcp = nil
	for _, c := range l.conns {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = c.Close()
	}
	l.wg.Wait()
	l.conns = nil
}

// reset prepares to time markers first..first+total-1.
func (l *loadClient) reset(first, total int) {
	l.mu.Lock()
	if len(l.starts) < first+total {
		l.starts = append(l.starts, make([]int64, first+total-len(l.starts))...)
	}
	l.arrivals = make([]time.Duration, 0, total*8)
	l.mu.Unlock()
	l.count.Store(0)
}

// customers is how many customers write to each business.
const wsCustomers = 500

// simulator is the Meta simulator that signs the webhooks, built once.
func (l *loadClient) simulator() (*metasim.Sim, error) {
	if l.sim != nil {
		return l.sim, nil
	}
	sim := metasim.New(metasim.Config{AppSecret: l.cfg.Secret, Seed: 11, Customers: wsCustomers, DisableStatusWebhooks: true})
	for _, b := range l.cfg.Businesses {
		if err := sim.AddAccount(metasim.Account{App: metasim.WhatsApp, ID: b.Account, WABAID: b.WABA, AccessToken: "bench-token",
			DisplayPhone: "39" + b.Account}); err != nil {
			return nil, err
		}
	}
	l.sim = sim
	return sim, nil
}

// payloads builds one signed WhatsApp text webhook per marker from first
// on, round robin over the businesses, from random customers.
func (l *loadClient) payloads(first, total int) ([]metasim.Inbound, error) {
	sim, err := l.simulator()
	if err != nil {
		return nil, err
	}
	out := make([]metasim.Inbound, total)
	for i := range out {
		b := l.cfg.Businesses[i%len(l.cfg.Businesses)]
		if out[i], err = sim.Build(metasim.Event{App: metasim.WhatsApp, Kind: "text", Account: b.Account,
			Text: "wsb-" + strconv.Itoa(first+i) + " is it still available?"}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// warm has every customer write once to every business, so the timed
// webhooks land in existing threads (one event each, as most do).
func (l *loadClient) warm(ctx context.Context) (wsReply, error) {
	sim, err := l.simulator()
	if err != nil {
		return wsReply{}, err
	}
	var bodies []metasim.Inbound
	for _, c := range sim.Customers() {
		for _, b := range l.cfg.Businesses {
			in, err := sim.Build(metasim.Event{App: metasim.WhatsApp, Kind: "text", Account: b.Account, Customer: &c, Text: "hello"})
			if err != nil {
				return wsReply{}, err
			}
			bodies = append(bodies, in)
		}
	}
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 30 * time.Second}
	var firstErr atomic.Value
	pace(ctx, 100_000, len(bodies), 32, func(i int) {
		if _, err := l.post(ctx, cl, bodies[i]); err != nil {
			firstErr.CompareAndSwap(nil, err)
		}
	})
	if err, ok := firstErr.Load().(error); ok {
		return wsReply{}, err
	}
	return wsReply{Delivered: len(bodies)}, nil
}

// post sends one webhook and returns how long its acknowledgement took.
func (l *loadClient) post(ctx context.Context, cl *http.Client, in metasim.Inbound) (time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", l.cfg.Base+"/webhooks/whatsapp", bytes.NewReader(in.Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", in.Signature)
	start := time.Now()
	res, err := cl.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("webhook answered %d", res.StatusCode)
	}
	return time.Since(start), nil
}

// broadcast posts one webhook to the first business (all idle sockets
// are its) and waits until every socket has its row.
func (l *loadClient) broadcast(ctx context.Context) (wsReply, error) {
	bodies, err := l.payloads(l.next, 1)
	if err != nil {
		return wsReply{}, err
	}
	l.reset(l.next, 1)
	l.mu.Lock()
	l.starts[l.next] = time.Now().UnixNano()
	l.mu.Unlock()
	l.next++
	if _, err := l.post(ctx, http.DefaultClient, bodies[0]); err != nil {
		return wsReply{}, err
	}
	want := int64(len(l.conns))
	for i := 0; i < 1000 && l.count.Load() < want; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	return l.summary(1, len(l.conns), 0, nil), nil
}

// load posts rate webhooks/s for cfg.Duration and times every new row at
// every socket of the webhook's business.
func (l *loadClient) load(ctx context.Context, rate int) (wsReply, error) {
	total := int(float64(rate) * l.cfg.Duration.Seconds())
	first := l.next
	bodies, err := l.payloads(first, total)
	if err != nil {
		return wsReply{}, err
	}
	l.next += total
	perBusiness := len(l.conns) / len(l.cfg.Businesses)
	l.reset(first, total)
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 30 * time.Second}
	var (
		mu      sync.Mutex
		acks    []time.Duration
		refused atomic.Int64
	)
	start := time.Now()
	pace(ctx, rate, total, 256, func(i int) {
		l.mu.Lock()
		l.starts[first+i] = time.Now().UnixNano()
		l.mu.Unlock()
		d, err := l.post(ctx, cl, bodies[i])
		if err != nil {
			refused.Add(1)
			return
		}
		mu.Lock()
		acks = append(acks, d)
		mu.Unlock()
	})
	sent := float64(total) / time.Since(start).Seconds()
	l.awaitTail(int64(total * perBusiness))
	r := l.summary(total, perBusiness, int(refused.Load()), acks)
	r.Rate = sent
	return r, nil
}

// awaitTail waits for the rows still on their way: until want have
// arrived, or none has for 250 ms, or 10 s have passed. Rows of one thread
// that one push carries together arrive as one, so want is not always
// reached; waiting the full 10 s for it would put idle seconds into the
// CPU figures measured around the load.
func (l *loadClient) awaitTail(want int64) {
	last, quiet := l.count.Load(), time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		n := l.count.Load()
		if n >= want || time.Since(quiet) > 250*time.Millisecond {
			return
		}
		if n != last {
			last, quiet = n, time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *loadClient) summary(events, perEvent, refused int, acks []time.Duration) wsReply {
	l.mu.Lock()
	lat := slices.Clone(l.arrivals)
	l.mu.Unlock()
	slices.Sort(lat)
	slices.Sort(acks)
	pct := func(d []time.Duration, p float64) float64 {
		if len(d) == 0 {
			return 0
		}
		return ms(d[min(len(d)-1, int(p*float64(len(d))))])
	}
	r := wsReply{Delivered: len(lat), Expected: events * perEvent, Refused: refused,
		P50: pct(lat, 0.50), P99: pct(lat, 0.99), AckP99: pct(acks, 0.99)}
	if len(lat) > 0 {
		r.First, r.Max = ms(lat[0]), ms(lat[len(lat)-1])
	}
	return r
}
