package web

import "testing"

func TestSafeNextKeepsRedirectsOnSite(t *testing.T) {
	cases := []struct{ next, want string }{
		{"/inbox", "/inbox"},
		{"/inbox/threads/7?status=open#m-3", "/inbox/threads/7?status=open#m-3"},
		{"", "/"},
		{"inbox", "/"},
		{"//evil.example", "/"},
		{"/\t/evil.example", "/"}, // browsers drop the tab: //evil.example
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/inbox\\..\\x", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/%2F/evil.example", "/%2F/evil.example"}, // an escaped slash is a path segment, not a host
		{"///evil.example", "/"},
		{"/ /evil.example", "/"},
	}
	for _, c := range cases {
		if got := safeNext(c.next); got != c.want {
			t.Errorf("safeNext(%q) = %q, want %q", c.next, got, c.want)
		}
	}
}
