package web

import (
	"bytes"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// Websocket tuning (measured by `switchboard bench ws`): small read buffers, pooled write
// buffers, a bounded queue per client, and ping/pong deadlines.
const (
	wsSendQueue  = 32
	wsWriteWait  = 10 * time.Second
	wsPongWait   = 60 * time.Second
	wsPingPeriod = wsPongWait * 9 / 10
	wsMaxMessage = 4096
	// wsResyncSlack covers an event committed just before a page was read
	// but delivered just after it.
	wsResyncSlack = 2 * time.Second
)

var wsWriteBufferPool sync.Pool

func newUpgrader() websocket.Upgrader {
	// CheckOrigin stays nil: gorilla's default refuses other origins.
	// The /ws sockets read with readFrames, not gorilla: its read buffer
	// only serves the page sockets, whose clients send nothing but control
	// frames (at most 125 bytes; gorilla allocates no less).
	return websocket.Upgrader{ReadBufferSize: 128, WriteBufferSize: 4096, WriteBufferPool: &wsWriteBufferPool}
}

// clientView is what a socket's page shows, so events can be rendered for it.
type clientView struct {
	threadID int64
	filter   views.ListFilter
	tf       models.ThreadFilter
	closing  bool
	inserts  bool // the list is a first page without a search: new activity goes on top
}

// wsClient is one agent's socket. An idle socket costs one goroutine (its
// reader): a writer goroutine runs only while frames are queued, and the
// hub's one pinger pings every socket in turn.
type wsClient struct {
	conn       *websocket.Conn
	businessID int64
	userID     int64
	session    string // digest of the session token it was opened with
	locale     string
	admin      bool
	view       clientView
	pingSlot   int // the second of each ping period in which the pinger pings it

	deadline int64 // the write deadline set on conn (unix ns); only the writer touches it

	mu      sync.Mutex
	queue   []frame // waiting frames
	writing bool    // a writer goroutine is running
	closed  bool
}

// frame is a queued frame: nil pm is a ping; data is pm's text (frames
// queued together are written as one message); at, when set, is when the
// earliest event it carries arrived from NOTIFY.
type frame struct {
	pm   *websocket.PreparedMessage
	data []byte
	at   time.Time
}

// enqueue hands a frame to the client's writer, starting one if none
// runs, without ever blocking; false means its queue is full (a slow client).
func (h *hub) enqueue(c *wsClient, f frame) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return true
	case len(c.queue) >= wsSendQueue:
		return false
	}
	c.queue = append(c.queue, f)
	if !c.writing {
		c.writing = true
		go h.write(c)
	}
	return true
}

// write is the socket's only writer while it runs: it sends what is
// queued, then ends.
func (h *hub) write(c *wsClient) {
	for {
		c.mu.Lock()
		if c.closed || len(c.queue) == 0 {
			c.writing = false
			c.mu.Unlock()
			return
		}
		frames := c.queue
		c.queue = nil
		c.mu.Unlock()
		deadline := c.writeDeadline(time.Now())
		for len(frames) > 0 {
			// Frames that queued up behind a write go out as one message: one
			// write instead of many, and the page applies them in order.
			n := 1
			for n < len(frames) && frames[0].pm != nil && frames[n].pm != nil {
				n++
			}
			err := writeFrames(c.conn, frames[:n], deadline)
			for _, f := range frames[:n] {
				if err == nil && !f.at.IsZero() {
					h.written.Observe(time.Since(f.at).Seconds())
				}
			}
			if err != nil {
				c.mu.Lock()
				c.writing = false
				c.mu.Unlock()
				h.remove(c)
				return
			}
			frames = frames[n:]
		}
	}
}

// writeDeadline returns the write deadline for a write starting at now,
// setting a new one (now + wsWriteWait) only when the one set has less
// than half of wsWriteWait left: a broadcast to every socket does not move
// every socket's timer, and a write still gets at least wsWriteWait/2.
func (c *wsClient) writeDeadline(now time.Time) time.Time {
	if c.deadline-now.UnixNano() < int64(wsWriteWait/2) {
		d := now.Add(wsWriteWait)
		_ = c.conn.SetWriteDeadline(d)
		c.deadline = d.UnixNano()
	}
	return time.Unix(0, c.deadline)
}

// writeFrames writes a ping (nil pm), one prepared frame, or several
// frames' texts as one message.
func writeFrames(conn *websocket.Conn, frames []frame, deadline time.Time) error {
	switch {
	case frames[0].pm == nil:
		return conn.WriteControl(websocket.PingMessage, nil, deadline)
	case len(frames) == 1:
		return conn.WritePreparedMessage(frames[0].pm)
	}
	w, err := conn.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	for _, f := range frames {
		if _, err := w.Write(f.data); err != nil {
			return err
		}
	}
	return w.Close()
}

