package web

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestLoginThrottleCannotBeResetByVolume: a spray of junk keys must not
// free a key that is over its limit, and the table stays bounded.
func TestLoginThrottleCannotBeResetByVolume(t *testing.T) {
	th := newLoginThrottle(10, time.Minute)
	now := time.Now()
	for i := 0; i < 10; i++ {
		if !th.allow(now, "email:victim@alpha.test") {
			t.Fatalf("attempt %d refused under the limit", i+1)
		}
	}
	if th.allow(now, "email:victim@alpha.test") {
		t.Fatal("the 11th attempt in a minute was allowed")
	}
	for i := 0; i < 3*maxThrottleKeys; i++ {
		th.allow(now, "ip:junk-"+strconv.Itoa(i))
	}
	if th.allow(now, "email:victim@alpha.test") {
		t.Fatal("junk keys reset the victim's limit")
	}
	if n := th.size(); n > maxThrottleKeys {
		t.Fatalf("%d keys held, bound is %d", n, maxThrottleKeys)
	}
	if !th.allow(now.Add(time.Minute), "email:victim@alpha.test") {
		t.Fatal("the limit did not refill after its window")
	}
}

func TestClientIPFromTrustedHeaderOnly(t *testing.T) {
	cases := []struct {
		name, header, value, want string
	}{
		{"no header configured ignores a forged one", "", "203.0.113.9", "10.0.0.1"},
		{"the proxy's header", "X-Forwarded-For", "203.0.113.9", "203.0.113.9"},
		{"the address the proxy appended, not the client's claim", "X-Forwarded-For", "198.51.100.1, 203.0.113.9", "203.0.113.9"},
		{"header missing falls back to the connection", "X-Real-IP", "", "10.0.0.1"},
		{"another header", "X-Real-IP", " 203.0.113.7 ", "203.0.113.7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Server{opts: Options{TrustedProxyHeader: c.header}}
			r := httptest.NewRequest("POST", "/login", nil)
			r.RemoteAddr = "10.0.0.1:51515"
			if c.value != "" {
				r.Header.Set("X-Forwarded-For", c.value)
				r.Header.Set("X-Real-IP", c.value)
			}
			if got := s.clientIP(r); got != c.want {
				t.Fatalf("clientIP = %q, want %q", got, c.want)
			}
		})
	}
}
