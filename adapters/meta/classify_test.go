package meta

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters"
)

func TestClassify(t *testing.T) {
	graph := func(status, code, sub int) error {
		return fmt.Errorf("send: %w", &GraphError{HTTPStatus: status, Code: code, Subcode: sub})
	}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, ""},
		{"messenger window", graph(400, 10, 2018278), WindowClosed},
		{"instagram window", graph(400, 10, 2534022), WindowClosed},
		{"whatsapp re-engagement", graph(400, 131047, 0), WindowClosed},
		{"code 10 other subcode", graph(400, 10, 2018065), Permanent},
		{"person unavailable 551", graph(400, 551, 1545041), Permanent},
		{"person unavailable 200", graph(400, 200, 1545041), Permanent},
		{"app rate limit", graph(400, 4, 0), RateLimited},
		{"call rate", graph(400, 613, 0), RateLimited},
		{"instagram call rate", graph(400, 613, 2534040), RateLimited},
		{"tagged message cap", graph(400, 613, 2018338), RateLimited},
		{"waba rate limit", graph(400, 80007, 0), RateLimited},
		{"throughput", graph(400, 130429, 0), RateLimited},
		{"pair rate", graph(400, 131056, 0), RateLimited},
		{"http 429 no code", graph(429, 0, 0), RateLimited},
		{"token expired", graph(400, 190, 463), AuthExpired},
		{"token invalid", graph(401, 190, 0), AuthExpired},
		{"retired tag", graph(400, 100, 0), Permanent},
		{"attachment too big", graph(400, 100, 2018109), Permanent},
		{"marketing stopped", graph(400, 131050, 0), Permanent},
		{"marketing cap", graph(400, 131049, 0), Permanent},
		{"undeliverable", graph(400, 131026, 0), Permanent},
		{"spam rate", graph(400, 131048, 0), Permanent},
		{"unknown code", graph(400, 987654, 0), Permanent},
		{"unknown code on 502", graph(502, 987654, 0), Ambiguous},
		{"bare 500", graph(500, 0, 0), Ambiguous},
		{"service unavailable", graph(503, 2, 0), Ambiguous},
		{"whatsapp generic", graph(500, 131000, 0), Ambiguous},
		{"transient flag", fmt.Errorf("x: %w", &GraphError{HTTPStatus: 400, Code: 99999, IsTransient: true}), Ambiguous},
		{"connection refused", &NetworkError{Op: "POST", Err: errors.New("connection refused")}, Transient},
		{"timeout after sending", &NetworkError{Op: "POST", Err: context.DeadlineExceeded, Timeout: true, RequestSent: true}, Ambiguous},
		{"invalid outbound", adapters.Invalid(adapters.Messenger, "text", "too long"), Permanent},
		{"anything else", errors.New("boom"), Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassProperties(t *testing.T) {
	tests := []struct {
		class            Class
		retry, delivered bool
	}{
		{WindowClosed, false, false},
		{RateLimited, true, false},
		{Transient, true, false},
		{Ambiguous, true, true},
		{AuthExpired, false, false},
		{Permanent, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.class), func(t *testing.T) {
			if tt.class.Retryable() != tt.retry || tt.class.MaybeDelivered() != tt.delivered {
				t.Errorf("%s: Retryable %v MaybeDelivered %v", tt.class, tt.class.Retryable(), tt.class.MaybeDelivered())
			}
		})
	}
}

func TestBackoffStaysInBounds(t *testing.T) {
	tests := []struct {
		class    Class
		attempt  int
		min, max int64 // seconds
	}{
		{Transient, 1, 1, 2},
		{Transient, 3, 4, 8},
		{Transient, 50, 150, 300},
		{RateLimited, 1, 15, 30},
		{RateLimited, 50, 900, 1800},
		{Permanent, 3, 0, 0},
		{WindowClosed, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.class, tt.attempt), func(t *testing.T) {
			for range 100 {
				d := Backoff(tt.class, tt.attempt)
				if s := int64(d.Seconds()); s < tt.min || s > tt.max {
					t.Fatalf("Backoff = %v, want %ds..%ds", d, tt.min, tt.max)
				}
			}
		})
	}
}