// pingLoop pings every socket once per wsPingPeriod, a slice of them each
// second (one timer for the hub, not one per socket), and ends when the
// hub has no socket left; add starts it again.
func (h *hub) pingLoop() {
	const slots = int(wsPingPeriod / time.Second)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for n := 0; ; n++ {
		<-tick.C
		h.mu.Lock()
		if h.countLocked() == 0 {
			h.pinging = false
			h.mu.Unlock()
			return
		}
		var due []*wsClient
		for _, set := range h.clients {
			for c := range set {
				if c.pingSlot == n%slots {
					due = append(due, c)
				}
			}
		}
		h.mu.Unlock()
		for _, c := range due {
			if !h.enqueue(c, frame{}) {
				h.dropped.Inc()
				h.remove(c)
			}
		}
	}
}

// shutdown stops the client's pings and writes, says goodbye and closes
// the connection (which ends its reader), once.
func (c *wsClient) shutdown() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	go func() { // never block the caller (a fan-out dropping a slow client) on this socket
		_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""),
			time.Now().Add(time.Second))
		_ = c.conn.Close()
	}()
}

// hub tracks this process's sockets by business, what the listener has
// seen, and the short-lived per-business snapshots pages and events share.
type hub struct {
	mu        sync.RWMutex
	clients   map[int64]map[*wsClient]struct{}
	lastEvent map[int64]time.Time
	listening time.Time // since when events have flowed without a gap; zero when not listening
	// resyncSlack is wsResyncSlack; a test that needs a quiet page (no
	// resync for its own recent events) shortens it, under mu.
	resyncSlack time.Duration
	cache       *businessCache
	pinging     bool // pingLoop runs
	added       int  // sockets ever added: spreads them over the ping slots

	conns    prometheus.Gauge
	dropped  prometheus.Counter
	events   prometheus.Counter
	dispatch prometheus.Histogram // from an event's arrival to its frames being queued
	written  prometheus.Histogram // from an event's arrival to its frame written on a socket
}

// liveBuckets are the live path's histogram bounds (seconds).
var liveBuckets = []float64{.0005, .001, .002, .003, .005, .0075, .01, .015, .02, .03, .05, .075, .1, .15, .2, .3, .5, .75, 1, 2, 5}

func newHub(m *Metrics) *hub {
	h := &hub{
		clients:     map[int64]map[*wsClient]struct{}{},
		lastEvent:   map[int64]time.Time{},
		resyncSlack: wsResyncSlack,
		cache:       newBusinessCache(businessCacheTTL),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "switchboard", Name: "websocket_connections",
			Help: "Open websocket connections on this process."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "switchboard", Name: "websocket_dropped_total",
			Help: "Websocket clients dropped because they could not keep up."}),
		events: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "switchboard", Name: "live_events_total",
			Help: "Inbox events received from PostgreSQL NOTIFY."}),
		dispatch: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "switchboard", Name: "live_dispatch_seconds",
			Help:    "Time from an inbox event's arrival from NOTIFY to its frames being queued on the sockets (NOTIFY → frame queued).",
			Buckets: liveBuckets}),
		written: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "switchboard", Name: "live_written_seconds",
			Help:    "Time from an inbox event's arrival from NOTIFY to its frame written on each socket (NOTIFY → frame written); a frame carrying several events counts from the earliest.",
			Buckets: liveBuckets}),
	}
	m.Registry.MustRegister(h.conns, h.dropped, h.events, h.dispatch, h.written)
	return h
}

func (h *hub) add(c *wsClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.clients[c.businessID]
	if set == nil {
		set = map[*wsClient]struct{}{}
		h.clients[c.businessID] = set
	}
	set[c] = struct{}{}
	h.conns.Inc()
	c.pingSlot = h.added % int(wsPingPeriod/time.Second)
	h.added++
	if !h.pinging {
		h.pinging = true
		go h.pingLoop()
	}
}

func (h *hub) remove(c *wsClient) {
	h.mu.Lock()
	if set := h.clients[c.businessID]; set != nil {
		if _, ok := set[c]; ok {
			delete(set, c)
			h.conns.Dec()
		}
		if len(set) == 0 {
			delete(h.clients, c.businessID)
		}
	}
	h.mu.Unlock()
	c.shutdown()
}

// revoke closes a member's sockets in a business, only those of one
// session when session is set: they were opened with access that ended.
func (h *hub) revoke(businessID, userID int64, session string) {
	for _, c := range h.business(businessID) {
		if c.userID == userID && (session == "" || c.session == session) {
			h.remove(c)
		}
	}
}

// business returns a snapshot of one business's sockets.
func (h *hub) business(id int64) []*wsClient {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*wsClient, 0, len(h.clients[id]))
	for c := range h.clients[id] {
		out = append(out, c)
	}
	return out
}

// openThreads is the set of a business's threads some socket has open.
func (h *hub) openThreads(businessID int64) map[int64]bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	open := map[int64]bool{}
	for c := range h.clients[businessID] {
		if c.view.threadID != 0 {
			open[c.view.threadID] = true
		}
	}
	return open
}

// all returns a snapshot of every socket.
func (h *hub) all() []*wsClient {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []*wsClient
	for _, set := range h.clients {
		for c := range set {
			out = append(out, c)
		}
	}
	return out
}

