package web

import "net/http"

// webhookRoutes registers GET and POST /webhooks/{messenger,instagram,whatsapp}.
func (s *Server) webhookRoutes(mux *http.ServeMux) {}
