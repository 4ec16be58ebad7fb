package web

import (
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// upgrade turns the request into a websocket; false means the answer is
// already written (an error page, or the upgrader's refusal).
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request) (*websocket.Conn, bool) {
	hj, ok := hijacker(w)
	if !ok {
		s.serverError(w, r, errNoHijack)
		return nil, false
	}
	conn, err := s.upgrader.Upgrade(hj, r, nil)
	return conn, err == nil
}

// servePageSocket runs a page's own socket (a campaign report, a restock
// run): frames from the page's watcher are written as they come, with pings
// between them; gone runs once the page goes away or a write fails, and the
// connection is closed after it.
func servePageSocket(conn *websocket.Conn, frames <-chan []byte, gone func()) {
	done := make(chan struct{})
	go func() { // the reader notices the page going away
		defer close(done)
		conn.SetReadLimit(wsMaxMessage)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	go func() {
		defer func() {
			gone()
			_ = conn.Close()
		}()
		ping := time.NewTicker(wsPingPeriod)
		defer ping.Stop()
		for {
			select {
			case <-done:
				return
			case f := <-frames:
				_ = conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
				if conn.WriteMessage(websocket.TextMessage, f) != nil {
					return
				}
			case <-ping.C:
				if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)) != nil {
					return
				}
			}
		}
	}()
}
