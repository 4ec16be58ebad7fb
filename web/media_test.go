package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/adapters/whatsapp"
	"github.com/switchboard-inbox/switchboard/models"
)

func TestMediaProxyFetchesWhatsAppMediaOnce(t *testing.T) {
	e := newUIEnv(t, false)
	sim := metasim.New(metasim.Config{Seed: 1})
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	sim.SetBaseURL(simSrv.URL)
	if err := sim.AddAccount(metasim.Account{App: metasim.WhatsApp, ID: "phone-b", WABAID: "waba-b", AccessToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	e.srv.graph = &meta.Client{BaseURL: simSrv.URL}
	in, err := sim.Build(metasim.Event{App: metasim.WhatsApp, Kind: "image"})
	if err != nil {
		t.Fatal(err)
	}
	events, err := whatsapp.Parse(in.Body)
	if err != nil || len(events) != 1 || len(events[0].Message.Attachments) != 1 {
		t.Fatalf("events %+v err %v", events, err)
	}
	mediaID := events[0].Message.Attachments[0].MediaID

	ctx := context.Background()
	m := addMessageKind(t, e.store, e.b, e.b.thread.ID, "image", "", "in", e.b.message.SentAt, nil)
	att := models.Attachment{MessageID: m.ID, Kind: "image", MediaID: mediaID, MimeType: "image/png"}
	if err := e.store.Gorm(ctx).Create(&att).Error; err != nil {
		t.Fatal(err)
	}
	path := "/media/" + strconv.FormatInt(att.ID, 10)

	owner := e.signIn(t, e.b.agent)
	for i := 0; i < 2; i++ {
		resp, body := owner.get(path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || len(body) == 0 {
			t.Fatalf("view %d: %d %q (%d bytes)", i, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	var cached models.Attachment
	e.store.Gorm(ctx).Take(&cached, att.ID)
	if cached.CachedURL == "" || cached.CachedAt == nil {
		t.Fatal("the media URL was not cached")
	}
	if resp, _ := e.signIn(t, e.a.agent).get(path); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another business's agent got %d for the media", resp.StatusCode)
	}
}
