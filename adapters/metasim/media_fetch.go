package metasim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// fetchLink fetches a media link the way Meta does before it delivers the
// media, when Config.FetchMediaFrom says which links this simulator can
// reach (others, such as example.com in tests, are taken on trust). A link
// that does not answer 200 with a body is refused with Meta's error: on
// WhatsApp 131053 "Media upload error", on Messenger and Instagram #100
// subcode 2018008 "Failed to fetch the file from the url".
func (s *Sim) fetchLink(app App, link string) *metaError {
	if s.cfg.FetchMediaFrom == "" || !strings.HasPrefix(link, s.cfg.FetchMediaFrom) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok := false
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err == nil {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if resp, err := client.Do(req); err == nil {
			n, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 100<<20))
			_ = resp.Body.Close()
			ok = (resp.StatusCode == http.StatusOK && n > 0) || resp.StatusCode == http.StatusFound
			s.recordFetch(link, resp.StatusCode)
		}
	}
	if ok {
		return nil
	}
	if app == WhatsApp {
		return &metaError{Status: http.StatusBadRequest, Code: 131053, Type: "OAuthException",
			Message: "(#131053) Media upload error", Details: "Unable to download the media from the link"}
	}
	return &metaError{Status: http.StatusBadRequest, Code: CodeParam, Subcode: 2018008, Type: "OAuthException",
		Message: "(#100) Failed to fetch the file from the url", Details: "Failed to fetch the file from the url"}
}

// Fetch is one media link the simulator fetched and the status it got.
type Fetch struct {
	URL    string
	Status int
}

func (s *Sim) recordFetch(link string, status int) {
	s.mu.Lock()
	s.fetches = append(s.fetches, Fetch{URL: link, Status: status})
	s.mu.Unlock()
}

// Fetches lists the media links fetched so far, in order.
func (s *Sim) Fetches() []Fetch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fetch(nil), s.fetches...)
}

// messengerLink is the attachment URL of a Messenger or Instagram send, or "".
func messengerLink(m *messagingMessage) string {
	if m == nil || m.Attachment == nil {
		return ""
	}
	var p attachmentPayload
	if json.Unmarshal(m.Attachment.Payload, &p) != nil {
		return ""
	}
	return p.URL
}
