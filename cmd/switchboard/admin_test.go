package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

func TestAdminSyncTemplates(t *testing.T) {
	sim := metasim.New(metasim.Config{})
	t.Cleanup(func() { _ = sim.Close() })
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	if err := sim.AddAccount(metasim.Account{App: metasim.WhatsApp, ID: "106540352277001", WABAID: "102290129377001", AccessToken: "wa-tok"}); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddTemplateExamples("106540352277001"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": modelstest.URL(t), "SECRET_KEY": modelstest.SecretKey, "GRAPH_API_URL": srv.URL, "LOG_FORMAT": "json"}
	admin := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"admin"}, args...), func(k string) string { return env[k] }, &out); err != nil {
			t.Fatalf("admin %s: %v (%s)", args[0], err, out.String())
		}
		return strings.TrimSpace(out.String())
	}
	biz := admin("create-business", "--name", "Bottega")
	admin("add-channel", "--business", biz, "--app", "whatsapp", "--account-id", "106540352277001", "--waba-id", "102290129377001",
		"--access-token", "wa-tok", "--app-secret", "secret")
	if got := admin("sync-templates", "--business", biz); got != "5 templates from 1 WhatsApp channels" {
		t.Errorf("sync-templates printed %q", got)
	}
}
