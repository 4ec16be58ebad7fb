package meta

import (
	"net/url"
	"strings"
	"testing"
)

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"object":"page","entry":[{"id":"1","messaging":[{"message":{"text":"K\u00e4se"}}]}]}`)
	secret, old := []byte("app-secret"), []byte("previous-secret")
	good := Sign(body, secret)
	tests := []struct {
		name    string
		body    []byte
		header  string
		secrets [][]byte
		want    bool
	}{
		{"valid", body, good, [][]byte{secret}, true},
		{"valid during rotation", body, good, [][]byte{old, secret}, true},
		{"upper-case hex", body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), [][]byte{secret}, true},
		{"wrong secret", body, good, [][]byte{old}, false},
		{"no secrets", body, good, nil, false},
		{"empty secret never verifies", body, Sign(body, nil), [][]byte{nil, {}}, false},
		{"re-serialised body", []byte(strings.Replace(string(body), `\u00e4`, "ä", 1)), good, [][]byte{secret}, false},
		{"sha1 header", body, "sha1=" + strings.TrimPrefix(good, "sha256="), [][]byte{secret}, false},
		{"no prefix", body, strings.TrimPrefix(good, "sha256="), [][]byte{secret}, false},
		{"not hex", body, "sha256=zz", [][]byte{secret}, false},
		{"truncated", body, good[:len(good)-2], [][]byte{secret}, false},
		{"empty header", body, "", [][]byte{secret}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySignature(tt.body, tt.header, tt.secrets...); got != tt.want {
				t.Errorf("VerifySignature = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerifyChallenge(t *testing.T) {
	q := func(mode, token, challenge string) url.Values {
		return url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {challenge}}
	}
	tests := []struct {
		name   string
		query  url.Values
		tokens []string
		want   string
		ok     bool
	}{
		{"match", q("subscribe", "s3cret", "1158201444"), []string{"s3cret"}, "1158201444", true},
		{"second token", q("subscribe", "channel-token", "42"), []string{"app-token", "channel-token"}, "42", true},
		{"wrong token", q("subscribe", "guess", "42"), []string{"s3cret"}, "", false},
		{"wrong mode", q("unsubscribe", "s3cret", "42"), []string{"s3cret"}, "", false},
		{"empty token configured", q("subscribe", "", "42"), []string{""}, "", false},
		{"no tokens", q("subscribe", "s3cret", "42"), nil, "", false},
		{"prefix of token", q("subscribe", "s3c", "42"), []string{"s3cret"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := VerifyChallenge(tt.query, tt.tokens...)
			if got != tt.want || ok != tt.ok {
				t.Errorf("VerifyChallenge = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte(`{"object":"page","entry":[]}`), []byte("app-secret"), uint(3), byte(1))
	f.Add([]byte(`{"object":"whatsapp_business_account"}`), []byte("k"), uint(0), byte(0x80))
	f.Add([]byte{}, []byte("secret"), uint(0), byte(1))
	f.Fuzz(func(t *testing.T, body, secret []byte, pos uint, flip byte) {
		sig := Sign(body, secret)
		if len(secret) == 0 {
			if VerifySignature(body, sig, secret) {
				t.Fatal("an empty secret verified a signature")
			}
			return
		}
		if !VerifySignature(body, sig, secret) {
			t.Fatal("signature made with the secret does not verify")
		}
		if len(body) == 0 || flip == 0 {
			return
		}
		mutated := append([]byte(nil), body...)
		mutated[pos%uint(len(mutated))] ^= flip
		if VerifySignature(mutated, sig, secret) {
			t.Fatalf("body changed at %d still verifies", pos%uint(len(mutated)))
		}
	})
}