// count is the number of open sockets.
func (h *hub) count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.countLocked()
}

// countLocked is count with h.mu held.
func (h *hub) countLocked() int {
	n := 0
	for _, set := range h.clients {
		n += len(set)
	}
	return n
}

// noteEvent counts an event; resync says a socket opened just after it must
// re-read its page (hub.missed) for it.
func (h *hub) noteEvent(businessID int64, at time.Time, resync bool) {
	if resync {
		h.mu.Lock()
		h.lastEvent[businessID] = at
		h.mu.Unlock()
	}
	h.events.Inc()
}

func (h *hub) setListening(since time.Time) {
	h.mu.Lock()
	h.listening = since
	h.mu.Unlock()
}

// missed reports whether a page rendered at since may lack events: the
// listener was not running throughout, or the business had events since.
func (h *hub) missed(businessID int64, since time.Time) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.listening.IsZero() || h.listening.After(since) {
		return true
	}
	return h.lastEvent[businessID].After(since.Add(-h.resyncSlack))
}

// deliver queues the frame data for each client; a client whose queue is full is
// dropped (its page resyncs when the socket reconnects), never waited for.
// at is when the earliest event pm carries arrived (zero: none, a resync).
func (h *hub) deliver(data []byte, at time.Time, clients []*wsClient) error {
	data = bytes.Clone(data) // the caller's buffer is reused; queued frames keep this copy
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if !h.enqueue(c, frame{pm, data, at}) {
			h.dropped.Inc()
			h.remove(c)
		}
	}
	return nil
}

// businessCacheTTL bounds how long a change made elsewhere (another
// replica, the admin CLI) takes to show: a role change, a new label, a
// member. Changes made through this process show at once (invalidate).
const businessCacheTTL = 2 * time.Second

// businessCache keeps per business, for a short time, what every page and
// every live event needs before its own content: the members, labels and
// channel alerts (businessBasics) and each signed-in member's user and
// role. Values are shared between requests and never modified.
type businessCache struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	gen  uint64 // bumped by every invalidate
	byID map[int64]*businessEntry
}

type businessEntry struct {
	gen      uint64 // the cache's gen at its last invalidate; a load started before is not kept
	basics   *businessBasics
	basicsAt time.Time
	viewers  map[int64]cachedViewer
}

type cachedViewer struct {
	user *models.SignedIn
	at   time.Time
}

func newBusinessCache(ttl time.Duration) *businessCache {
	return &businessCache{ttl: ttl, now: time.Now, byID: map[int64]*businessEntry{}}
}

// entry returns the business's entry; c.mu is held.
func (c *businessCache) entry(businessID int64) *businessEntry {
	e := c.byID[businessID]
	if e == nil {
		if len(c.byID) >= 10_000 { // bound memory: start over rather than track age
			c.byID = map[int64]*businessEntry{}
		}
		e = &businessEntry{gen: c.gen, viewers: map[int64]cachedViewer{}}
		c.byID[businessID] = e
	}
	return e
}

// basics returns the business's basics, calling load when they are missing or stale.
func (c *businessCache) basics(businessID int64, load func() (*businessBasics, error)) (*businessBasics, error) {
	c.mu.Lock()
	e := c.entry(businessID)
	if e.basics != nil && c.now().Sub(e.basicsAt) < c.ttl {
		b := e.basics
		c.mu.Unlock()
		return b, nil
	}
	gen, at := e.gen, c.now()
	c.mu.Unlock()
	b, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if e := c.byID[businessID]; e != nil && e.gen == gen {
		e.basics, e.basicsAt = b, at
	}
	c.mu.Unlock()
	return b, nil
}

// viewer returns a member's user and role, calling load when missing or
// stale; a nil user (not a member) is not kept.
func (c *businessCache) viewer(businessID, userID int64, load func() (*models.SignedIn, error)) (*models.SignedIn, error) {
	c.mu.Lock()
	e := c.entry(businessID)
	if v, ok := e.viewers[userID]; ok && c.now().Sub(v.at) < c.ttl {
		c.mu.Unlock()
		return v.user, nil
	}
	gen, at := e.gen, c.now()
	c.mu.Unlock()
	u, err := load()
	if err != nil || u == nil {
		return nil, err
	}
	c.mu.Lock()
	if e := c.byID[businessID]; e != nil && e.gen == gen {
		if len(e.viewers) >= 1_000 {
			e.viewers = map[int64]cachedViewer{}
		}
		e.viewers[userID] = cachedViewer{user: u, at: at}
	}
	c.mu.Unlock()
	return u, nil
}

// invalidate forgets what is known of a business, including loads still
// in flight, after a write that may have changed it.
func (c *businessCache) invalidate(businessID int64) {
	c.mu.Lock()
	c.gen++
	if e := c.byID[businessID]; e != nil {
		e.gen = c.gen
		e.basics = nil
		e.viewers = map[int64]cachedViewer{}
	}
	c.mu.Unlock()
}
