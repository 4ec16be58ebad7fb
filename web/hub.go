package web

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// Websocket tuning (see performance.md): small read buffers, pooled write
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
	return websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 4096, WriteBufferPool: &wsWriteBufferPool}
}

// clientView is what a socket's page shows, so events can be rendered for it.
type clientView struct {
	threadID int64
	filter   views.ListFilter
	tf       models.ThreadFilter
	closing  bool
	inserts  bool // the list is a first page without a search: new activity goes on top
}

// wsClient is one agent's socket.
type wsClient struct {
	conn       *websocket.Conn
	send       chan *websocket.PreparedMessage
	done       chan struct{}
	once       sync.Once
	businessID int64
	userID     int64
	locale     string
	admin      bool
	view       clientView
}

func (c *wsClient) close() { c.once.Do(func() { close(c.done) }) }

// enqueue hands a frame to the client's writer without ever blocking; false
// means its queue is full (a slow client).
func (c *wsClient) enqueue(pm *websocket.PreparedMessage) bool {
	select {
	case c.send <- pm:
		return true
	case <-c.done:
		return true
	default:
		return false
	}
}

// hub tracks this process's sockets by business and what the listener has seen.
type hub struct {
	mu        sync.RWMutex
	clients   map[int64]map[*wsClient]struct{}
	lastEvent map[int64]time.Time
	listening time.Time // since when events have flowed without a gap; zero when not listening

	conns   prometheus.Gauge
	dropped prometheus.Counter
	events  prometheus.Counter
}

func newHub(m *Metrics) *hub {
	h := &hub{
		clients:   map[int64]map[*wsClient]struct{}{},
		lastEvent: map[int64]time.Time{},
		conns: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "switchboard", Name: "websocket_connections",
			Help: "Open websocket connections on this process."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "switchboard", Name: "websocket_dropped_total",
			Help: "Websocket clients dropped because they could not keep up."}),
		events: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "switchboard", Name: "live_events_total",
			Help: "Inbox events received from PostgreSQL NOTIFY."}),
	}
	m.Registry.MustRegister(h.conns, h.dropped, h.events)
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
}

func (h *hub) remove(c *wsClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if set := h.clients[c.businessID]; set != nil {
		if _, ok := set[c]; ok {
			delete(set, c)
			h.conns.Dec()
		}
		if len(set) == 0 {
			delete(h.clients, c.businessID)
		}
	}
	c.close()
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
	n := 0
	for _, set := range h.clients {
		n += len(set)
	}
	return n
}

func (h *hub) noteEvent(businessID int64, at time.Time) {
	h.mu.Lock()
	h.lastEvent[businessID] = at
	h.mu.Unlock()
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
	return h.lastEvent[businessID].After(since.Add(-wsResyncSlack))
}

// deliver queues pm for each client; a client whose queue is full is
// dropped (its page resyncs when the socket reconnects), never waited for.
func (h *hub) deliver(pm *websocket.PreparedMessage, clients []*wsClient) {
	for _, c := range clients {
		if !c.enqueue(pm) {
			h.dropped.Inc()
			h.remove(c)
		}
	}
}
