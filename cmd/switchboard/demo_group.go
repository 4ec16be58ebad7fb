package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
)

// demoMember is one customer of the demo's relay group.
type demoMember struct {
	role string
	app  metasim.App
	c    metasim.Customer
}

// demoGroup plays the wedding-dress order of the issue: the bride on
// WhatsApp, her mother on Messenger and her sister on Instagram in one relay
// group, talking across apps, then voting on "Which fitting day?" one by one
// so the tally moves live. It drives Switchboard only as Meta and an API
// client would: simulated webhooks in, the JSON API for the group and poll.
func demoGroup(ctx context.Context, store *models.Store, sim *metasim.Sim, baseURL string, log *slog.Logger) {
	if err := playDemoGroup(ctx, store, sim, baseURL); err != nil && ctx.Err() == nil {
		log.Warn("demo group", "error", err)
	}
}

func playDemoGroup(ctx context.Context, store *models.Store, sim *metasim.Sim, baseURL string) error {
	members := pickDemoMembers(sim.Customers())
	if len(members) < 3 {
		return fmt.Errorf("no Italian customers in the simulator's population")
	}
	hello := []string{"Ciao! Vorrei fissare la prova dell'abito da sposa.", "Buongiorno, sono la mamma della sposa.", "Ciao, sono la sorella! Posso venire anch'io?"}
	ids := make([]int64, len(members))
	var businessID int64
	for i, m := range members {
		if err := demoSay(ctx, sim, m, hello[i], nil); err != nil {
			return err
		}
		id, biz, err := waitIdentity(ctx, store, m)
		if err != nil {
			return err
		}
		ids[i], businessID = id, biz
	}
	token, _, err := store.CreateAPIToken(ctx, businessID, "demo relay group")
	if err != nil {
		return err
	}
	api := demoAPI{base: baseURL, token: token}
	var group struct {
		ID int64 `json:"id"`
	}
	status, err := api.post(ctx, "/api/v1/groups", map[string]any{"title": "Abito da sposa — famiglia Rossi", "identity_ids": ids}, &group)
	switch {
	case err != nil:
		return err
	case status == http.StatusConflict: // a later run of the demo: the group is there already
		t, err := store.RelayGroupOf(ctx, ids[0])
		if err != nil || t == nil {
			return err
		}
		group.ID = t.ID
	case status != http.StatusCreated:
		return fmt.Errorf("create group: %d", status)
	}
	script := []struct {
		who  int
		text string
	}{
		{0, "Ho visto il modello in pizzo, è bellissimo!"},
		{1, "Per me va bene qualsiasi giorno dopo le 15."},
		{2, "Io il sabato lavoro fino a mezzogiorno."},
	}
	for _, s := range script {
		if !sleepCtx(ctx, 4*time.Second) {
			return nil
		}
		if err := demoSay(ctx, sim, members[s.who], s.text, nil); err != nil {
			return err
		}
	}
	if !sleepCtx(ctx, 3*time.Second) {
		return nil
	}
	var poll struct {
		ID int64 `json:"id"`
	}
	if _, err := api.post(ctx, fmt.Sprintf("/api/v1/threads/%d/polls", group.ID), map[string]any{"question": "Which fitting day?",
		"options": []string{"Saturday 14, afternoon", "Sunday 15, morning", "Monday 16, after 15:00"}}, &poll); err != nil {
		return err
	}
	votes := []struct{ who, option int }{{1, 2}, {0, 0}, {2, 0}, {1, 0}}
	for _, v := range votes {
		if !sleepCtx(ctx, 6*time.Second) {
			return nil
		}
		if err := demoVote(ctx, sim, members[v.who], "Which fitting day?", v.option); err != nil {
			return err
		}
	}
	return nil
}

// pickDemoMembers takes three Italian customers: one with WhatsApp for the
// bride, then the mother and the sister.
func pickDemoMembers(pop []metasim.Customer) []demoMember {
	roles := []demoMember{{role: "bride", app: metasim.WhatsApp}, {role: "mother", app: metasim.Messenger}, {role: "sister", app: metasim.Instagram}}
	var out []demoMember
	for _, c := range pop {
		if len(out) == len(roles) {
			break
		}
		r := roles[len(out)]
		if c.Country != "IT" || c.IDFor(r.app) == "" || (r.app == metasim.WhatsApp && c.Phone == "") {
			continue
		}
		r.c = c
		out = append(out, r)
	}
	return out
}

func demoSay(ctx context.Context, sim *metasim.Sim, m demoMember, text string, choice *metasim.Choice) error {
	kind := "text"
	if choice != nil {
		kind = "quick_reply"
		if m.app == metasim.WhatsApp {
			kind = "button_reply"
		}
	}
	in, err := sim.Build(metasim.Event{App: m.app, Kind: kind, Customer: &m.c, Text: text, Choice: choice})
	if err != nil {
		return err
	}
	_, err = sim.Deliver(ctx, in)
	return err
}

// demoVote taps the option of the poll the member received last.
func demoVote(ctx context.Context, sim *metasim.Sim, m demoMember, question string, option int) error {
	account := demoAccountOf(m.app)
	for range 50 { // the poll's leg may still be on its way
		sends := sim.Sends(account)
		for i := len(sends) - 1; i >= 0; i-- {
			s := sends[i]
			if s.Recipient != m.c.IDFor(m.app) || !strings.Contains(s.Text, question) {
				continue
			}
			if cs := metasim.ChoicesOf(s); option < len(cs) {
				return demoSay(ctx, sim, m, cs[option].Title, &cs[option])
			}
			return demoSay(ctx, sim, m, fmt.Sprint(option+1), nil) // numbered text: answer with the number
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return nil
		}
	}
	return fmt.Errorf("the %s never received the poll", m.role)
}

func demoAccountOf(app metasim.App) string {
	for _, a := range demoAccounts {
		if a.App == app {
			return a.ID
		}
	}
	return ""
}

// waitIdentity waits until ingest has stored the member's identity.
func waitIdentity(ctx context.Context, store *models.Store, m demoMember) (id, businessID int64, err error) {
	ch, err := store.ChannelByAccount(ctx, string(m.app), demoAccountOf(m.app))
	if err != nil || ch == nil {
		return 0, 0, fmt.Errorf("demo channel %s: %v", m.app, err)
	}
	for n := range 100 {
		i, err := store.IdentityByExternal(ctx, ch.ID, m.c.IDFor(m.app))
		if err != nil {
			return 0, 0, err
		}
		// Messenger and Instagram names come from a profile fetch shortly after:
		// wait for it a little, so the others are told who they are talking to.
		if i != nil && (i.DisplayName != "" || n >= 60) {
			return i.ID, ch.BusinessID, nil
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return 0, 0, ctx.Err()
		}
	}
	return 0, 0, fmt.Errorf("the %s's message was never stored", m.role)
}

// demoAPI calls Switchboard's JSON API as an integration would.
type demoAPI struct{ base, token string }

func (a demoAPI) post(ctx context.Context, path string, body, out any) (int, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 300 && out != nil {
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, err
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
