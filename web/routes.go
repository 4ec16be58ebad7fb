package web

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/static"
)

// routes is the map of the app: every URL Switchboard answers.
func (s *Server) routes(mux *http.ServeMux) {
	// Operations.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.Handle("GET /static/{hash}/{path...}", static.Handler())

	// Sign-in.
	ui := s.sessions.LoadAndSave
	mux.Handle("GET /login", ui(http.HandlerFunc(s.loginPage)))
	mux.Handle("POST /login", ui(http.HandlerFunc(s.login)))
	mux.Handle("POST /logout", ui(http.HandlerFunc(s.logout)))
	mux.Handle("GET /{$}", ui(s.requireUser(http.HandlerFunc(s.home))))

	s.webhookRoutes(mux) // webhooks.go: Meta's GET handshake and signed POSTs
	s.sendRoutes(mux)    // api_send.go: policy and sending, JSON and composer
}
