package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// expectClosed reads ws until the server closes it; a read that times out
// means the socket outlived what should have ended it.
func expectClosed(t *testing.T, ws *websocket.Conn, why string) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second)) // a deadlock guard, not a measurement
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue // a resync or live frame sent before the close
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the socket is still open after %s", why)
		}
		return
	}
}

// errPonged ends a read once the pong arrives.
var errPonged = errors.New("pong")

// expectOpen checks ws still answers a ping with a pong (the read ends there).
func expectOpen(t *testing.T, ws *websocket.Conn, why string) {
	t.Helper()
	ws.SetPongHandler(func(string) error { return errPonged })
	if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)); err != nil {
		t.Fatalf("after %s: %v", why, err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second)) // a deadlock guard
	for {
		_, _, err := ws.ReadMessage()
		if errors.Is(err, errPonged) {
			return
		}
		if err != nil {
			t.Fatalf("another socket closed after %s: %v", why, err)
		}
	}
}

func dialInbox(t *testing.T, c *client) *websocket.Conn {
	t.Helper()
	ws, _, err := c.dialWS("/ws?since=" + id(time.Now().Add(time.Minute).UnixMilli()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

func TestSignOutClosesThatSessionsSockets(t *testing.T) {
	e := newUIEnv(t, false)
	e.srv.hub.setListening(time.Now().Add(-time.Hour))
	browser := e.signIn(t, e.a.agent)
	phone := e.signIn(t, e.a.agent) // the same person, another session
	ws, other := dialInbox(t, browser), dialInbox(t, phone)
	waitClients(t, e, 2)
	if res := browser.post("/logout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	expectClosed(t, ws, "sign-out")
	expectOpen(t, other, "the same user signed out of another session")
}

func TestRoleChangeClosesTheMembersSockets(t *testing.T) {
	e := newUIEnv(t, false)
	e.srv.hub.setListening(time.Now().Add(-time.Hour))
	agent := dialInbox(t, e.signIn(t, e.a.agent))
	admin := dialInbox(t, e.signIn(t, e.a.admin))
	waitClients(t, e, 2)
	if res := e.signIn(t, e.a.admin).post("/settings/users/"+id(e.a.agent.ID)+"/role", url.Values{"role": {"staff"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("role change: %d", res.StatusCode)
	}
	expectClosed(t, agent, "the agent became staff")
	expectOpen(t, admin, "another member's role change")
}

// TestRoleChangeClosesSocketsOnOtherReplicas: the socket lives on a second
// server on the same database; the change is made through the first.
func TestRoleChangeClosesSocketsOnOtherReplicas(t *testing.T) {
	e := newUIEnv(t, false)
	second := New(e.store, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{BaseURL: "https://inbox.example", Argon2: cheapArgon2})
	secondHTTP := httptest.NewServer(second.Handler())
	t.Cleanup(secondHTTP.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = second.RunLive(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; i < 500 && func() bool {
		second.hub.mu.RLock()
		defer second.hub.mu.RUnlock()
		return second.hub.listening.IsZero()
	}(); i++ {
		time.Sleep(10 * time.Millisecond)
	}

	agent := e.signIn(t, e.a.agent)
	agent.base = secondHTTP.URL // the session is in the shared database
	ws := dialInbox(t, agent)
	for i := 0; i < 500 && second.hub.count() != 1; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if res := e.signIn(t, e.a.admin).post("/settings/users/"+id(e.a.agent.ID)+"/role", url.Values{"role": {"staff"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("role change: %d", res.StatusCode)
	}
	expectClosed(t, ws, "the agent became staff on another replica")
	// Reconnecting there meets the new role, not the one it had cached.
	again, res, err := agent.dialWS("/ws")
	if err == nil {
		_ = again.Close()
		t.Fatal("the socket reconnected on the other replica with the old role")
	}
	if res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("reconnect: %v %v, want 403", res, err)
	}
}

func TestRemovalFromTheBusinessClosesTheMembersSockets(t *testing.T) {
	e := newUIEnv(t, false)
	e.srv.hub.setListening(time.Now().Add(-time.Hour))
	agentClient := e.signIn(t, e.a.agent)
	agent := dialInbox(t, agentClient)
	admin := dialInbox(t, e.signIn(t, e.a.admin))
	waitClients(t, e, 2)
	adminClient := e.signIn(t, e.a.admin)
	if res := adminClient.post("/settings/users/"+id(e.a.admin.ID)+"/remove", nil); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("removing oneself: %d, want 400", res.StatusCode)
	}
	if res := adminClient.post("/settings/users/"+id(e.b.agent.ID)+"/remove", nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("removing another business's member: %d, want 404", res.StatusCode)
	}
	if res := adminClient.post("/settings/users/"+id(e.a.agent.ID)+"/remove", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	expectClosed(t, agent, "the agent was removed from the business")
	expectOpen(t, admin, "another member's removal")
	if m, _ := e.store.Membership(context.Background(), e.a.biz.ID, e.a.agent.ID); m != nil {
		t.Fatal("the membership is still there")
	}
	if res, _ := agentClient.get("/inbox"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the removed agent's session still opens the inbox: %d", res.StatusCode)
	}
	if m, _ := e.store.Membership(context.Background(), e.b.biz.ID, e.b.agent.ID); m == nil {
		t.Fatal("B's agent lost their membership")
	}
}

func TestPasswordChangeClosesTheUsersSockets(t *testing.T) {
	e := newUIEnv(t, false)
	e.srv.hub.setListening(time.Now().Add(-time.Hour))
	ws := dialInbox(t, e.signIn(t, e.a.agent))
	other := dialInbox(t, e.signIn(t, e.a.admin))
	waitClients(t, e, 2)
	cl := e.signIn(t, e.a.agent)
	res, body := cl.postBody("/account/password", url.Values{"current_password": {"wrong password"}, "new_password": {"a new long password"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="password-error"`) {
		t.Fatalf("wrong current password: %d", res.StatusCode)
	}
	if res := cl.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"short"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("short new password: %d", res.StatusCode)
	}
	expectOpen(t, ws, "a refused password change")
	if res := cl.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"a new long password"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d", res.StatusCode)
	}
	expectClosed(t, ws, "the password changed")
	expectOpen(t, other, "another user's password change")
	if res := e.client(t).post("/login", url.Values{"email": {e.a.agent.Email}, "password": {"a new long password"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in with the new password: %d", res.StatusCode)
	}
}
