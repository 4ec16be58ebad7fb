package web

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/a-h/templ"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// render writes a templ component with status; rendering into a buffer first
// means a failed render becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// serverError logs err once, with the request id, and shows a 500 page;
// or a 503 when the database cannot serve now (see unavailable).
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	id := RequestID(r.Context())
	if models.Unavailable(err) {
		s.unavailable(w, r, err)
		return
	}
	s.log.Error("request failed", "error", err, "method", r.Method, "pattern", r.Pattern, "request_id", id)
	if wantsJSON(r) {
		writeJSONError(w, http.StatusInternalServerError, "internal", "internal error (request "+id+")")
		return
	}
	msg := views.T(r.Context(), "error.server", id)
	s.renderBare(w, r, http.StatusInternalServerError, views.ErrorPage(s.page(r, "Error", ""), 500, msg))
}

// retryAfter is what a 503 asks clients to wait, in seconds.
const retryAfter = "5"

// unavailable answers 503 with Retry-After when PostgreSQL refuses or has
// no connection to spare: plain text (JSON on the API), no page to render,
// so a proxy, Meta or a browser simply retries.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Warn("database unavailable", "error", err, "method", r.Method, "pattern", r.Pattern, "request_id", RequestID(r.Context()))
	w.Header().Set("Retry-After", retryAfter)
	if wantsJSON(r) {
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", "the database is busy; retry shortly")
		return
	}
	http.Error(w, "Service temporarily unavailable; retry shortly.", http.StatusServiceUnavailable)
}

// notFound answers 404; another business's ids get exactly this too.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		writeJSONError(w, http.StatusNotFound, "not_found", "not found")
		return
	}
	s.renderBare(w, r, http.StatusNotFound, views.ErrorPage(s.page(r, "Not found", ""), 404, views.T(r.Context(), "error.notfound")))
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		writeJSONError(w, http.StatusForbidden, "forbidden", "forbidden")
		return
	}
	s.renderBare(w, r, http.StatusForbidden, views.ErrorPage(s.page(r, "Forbidden", ""), 403, views.T(r.Context(), "error.forbidden")))
}

// renderBare renders an error page without recursing into serverError.
func (s *Server) renderBare(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		s.log.Error("render error page", "error", err)
	}
}

func wantsJSON(r *http.Request) bool {
	return len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/api/"
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeJSONError writes the contract's error shape.
func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// badRequest answers input that cannot be understood.
func (s *Server) badRequest(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "invalid request")
		return
	}
	s.renderBare(w, r, http.StatusBadRequest, views.ErrorPage(s.page(r, "Bad request", ""), 400, views.T(r.Context(), "error.bad_input")))
}

// writeFieldError answers 422 naming the bad input, as the contract's part 2 does.
func writeFieldError(w http.ResponseWriter, field, code, message string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": map[string]string{"code": code, "message": message, "field": field}})
}
