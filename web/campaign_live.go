package web

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/views"
)

// campaignFrameEvery paces a campaign's live frames: at most this often,
// and only when its counters moved, however fast recipients change.
const campaignFrameEvery = 400 * time.Millisecond

// campaignWatchers are the report pages open on this replica. One poller
// reads each watched campaign's counters once per tick, renders once per
// language and hands the frame to every page: frames are coalesced by time,
// not per status webhook, and cost nothing when nobody watches.
type campaignWatchers struct {
	mu      sync.Mutex
	byID    map[int64]map[*campaignWatcher]struct{} // campaign id →
	polling bool
}

type campaignWatcher struct {
	businessID int64
	locale     string
	frames     chan []byte // the latest frames; a slow page drops the older
}

// add registers w and starts the poller if it was idle.
func (cw *campaignWatchers) add(s *Server, campaignID int64, w *campaignWatcher) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.byID == nil {
		cw.byID = map[int64]map[*campaignWatcher]struct{}{}
	}
	if cw.byID[campaignID] == nil {
		cw.byID[campaignID] = map[*campaignWatcher]struct{}{}
	}
	cw.byID[campaignID][w] = struct{}{}
	if !cw.polling {
		cw.polling = true
		go s.pollCampaigns()
	}
}

func (cw *campaignWatchers) remove(campaignID int64, w *campaignWatcher) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	delete(cw.byID[campaignID], w)
	if len(cw.byID[campaignID]) == 0 {
		delete(cw.byID, campaignID)
	}
}

// snapshot lists the watched campaigns and their pages; false once nobody
// watches, which also ends the poller (under the same lock add takes).
func (cw *campaignWatchers) snapshot() (map[int64][]*campaignWatcher, bool) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if len(cw.byID) == 0 {
		cw.polling = false
		return nil, false
	}
	out := make(map[int64][]*campaignWatcher, len(cw.byID))
	for id, ws := range cw.byID {
		for w := range ws {
			out[id] = append(out[id], w)
		}
	}
	return out, true
}

// pollCampaigns runs while any report page is open on this replica.
func (s *Server) pollCampaigns() {
	tick := time.NewTicker(campaignFrameEvery)
	defer tick.Stop()
	last := map[int64]string{} // campaign → the panel last sent, to send only changes
	for range tick.C {
		watched, ok := s.campaignLive.snapshot()
		if !ok {
			return
		}
		for id, ws := range watched {
			s.publishCampaign(id, ws, last)
		}
		for id := range last {
			if _, ok := watched[id]; !ok {
				delete(last, id)
			}
		}
	}
}

func (s *Server) publishCampaign(id int64, ws []*campaignWatcher, last map[int64]string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := s.store.Campaign(ctx, ws[0].businessID, id)
	if err != nil || c == nil {
		return
	}
	live, err := s.campaignLiveOf(ctx, c)
	if err != nil {
		s.log.Error("live: unable to load campaign", "campaign", id, "error", err)
		return
	}
	live.Updated = "" // the clock alone is no change
	key := liveKey(live)
	if last[id] == key {
		return
	}
	last[id] = key
	live.Updated = time.Now().In(campaignLocation(c)).Format("15:04:05")
	rendered := map[string][]byte{}
	for _, w := range ws {
		if w.businessID != c.BusinessID {
			continue
		}
		frame, ok := rendered[w.locale]
		if !ok {
			var buf bytes.Buffer
			if err := views.CampaignLiveOOB(live).Render(views.WithLocale(ctx, w.locale), &buf); err != nil {
				s.log.Error("live: unable to render campaign", "error", err)
				return
			}
			frame, rendered[w.locale] = buf.Bytes(), buf.Bytes()
		}
		select {
		case w.frames <- frame:
		default: // the page is behind: it gets the next frame, which says more
		}
	}
}

// liveKey is what a frame would say, to tell a change from the same again.
func liveKey(l views.CampaignLive) string {
	var b bytes.Buffer
	b.WriteString(l.Status + "|" + l.PausedReason + "|" + l.Estimated + "|" + l.Actual + "|" + l.Revenue)
	for _, n := range []int64{l.Total, l.Done, l.Queued, l.Skipped, l.Failed, l.Orders} {
		b.WriteString("|" + strconv.FormatInt(n, 10))
	}
	for _, f := range l.Funnel {
		b.WriteString("|" + strconv.FormatInt(f.N, 10))
	}
	return b.String()
}

// campaignReportLive is the report page's socket for live progress.
func (s *Server) campaignReportLive(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	conn, ok := s.upgrade(w, r)
	if !ok {
		return
	}
	watcher := &campaignWatcher{businessID: v.BusinessID, locale: v.User.Locale, frames: make(chan []byte, 4)}
	s.campaignLive.add(s, c.ID, watcher)
	servePageSocket(conn, watcher.frames, func() { s.campaignLive.remove(c.ID, watcher) })
}
