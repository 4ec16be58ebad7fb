package inbound_test

import (
	"context"
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/inbound"
)

// Every kind of payload about one customer goes to that customer's lane (so
// one worker applies them, in order), and customers spread over every lane.
func TestLaneOfFollowsTheCustomer(t *testing.T) {
	sim := metasim.New(metasim.Config{AppSecret: "s", Seed: 11, Customers: 200, DisableStatusWebhooks: true})
	for _, a := range []metasim.Account{
		{App: metasim.WhatsApp, ID: "100200300", WABAID: "900800700", AccessToken: "t", DisplayPhone: "390200000001"},
		{App: metasim.Messenger, ID: "PAGE1", AccessToken: "t"},
		{App: metasim.Instagram, ID: "IG1", AccessToken: "t"},
	} {
		if err := sim.AddAccount(a); err != nil {
			t.Fatal(err)
		}
	}
	type who struct {
		app, account, customer string // a group's messages are the group's, as the processor's locks are
	}
	lanes := map[who]int16{}
	used := map[int16]bool{}
	checked := 0
	for _, app := range []metasim.App{metasim.WhatsApp, metasim.Messenger, metasim.Instagram} {
		for round := 0; round < 40; round++ {
			for _, kind := range metasim.Kinds(app) {
				in, err := sim.Build(metasim.Event{App: app, Kind: kind})
				if err != nil {
					continue // a kind this customer cannot produce
				}
				evs, err := inbound.Parsers[string(app)](in.Body)
				if err != nil || len(evs) != 1 || evs[0].Customer.ExternalID == "" {
					continue // one about no customer
				}
				k := who{string(app), evs[0].AccountID, evs[0].Customer.ExternalID}
				if evs[0].GroupID != "" {
					k.customer = "group " + evs[0].GroupID
				}
				lane := inbound.LaneOf(string(app), in.Body)
				if lane < 0 || lane >= inbound.Lanes {
					t.Fatalf("%s %s: lane %d out of range", app, kind, lane)
				}
				if prev, ok := lanes[k]; ok && prev != lane {
					t.Errorf("%s %s of %s: lane %d, the customer's other payloads went to lane %d\n%s", app, kind, k.customer, lane, prev, in.Body)
				}
				lanes[k] = lane
				used[lane] = true
				checked++
			}
		}
	}
	if checked < 100 || len(used) != inbound.Lanes {
		t.Fatalf("checked %d payloads over %d lanes; want many, over all %d", checked, len(used), inbound.Lanes)
	}
	if got := inbound.LaneOf("whatsapp", []byte("not json")); got != 0 {
		t.Errorf("an unreadable body went to lane %d, want 0", got)
	}
}

// A payload journaled in a lane this build has no worker for (by one with
// more lanes) is folded into one it has, and applied.
func TestPayloadInALaneBeyondOursIsApplied(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	if err := e.s.Gorm(e.ctx).Exec(`INSERT INTO raw_webhooks (app, body, signed_by, lane) VALUES ('whatsapp', ?, 'app', ?)`,
		[]byte(waText("393331112222", "wamid.L9", 1763700000, "from a wider build")), inbound.Lanes+5).Error; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = e.proc.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitFor(t, func() bool { return e.count("external_id = 'wamid.L9'") == 1 })
}
