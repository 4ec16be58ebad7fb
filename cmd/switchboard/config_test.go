package main

import (
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := LoadConfig(env(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != ":8080" || c.GraphAPIVersion != "v25.0" || c.BaseURL != "http://localhost:8080" || c.DataDir != "./data" {
		t.Fatalf("defaults: %+v", c)
	}
	bad := []struct{ name, value string }{
		{"DATABASE_URL", "mysql://x"},
		{"LISTEN_ADDR", "8080"},
		{"SECRET_KEY", "short"},
		{"GRAPH_API_VERSION", "25"},
		{"LOG_FORMAT", "xml"},
		{"BASE_URL", "ftp://x"},
		{"METRICS_ADDR", "9090"},
		{"METRICS_TOKEN", "short"},
		{"TRUSTED_PROXY_HEADER", "X-Forwarded-For: 1.2.3.4"},
	}
	for _, b := range bad {
		_, err := LoadConfig(env(map[string]string{b.name: b.value}))
		if err == nil || !strings.HasPrefix(err.Error(), b.name+":") {
			t.Errorf("%s=%q: error %v does not name the variable", b.name, b.value, err)
		}
	}
}
