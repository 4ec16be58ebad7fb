package web

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// TestBurstCoalescesPerMessageAndThread: a burst with a message, two of
// its ticks, two header changes of its thread and a repeated event reaches
// an open thread's socket as one frame with the message once (inserted,
// carrying its author and latest status), the header once and the list
// row once; the frame is counted in NOTIFY → frame written.
func TestBurstCoalescesPerMessageAndThread(t *testing.T) {
	e := newUIEnv(t, false)
	e.srv.hub.setListening(time.Now().Add(-time.Hour))               // no listener: the test dispatches the burst itself
	since := "&since=" + id(time.Now().Add(time.Minute).UnixMilli()) // nothing missed: no resync frame
	ws, _, err := e.signIn(t, e.a.agent).dialWS("/ws?thread=" + id(e.a.thread.ID) + since)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	waitClients(t, e, 1)

	m := addMessage(t, e.store, e.a, "Ne avete ancora?", "out", time.Now())
	if err := e.store.Gorm(t.Context()).Exec(`UPDATE messages SET author_user_id = ?, status = 'delivered' WHERE id = ?`, e.a.agent.ID, m.ID).Error; err != nil {
		t.Fatal(err)
	}
	ev := func(typ string) models.Event {
		return models.Event{Type: typ, BusinessID: e.a.biz.ID, ThreadID: e.a.thread.ID, MessageID: m.ID}
	}
	burst := []liveEvent{{ev("message"), time.Now()}, {ev("status"), time.Now()}, {ev("thread"), time.Now()},
		{ev("status"), time.Now()}, {ev("assignment"), time.Now()}, {ev("message"), time.Now()}}
	e.srv.dispatch(t.Context(), burst)

	frame := readUntil(t, ws, "Ne avete ancora?")
	for what, c := range map[string]struct {
		needle string
		want   int
	}{
		"message element":  {`id="msg-` + id(m.ID) + `" class=`, 1},
		"message removal":  {`id="msg-` + id(m.ID) + `" hx-swap-oob="delete"`, 1},
		"message insert":   {`beforeend:#messages`, 1},
		"author":           {`<p class="sender muted small">` + e.a.agent.Name + `</p>`, 1},
		"latest status":    {`data-status="delivered"`, 1},
		"header":           {`<header class="thread-header"`, 1},
		"list row removal": {`id="thread-row-` + id(e.a.thread.ID) + `" hx-swap-oob="delete"`, 1},
	} {
		if n := strings.Count(frame, c.needle); n != c.want {
			t.Errorf("%s: %d in the frame, want %d:\n%s", what, n, c.want, frame)
		}
	}
	// The writer observes just after the write that the reader saw.
	for i := 0; i < 200 && histogramCount(t, e, "switchboard_live_written_seconds") == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := histogramCount(t, e, "switchboard_live_written_seconds"); n != 1 {
		t.Errorf("NOTIFY → frame written counted %d frames, want 1", n)
	}
}

// histogramCount is how many observations the server's histogram name holds.
func histogramCount(t *testing.T, e *uiEnv, name string) uint64 {
	t.Helper()
	mfs, err := e.srv.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatalf("no histogram %s in /metrics", name)
	return 0
}
