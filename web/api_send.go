package web

import "net/http"

// sendRoutes registers the policy and send endpoints.
func (s *Server) sendRoutes(mux *http.ServeMux) {}
