package web

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/views"
)

// page builds the layout data for the viewer.
func (s *Server) page(r *http.Request, title, section string) views.Page {
	p := views.Page{Title: title, Section: section, RequestID: RequestID(r.Context())}
	if v := viewerFrom(r.Context()); v != nil {
		p.SignedIn, p.UserName, p.Role = true, v.User.Name, v.Role
		if p.UserName == "" {
			p.UserName = v.User.Email
		}
	}
	return p
}
