package web

import "net/http"

// campaignPageRoutes registers the admin pages of campaigns.
func (s *Server) campaignPageRoutes(mux *http.ServeMux) {}
