package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is every setting Switchboard reads from the environment, validated
// once at start.
type Config struct {
	DatabaseURL     string // empty: embedded cluster under DataDir
	DataDir         string
	ListenAddr      string
	BaseURL         string
	SecretKey       string
	GraphAPIURL     string
	GraphAPIVersion string
	MetaAppSecret   string
	MetaVerifyToken string
	LogFormat       string
	MetricsAddr     string // empty: no metrics listener
	MetricsToken    string // empty: /metrics is not served on LISTEN_ADDR
	TrustedProxy    string // the header a trusted reverse proxy sets to the client's address
	// SendReconcileAfter is how long a send that may have reached Meta waits
	// for its echo or status before it shows as unknown (a Go duration).
	SendReconcileAfter string
}

// setting is one row of the configuration table: name, default, validator.
type setting struct {
	name     string
	def      string
	dst      func(*Config) *string
	validate func(string) error
	secret   bool // may come from NAME_FILE
}

var settings = []setting{
	{name: "DATABASE_URL", dst: func(c *Config) *string { return &c.DatabaseURL }, validate: validURL("postgres", "postgresql"), secret: true},
	{name: "SWITCHBOARD_DATA", def: "./data", dst: func(c *Config) *string { return &c.DataDir }},
	{name: "LISTEN_ADDR", def: ":8080", dst: func(c *Config) *string { return &c.ListenAddr }, validate: validAddr},
	{name: "BASE_URL", dst: func(c *Config) *string { return &c.BaseURL }, validate: validURL("http", "https")},
	{name: "SECRET_KEY", dst: func(c *Config) *string { return &c.SecretKey }, validate: validSecret, secret: true},
	{name: "GRAPH_API_URL", def: "https://graph.facebook.com", dst: func(c *Config) *string { return &c.GraphAPIURL }, validate: validURL("http", "https")},
	{name: "GRAPH_API_VERSION", def: "v25.0", dst: func(c *Config) *string { return &c.GraphAPIVersion }, validate: validVersion},
	{name: "META_APP_SECRET", dst: func(c *Config) *string { return &c.MetaAppSecret }, secret: true},
	{name: "META_VERIFY_TOKEN", dst: func(c *Config) *string { return &c.MetaVerifyToken }, secret: true},
	{name: "LOG_FORMAT", def: "text", dst: func(c *Config) *string { return &c.LogFormat }, validate: oneOf("text", "json")},
	{name: "METRICS_ADDR", dst: func(c *Config) *string { return &c.MetricsAddr }, validate: validAddr},
	{name: "METRICS_TOKEN", dst: func(c *Config) *string { return &c.MetricsToken }, validate: validSecret, secret: true},
	{name: "TRUSTED_PROXY_HEADER", dst: func(c *Config) *string { return &c.TrustedProxy }, validate: validHeaderName},
	{name: "SEND_RECONCILE_AFTER", def: "10m", dst: func(c *Config) *string { return &c.SendReconcileAfter }, validate: validDuration},
}

// LoadConfig reads the environment; a bad value fails with its variable's name.
func LoadConfig(getenv func(string) string) (*Config, error) {
	c := &Config{}
	for _, s := range settings {
		v := getenv(s.name)
		if v == "" && s.secret {
			if path := getenv(s.name + "_FILE"); path != "" {
				b, err := os.ReadFile(path)
				if err != nil {
					return nil, fmt.Errorf("%s_FILE: %w", s.name, err)
				}
				v = strings.TrimSpace(string(b))
			}
		}
		if v == "" {
			v = s.def
		}
		if v != "" && s.validate != nil {
			if err := s.validate(v); err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
		}
		*s.dst(c) = v
	}
	if c.BaseURL == "" {
		host := c.ListenAddr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		c.BaseURL = "http://" + host
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.GraphAPIURL = strings.TrimRight(c.GraphAPIURL, "/")
	return c, nil
}

// requireSecretKey fails unless SECRET_KEY is set (serve, admin, migrate).
func (c *Config) requireSecretKey() error {
	if c.SecretKey == "" {
		return errors.New("SECRET_KEY: required (at least 16 characters; it encrypts channel tokens at rest)")
	}
	return nil
}

// ensureDemoSecretKey keeps a generated key in the data directory so a demo
// can be restarted and still read its own channel tokens.
func (c *Config) ensureDemoSecretKey() error {
	if c.SecretKey != "" {
		return nil
	}
	path := filepath.Join(c.DataDir, "secret_key")
	if b, err := os.ReadFile(path); err == nil {
		c.SecretKey = strings.TrimSpace(string(b))
		return validSecret(c.SecretKey)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	c.SecretKey = hex.EncodeToString(b)
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(c.SecretKey+"\n"), 0o600)
}

func validURL(schemes ...string) func(string) error {
	return func(v string) error {
		u, err := url.Parse(v)
		if err != nil {
			return fmt.Errorf("not a URL: %v", err)
		}
		for _, s := range schemes {
			if u.Scheme == s {
				return nil
			}
		}
		return fmt.Errorf("scheme must be one of %s, got %q", strings.Join(schemes, ", "), u.Scheme)
	}
}

func validAddr(v string) error {
	if !strings.Contains(v, ":") {
		return fmt.Errorf("must be host:port or :port, got %q", v)
	}
	return nil
}

func validHeaderName(v string) error {
	if strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) }) {
		return fmt.Errorf("must be a header name such as X-Forwarded-For, got %q", v)
	}
	return nil
}

func validSecret(v string) error {
	if len(v) < 16 {
		return errors.New("must be at least 16 characters")
	}
	return nil
}

func validVersion(v string) error {
	if !strings.HasPrefix(v, "v") || !strings.Contains(v, ".") {
		return fmt.Errorf("must look like v25.0, got %q", v)
	}
	return nil
}

func validDuration(v string) error {
	if d, err := time.ParseDuration(v); err != nil || d <= 0 {
		return fmt.Errorf("must be a positive duration such as 10m, got %q", v)
	}
	return nil
}

// reconcileAfter is SEND_RECONCILE_AFTER, validated at load.
func (c *Config) reconcileAfter() time.Duration {
	d, _ := time.ParseDuration(c.SendReconcileAfter)
	return d
}

func oneOf(options ...string) func(string) error {
	return func(v string) error {
		for _, o := range options {
			if v == o {
				return nil
			}
		}
		return fmt.Errorf("must be one of %s, got %q", strings.Join(options, ", "), v)
	}
}
