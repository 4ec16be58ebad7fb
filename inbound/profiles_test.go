package inbound_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/models"
)

func TestProfilesNameMessengerAndInstagramCustomers(t *testing.T) {
	for _, app := range []metasim.App{metasim.Messenger, metasim.Instagram} {
		t.Run(string(app), func(t *testing.T) {
			sim := metasim.New(metasim.Config{Seed: 3})
			srv := httptest.NewServer(sim)
			defer srv.Close()
			sim.SetBaseURL(srv.URL)
			if err := sim.AddAccount(metasim.Account{App: app, ID: "ACC1", AccessToken: "tok"}); err != nil {
				t.Fatal(err)
			}
			customer := sim.Customers()[5]
			e := newEnv(t, string(app), "ACC1")
			if err := e.s.UpdateChannelToken(e.ctx, e.bizID, e.ch.ID, "tok"); err != nil {
				t.Fatal(err)
			}
			c := &models.Contact{BusinessID: e.bizID}
			_ = e.s.CreateContact(e.ctx, c)
			id := &models.Identity{BusinessID: e.bizID, ContactID: c.ID, ChannelID: e.ch.ID, App: string(app), ExternalID: customer.IDFor(app)}
			if err := e.s.CreateIdentity(e.ctx, id); err != nil {
				t.Fatal(err)
			}
			th, _, _ := e.s.EnsureDirectThread(e.ctx, id, time.Now())
			p := inbound.NewProfiles(e.s, &meta.Client{BaseURL: srv.URL}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			n, err := p.FetchMissing(context.Background())
			if err != nil || n != 1 {
				t.Fatalf("named %d, err %v", n, err)
			}
			got, _ := e.s.Thread(e.ctx, e.bizID, th.ID)
			if got.Title != customer.Name {
				t.Fatalf("thread title %q, want %q", got.Title, customer.Name)
			}
			ident, _ := e.s.Identity(e.ctx, e.bizID, id.ID)
			if app == metasim.Instagram && ident.Username != customer.Username {
				t.Fatalf("username %q, want %q", ident.Username, customer.Username)
			}
			if n, _ := p.FetchMissing(context.Background()); n != 0 {
				t.Fatalf("named %d again", n)
			}
		})
	}
}
