package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults for Client.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultVersion = "v25.0"
)

// maxResponse bounds a JSON answer we read; Graph answers are small.
const maxResponse = 1 << 20

// defaultHTTP bounds every call when the caller gave no client of its own.
var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// Client calls the Graph API. The zero value talks to Meta with DefaultVersion;
// tests and the simulator set BaseURL.
type Client struct {
	BaseURL string // e.g. https://graph.facebook.com or https://graph.instagram.com
	Version string // e.g. v25.0
	HTTP    *http.Client
}

// PostMessages posts body as JSON to /<accountID>/messages (Send API, WhatsApp
// messages, sender actions) and returns Meta's answer.
func (c *Client) PostMessages(ctx context.Context, token, accountID string, body any) (json.RawMessage, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("meta: encode message body: %w", err)
	}
	return c.do(ctx, http.MethodPost, c.endpoint(accountID, "messages"), token, payload)
}

// Media is what Graph says about an uploaded or received media object.
type Media struct {
	ID       string `json:"id"`
	URL      string `json:"url"` // short-lived; fetch it with the same token
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	FileSize int64  `json:"file_size"`
}

// GetMedia looks up a media id (WhatsApp inbound media) and returns its download URL.
func (c *Client) GetMedia(ctx context.Context, token, mediaID string) (Media, error) {
	raw, err := c.do(ctx, http.MethodGet, c.endpoint(mediaID), token, nil)
	if err != nil {
		return Media{}, err
	}
	var m Media
	if err := json.Unmarshal(raw, &m); err != nil {
		return Media{}, fmt.Errorf("meta: decode media %s: %w", mediaID, err)
	}
	return m, nil
}

// MediaBody is a media download in progress; the caller closes it.
type MediaBody struct {
	io.ReadCloser
	Length      int64 // -1 when Meta did not say
	ContentType string
}

// streamHTTP fetches media: no overall timeout, since a large file streams
// at the reader's pace; the caller's context bounds it.
var streamHTTP = &http.Client{}

// OpenMedia starts fetching a media URL returned by GetMedia; the body
// streams from Meta as it is read.
func (c *Client) OpenMedia(ctx context.Context, token, mediaURL string) (*MediaBody, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mediaURL, nil)
	if err != nil {
		return nil, fmt.Errorf("meta: media request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	hc := c.HTTP
	if hc == nil {
		hc = streamHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &NetworkError{Op: "GET media", Err: err, Timeout: isTimeout(err), RequestSent: true}
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		return nil, ParseGraphError(resp.StatusCode, body)
	}
	return &MediaBody{ReadCloser: resp.Body, Length: resp.ContentLength, ContentType: resp.Header.Get("Content-Type")}, nil
}

func (c *Client) do(ctx context.Context, method, endpoint, token string, payload []byte) (json.RawMessage, error) {
	op := method + " " + strings.TrimPrefix(endpoint, c.base())
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	// Knowing whether the request left us tells "not sent" from "maybe accepted".
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) { sent.Store(info.Err == nil) },
	})
	req, err := http.NewRequestWithContext(ctx, method, endpoint, body)
	if err != nil {
		return nil, fmt.Errorf("meta: %s: build request: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &NetworkError{Op: op, Err: err, Timeout: isTimeout(err), RequestSent: sent.Load()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, &NetworkError{Op: op, Err: err, Timeout: isTimeout(err), RequestSent: true}
	}
	if resp.StatusCode/100 != 2 {
		return nil, ParseGraphError(resp.StatusCode, raw)
	}
	if !json.Valid(raw) {
		// A 2xx we cannot read may still be an accepted message.
		return nil, &NetworkError{Op: op, Err: fmt.Errorf("answer is not JSON: %s", snippet(raw)), RequestSent: true}
	}
	return raw, nil
}

func (c *Client) endpoint(parts ...string) string {
	escaped := make([]string, len(parts))
	for i, p := range parts {
		escaped[i] = url.PathEscape(p)
	}
	return c.base() + "/" + c.version() + "/" + strings.Join(escaped, "/")
}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

func (c *Client) version() string {
	if c.Version == "" {
		return DefaultVersion
	}
	return c.Version
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP == nil {
		return defaultHTTP
	}
	return c.HTTP
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
