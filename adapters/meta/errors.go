package meta

import (
	"encoding/json"
	"fmt"
	"strings"
)

// GraphError is an error answer from the Graph API, in either of Meta's shapes:
// Messenger's (error_subcode, error_user_title, error_user_msg) or WhatsApp's
// (error_data.details).
type GraphError struct {
	HTTPStatus  int    `json:"http_status"`
	Code        int    `json:"code"`
	Subcode     int    `json:"subcode,omitempty"`
	Type        string `json:"type,omitempty"`
	Message     string `json:"message,omitempty"`
	Title       string `json:"title,omitempty"`   // error_user_title or title: what an agent should see
	Details     string `json:"details,omitempty"` // error_data.details or error_user_msg
	IsTransient bool   `json:"is_transient,omitempty"`
	FBTraceID   string `json:"fbtrace_id,omitempty"`
}

func (e *GraphError) Error() string {
	code := fmt.Sprint(e.Code)
	if e.Subcode != 0 {
		code += fmt.Sprintf("/%d", e.Subcode)
	}
	msg := e.Message
	if e.Details != "" && !strings.Contains(msg, e.Details) {
		msg += ": " + e.Details
	}
	return fmt.Sprintf("meta: graph error %s (HTTP %d): %s", code, e.HTTPStatus, msg)
}

// graphErrorBody is the wire shape of both error flavours.
type graphErrorBody struct {
	Error *struct {
		Message     string          `json:"message"`
		Type        string          `json:"type"`
		Code        int             `json:"code"`
		Subcode     int             `json:"error_subcode"`
		UserTitle   string          `json:"error_user_title"`
		UserMessage string          `json:"error_user_msg"`
		Title       string          `json:"title"`
		ErrorData   json.RawMessage `json:"error_data"`
		IsTransient bool            `json:"is_transient"`
		FBTraceID   string          `json:"fbtrace_id"`
	} `json:"error"`
}

// ParseGraphError turns a non-2xx Graph answer into a *GraphError. A body that is
// not Meta's JSON (a proxy's HTML page) still gives one, with the text as Message.
func ParseGraphError(httpStatus int, body []byte) *GraphError {
	var wire graphErrorBody
	if err := json.Unmarshal(body, &wire); err != nil || wire.Error == nil {
		return &GraphError{HTTPStatus: httpStatus, Message: snippet(body)}
	}
	w := wire.Error
	ge := &GraphError{
		HTTPStatus:  httpStatus,
		Code:        w.Code,
		Subcode:     w.Subcode,
		Type:        w.Type,
		Message:     w.Message,
		Title:       firstNonEmpty(w.UserTitle, w.Title),
		Details:     firstNonEmpty(errorDataDetails(w.ErrorData), w.UserMessage),
		IsTransient: w.IsTransient,
		FBTraceID:   w.FBTraceID,
	}
	return ge
}

// errorDataDetails reads error_data, an object {details} on WhatsApp and sometimes a bare string.
func errorDataDetails(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var obj struct {
		Details string `json:"details"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Details
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// NetworkError is a failure to get any answer from the Graph API.
type NetworkError struct {
	Op      string // what we were doing, e.g. "POST /123/messages"
	Err     error
	Timeout bool
	// RequestSent is true when the whole request reached the wire: Meta may then
	// have acted on it even though we never saw the answer.
	RequestSent bool
}

func (e *NetworkError) Error() string {
	kind := "network error"
	if e.Timeout {
		kind = "timeout"
	}
	return fmt.Sprintf("meta: %s: %s: %v", e.Op, kind, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
