package whatsapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/adapters/whatsapp"
	"github.com/switchboard-inbox/switchboard/models"
)

// pages counts the Graph calls of one fetch.
type pages struct {
	*meta.Client
	calls int
}

func (p *pages) Get(ctx context.Context, token string, q url.Values, path ...string) (json.RawMessage, error) {
	p.calls++
	return p.Client.Get(ctx, token, q, path...)
}

func (p *pages) GetNext(ctx context.Context, token, next string) (json.RawMessage, error) {
	p.calls++
	return p.Client.GetNext(ctx, token, next)
}

func simWithTemplates(t *testing.T) (*metasim.Sim, *meta.Client) {
	t.Helper()
	sim := metasim.New(metasim.Config{})
	t.Cleanup(func() { _ = sim.Close() })
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.SetBaseURL(srv.URL)
	if err := sim.AddAccount(metasim.Account{App: metasim.WhatsApp, ID: "106540352200001", WABAID: "102290129300001", AccessToken: "wa-token"}); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddTemplateExamples("106540352200001"); err != nil {
		t.Fatal(err)
	}
	return sim, &meta.Client{BaseURL: srv.URL}
}

func TestFetchTemplatesFollowsEveryPage(t *testing.T) {
	_, client := simWithTemplates(t)
	g := &pages{Client: client}
	ts, err := whatsapp.FetchTemplates(context.Background(), g, "wa-token", "102290129300001", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 5 || g.calls != 3 {
		t.Fatalf("%d templates in %d calls, want hello_world + 4 examples in 3 pages of 2", len(ts), g.calls)
	}
	by := map[string]models.WATemplate{}
	for _, tpl := range ts {
		by[tpl.Name] = tpl
	}
	if s := by["spring_teaser"].Status; s != "rejected" {
		t.Errorf("spring_teaser status %q, want rejected", s)
	}
	if s := by["winter_sale"].Status; s != "paused" {
		t.Errorf("winter_sale status %q, want paused", s)
	}
	named := by["back_in_stock_named"]
	want := []models.TemplateParam{
		{Component: "header", Name: "product", Example: "Linen shirt"},
		{Component: "body", Name: "first_name", Example: "sample first_name"},
		{Component: "body", Name: "product", Example: "sample product"},
		{Component: "button", Index: 0, Name: "1", Example: "https://shop.example/p/12345"},
	}
	if named.ParameterFormat != "named" || named.Category != "marketing" || len(named.Parameters) != len(want) {
		t.Fatalf("back_in_stock_named = %+v", named)
	}
	for i, p := range want {
		if named.Parameters[i] != p {
			t.Errorf("parameter %d = %+v, want %+v", i, named.Parameters[i], p)
		}
	}
	pos := by["order_shipped"]
	if pos.ParameterFormat != "positional" || pos.Category != "utility" || len(pos.Parameters) != 3 ||
		pos.Parameters[0].Name != "1" || pos.Parameters[1].Name != "2" || pos.Parameters[2].Component != "button" {
		t.Errorf("order_shipped = %+v", pos)
	}
	if pos.Body != "Ciao {{1}}, il tuo ordine {{2}} è stato spedito." || pos.MetaID == "" || len(pos.Components) < 10 {
		t.Errorf("order_shipped body %q id %q components %s", pos.Body, pos.MetaID, pos.Components)
	}
}

func TestFetchTemplatesErrors(t *testing.T) {
	_, client := simWithTemplates(t)
	ctx := context.Background()
	_, err := whatsapp.FetchTemplates(ctx, client, "wrong-token", "102290129300001", 0)
	var ge *meta.GraphError
	if !asGraph(err, &ge) || ge.Code != 190 {
		t.Errorf("bad token: %v, want Graph error 190", err)
	}
	_, err = whatsapp.FetchTemplates(ctx, client, "wa-token", "999", 0)
	if !asGraph(err, &ge) || ge.Code != 100 {
		t.Errorf("another WABA: %v, want Graph error 100", err)
	}
	if _, err := whatsapp.FetchTemplates(ctx, client, "wa-token", "", 0); err == nil {
		t.Error("no WABA id accepted")
	}
	if _, err := client.GetNext(ctx, "wa-token", "https://evil.example/v25.0/1/message_templates"); err == nil {
		t.Error("paging.next to another host followed: the token would leak")
	}
}

func asGraph(err error, target **meta.GraphError) bool { return errors.As(err, target) }
