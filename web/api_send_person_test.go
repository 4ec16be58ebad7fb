package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// apiPost sends body to the thread's messages with token; it answers the
// status and the error code, if any.
func apiPost(t *testing.T, e *uiEnv, token string, threadID int64, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/threads/"+id(threadID)+"/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Error struct{ Code, Message string }
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out.Error.Code
}

// TestSoftwareTokensNeverSendAsAPerson: a token is software unless an admin
// made it a person's; software is automated, and never gets HUMAN_AGENT.
func TestSoftwareTokensNeverSendAsAPerson(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	software, _, err := e.store.CreateAPIToken(ctx, e.a.biz.ID, "bot")
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"text":"Hi","human_agent":true}`,
		`{"text":"Hi","tag":"human_agent"}`,
		`{"text":"Hi","human_agent":true,"automated":false}`,
	} {
		if code, reason := apiPost(t, e, software, e.a.thread.ID, body); code != http.StatusUnprocessableEntity || reason != "human_agent_automated" {
			t.Errorf("software token %s: %d %q, want 422 human_agent_automated", body, code, reason)
		}
	}
	if n := len(e.outbox.sends()); n != 0 {
		t.Fatalf("%d refused sends reached the outbox", n)
	}
	if code, _ := apiPost(t, e, software, e.a.thread.ID, `{"text":"Your order shipped","automated":false}`); code != http.StatusCreated {
		t.Fatalf("software token plain send: %d", code)
	}
	if sent := e.outbox.sends(); len(sent) != 1 || !sent[0].Automated {
		t.Fatalf("a software token's send reached the outbox as %+v, want automated", sent)
	}

	person, _, err := e.store.CreatePersonAPIToken(ctx, e.a.biz.ID, "Giulia's phone")
	if err != nil {
		t.Fatal(err)
	}
	if code, reason := apiPost(t, e, person, e.a.thread.ID, `{"text":"Hi","human_agent":true,"automated":true}`); code != http.StatusUnprocessableEntity || reason != "human_agent_automated" {
		t.Errorf("person token, automated send with HUMAN_AGENT: %d %q, want 422 human_agent_automated", code, reason)
	}
	if code, _ := apiPost(t, e, person, e.a.thread.ID, `{"text":"Sorry for the wait","human_agent":true}`); code != http.StatusCreated {
		t.Fatalf("person token with HUMAN_AGENT: %d", code)
	}
	if sent := e.outbox.sends(); len(sent) != 2 || sent[1].Automated || !sent[1].HumanAgent {
		t.Fatalf("a person token's send reached the outbox as %+v, want a person's with HUMAN_AGENT", sent[len(sent)-1])
	}
}

func TestAdminCreatesPersonTokens(t *testing.T) {
	e := newUIEnv(t, true)
	cl := e.signIn(t, e.a.admin)
	for _, form := range []url.Values{{"name": {"zapier"}}, {"name": {"Giulia's phone"}, "person": {"1"}}} {
		if res, _ := cl.postBody("/settings/tokens", form); res.StatusCode != http.StatusCreated {
			t.Fatalf("create %v: %d", form, res.StatusCode)
		}
	}
	toks, err := e.store.APITokens(context.Background(), e.a.biz.ID)
	if err != nil || len(toks) != 2 {
		t.Fatalf("tokens %+v %v", toks, err)
	}
	if !toks[0].Person || toks[0].Name != "Giulia's phone" || toks[1].Person {
		t.Fatalf("person flags: %+v", toks)
	}
	_, body := cl.get("/settings/tokens")
	if !strings.Contains(body, `name="person"`) || !strings.Contains(body, "A person") || !strings.Contains(body, "Software") {
		t.Fatal("the tokens page does not show or offer the person choice")
	}
}
