package meta

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPostMessages(t *testing.T) {
	var gotPath, gotAuth, gotType string
	var gotBody map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth, gotType = r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		_ = json.NewDecoder(r.Body).Decode(&gotBody)
		_, _ = io.WriteString(w, `{"recipient_id":"6723918450012345","message_id":"m_1"}`)
	}))
	defer srv.Close()

	c := &Client{BaseURL: srv.URL + "/", Version: "v25.0"}
	raw, err := c.PostMessages(context.Background(), "page-token", "104729588123456", map[string]string{"messaging_type": "RESPONSE"})
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/v25.0/104729588123456/messages" || gotAuth != "Bearer page-token" || gotType != "application/json" {
		t.Errorf("request: path %q auth %q type %q", gotPath, gotAuth, gotType)
	}
	if gotBody["messaging_type"] != "RESPONSE" {
		t.Errorf("body = %v", gotBody)
	}
	if string(raw) != `{"recipient_id":"6723918450012345","message_id":"m_1"}` {
		t.Errorf("raw = %s", raw)
	}
}

func TestPostMessagesErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		class  Class
		code   int
	}{
		{"window closed", 400, `{"error":{"message":"(#10) outside window","type":"OAuthException","code":10,"error_subcode":2018278}}`, WindowClosed, 10},
		{"throughput", 400, `{"error":{"message":"(#130429) Rate limit hit","code":130429,"error_data":{"details":"throughput"}}}`, RateLimited, 130429},
		{"expired token", 401, `{"error":{"message":"Session has expired","code":190,"error_subcode":463}}`, AuthExpired, 190},
		{"meta down", 503, `Service Unavailable`, Ambiguous, 0},
		{"not json on 200", 200, `<html>ok</html>`, Ambiguous, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			_, err := (&Client{BaseURL: srv.URL}).PostMessages(context.Background(), "t", "1", struct{}{})
			if got := Classify(err); got != tt.class {
				t.Fatalf("Classify(%v) = %q, want %q", err, got, tt.class)
			}
			var ge *GraphError
			if tt.code != 0 && (!errors.As(err, &ge) || ge.Code != tt.code) {
				t.Errorf("err = %v, want graph code %d", err, tt.code)
			}
		})
	}
}

func TestPostMessagesNetwork(t *testing.T) {
	t.Run("nothing listening: not sent", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, err := (&Client{BaseURL: url}).PostMessages(context.Background(), "t", "1", struct{}{})
		var ne *NetworkError
		if !errors.As(err, &ne) || ne.RequestSent || Classify(err) != Transient {
			t.Fatalf("err = %#v, class %q; want unsent NetworkError, transient", err, Classify(err))
		}
	})
	t.Run("no answer: maybe accepted", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			<-release // hold the answer until the client has given up
		}))
		defer srv.Close()
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := (&Client{BaseURL: srv.URL}).PostMessages(ctx, "t", "1", struct{}{})
		var ne *NetworkError
		if !errors.As(err, &ne) || !ne.RequestSent || !ne.Timeout || Classify(err) != Ambiguous {
			t.Fatalf("err = %#v, class %q; want sent timeout, ambiguous", err, Classify(err))
		}
	})
}

func TestGetMediaAndDownload(t *testing.T) {
	mux := http.NewServeMux()
	var base string
	mux.HandleFunc("GET /v25.0/1003383421387256", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "1003383421387256", "url": base + "/media/blob", "mime_type": "image/jpeg", "sha256": "abc", "file_size": 5,
		})
	})
	mux.HandleFunc("GET /media/blob", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer wa-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "JPEG!")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base = srv.URL
	c := &Client{BaseURL: srv.URL}

	m, err := c.GetMedia(context.Background(), "wa-token", "1003383421387256")
	if err != nil || m.MimeType != "image/jpeg" || m.FileSize != 5 {
		t.Fatalf("GetMedia = %+v, %v", m, err)
	}
	body, err := c.OpenMedia(context.Background(), "wa-token", m.URL)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(body)
	_ = body.Close()
	if err != nil || string(data) != "JPEG!" || body.Length != 5 {
		t.Fatalf("OpenMedia = %q (length %d), %v", data, body.Length, err)
	}
	if _, err := c.OpenMedia(context.Background(), "other-token", m.URL); err == nil {
		t.Error("OpenMedia succeeded on a refused download")
	}
}
