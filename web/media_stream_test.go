package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
)

// heldMedia is a Graph stand-in whose media file sends its first chunk,
// then waits for release (or the request's end) before the second.
type heldMedia struct {
	srv     *httptest.Server
	release chan struct{}
}

const mediaChunk = 64 << 10

func newHeldMedia(t *testing.T) *heldMedia {
	m := &heldMedia{release: make(chan struct{})}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/file/") {
			w.Header().Set("Content-Type", "video/mp4")
			_, _ = w.Write(bytes.Repeat([]byte("a"), mediaChunk))
			w.(http.Flusher).Flush()
			select {
			case <-m.release:
			case <-r.Context().Done():
				return
			}
			_, _ = w.Write(bytes.Repeat([]byte("b"), mediaChunk))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"id": "m1", "url": m.srv.URL + "/file/m1", "mime_type": "video/mp4"})
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func mediaAttachment(t *testing.T, e *uiEnv) string {
	t.Helper()
	m := addMessageKind(t, e.store, e.b, e.b.thread.ID, "video", "", "in", e.b.message.SentAt, nil)
	att := models.Attachment{MessageID: m.ID, Kind: "video", MediaID: "m1", MimeType: "video/mp4"}
	if err := e.store.Gorm(context.Background()).Create(&att).Error; err != nil {
		t.Fatal(err)
	}
	return "/media/" + strconv.FormatInt(att.ID, 10)
}

// startMedia GETs path and returns the response once its first chunk has
// arrived; it fails if the proxy waits for the whole file first.
func startMedia(t *testing.T, cl *client, path string) *http.Response {
	t.Helper()
	got := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("GET", cl.base+path, nil)
		res, err := cl.http.Do(req)
		if err != nil {
			t.Error(err)
			got <- nil
			return
		}
		if res.StatusCode == http.StatusOK {
			if _, err := io.ReadFull(res.Body, make([]byte, mediaChunk)); err != nil {
				t.Error(err)
			}
		}
		got <- res
	}()
	select {
	case res := <-got:
		if res == nil || res.StatusCode != http.StatusOK {
			t.Fatalf("media: %v", res)
		}
		return res
	case <-time.After(20 * time.Second): // a deadlock guard, not a measurement
		t.Fatal("the first bytes of the media did not arrive before the whole file: /media buffers instead of streaming")
		return nil
	}
}

func TestMediaStreams(t *testing.T) {
	e := newUIEnv(t, false)
	held := newHeldMedia(t)
	e.srv.graph = &meta.Client{BaseURL: held.srv.URL}
	path := mediaAttachment(t, e)
	cl := e.signIn(t, e.b.agent)

	res := startMedia(t, cl, path)
	defer res.Body.Close()
	close(held.release)
	rest, err := io.ReadAll(res.Body)
	if err != nil || len(rest) != mediaChunk || rest[0] != 'b' || res.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("rest of the media: %d bytes, %v, %q", len(rest), err, res.Header.Get("Content-Type"))
	}
}

func TestMediaDownloadsAreBounded(t *testing.T) {
	e := newUIEnv(t, false)
	held := newHeldMedia(t)
	e.srv.graph = &meta.Client{BaseURL: held.srv.URL}
	e.srv.mediaSlots = make(mediaSlots, 1)
	path := mediaAttachment(t, e)
	cl := e.signIn(t, e.b.agent)

	first := startMedia(t, cl, path) // holds the only slot, mid-stream
	res, _ := cl.get(path)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("a download past the bound: %d Retry-After %q, want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	close(held.release)
	_, _ = io.Copy(io.Discard, first.Body)
	_ = first.Body.Close()
	for i := 0; ; i++ { // the slot is given back when the handler returns, just after the body ends
		res, body := cl.get(path)
		if res.StatusCode == http.StatusOK {
			if len(body) != 2*mediaChunk {
				t.Fatalf("%d bytes, want %d", len(body), 2*mediaChunk)
			}
			break
		}
		if i == 500 {
			t.Fatalf("the slot never came back: %d", res.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
