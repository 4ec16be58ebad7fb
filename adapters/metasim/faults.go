package metasim

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// DropMode is how an accepted send's answer is lost, so the caller cannot know Meta accepted it.
type DropMode int

const (
	// DropNone answers normally.
	DropNone DropMode = iota
	// DropReset accepts the send, then closes the connection without an answer.
	DropReset
	// DropHang accepts the send, then holds the request until the caller times out (bounded by Config.HangLimit).
	DropHang
)

// faults is the failure injection of the send endpoint: latency, scripted errors, lost answers.
type faults struct {
	mu         sync.Mutex
	latency    time.Duration
	failN      int
	failStatus int
	failCode   int
	dropN      int
	dropMode   DropMode
}

// SetLatency delays every send answer by d, as a distant Graph API would.
func (s *Sim) SetLatency(d time.Duration) {
	s.faults.mu.Lock()
	s.faults.latency = d
	s.faults.mu.Unlock()
}

// FailNext makes the next n sends fail with the HTTP status and Meta error code (e.g. 500 and 2,
// 503 and 131016, 429 and 4) before Meta accepts anything. status 0 means 500.
func (s *Sim) FailNext(n, status, code int) {
	s.faults.mu.Lock()
	s.faults.failN, s.faults.failStatus, s.faults.failCode = n, status, code
	s.faults.mu.Unlock()
}

// DropNext makes the next n sends succeed at Meta but lose their answer in the given way.
func (s *Sim) DropNext(n int, mode DropMode) {
	s.faults.mu.Lock()
	s.faults.dropN, s.faults.dropMode = n, mode
	s.faults.mu.Unlock()
}

// wait applies the latency; false means the caller or the simulator went away meanwhile.
func (f *faults) wait(ctx context.Context, closed <-chan struct{}) bool {
	f.mu.Lock()
	d := f.latency
	f.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-closed:
		return false
	}
}

// injected consumes one scripted failure, if any remain.
func (f *faults) injected() *metaError {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failN <= 0 {
		return nil
	}
	f.failN--
	status := f.failStatus
	if status == 0 {
		status = http.StatusInternalServerError
	}
	return injectedError(status, f.failCode)
}

// takeDrop consumes one scripted lost answer, if any remain.
func (f *faults) takeDrop() DropMode {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropN <= 0 {
		return DropNone
	}
	f.dropN--
	return f.dropMode
}
